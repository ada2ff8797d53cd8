import { importRdbFile, RdbImportError } from '../persistence/rdb-import.js';
import type { Client } from '../server/client.js';
import { CODECS } from '../store/values.js';
import { ACCESS_EPOCH_MS, idleSec } from '../store/entry.js';
import { replyHelp } from './help.js';
import { estimateSize } from './memory.js';
import type { CommandSpec } from './types.js';
import { ERR, parseDouble } from './util.js';

const PROTOCOL_TYPES = 'string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false';

/** DEBUG PROTOCOL <type>: one reply of each RESP type (RESP2 clients get the RESP2 fallbacks). */
function debugProtocol(c: Client, type: string): void {
  const r = c.reply;
  const t = type.toLowerCase();
  const resp3 = c.resp === 3;
  if (t === 'string') r.bulk('Hello World');
  else if (t === 'integer') r.int(12345);
  else if (t === 'double') r.double(3.141);
  else if (t === 'bignum') {
    if (resp3) r.raw('(1234567999999999999999999999999999999\r\n');
    else r.bulk('1234567999999999999999999999999999999');
  } else if (t === 'null') r.nullBulk();
  else if (t === 'array' || t === 'set' || t === 'push') {
    if (t === 'array') r.arrayHeader(3);
    else if (t === 'set') r.setHeader(3);
    else r.pushHeader(3);
    for (let j = 0; j < 3; j++) r.int(j);
  } else if (t === 'map') {
    r.mapHeader(3);
    for (let j = 0; j < 3; j++) {
      r.int(j);
      r.bool(j === 1);
    }
  } else if (t === 'attrib') {
    if (resp3) r.raw('|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n');
    r.bulk('Some real reply following the attribute');
  } else if (t === 'verbatim') r.verbatim('This is a verbatim\nstring');
  else if (t === 'true' || t === 'false') r.bool(t === 'true');
  else c.error(`ERR Wrong protocol type name. Please use one of the following: ${PROTOCOL_TYPES}`);
}

/** DEBUG SLEEP <seconds>: blocks the server, as Redis does (a debugging aid). */
function debugSleep(c: Client, arg: string): void {
  const seconds = parseDouble(arg);
  if (seconds === null) return c.error(ERR.notFloat);
  const clock = c.server.runtime.clock;
  const until = clock.monotonicMs() + seconds * 1000;
  while (clock.monotonicMs() < until) {
    // busy wait: DEBUG SLEEP must stall every client
  }
  c.reply.ok();
}

/** DEBUG OBJECT <key>: the low-level description of a value. */
function debugObject(c: Client, key: string): void {
  const e = c.db.lookup(key);
  if (e === undefined) return c.error(ERR.noSuchKey);
  const now = c.server.now();
  const encoding = CODECS[e.type]?.encoding(e.value) ?? 'unknown';
  // Redis's LRU clock: Unix seconds in 24 bits.
  const lru = (e.accessedSec + ACCESS_EPOCH_MS / 1000) & 0xffffff;
  c.reply.status(
    `Value at:0x0 refcount:1 encoding:${encoding} serializedlength:${estimateSize(e.value, 0)} ` +
      `lru:${lru} lru_seconds_idle:${idleSec(e, now)}`,
  );
}

/**
 * DEBUG IMPORT-RDB <path>: writes a Redis RDB file's keys into the running
 * node (persistence/rdb-import.ts); replies with the number of keys written.
 * The file is verified whole first, so a bad one writes nothing.
 */
function debugImportRdb(c: Client, file: string): void {
  try {
    c.reply.int(importRdbFile(c.server, file).loaded);
  } catch (err) {
    if (!(err instanceof RdbImportError)) throw err;
    c.error(`ERR Error trying to load the RDB dump: ${err.message}`);
  }
}

const DEBUG_HELP = [
  'CHANGE-REPL-ID', '    Change the replication IDs of the instance.',
  '    Dangerous: should be used only for testing the replication subsystem.',
  'IMPORT-RDB <path>', '    Strata: write the keys of a Redis RDB file (up to Redis 7.0) into this node, replacing',
  '    keys of the same name; replies with the number of keys written. Functions are not imported.',
  'OBJECT <key>', '    Show low level info about the <key> and associated value.',
  'PROTOCOL <type>', '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,', '    true, false.',
  'SET-ACTIVE-EXPIRE <0|1>', '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the', '    default.',
  'SLEEP <seconds>', '    Stop the server for <seconds>. Decimals allowed.',
  'CLUSTER-ISOLATE <0|1>', '    Strata: drop every cluster bus message in and out (gossip and replication),',
  '    as a network partition would, while clients stay connected.',
];

/** The DEBUG subcommands: [name, argc including DEBUG and the subcommand, handler]. */
const DEBUG_SUBCOMMANDS: [string, number, (c: Client, argv: string[]) => void][] = [
  ['help', 2, (c) => replyHelp(c, 'debug', DEBUG_HELP)],
  ['sleep', 3, (c, argv) => debugSleep(c, argv[2]!)],
  ['object', 3, (c, argv) => debugObject(c, argv[2]!)],
  ['import-rdb', 3, (c, argv) => debugImportRdb(c, argv[2]!)],
  ['protocol', 3, (c, argv) => debugProtocol(c, argv[2]!)],
  ['set-active-expire', 3, (c, argv) => {
    c.server.activeExpireEnabled = argv[2] !== '0';
    c.reply.ok();
  }],
  ['cluster-isolate', 3, (c, argv) => {
    if (c.server.cluster === null) return c.error('ERR This instance has cluster support disabled');
    c.server.cluster.isolate(argv[2] !== '0');
    c.reply.ok();
  }],
  ['change-repl-id', 2, (c) => {
    c.server.changeReplicationId();
    c.reply.ok();
  }],
];

export const debugCommand: CommandSpec = {
  name: 'debug',
  arity: -2,
  flags: ['admin', 'noscript', 'loading', 'stale'],
  group: 'server',
  since: '1.0.0',
  summary: 'A container for debugging commands.',
  complexity: 'Depends on subcommand.',
  docFlags: ['syscmd'],
  handler(c, argv) {
    const name = argv[1]!.toLowerCase();
    const found = DEBUG_SUBCOMMANDS.find(([n, argc]) => n === name && argc === argv.length);
    if (found) return found[2](c, argv);
    c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try DEBUG HELP.`);
  },
};
