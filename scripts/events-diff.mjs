#!/usr/bin/env node
/**
 * Differential keyspace-notification check: runs the same command sequences
 * on a real redis-server and on a Strata node, PSUBSCRIBEd to `*` on each,
 * and diffs the two event streams (channel + payload, in order) per sequence.
 * Not part of `npm test`; run by hand:
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/ev-dist
 *   node scripts/events-diff.mjs [--strata /tmp/ev-dist/src/bin/strata-server.js]
 *        [--redis /usr/bin/redis-server] [--modes KEA,KEAn,Eg,...] [--only substr]
 *        [--replies] [--verbose]
 *
 * Modes are notify-keyspace-events values; the default runs KEA and KEAn
 * (names, order, count, "new") and one E<class> per class (each event's
 * class), plus KEm (key-miss). --replies also reports command reply
 * differences (informational). Known gaps (features Strata does not have:
 * the KEm mode, as Strata emits no "keymiss"; sequences named "~...") are
 * reported as GAP and counted apart. Exits 1 when any other event stream
 * differs.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const opts = {
  redis: '/usr/bin/redis-server',
  strata: '/tmp/ev-dist/src/bin/strata-server.js',
  redisPort: 0,
  strataPort: 0,
  modes: 'KEA,KEAn,Eg,E$,El,Es,Eh,Ez,Ex,Et,KEm',
  only: '',
  replies: false,
  verbose: false,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => process.argv[++i];
  if (a === '--redis') opts.redis = next();
  else if (a === '--strata') opts.strata = next();
  else if (a === '--redis-port') opts.redisPort = Number(next());
  else if (a === '--strata-port') opts.strataPort = Number(next());
  else if (a === '--modes') opts.modes = next();
  else if (a === '--only') opts.only = next();
  else if (a === '--replies') opts.replies = true;
  else if (a === '--verbose') opts.verbose = true;
  else if (a === '--help') {
    console.log('see the comment at the top of', path.relative(process.cwd(), fileURLToPath(import.meta.url)));
    process.exit(0);
  } else throw new Error(`unknown option ${a}`);
}

// ---------------------------------------------------------------- sequences
//
// Each sequence is a list of steps run on a fresh server (FLUSHALL, db 0):
//   'CMD arg ...'         a command on the main connection ("double quoted" args allowed)
//   '@sleep MS'           wait
//   '@bg CMD ...'         send on the second connection without waiting (blocking commands)
//   '@wait'               wait for the second connection's reply
//   '@bg2 ...', '@wait2'  the same on a third connection
//   '@save NAME CMD ...'  run, keep the reply as $NAME (binary safe: DUMP payloads)
//   '@noactive'           DEBUG SET-ACTIVE-EXPIRE 0 for this sequence (lazy expiry only)

const SEQ = {
  // ---- strings
  'set basic': ['SET k v', 'SET k v2', 'SET k v2'],
  'set nx/xx': ['SET k v NX', 'SET k v NX', 'SET k2 v XX', 'SET k w XX'],
  'set ex': ['SET k v EX 100'],
  'set px': ['SET k v PX 100000'],
  'set exat': ['SET k v EXAT 99999999999'],
  'set pxat past': ['SET k v PXAT 1000'],
  'set ex overwrite': ['SET k v', 'SET k w EX 100'],
  'set keepttl': ['SET k v EX 100', 'SET k w KEEPTTL'],
  'set get': ['SET k v GET', 'SET k w GET', 'SET k x GET EX 10'],
  'set get wrongtype': ['LPUSH l a', 'SET l v GET'],
  'set overwrites list': ['LPUSH l a', 'SET l v'],
  'set nx get fail': ['SET k v', 'SET k w NX GET'],
  'setnx': ['SETNX k v', 'SETNX k w'],
  'setex/psetex': ['SETEX k 100 v', 'PSETEX k2 100000 v'],
  'mset': ['MSET a 1 b 2 a 3'],
  'msetnx': ['MSETNX a 1 b 2', 'MSETNX b 3 c 4', 'MSETNX c 1 d 2'],
  'getset': ['GETSET k v', 'GETSET k w'],
  'getdel': ['SET k v', 'GETDEL k', 'GETDEL k'],
  'getex': ['SET k v', 'GETEX k', 'GETEX k EX 100', 'GETEX k PX 100000', 'GETEX k EXAT 99999999999', 'GETEX k PXAT 99999999999000', 'GETEX k PERSIST', 'GETEX k PERSIST', 'GETEX missing EX 10'],
  'getex past': ['SET k v', 'GETEX k PXAT 1000'],
  'getex exat past': ['SET k v', 'GETEX k EXAT 1'],
  'append': ['APPEND k ab', 'APPEND k cd', 'APPEND k ""'],
  'append wrongtype': ['LPUSH l a', 'APPEND l x'],
  'setrange': ['SETRANGE k 3 ab', 'SETRANGE k 0 x', 'SETRANGE k 0 ""', 'SETRANGE missing 0 ""', 'SETRANGE missing 2 ""'],
  'incr family': ['INCR n', 'INCRBY n 5', 'DECR n', 'DECRBY n 2', 'INCRBYFLOAT n 1.5', 'INCRBYFLOAT f 2'],
  'incr errors': ['SET s abc', 'INCR s', 'INCRBYFLOAT s 1', 'SET big 9223372036854775807', 'INCR big'],
  'incr keeps ttl': ['SET n 1 EX 100', 'INCR n', 'TTL n'],
  // ---- bits
  'setbit': ['SETBIT b 7 1', 'SETBIT b 7 1', 'SETBIT b 100 0', 'SETBIT b 0 0'],
  'bitop': ['SET a abc', 'SET b def', 'BITOP AND d a b', 'BITOP OR d a b', 'BITOP XOR d a b', 'BITOP NOT e a'],
  'bitop empty': ['SET d x', 'BITOP AND d m1 m2', 'BITOP AND d m1 m2', 'BITOP OR e m1'],
  'bitfield': ['BITFIELD bf SET u8 0 255', 'BITFIELD bf GET u8 0', 'BITFIELD bf INCRBY u8 0 1', 'BITFIELD bf OVERFLOW FAIL INCRBY u8 0 300', 'BITFIELD bf SET u8 0 0 GET u8 0'],
  'bitfield overflow fail only': ['BITFIELD bf OVERFLOW FAIL INCRBY u2 0 7'],
  'bitfield_ro': ['SET bf x', 'BITFIELD_RO bf GET u8 0'],
  // ---- lists
  'push': ['LPUSH l a b', 'RPUSH l c', 'LPUSHX l d', 'RPUSHX l e', 'LPUSHX m d', 'RPUSHX m e'],
  'pops': ['RPUSH l a b c d', 'LPOP l', 'RPOP l', 'LPOP l 1', 'RPOP l 5', 'LPOP l', 'LPOP missing 2'],
  'pop count 0': ['RPUSH l a', 'LPOP l 0', 'RPOP l 0'],
  'linsert': ['RPUSH l a b', 'LINSERT l BEFORE b x', 'LINSERT l AFTER zz y', 'LINSERT missing BEFORE a b'],
  'lset': ['RPUSH l a b', 'LSET l 0 x', 'LSET l 10 x'],
  'lrem': ['RPUSH l a b a', 'LREM l 0 zz', 'LREM l 1 a', 'LREM l 0 a', 'LREM l 0 b'],
  'ltrim': ['RPUSH l a b c', 'LTRIM l 0 -1', 'LTRIM l 1 5', 'LTRIM l 5 10', 'LTRIM missing 0 1'],
  'lmove': ['RPUSH s a b', 'LMOVE s d LEFT RIGHT', 'LMOVE s d RIGHT LEFT', 'LMOVE s d LEFT LEFT'],
  'lmove same key': ['RPUSH s a b c', 'LMOVE s s LEFT RIGHT', 'RPOPLPUSH s s', 'RPUSH one x', 'LMOVE one one LEFT RIGHT'],
  'rpoplpush': ['RPUSH s a', 'RPOPLPUSH s d', 'RPOPLPUSH s d'],
  'lmove wrongtype dst': ['RPUSH s a', 'SET d x', 'LMOVE s d LEFT RIGHT'],
  'lmpop': ['RPUSH l a b c', 'LMPOP 2 m l LEFT', 'LMPOP 1 l RIGHT COUNT 5', 'LMPOP 1 l RIGHT'],
  'blpop immediate': ['RPUSH l a b', 'BLPOP l 0', 'BRPOP l 0'],
  'blpop served by push': ['@bg BLPOP l 0', '@sleep 50', 'RPUSH l a b', '@wait'],
  'brpop served by push empties': ['@bg BRPOP l 0', '@sleep 50', 'LPUSH l a', '@wait'],
  'blmove served by push': ['@bg BLMOVE s d LEFT RIGHT 0', '@sleep 50', 'RPUSH s a', '@wait'],
  'brpoplpush served': ['@bg BRPOPLPUSH s d 0', '@sleep 50', 'RPUSH s a b', '@wait'],
  'blmpop served': ['@bg BLMPOP 0 1 l LEFT COUNT 2', '@sleep 50', 'RPUSH l a b c', '@wait'],
  'blpop served by lmove': ['RPUSH s a', '@bg BLPOP d 0', '@sleep 50', 'LMOVE s d LEFT RIGHT', '@wait'],
  'blpop served in multi': ['@bg BLPOP l 0', '@sleep 50', 'MULTI', 'RPUSH l a', 'RPUSH l b', 'DEL l', 'RPUSH l c', 'EXEC', '@wait'],
  'blpop timeout': ['BLPOP l 0.05'],
  // ---- hashes
  'hset': ['HSET h a 1 b 2', 'HSET h a 1', 'HMSET h c 3', 'HSETNX h a 9', 'HSETNX h z 9'],
  'hdel': ['HSET h a 1 b 2', 'HDEL h zz', 'HDEL h a zz', 'HDEL h b', 'HDEL h b'],
  'hincr': ['HINCRBY h a 1', 'HINCRBY h a 0', 'HINCRBYFLOAT h f 1.5', 'HINCRBYFLOAT h f 0', 'HSET h s x', 'HINCRBY h s 1'],
  'hash wrongtype': ['SET k v', 'HSET k a 1', 'HDEL k a'],
  // ---- sets
  'sadd/srem': ['SADD s a b', 'SADD s a', 'SREM s zz', 'SREM s a zz', 'SREM s b'],
  'smove': ['SADD s a b', 'SMOVE s d a', 'SMOVE s d zz', 'SMOVE s d b', 'SADD x q', 'SMOVE d x a'],
  'smove same': ['SADD s a', 'SMOVE s s a', 'SMOVE s s zz'],
  'smove member exists in dst': ['SADD s a', 'SADD d a', 'SMOVE s d a'],
  'spop': ['SADD s a b c', 'SPOP s', 'SPOP s 1', 'SPOP s', 'SPOP s'],
  'spop count': ['SADD s a b c d e', 'SPOP s 0', 'SPOP s 2', 'SPOP s 10', 'SPOP s 3'],
  'spop count exact': ['SADD s a b c', 'SPOP s 3'],
  'spop count big set': ['SADD s 1 2 3 4 5 6 7 8 9 10 11 12', 'SPOP s 10'],
  'setops store': ['SADD a 1 2 3', 'SADD b 2 3 4', 'SINTERSTORE d a b', 'SUNIONSTORE d a b', 'SDIFFSTORE d a b', 'SINTERSTORE d a missing', 'SINTERSTORE d a missing', 'SDIFFSTORE e missing a'],
  'setops store overwrite other type': ['SADD a 1', 'SET d x', 'SUNIONSTORE d a'],
  // ---- sorted sets
  'zadd': ['ZADD z 1 a 2 b', 'ZADD z 1 a', 'ZADD z 3 a', 'ZADD z NX 5 a', 'ZADD z XX 5 zz', 'ZADD z GT 1 a', 'ZADD z LT 1 a', 'ZADD z CH 2 a', 'ZADD m XX 1 a'],
  'zadd incr': ['ZADD z INCR 1 a', 'ZADD z INCR 0 a', 'ZADD z NX INCR 1 a', 'ZINCRBY z 2 a', 'ZINCRBY z 0 a', 'ZINCRBY z 1 b'],
  'zrem': ['ZADD z 1 a 2 b', 'ZREM z zz', 'ZREM z a', 'ZREM z b'],
  'zremrange': ['ZADD z 1 a 2 b 3 c 4 d 5 e 6 f', 'ZREMRANGEBYSCORE z 100 200', 'ZREMRANGEBYSCORE z 1 1', 'ZREMRANGEBYRANK z 0 0', 'ZREMRANGEBYRANK z 10 20', 'ZREMRANGEBYLEX z [c [d', 'ZREMRANGEBYLEX z - +'],
  'zpop': ['ZADD z 1 a 2 b 3 c', 'ZPOPMIN z', 'ZPOPMAX z 5', 'ZPOPMIN z', 'ZPOPMIN missing'],
  'zpop count 0': ['ZADD z 1 a', 'ZPOPMIN z 0'],
  'zmpop': ['ZADD z 1 a 2 b', 'ZMPOP 2 m z MIN', 'ZMPOP 1 z MAX COUNT 5'],
  'bzpop immediate': ['ZADD z 1 a 2 b', 'BZPOPMIN z 0', 'BZPOPMAX z 0'],
  'bzpopmin served': ['@bg BZPOPMIN z 0', '@sleep 50', 'ZADD z 1 a 2 b', '@wait'],
  'bzpopmax served empties': ['@bg BZPOPMAX z 0', '@sleep 50', 'ZADD z 1 a', '@wait'],
  'bzmpop served': ['@bg BZMPOP 0 1 z MIN COUNT 5', '@sleep 50', 'ZADD z 1 a 2 b', '@wait'],
  'zsetops store': ['ZADD a 1 x 2 y', 'ZADD b 3 y 4 w', 'ZUNIONSTORE d 2 a b', 'ZINTERSTORE d 2 a b', 'ZDIFFSTORE d 2 a b', 'ZINTERSTORE d 2 a missing', 'ZINTERSTORE d 2 a missing', 'ZDIFFSTORE e 1 missing'],
  'zsetops store with set': ['SADD a 1 2', 'ZADD b 1 2', 'ZUNIONSTORE d 2 a b'],
  'zrangestore': ['ZADD z 1 a 2 b 3 c', 'ZRANGESTORE d z 0 1', 'ZRANGESTORE d z 10 20', 'ZRANGESTORE d z 10 20', 'ZRANGESTORE d z (1 +inf BYSCORE', 'ZRANGESTORE d z [a [b BYLEX', 'ZRANGESTORE d z 0 -1 REV'],
  'zset wrongtype': ['SET k v', 'ZADD k 1 a', 'ZINCRBY k 1 a', 'ZREM k a'],
  // ---- geo
  'geoadd': ['GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania', 'GEOADD g 13.361389 38.115556 Palermo', 'GEOADD g NX 1 1 Palermo', 'GEOADD g XX 1 1 Palermo', 'GEOADD g CH 2 2 Palermo', 'GEOADD m XX 1 1 a'],
  'geosearchstore': ['GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania', 'GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km ASC', 'GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km ASC STOREDIST', 'GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 km', 'GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 km', 'GEOSEARCHSTORE d missing FROMLONLAT 0 0 BYRADIUS 1 km'],
  'georadius store': ['GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania', 'GEORADIUS g 15 37 200 km STORE d', 'GEORADIUS g 15 37 200 km STOREDIST d2', 'GEORADIUSBYMEMBER g Palermo 500 km STORE d3', 'GEORADIUS g 0 0 1 km STORE d', 'GEORADIUS missing 0 0 1 km STORE d4'],
  // ---- hyperloglog
  'pfadd': ['PFADD h a b', 'PFADD h a', 'PFADD h2', 'PFADD h2', 'PFADD h c'],
  'pfmerge': ['PFADD a 1 2', 'PFADD b 3', 'PFMERGE d a b', 'PFMERGE d a', 'PFMERGE e', 'PFMERGE f missing'],
  'pfcount': ['PFADD a 1 2', 'PFCOUNT a', 'PFADD b 3', 'PFCOUNT a b'],
  'pf wrongtype': ['SET s notanhll', 'PFADD s a', 'LPUSH l a', 'PFMERGE l'],
  // ---- streams
  'xadd': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XADD s MAXLEN 1 3-0 f v', 'XADD s MAXLEN 5 4-0 f v', 'XADD m NOMKSTREAM * f v', 'XADD s 1-0 f v'],
  'xtrim': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XADD s 3-0 f v', 'XTRIM s MAXLEN 10', 'XTRIM s MAXLEN 1', 'XTRIM s MINID 5', 'XTRIM s MAXLEN 0'],
  'xdel': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XDEL s 9-0', 'XDEL s 1-0', 'XDEL s 2-0', 'XDEL missing 1-0'],
  'xsetid': ['XADD s 1-0 f v', 'XSETID s 5-0', 'XSETID s 6-0 ENTRIESADDED 3 MAXDELETEDID 2-0'],
  'xgroup': ['XADD s 1-0 f v', 'XGROUP CREATE s g 0', 'XGROUP CREATE s g 0', 'XGROUP SETID s g $', 'XGROUP CREATECONSUMER s g c', 'XGROUP CREATECONSUMER s g c', 'XGROUP DELCONSUMER s g c', 'XGROUP DELCONSUMER s g zz', 'XGROUP DESTROY s g', 'XGROUP DESTROY s g'],
  'xgroup mkstream': ['XGROUP CREATE s g $ MKSTREAM', 'XGROUP CREATE t g $'],
  'xreadgroup': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c COUNT 1 STREAMS s >', 'XREADGROUP GROUP g c STREAMS s >', 'XREADGROUP GROUP g c2 NOACK STREAMS s 0', 'XACK s g 1-0', 'XACK s g 1-0'],
  'xclaim': ['XADD s 1-0 f v', 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c STREAMS s >', 'XCLAIM s g c2 0 1-0', 'XCLAIM s g c3 0 1-0 JUSTID', 'XAUTOCLAIM s g c4 0 0', 'XAUTOCLAIM s g c4 0 0', 'XDEL s 1-0', 'XAUTOCLAIM s g c5 0 0'],
  'xreadgroup blocked served': ['XGROUP CREATE s g $ MKSTREAM', '@bg XREADGROUP GROUP g c BLOCK 0 STREAMS s >', '@sleep 50', 'XADD s 1-0 f v', '@wait'],
  'xread blocked served': ['@bg XREAD BLOCK 0 STREAMS s $', '@sleep 50', 'XADD s 1-0 f v', '@wait'],
  // ---- generic
  'del/unlink': ['SET a 1', 'SET b 2', 'SET c 3', 'DEL a missing b', 'UNLINK c missing', 'DEL missing'],
  'expire family': ['SET k v', 'EXPIRE k 100', 'PEXPIRE k 100000', 'EXPIREAT k 99999999999', 'PEXPIREAT k 99999999999000', 'EXPIRE missing 10'],
  'expire options': ['SET k v', 'EXPIRE k 100 XX', 'EXPIRE k 100 NX', 'EXPIRE k 200 NX', 'EXPIRE k 50 GT', 'EXPIRE k 500 GT', 'EXPIRE k 1000 LT', 'EXPIRE k 10 LT', 'PERSIST k', 'EXPIRE k 10 GT', 'EXPIRE k 10 LT'],
  'expire in the past': ['SET k v', 'EXPIRE k -1', 'SET k v', 'PEXPIREAT k 1', 'SET k v', 'EXPIREAT k 1', 'SET k v', 'PEXPIRE k 0'],
  'expire past with nx fail': ['SET k v EX 100', 'EXPIRE k -1 NX'],
  'persist': ['SET k v', 'PERSIST k', 'EXPIRE k 100', 'PERSIST k', 'PERSIST k', 'PERSIST missing'],
  'rename': ['SET a 1', 'RENAME a b', 'SET c 2', 'RENAME b c', 'RENAME missing x', 'RENAME c c'],
  'rename with ttl': ['SET a 1 EX 100', 'RENAME a b'],
  'renamenx': ['SET a 1', 'SET b 2', 'RENAMENX a b', 'RENAMENX a c', 'RENAMENX c c'],
  'move': ['SET k v', 'MOVE k 1', 'SET k v', 'MOVE k 1', 'MOVE missing 1', 'SELECT 1', 'MOVE k 0', 'SELECT 0'],
  'copy': ['SET a 1', 'COPY a b', 'COPY a b', 'COPY a b REPLACE', 'COPY a c DB 1', 'COPY missing d', 'RPUSH l x', 'COPY l l2', 'COPY a a'],
  'dump/restore': ['SET a 1', 'RPUSH l x y', '@save DA DUMP a', '@save DL DUMP l', 'RESTORE b 0 $DA', 'RESTORE b 0 $DA', 'RESTORE b 0 $DA REPLACE', 'RESTORE c 100000 $DL', 'RESTORE l 0 $DA REPLACE', 'RESTORE e 1 $DA ABSTTL', 'RESTORE b 1 $DA ABSTTL REPLACE'],
  'sort store': ['RPUSH l 3 1 2', 'SORT l STORE d', 'SORT l STORE d', 'SORT missing STORE d', 'SORT missing STORE d', 'SORT missing STORE e', 'SADD s b a', 'SORT s ALPHA STORE l'],
  'sort_ro': ['RPUSH l 3 1 2', 'SORT_RO l'],
  'flushdb': ['SET a 1', 'SET b 2', 'FLUSHDB', 'SET c 1', 'FLUSHALL'],
  'swapdb': ['SET a 1', 'SELECT 1', 'SET b 2', 'SELECT 0', 'SWAPDB 0 1', 'SET a 3'],
  'multi/exec': ['MULTI', 'SET a 1', 'INCR a', 'LPUSH l x', 'LPOP l', 'DEL a', 'EXEC'],
  'multi discard': ['MULTI', 'SET a 1', 'DISCARD'],
  'multi watch aborted': ['SET w 1', 'WATCH w', 'SET w 2', 'MULTI', 'SET a 1', 'EXEC'],
  'touch/exists': ['SET a 1', 'TOUCH a b', 'EXISTS a', 'TYPE a', 'OBJECT ENCODING a'],
  'overwrite types': ['SADD k a', 'SET k v', 'HSET h a 1', 'SET h v', 'ZADD z 1 a', 'SET z v EX 10'],
  // ---- expiry
  'lazy expire get': ['@noactive', 'SET k v PX 20', '@sleep 60', 'GET k', 'GET k'],
  'lazy expire write': ['@noactive', 'SET k v PX 20', '@sleep 60', 'SET k w'],
  'lazy expire incr': ['@noactive', 'SET n 5 PX 20', '@sleep 60', 'INCR n'],
  'lazy expire lpush': ['@noactive', 'RPUSH l a', 'PEXPIRE l 20', '@sleep 60', 'LPUSH l b'],
  'lazy expire exists': ['@noactive', 'SET k v PX 20', '@sleep 60', 'EXISTS k'],
  'lazy expire del': ['@noactive', 'SET k v PX 20', '@sleep 60', 'DEL k'],
  'lazy expire rename': ['@noactive', 'SET k v PX 20', '@sleep 60', 'RENAME k j'],
  'lazy expire hset': ['@noactive', 'HSET h a 1', 'PEXPIRE h 20', '@sleep 60', 'HSET h b 2'],
  'lazy expire sunionstore': ['@noactive', 'SADD a 1', 'SADD d 9', 'PEXPIRE d 20', '@sleep 60', 'SUNIONSTORE d a'],
  'active expire': ['SET k v PX 20', 'SET k2 v PX 300', '@sleep 600'],
  'expire then persist race': ['SET k v PX 100000', 'PEXPIRE k 100000', 'PERSIST k'],
  'lazy expire expire': ['@noactive', 'SET k v PX 20', '@sleep 60', 'EXPIRE k 100', 'PERSIST k'],
  'lazy expire append/setrange/setbit': ['@noactive', 'SET a v PX 20', 'SET b v PX 20', 'SET c v PX 20', '@sleep 60', 'APPEND a x', 'SETRANGE b 1 x', 'SETBIT c 1 1'],
  'lazy expire getdel/getex': ['@noactive', 'SET a v PX 20', 'SET b v PX 20', '@sleep 60', 'GETDEL a', 'GETEX b EX 10'],
  'lazy expire copy/move dst': ['@noactive', 'SET a v', 'SET b v PX 20', '@sleep 60', 'COPY a b', 'SELECT 1', 'SET a w PX 20', '@sleep 60', 'SELECT 0', 'MOVE a 1'],
  'lazy expire restore': ['@noactive', 'SET a v', '@save D DUMP a', 'SET b v PX 20', '@sleep 60', 'RESTORE b 0 $D'],
  'lazy expire zadd/sadd/xadd': ['@noactive', 'ZADD z 1 a', 'SADD s a', 'XADD x 1-0 f v', 'PEXPIRE z 20', 'PEXPIRE s 20', 'PEXPIRE x 20', '@sleep 60', 'ZADD z 2 b', 'SADD s b', 'XADD x 2-0 f v'],
  'lazy expire pfadd/pfmerge': ['@noactive', 'PFADD h a', 'PFADD g a', 'PEXPIRE h 20', 'PEXPIRE g 20', '@sleep 60', 'PFADD h b', 'PFMERGE g'],
  'lazy expire sort store dst': ['@noactive', 'RPUSH l 1', 'SET d x PX 20', '@sleep 60', 'SORT l STORE d'],
  'lazy expire blocked source': ['@noactive', 'RPUSH s a', 'PEXPIRE s 20', '@sleep 60', 'LMOVE s d LEFT RIGHT'],
  'del expired': ['@noactive', 'SET a 1 PX 20', 'SET b 1', '@sleep 60', 'DEL a b', 'UNLINK a'],
  'set ex zero/negative': ['SET k v EX 0', 'SET k v EX -1', 'SET k v PX 0', 'SETEX k 0 v', 'GETEX k EX 0'],
  'set get on expired key': ['@noactive', 'SET k v PX 20', '@sleep 60', 'SET k w GET'],
  'setrange padding': ['SETRANGE k 5 x', 'SETRANGE k 0 ""', 'SETRANGE k 100 ""'],
  'incr on ttl key keeps it': ['SET n 1 EX 100', 'INCRBY n 2', 'INCRBYFLOAT n 0.5', 'DECR n'],
  'mset duplicates': ['MSET a 1 a 2 b 3', 'MSETNX x 1 x 2'],
  'getdel wrongtype': ['RPUSH l a', 'GETDEL l'],
  'getex wrongtype': ['RPUSH l a', 'GETEX l EX 10'],
  'bitfield multi ops': ['BITFIELD bf SET u8 0 1 SET u8 8 2 INCRBY u8 0 1 GET u8 0', 'BITFIELD bf OVERFLOW FAIL INCRBY u8 0 255 INCRBY u8 8 1'],
  'bitop same dst src': ['SET a abc', 'BITOP NOT a a', 'BITOP AND a a missing'],
  'lpush multiple then pop all': ['LPUSH l a b c', 'LPOP l 3', 'RPUSH l x', 'RPOP l 1'],
  'linsert empties nothing': ['RPUSH l a', 'LINSERT l BEFORE a a', 'LINSERT l AFTER a b'],
  'lrem negative': ['RPUSH l a b a c a', 'LREM l -2 a', 'LREM l 0 c'],
  'ltrim empties': ['RPUSH l a b', 'LTRIM l 1 0'],
  'lset wrongtype missing': ['LSET missing 0 a', 'SET s x', 'LSET s 0 a'],
  'blmove chain': ['@bg BLMOVE s d LEFT RIGHT 0', '@bg2 BLPOP d 0', '@sleep 50', 'RPUSH s a', '@wait', '@wait2'],
  'blpop two clients one push': ['@bg BLPOP l 0', '@bg2 BLPOP l 0', '@sleep 50', 'RPUSH l a b c', '@wait', '@wait2'],
  'blpop served by rename': ['RPUSH s a', '@bg BLPOP d 0', '@sleep 50', 'RENAME s d', '@wait'],
  'blpop served by sort store': ['RPUSH s 2 1', '@bg BLPOP d 0', '@sleep 50', 'SORT s STORE d', '@wait'],
  'blpop served by copy': ['RPUSH s a', '@bg BLPOP d 0', '@sleep 50', 'COPY s d', '@wait'],
  'blpop served by restore': ['RPUSH s a', '@save D DUMP s', '@bg BLPOP d 0', '@sleep 50', 'RESTORE d 0 $D', '@wait'],
  'blpop served by move': ['SELECT 1', 'RPUSH d a', 'SELECT 0', '@bg BLPOP d 0', '@sleep 50', 'SELECT 1', 'MOVE d 0', 'SELECT 0', '@wait'],
  'blpop served by swapdb': ['SELECT 1', 'RPUSH d a', 'SELECT 0', '@bg BLPOP d 0', '@sleep 50', 'SWAPDB 0 1', '@wait'],
  'blpop served by lpush in multi then trim': ['@bg BLPOP l 0', '@sleep 50', 'MULTI', 'RPUSH l a b', 'LTRIM l 0 0', 'EXEC', '@wait'],
  'blmpop served right': ['@bg BLMPOP 0 2 x l RIGHT', '@sleep 50', 'RPUSH l a b', '@wait'],
  'bzpopmin served by zunionstore': ['ZADD a 1 x', '@bg BZPOPMIN d 0', '@sleep 50', 'ZUNIONSTORE d 1 a', '@wait'],
  'bzpopmin served by geoadd': ['@bg BZPOPMIN g 0', '@sleep 50', 'GEOADD g 1 1 a', '@wait'],
  'bzpopmin served by zincrby': ['@bg BZPOPMAX z 0', '@sleep 50', 'ZINCRBY z 1 a', '@wait'],
  'bzpopmin served by zrangestore': ['ZADD a 1 x 2 y', '@bg BZPOPMIN d 0', '@sleep 50', 'ZRANGESTORE d a 0 -1', '@wait'],
  'xreadgroup served by multi': ['XGROUP CREATE s g $ MKSTREAM', '@bg XREADGROUP GROUP g c BLOCK 0 COUNT 1 STREAMS s >', '@sleep 50', 'MULTI', 'XADD s 1-0 f v', 'XADD s 2-0 f v', 'EXEC', '@wait'],
  'xreadgroup blocked, group destroyed': ['XGROUP CREATE s g $ MKSTREAM', '@bg XREADGROUP GROUP g c BLOCK 0 STREAMS s >', '@sleep 50', 'XGROUP DESTROY s g', '@wait'],
  'xreadgroup blocked, key deleted': ['XGROUP CREATE s g $ MKSTREAM', '@bg XREADGROUP GROUP g c BLOCK 0 STREAMS s >', '@sleep 50', 'DEL s', '@wait'],
  'hset many': ['HMSET h a 1 b 2 c 3', 'HSET h a 1 b 2 c 3', 'HDEL h a b c'],
  'hincrbyfloat errors': ['HSET h a x', 'HINCRBYFLOAT h a 1', 'HINCRBY h a 1', 'HSET h n 9223372036854775807', 'HINCRBY h n 1'],
  'sadd intset to hash': ['SADD s 1 2 3', 'SADD s a', 'SREM s 1 2 3 a'],
  'smove to wrongtype': ['SADD s a', 'SET d x', 'SMOVE s d a'],
  'smove empties src': ['SADD s a', 'SMOVE s d a'],
  'spop missing/wrongtype': ['SPOP missing', 'SPOP missing 3', 'SET k v', 'SPOP k'],
  'setops store dst is src': ['SADD a 1 2', 'SADD b 2', 'SINTERSTORE a a b', 'SDIFFSTORE a a b'],
  'setops store empty to missing dst': ['SINTERSTORE d missing', 'SUNIONSTORE d missing', 'SDIFFSTORE d missing'],
  'sinterstore wrongtype': ['SADD a 1', 'SET b x', 'SINTERSTORE d a b'],
  'zadd mixed add/update': ['ZADD z 1 a', 'ZADD z 2 a 1 b', 'ZADD z CH 2 a 1 b', 'ZADD z GT CH 1 a 5 b'],
  'zadd nan/err': ['ZADD z INCR 1 a', 'ZADD z INCR +inf a', 'ZADD z INCR -inf a', 'ZADD z nan a'],
  'zunionstore weights aggregate': ['ZADD a 1 x', 'ZADD b 2 x', 'ZUNIONSTORE d 2 a b WEIGHTS 1 2 AGGREGATE MAX', 'ZINTERSTORE d 2 a b AGGREGATE MIN', 'ZUNIONSTORE a 2 a b'],
  'zrangestore limit': ['ZADD z 1 a 2 b 3 c', 'ZRANGESTORE d z 0 +inf BYSCORE LIMIT 1 1', 'ZRANGESTORE d z 0 +inf BYSCORE LIMIT 5 1'],
  'zrangestore dst is src': ['ZADD z 1 a 2 b', 'ZRANGESTORE z z 0 0', 'ZRANGESTORE z z 5 6'],
  'zpop empties via count': ['ZADD z 1 a 2 b', 'ZPOPMAX z 2', 'ZADD z 1 a', 'ZPOPMIN z 10'],
  'zmpop missing': ['ZMPOP 1 m MIN', 'LMPOP 1 m LEFT'],
  'zremrange empties': ['ZADD z 1 a', 'ZREMRANGEBYRANK z 0 -1', 'ZADD z 1 a', 'ZREMRANGEBYLEX z - +', 'ZADD z 1 a', 'ZREMRANGEBYSCORE z -inf +inf'],
  'geo store dst is src': ['GEOADD g 13.361389 38.115556 Palermo', 'GEOSEARCHSTORE g g FROMLONLAT 13 38 BYRADIUS 100 km'],
  'geo store wrongtype dst': ['GEOADD g 13.361389 38.115556 Palermo', 'SET d x', 'GEOSEARCHSTORE d g FROMLONLAT 13 38 BYRADIUS 100 km'],
  'georadiusbymember store empty': ['GEOADD g 13.361389 38.115556 Palermo', 'SET d x', 'GEORADIUSBYMEMBER g Palermo 0 km STORE d', 'GEORADIUS g 0 0 1 m STORE d'],
  'pfadd/pfcount sparse to dense': ['PFADD h 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20', 'PFCOUNT h', 'PFDEBUG TODENSE h', 'PFDEBUG TODENSE h', 'PFADD h 21'],
  'pfmerge dst in sources': ['PFADD a 1', 'PFADD b 2', 'PFMERGE a b', 'PFMERGE a a'],
  'xadd nomkstream existing': ['XADD s 1-0 f v', 'XADD s NOMKSTREAM 2-0 f v', 'XADD s MINID 2 3-0 f v', 'XADD s MAXLEN ~ 1 4-0 f v'],
  'xadd errors': ['XADD s 1-0 f v', 'XADD s 1-0 f v', 'XADD s 0-0 f v', 'SET k v', 'XADD k * f v'],
  'xtrim limit approx': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XTRIM s MAXLEN ~ 0', 'XTRIM s MAXLEN = 0 LIMIT 0'],
  'xdel empties': ['XADD s 1-0 f v', 'XDEL s 1-0', 'XLEN s', 'EXISTS s'],
  'xsetid errors': ['XSETID missing 1-0', 'XADD s 5-0 f v', 'XSETID s 1-0'],
  'xgroup createconsumer missing group': ['XADD s 1-0 f v', 'XGROUP CREATECONSUMER s g c', 'XGROUP SETID s g 0', 'XGROUP CREATE s g 0 ENTRIESREAD 1', 'XGROUP SETID s g 0 ENTRIESREAD 0'],
  'xclaim force/deleted': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c STREAMS s >', 'XDEL s 1-0', 'XCLAIM s g c2 0 1-0 2-0', 'XCLAIM s g c3 0 3-0 FORCE', 'XCLAIM s g c2 0 2-0 RETRYCOUNT 5 LASTID 2-0'],
  'xreadgroup existing consumer': ['XADD s 1-0 f v', 'XGROUP CREATE s g 0', 'XGROUP CREATECONSUMER s g c', 'XREADGROUP GROUP g c STREAMS s >', 'XREADGROUP GROUP g c STREAMS s 0'],
  'xreadgroup missing group': ['XADD s 1-0 f v', 'XREADGROUP GROUP nog c STREAMS s >'],
  'xgroup destroy with pending': ['XADD s 1-0 f v', 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c STREAMS s >', 'XGROUP DELCONSUMER s g c', 'XGROUP DESTROY s g'],
  'rename list over set': ['RPUSH a x', 'SADD b y', 'RENAME a b'],
  'rename to existing with ttl': ['SET a 1', 'SET b 2 EX 100', 'RENAME a b', 'TTL b'],
  'rename expired src': ['@noactive', 'SET a 1 PX 20', 'SET b 2', '@sleep 60', 'RENAME a b', 'RENAMENX a b'],
  'move to existing': ['SET k v', 'SELECT 1', 'SET k w', 'SELECT 0', 'MOVE k 1', 'MOVE k 0'],
  'move with ttl': ['SET k v EX 100', 'MOVE k 1'],
  'copy with ttl, replace, types': ['SET a 1 EX 100', 'COPY a b', 'HSET h f v', 'COPY h b REPLACE', 'ZADD z 1 m', 'COPY z z2', 'XADD x 1-0 f v', 'COPY x x2', 'SADD s 1', 'COPY s s2', 'PFADD p a', 'COPY p p2'],
  'copy to other db replace': ['SET a 1', 'SELECT 2', 'SET a 2', 'SELECT 0', 'COPY a a DB 2', 'COPY a a DB 2 REPLACE'],
  'restore with ttl variants': ['SET a 1', '@save D DUMP a', 'RESTORE b 100000 $D', 'RESTORE c 99999999999000 $D ABSTTL', 'RESTORE d 0 $D IDLETIME 100', 'RESTORE e 0 $D FREQ 5', 'RESTORE b 0 $D', 'RESTORE b 1 $D REPLACE', 'RESTORE f 1 $D'],
  'restore bad payload': ['RESTORE b 0 garbage', 'SET b x', 'RESTORE b 0 garbage REPLACE'],
  'sort store by get': ['RPUSH l 1 2 3', 'SET w_1 3', 'SET w_2 2', 'SET w_3 1', 'SET o_1 a', 'SORT l BY w_* GET o_* GET # STORE d', 'SORT l LIMIT 5 5 STORE d', 'SORT l BY nosort STORE d'],
  'sort store dst is src': ['RPUSH l 3 1 2', 'SORT l STORE l'],
  'sort zset store': ['ZADD z 1 b 2 a', 'SORT z ALPHA STORE d'],
  'unlink many types': ['SET a 1', 'RPUSH b 1', 'SADD c 1', 'HSET d 1 1', 'ZADD e 1 a', 'XADD f 1-0 a b', 'UNLINK a b c d e f'],
  'expire on each type': ['RPUSH l a', 'EXPIRE l 100', 'HSET h a 1', 'PEXPIRE h 100000', 'SADD s a', 'EXPIREAT s 99999999999', 'ZADD z 1 a', 'PEXPIREAT z 99999999999000', 'XADD x 1-0 a b', 'EXPIRE x -5'],
  'expire on expired key': ['@noactive', 'SET k v PX 20', '@sleep 60', 'EXPIRE k -1', 'PEXPIRE k 100'],
  'flushall with keys': ['SET a 1', 'SELECT 3', 'SET b 1', 'SELECT 0', 'FLUSHALL', 'FLUSHALL ASYNC', 'SET c 1', 'FLUSHDB ASYNC'],
  'swapdb same': ['SET a 1', 'SWAPDB 0 0', 'SWAPDB 0 1', 'SWAPDB 1 0'],
  'multi with queue error': ['MULTI', 'SET a 1', 'NOSUCHCMD', 'EXEC'],
  'multi runtime error': ['SET s x', 'MULTI', 'SET a 1', 'LPUSH s x', 'INCR a', 'EXEC'],
  'multi blocking commands': ['RPUSH l a', 'MULTI', 'BLPOP l 0', 'BLPOP l 0', 'BZPOPMIN z 0', 'EXEC'],
  'multi expire past and set': ['MULTI', 'SET a 1', 'EXPIRE a -1', 'SET a 2', 'EXEC'],
  'multi select move': ['MULTI', 'SET a 1', 'SELECT 1', 'SET b 2', 'MOVE b 0', 'SELECT 0', 'EXEC'],
  'lazy expire via GET k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'GET k', 'GET k'],
  'lazy expire via MGET k x': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'MGET k x', 'MGET k x'],
  'lazy expire via STRLEN k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'STRLEN k', 'STRLEN k'],
  'lazy expire via GETRANGE k 0 1': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'GETRANGE k 0 1', 'GETRANGE k 0 1'],
  'lazy expire via GETBIT k 1': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'GETBIT k 1', 'GETBIT k 1'],
  'lazy expire via BITCOUNT k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'BITCOUNT k', 'BITCOUNT k'],
  'lazy expire via BITPOS k 1': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'BITPOS k 1', 'BITPOS k 1'],
  'lazy expire via BITFIELD_RO k GET u8 0': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'BITFIELD_RO k GET u8 0', 'BITFIELD_RO k GET u8 0'],
  'lazy expire via EXISTS k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'EXISTS k', 'EXISTS k'],
  'lazy expire via TYPE k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'TYPE k', 'TYPE k'],
  'lazy expire via TTL k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'TTL k', 'TTL k'],
  'lazy expire via PTTL k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'PTTL k', 'PTTL k'],
  'lazy expire via EXPIRETIME k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'EXPIRETIME k', 'EXPIRETIME k'],
  'lazy expire via OBJECT ENCODING k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'OBJECT ENCODING k', 'OBJECT ENCODING k'],
  'lazy expire via OBJECT FREQ k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'OBJECT FREQ k', 'OBJECT FREQ k'],
  'lazy expire via DUMP k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'DUMP k', 'DUMP k'],
  'lazy expire via TOUCH k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'TOUCH k', 'TOUCH k'],
  'lazy expire via RANDOMKEY': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'RANDOMKEY', 'RANDOMKEY'],
  'lazy expire via SCAN 0': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'SCAN 0', 'SCAN 0'],
  'lazy expire via KEYS *': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'KEYS *', 'KEYS *'],
  'lazy expire via DBSIZE': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'DBSIZE', 'DBSIZE'],
  'lazy expire via LCS k x': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'LCS k x', 'LCS k x'],
  'lazy expire via SORT_RO k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'SORT_RO k', 'SORT_RO k'],
  'lazy expire via SUBSTR k 0 1': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'SUBSTR k 0 1', 'SUBSTR k 0 1'],
  'lazy expire via PFCOUNT k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'PFCOUNT k', 'PFCOUNT k'],
  'lazy expire via GETDEL k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'GETDEL k', 'GETDEL k'],
  'lazy expire via COPY k c': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'COPY k c', 'COPY k c'],
  'lazy expire via STRLEN k': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'STRLEN k', 'STRLEN k'],
  'lazy expire list via LRANGE k 0 -1': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LRANGE k 0 -1', 'LRANGE k 0 -1'],
  'lazy expire list via LLEN k': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LLEN k', 'LLEN k'],
  'lazy expire list via LINDEX k 0': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LINDEX k 0', 'LINDEX k 0'],
  'lazy expire list via LPOS k a': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LPOS k a', 'LPOS k a'],
  'lazy expire list via LPOP k': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LPOP k', 'LPOP k'],
  'lazy expire list via BLPOP k 0.01': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'BLPOP k 0.01', 'BLPOP k 0.01'],
  'lazy expire list via LMPOP 1 k LEFT': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LMPOP 1 k LEFT', 'LMPOP 1 k LEFT'],
  'lazy expire list via LREM k 0 a': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LREM k 0 a', 'LREM k 0 a'],
  'lazy expire list via LTRIM k 0 0': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LTRIM k 0 0', 'LTRIM k 0 0'],
  'lazy expire list via LINSERT k BEFORE a b': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LINSERT k BEFORE a b', 'LINSERT k BEFORE a b'],
  'lazy expire list via LSET k 0 a': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LSET k 0 a', 'LSET k 0 a'],
  'lazy expire list via RPUSHX k a': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'RPUSHX k a', 'RPUSHX k a'],
  'lazy expire list via LMOVE k d LEFT LEFT': ['@noactive', 'RPUSH k a b', 'PEXPIRE k 20', '@sleep 50', 'LMOVE k d LEFT LEFT', 'LMOVE k d LEFT LEFT'],
  'lazy expire hash via HGET k a': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HGET k a', 'HGET k a'],
  'lazy expire hash via HGETALL k': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HGETALL k', 'HGETALL k'],
  'lazy expire hash via HRANDFIELD k': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HRANDFIELD k', 'HRANDFIELD k'],
  'lazy expire hash via HSCAN k 0': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HSCAN k 0', 'HSCAN k 0'],
  'lazy expire hash via HEXISTS k a': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HEXISTS k a', 'HEXISTS k a'],
  'lazy expire hash via HLEN k': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HLEN k', 'HLEN k'],
  'lazy expire hash via HSTRLEN k a': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HSTRLEN k a', 'HSTRLEN k a'],
  'lazy expire hash via HDEL k a': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HDEL k a', 'HDEL k a'],
  'lazy expire hash via HINCRBY k a 1': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HINCRBY k a 1', 'HINCRBY k a 1'],
  'lazy expire hash via HSETNX k a 1': ['@noactive', 'HSET k a 1', 'PEXPIRE k 20', '@sleep 50', 'HSETNX k a 1', 'HSETNX k a 1'],
  'lazy expire set via SMEMBERS k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SMEMBERS k', 'SMEMBERS k'],
  'lazy expire set via SRANDMEMBER k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SRANDMEMBER k', 'SRANDMEMBER k'],
  'lazy expire set via SISMEMBER k a': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SISMEMBER k a', 'SISMEMBER k a'],
  'lazy expire set via SMISMEMBER k a': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SMISMEMBER k a', 'SMISMEMBER k a'],
  'lazy expire set via SCARD k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SCARD k', 'SCARD k'],
  'lazy expire set via SINTER k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SINTER k', 'SINTER k'],
  'lazy expire set via SINTERCARD 1 k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SINTERCARD 1 k', 'SINTERCARD 1 k'],
  'lazy expire set via SUNION k x': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SUNION k x', 'SUNION k x'],
  'lazy expire set via SPOP k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SPOP k', 'SPOP k'],
  'lazy expire set via SREM k a': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SREM k a', 'SREM k a'],
  'lazy expire set via SMOVE k d a': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SMOVE k d a', 'SMOVE k d a'],
  'lazy expire set via SDIFFSTORE d k': ['@noactive', 'SADD k a', 'PEXPIRE k 20', '@sleep 50', 'SDIFFSTORE d k', 'SDIFFSTORE d k'],
  'lazy expire zset via ZRANGE k 0 -1': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZRANGE k 0 -1', 'ZRANGE k 0 -1'],
  'lazy expire zset via ZSCORE k a': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZSCORE k a', 'ZSCORE k a'],
  'lazy expire zset via ZMSCORE k a': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZMSCORE k a', 'ZMSCORE k a'],
  'lazy expire zset via ZCARD k': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZCARD k', 'ZCARD k'],
  'lazy expire zset via ZRANK k a': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZRANK k a', 'ZRANK k a'],
  'lazy expire zset via ZRANDMEMBER k': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZRANDMEMBER k', 'ZRANDMEMBER k'],
  'lazy expire zset via ZCOUNT k -inf +inf': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZCOUNT k -inf +inf', 'ZCOUNT k -inf +inf'],
  'lazy expire zset via ZLEXCOUNT k - +': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZLEXCOUNT k - +', 'ZLEXCOUNT k - +'],
  'lazy expire zset via ZUNION 1 k': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZUNION 1 k', 'ZUNION 1 k'],
  'lazy expire zset via ZPOPMIN k': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZPOPMIN k', 'ZPOPMIN k'],
  'lazy expire zset via BZPOPMIN k 0.01': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'BZPOPMIN k 0.01', 'BZPOPMIN k 0.01'],
  'lazy expire zset via ZREM k a': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZREM k a', 'ZREM k a'],
  'lazy expire zset via ZINCRBY k 1 a': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZINCRBY k 1 a', 'ZINCRBY k 1 a'],
  'lazy expire zset via ZRANGESTORE d k 0 -1': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'ZRANGESTORE d k 0 -1', 'ZRANGESTORE d k 0 -1'],
  'lazy expire zset via GEOPOS k a': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'GEOPOS k a', 'GEOPOS k a'],
  'lazy expire zset via GEOSEARCH k FROMLONLAT 0 0 BYRADIUS 1 km': ['@noactive', 'ZADD k 1 a', 'PEXPIRE k 20', '@sleep 50', 'GEOSEARCH k FROMLONLAT 0 0 BYRADIUS 1 km', 'GEOSEARCH k FROMLONLAT 0 0 BYRADIUS 1 km'],
  'lazy expire stream via XRANGE k - +': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XRANGE k - +', 'XRANGE k - +'],
  'lazy expire stream via XLEN k': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XLEN k', 'XLEN k'],
  'lazy expire stream via XREAD STREAMS k 0': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XREAD STREAMS k 0', 'XREAD STREAMS k 0'],
  'lazy expire stream via XINFO STREAM k': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XINFO STREAM k', 'XINFO STREAM k'],
  'lazy expire stream via XTRIM k MAXLEN 0': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XTRIM k MAXLEN 0', 'XTRIM k MAXLEN 0'],
  'lazy expire stream via XDEL k 1-0': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XDEL k 1-0', 'XDEL k 1-0'],
  'lazy expire stream via XGROUP CREATE k g 0': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XGROUP CREATE k g 0', 'XGROUP CREATE k g 0'],
  'lazy expire stream via XSETID k 5-0': ['@noactive', 'XADD k 1-0 f v', 'PEXPIRE k 20', '@sleep 50', 'XSETID k 5-0', 'XSETID k 5-0'],
  'lazy expire rename dst': ['@noactive', 'SET a 1', 'SET b 2 PX 20', '@sleep 50', 'RENAME a b'],
  'lazy expire renamenx dst': ['@noactive', 'SET a 1', 'SET b 2 PX 20', '@sleep 50', 'RENAMENX a b'],
  'lazy expire copy src': ['@noactive', 'SET a 1 PX 20', '@sleep 50', 'COPY a b'],
  'lazy expire multi': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'MULTI', 'GET k', 'SET k 2', 'EXEC'],
  'lazy expire mset/msetnx': ['@noactive', 'SET a 1 PX 20', 'SET b 1 PX 20', '@sleep 50', 'MSET a 2', 'MSETNX b 2'],
  'lazy expire setnx/set nx': ['@noactive', 'SET a 1 PX 20', 'SET b 1 PX 20', '@sleep 50', 'SETNX a 2', 'SET b 2 NX', 'SET c 1 PX 20', '@sleep 50', 'SET c 2 XX'],
  'lazy expire bitop dst/src': ['@noactive', 'SET a 1 PX 20', 'SET d 1 PX 20', '@sleep 50', 'BITOP OR d a'],
  'lazy expire blocked push target': ['@noactive', 'SET l x PX 20', '@sleep 50', 'RPUSH l a'],
  'blpop multiple keys': ['@bg BLPOP a b c 0', '@sleep 50', 'RPUSH c 1', 'RPUSH b 2', '@wait'],
  'blmove same key served': ['@bg BLMOVE s s LEFT RIGHT 0', '@sleep 50', 'RPUSH s a b', '@wait'],
  'blmove served wrongtype dst': ['SET d x', '@bg BLMOVE s d LEFT RIGHT 0', '@sleep 50', 'RPUSH s a', '@wait'],
  'blmpop multiple keys served': ['@bg BLMPOP 0 2 a b RIGHT COUNT 10', '@sleep 50', 'RPUSH b 1 2 3', '@wait'],
  'bzmpop multiple served': ['@bg BZMPOP 0 2 a b MAX COUNT 10', '@sleep 50', 'ZADD b 1 x 2 y', '@wait'],
  'blpop served by push of other type': ['@bg BLPOP l 0', '@sleep 50', 'SET l x', 'DEL l', 'RPUSH l a', '@wait'],
  'hsetnx creating': ['HSETNX h a 1', 'HSETNX h a 2'],
  // (Redis computes INCRBYFLOAT in long double: 1e308 + 1e308 is no overflow there, so only inf itself is tested)
  'hincrbyfloat inf': ['HSET h a 1', 'HINCRBYFLOAT h a inf', 'HINCRBYFLOAT h a -inf'],
  'incrbyfloat inf': ['SET k 1', 'INCRBYFLOAT k inf'],
  'lazy expire dst, empty store results': ['@noactive', 'SET a 1 PX 20', 'SET b 1 PX 20', 'SET c 1 PX 20', 'SET d 1 PX 20', 'SET e 1 PX 20', 'SET f 1 PX 20', 'SET g 1 PX 20', 'SET h 1 PX 20', '@sleep 50', 'SINTERSTORE a m', 'ZINTERSTORE b 1 m', 'ZRANGESTORE c m 0 -1', 'GEOSEARCHSTORE d m FROMLONLAT 0 0 BYRADIUS 1 km', 'GEORADIUS m 0 0 1 km STORE e', 'SORT m STORE f', 'SDIFFSTORE g m', 'ZDIFFSTORE h 1 m'],
  'lazy expire dst, empty bitop': ['@noactive', 'SET d 1 PX 20', '@sleep 50', 'BITOP AND d m'],
  'expire overflow': ['SET k v', 'EXPIRE k 9223372036854775807', 'PEXPIRE k 9223372036854775807', 'EXPIREAT k 9223372036854775807', 'SET k v EX 9223372036854775807'],
  'getex on key with ttl': ['SET k v EX 100', 'GETEX k', 'GETEX k EX 200', 'GETEX k PERSIST'],
  'xadd maxlen 0': ['XADD s MAXLEN 0 * f v', 'EXISTS s', 'XTRIM missing MAXLEN 0'],
  'xgroup mkstream existing': ['XADD s 1-0 f v', 'XGROUP CREATE s g $ MKSTREAM', 'XGROUP CREATE s g2 0 MKSTREAM'],
  'xautoclaim count/justid': ['XADD s 1-0 f v', 'XADD s 2-0 f v', 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c STREAMS s >', 'XAUTOCLAIM s g c2 0 0 COUNT 1', 'XAUTOCLAIM s g c3 0 0 COUNT 5 JUSTID'],
  'linsert wrongtype': ['SET k v', 'LINSERT k BEFORE a b', 'LPUSHX k a', 'LREM k 0 a'],
  'restore every type': ['HSET h a 1', 'SADD s a', 'ZADD z 1 a', 'XADD x 1-0 f v', 'PFADD p a', 'RPUSH l a', '@save DH DUMP h', '@save DS DUMP s', '@save DZ DUMP z', '@save DX DUMP x', '@save DP DUMP p', '@save DL DUMP l', 'FLUSHALL', 'RESTORE h 0 $DH', 'RESTORE s 0 $DS', 'RESTORE z 0 $DZ', 'RESTORE x 0 $DX', 'RESTORE p 0 $DP', 'RESTORE l 0 $DL', 'PFADD p b'],
  'eval writes': ['EVAL "redis.call(\'SET\', KEYS[1], \'v\'); redis.call(\'EXPIRE\', KEYS[1], 10); return redis.call(\'DEL\', KEYS[1])" 1 k'],
  'eval list': ['EVAL "redis.call(\'RPUSH\', KEYS[1], \'a\'); return redis.call(\'LPOP\', KEYS[1])" 1 l'],
  'eval lazy expire': ['@noactive', 'SET k 1 PX 20', '@sleep 50', 'EVAL "return redis.call(\'GET\', KEYS[1])" 1 k'],
  // one key, so which key goes first is no question; maxmemory is reset by the last step
  'eviction allkeys-lru': ['SET a 1', 'CONFIG SET maxmemory-policy allkeys-lru', 'CONFIG SET maxmemory 1', 'GET a', 'SET b 1', 'CONFIG SET maxmemory 0', 'CONFIG SET maxmemory-policy noeviction'],
  'eviction volatile-ttl': ['SET a 1', 'SET b 1 EX 100', 'CONFIG SET maxmemory-policy volatile-ttl', 'CONFIG SET maxmemory 1', 'GET a', 'CONFIG SET maxmemory 0', 'CONFIG SET maxmemory-policy noeviction'],
  'migrate': ['SET a 1', 'SET b 2', 'SET c 3', 'MIGRATE 127.0.0.1 $SINKPORT a $SINKDB 5000', 'MIGRATE 127.0.0.1 $SINKPORT b $SINKDB 5000 COPY', 'MIGRATE 127.0.0.1 $SINKPORT "" $SINKDB 5000 REPLACE KEYS b c', 'MIGRATE 127.0.0.1 $SINKPORT missing $SINKDB 5000'],
};

// ---------------------------------------------------------------- RESP client

function encode(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parses one RESP2 value at buf[pos]; returns [value, next] or null when incomplete. */
function parse(buf, pos) {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('latin1', pos + 1, nl);
  const after = nl + 2;
  switch (type) {
    case '+':
      return [line, after];
    case '-':
      return [{ error: line }, after];
    case ':':
      return [Number(line), after];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, after];
      if (buf.length < after + n + 2) return null;
      return [buf.subarray(after, after + n), after + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, after];
      const out = [];
      let p = after;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (r === null) return null;
        out.push(r[0]);
        p = r[1];
      }
      return [out, p];
    }
    default:
      throw new Error(`unexpected RESP type ${type}`);
  }
}

class Conn {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.pushes = [];
    this.onPush = null;
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = parse(this.buf, 0);
        if (r === null) break;
        this.buf = this.buf.subarray(r[1]);
        if (this.onPush !== null) this.onPush(r[0]);
        else {
          const w = this.waiters.shift();
          if (w) w(r[0]);
        }
      }
    });
    socket.on('error', () => undefined);
  }
  static open(port) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  send(args) {
    const p = new Promise((resolve) => this.waiters.push(resolve));
    this.socket.write(encode(args));
    return p;
  }
  close() {
    this.socket.destroy();
  }
}

function show(v) {
  if (v === null) return 'nil';
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('latin1'));
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (typeof v === 'object') return `ERR(${v.error.split(' ')[0]})`;
  return String(v);
}

function tokenize(s) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m;
  while ((m = re.exec(s)) !== null) out.push(m[1] !== undefined ? m[1] : m[2]);
  return out;
}

// ---------------------------------------------------------------- servers

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
}

async function waitReady(port, proc, name) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited (${proc.exitCode})`);
    try {
      const c = await Conn.open(port);
      const r = await c.send(['PING']);
      c.close();
      if (r === 'PONG') return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not start on ${port}`);
}

class Target {
  constructor(name, port, sinkPort, sinkDb) {
    this.name = name;
    this.port = port;
    this.sinkPort = sinkPort;
    this.sinkDb = sinkDb;
  }
  async connect() {
    this.main = await Conn.open(this.port);
    this.bg = await Conn.open(this.port);
    this.bg2 = await Conn.open(this.port);
    this.sub = await Conn.open(this.port);
    await this.sub.send(['PSUBSCRIBE', '*']);
    this.events = [];
    this.markWaiter = null;
    this.sub.onPush = (msg) => {
      if (!Array.isArray(msg) || String(msg[0]) !== 'pmessage') return;
      const channel = msg[2].toString('latin1');
      const payload = msg[3].toString('latin1');
      if (channel === 'events-diff-mark') {
        if (this.markWaiter !== null && payload === this.markWaiter.text) {
          const w = this.markWaiter;
          this.markWaiter = null;
          w.resolve();
        }
        return;
      }
      this.events.push(`${channel} ${payload}`);
    };
  }
  async mark(text) {
    const seen = new Promise((resolve) => {
      this.markWaiter = { text, resolve };
    });
    await this.main.send(['PUBLISH', 'events-diff-mark', text]);
    await seen;
  }
  /** Runs one sequence; returns { events, replies }. */
  async run(name, steps, mode) {
    await this.main.send(['SELECT', '0']);
    await this.main.send(['FLUSHALL']);
    await this.main.send(['DEBUG', 'SET-ACTIVE-EXPIRE', '1']);
    if (this.sink === undefined) this.sink = await Conn.open(this.sinkPort);
    await this.sink.send(['SELECT', String(this.sinkDb)]);
    await this.sink.send(['FLUSHDB']);
    await this.main.send(['CONFIG', 'SET', 'notify-keyspace-events', mode]);
    await this.mark(`begin ${name}`);
    this.events = [];
    const vars = new Map([
      ['SINKPORT', String(this.sinkPort)],
      ['SINKDB', String(this.sinkDb)],
    ]);
    const replies = [];
    const pending = [null, null];
    for (const step of steps) {
      if (step === '@noactive') {
        await this.main.send(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
        continue;
      }
      if (step === '@wait' || step === '@wait2') {
        const i = step === '@wait' ? 0 : 1;
        replies.push(`(bg${i + 1}) ${show(await pending[i])}`);
        pending[i] = null;
        continue;
      }
      const words = tokenize(step);
      if (words[0] === '@sleep') {
        await new Promise((r) => setTimeout(r, Number(words[1])));
        continue;
      }
      let save = null;
      let conn = this.main;
      if (words[0] === '@save') {
        save = words[1];
        words.splice(0, 2);
      } else if (words[0] === '@bg' || words[0] === '@bg2') {
        conn = words.shift() === '@bg' ? this.bg : this.bg2;
      }
      const args = words.map((w) => (w.startsWith('$') && vars.has(w.slice(1)) ? vars.get(w.slice(1)) : w));
      if (conn !== this.main) {
        pending[conn === this.bg ? 0 : 1] = conn.send(args);
        continue;
      }
      const reply = await conn.send(args);
      if (save !== null) vars.set(save, reply);
      else replies.push(show(reply));
    }
    for (const p of pending) if (p !== null) replies.push(`(bg) ${show(await p)}`);
    await this.mark(`end ${name}`);
    const events = this.events;
    this.events = [];
    await this.main.send(['SELECT', '0']);
    return { events, replies };
  }
}

// ---------------------------------------------------------------- diff

/** A minimal line diff (LCS) of two event lists. */
function diffLines(a, b) {
  const n = a.length;
  const m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`    ${a[i]}`);
      i++;
      j++;
    } else if (j < m && (i >= n || dp[i][j + 1] >= dp[i + 1][j])) out.push(`  + ${b[j++]}   (strata only)`);
    else out.push(`  - ${a[i++]}   (redis only)`);
  }
  return out;
}

async function main() {
  const redisPort = opts.redisPort || (await freePort());
  const strataPort = opts.strataPort || (await freePort());
  const procs = [];
  const stop = () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  };
  process.on('exit', stop);
  process.on('SIGINT', () => process.exit(130));
  if (!opts.redisPort) {
    const p = spawn(opts.redis, ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'], { stdio: 'ignore' });
    procs.push(p);
    await waitReady(redisPort, p, 'redis-server');
  }
  if (!opts.strataPort) {
    const p = spawn(process.execPath, [opts.strata, '--port', String(strataPort)], { stdio: 'ignore', cwd: here });
    procs.push(p);
    await waitReady(strataPort, p, 'strata');
  }
  // MIGRATE's target: a third server (a redis-server) both migrate into, in different databases.
  const sinkPort = await freePort();
  const sink = spawn(opts.redis, ['--port', String(sinkPort), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  procs.push(sink);
  await waitReady(sinkPort, sink, 'redis-server (migrate sink)');
  const redis = new Target('redis', redisPort, sinkPort, 1);
  const strata = new Target('strata', strataPort, sinkPort, 2);
  await redis.connect();
  await strata.connect();

  const names = Object.keys(SEQ).filter((n) => opts.only === '' || n.includes(opts.only));
  const KNOWN_GAP_MODES = new Set(['KEm']);
  let total = 0;
  let differing = 0;
  let known = 0;
  let replyDiffs = 0;
  const byMode = [];
  for (const mode of opts.modes.split(',')) {
    let modeDiffs = 0;
    for (const name of names) {
      const [r, s] = await Promise.all([redis.run(name, SEQ[name], mode), strata.run(name, SEQ[name], mode)]);
      total++;
      const same = r.events.length === s.events.length && r.events.every((e, i) => e === s.events[i]);
      if (!same) {
        const gap = name.startsWith('~') || KNOWN_GAP_MODES.has(mode);
        if (gap) known++;
        else differing++;
        modeDiffs++;
        console.log(`${gap ? 'GAP ' : 'DIFF'} [${mode}] ${name}`);
        for (const line of diffLines(r.events, s.events)) if (opts.verbose || !line.startsWith('    ')) console.log(line);
      } else if (opts.verbose) console.log(`ok   [${mode}] ${name} (${r.events.length} events)`);
      if (opts.replies && mode === opts.modes.split(',')[0]) {
        const rr = r.replies.join(' | ');
        const sr = s.replies.join(' | ');
        if (rr !== sr && !name.includes('dump') && !name.includes('spop')) {
          replyDiffs++;
          console.log(`REPLY [${name}]\n  redis:  ${rr}\n  strata: ${sr}`);
        }
      }
    }
    byMode.push(`${mode}: ${modeDiffs}`);
  }
  console.log(`\n${differing} of ${total} sequence runs differ, ${known} more in known gaps (${names.length} sequences; differing per mode ${byMode.join(', ')})`);
  if (opts.replies) console.log(`${replyDiffs} sequences with different replies (informational)`);
  for (const t of [redis, strata]) {
    t.main.close();
    t.bg.close();
    t.bg2.close();
    if (t.sink !== undefined) t.sink.close();
    t.sub.close();
  }
  stop();
  process.exit(differing === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
