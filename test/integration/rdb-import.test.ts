import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { configFrom, createNode, startNode } from '../../src/node.js';
import { decodeRdb } from '../../src/persistence/rdb-import.js';
import { crc64Bytes } from '../../src/store/crc64.js';
import { RDB_OPCODE, RDB_TYPE, RdbWriter } from '../../src/store/rdb.js';
import { realRuntime } from '../../src/runtime/index.js';
import type { Server } from '../../src/server/server.js';
import { eventually } from '../helpers/processes.js';
import { freePort, startServer, type TestServer } from '../helpers/server.js';

/**
 * Import of RDB files written by a real Redis 7.0 (the Debian package's
 * redis-server): every type and encoding Redis picks for small and large
 * values, TTLs, several databases, a stream with consumer groups and a
 * function library (skipped), compared key by key with what Redis itself
 * serves. Corrupt and truncated files are refused with nothing loaded.
 */

const REDIS_SERVER = '/usr/bin/redis-server';
const DATABASES = [0, 1, 15];
/** Tolerance of PTTL comparisons: both sides keep the same absolute expire time (PEXPIRETIME is compared exactly). */
const PTTL_SLACK_MS = 60_000;

let tmp: string;
/** Every redis-server this file started (killed in afterAll). */
const redisProcesses: ChildProcess[] = [];
let redisClient: Redis;
let rdbFile: string;

/**
 * Starts redis-server in `dir` (loading `dbfilename` there if it exists); a
 * missing binary fails the suite: it is a CI dependency (.ci/run installs it).
 */
async function startRedis(dir: string, dbfilename = 'dump.rdb'): Promise<Redis> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: install the Debian package redis-server (.ci/run does) to run the RDB import tests`);
  }
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', dbfilename, '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'];
  redisProcesses.push(spawn(REDIS_SERVER, args, { stdio: 'ignore' }));
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  client.on('error', () => undefined); // refused connections until it listens
  await eventually('redis-server answers PING', async () => ((await client.ping()) === 'PONG' ? null : 'no PONG'));
  return client;
}

/** Every type, in the encodings a Redis 7.0 picks for small and large values. */
async function fill(r: Redis): Promise<void> {
  const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
  await r.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '1000'); // elements over 1000 bytes get PLAIN quicklist nodes
  await r.mset('int:small', '12', 'int:neg', '-7', 'int:16', '1000', 'int:32', '100000', 'int:64', '9007199254740993', 'str:notint', '007');
  await r.set('str:lzf', 'abcdefgh'.repeat(200));
  await r.set('str:binary', Buffer.from(range(256, (i) => String.fromCharCode(i)).join(''), 'latin1'));
  await r.set('str:empty', '');
  await r.rpush('list:small', 'a', '1', '-5', 'x'.repeat(70), '70000', '-9000000000');
  await r.rpush('list:big', ...range(3000, (i) => `element-${i}`));
  await r.rpush('list:plain', 'head', 'p'.repeat(2000), 'tail');
  await r.sadd('set:intset', '1', '2', '3', '-100', '1099511627776');
  await r.sadd('set:intbig', ...range(600, (i) => String(i * 7)));
  await r.sadd('set:strings', 'a', 'b', 'c');
  await r.sadd('set:big', ...range(1000, (i) => `member-${i}`));
  await r.zadd('zset:small', '1.5', 'a', '0', 'b', '-3', 'c', 'inf', 'd', '-inf', 'e', '1e300', 'f', '0.1', 'g');
  await r.zadd('zset:big', ...range(300, (i) => [String(i / 3), `m${i}`]).flat());
  await r.hset('hash:small', 'f1', 'v1', 'n', '42', 'neg', '-1');
  await r.hset('hash:big', ...range(1000, (i) => [`field${i}`, `value${i}`]).flat());
  await r.hset('hash:longvalue', 'f', 'v'.repeat(100));
  await fillStreams(r);
  await fillTtlsAndDatabases(r);
  await r.call('FUNCTION', 'LOAD', "#!lua name=importlib\nredis.register_function('imported_fn', function() return 1 end)");
}

async function fillStreams(r: Redis): Promise<void> {
  for (let i = 1; i <= 5; i++) await r.xadd('stream:groups', `${i}-0`, 'field', `v${i}`, 'n', String(i));
  await r.xdel('stream:groups', '3-0');
  await r.xgroup('CREATE', 'stream:groups', 'g1', '0');
  await r.xgroup('CREATE', 'stream:groups', 'g2', '$');
  await r.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 'stream:groups', '>');
  await r.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', '1', 'STREAMS', 'stream:groups', '>');
  await r.xack('stream:groups', 'g1', '1-0');
  for (let i = 0; i < 250; i++) await r.xadd('stream:big', '*', 'i', String(i), 'payload', 'x'.repeat(i % 50));
  await r.xadd('stream:empty', '1-1', 'a', 'b');
  await r.xdel('stream:empty', '1-1');
}

async function fillTtlsAndDatabases(r: Redis): Promise<void> {
  await r.set('ttl:ms', 'v', 'PX', '100000000');
  await r.set('ttl:sec', 'v', 'EX', '5000');
  await r.rpush('ttl:list', 'a', 'b');
  await r.pexpire('ttl:list', 200000000);
  // Saved although already expired (active expiry off): the import must skip it.
  await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await r.set('ttl:gone', 'v', 'PX', '1');
  await new Promise((res) => setTimeout(res, 20));
  for (const db of [1, 15]) {
    await r.select(db);
    await r.set('int:small', `db${db}`);
    await r.hset(`hash:db${db}`, 'a', '1');
    await r.zadd(`zset:db${db}`, '2', 'x');
  }
  await r.select(0);
  // LRU idle times go to the file (RDB_OPCODE_IDLE) under an LRU policy.
  await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
}

/** Replies as latin1 text (binary safe), recursively. */
function text(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.latin1Slice(0, v.length);
  if (Array.isArray(v)) return v.map(text);
  return v;
}

/**
 * A flat field/value reply without the fields that are not data: idle times
 * (they depend on when each side was asked) and the node count of Redis's
 * radix tree (an allocation detail; radix-tree-keys, the listpacks, is kept).
 */
function withoutIncidentals(flat: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (!['idle', 'inactive', 'radix-tree-nodes'].includes(flat[i] as string)) out.push(flat[i], flat[i + 1]);
  }
  return out;
}

const READS: Record<string, (k: string) => string[][]> = {
  string: (k) => [['GET', k]],
  list: (k) => [['LRANGE', k, '0', '-1']],
  set: (k) => [['SMEMBERS', k]],
  zset: (k) => [['ZRANGE', k, '0', '-1', 'WITHSCORES']],
  hash: (k) => [['HGETALL', k]],
  stream: (k) => [['XRANGE', k, '-', '+'], ['XINFO', 'GROUPS', k], ['XINFO', 'STREAM', k]],
};

/** Each consumer group's pending entries (without idle times) and consumers. */
async function describeGroups(c: Redis, key: string, groups: unknown[][]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const g of groups) {
    const name = String(g[1]);
    out.push(text(await c.callBuffer('XPENDING', key, name)));
    const pending = text(await c.callBuffer('XPENDING', key, name, '-', '+', '1000')) as unknown[][];
    out.push(pending.map(([id, consumer, , deliveries]) => [id, consumer, deliveries]));
    const consumers = text(await c.callBuffer('XINFO', 'CONSUMERS', key, name)) as unknown[][];
    out.push(consumers.map(withoutIncidentals));
  }
  return out;
}

/** Unordered replies (set members, hash pairs) in a canonical order. */
function canonical(type: string, v: unknown): unknown {
  if (type === 'set') return (v as string[]).sort();
  if (type === 'stream' && Array.isArray(v) && v[0] === 'length') return withoutIncidentals(v); // XINFO STREAM
  if (type === 'hash') {
    const flat = v as string[];
    const pairs: string[] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
    return pairs.sort();
  }
  return v;
}

interface KeyView {
  type: string;
  value: unknown;
  pexpiretime: number;
  pttl: number;
}

async function describeKey(c: Redis, key: string): Promise<KeyView> {
  const type = String(await c.type(key));
  const reads = READS[type];
  if (reads === undefined) throw new Error(`key ${key}: unexpected type ${type}`);
  const value: unknown[] = [];
  for (const [cmd, ...args] of reads(key)) value.push(canonical(type, text(await c.callBuffer(cmd!, ...args))));
  if (type === 'stream') value.push(await describeGroups(c, key, value[1] as unknown[][]));
  return { type, value, pexpiretime: Number(await c.call('PEXPIRETIME', key)), pttl: Number(await c.pttl(key)) };
}

/** Every key of every database in DATABASES: name -> view. */
async function describeAll(c: Redis): Promise<Map<string, KeyView>> {
  const out = new Map<string, KeyView>();
  for (const db of DATABASES) {
    await c.select(db);
    const keys = (await c.keys('*')).sort();
    for (const k of keys) out.set(`${db}/${k}`, await describeKey(c, k));
  }
  await c.select(0);
  return out;
}

/** Strata's keyspace equals Redis's: types, values, exact expire times, PTTL within slack. */
async function expectSameAsRedis(strata: Redis, reference = redisClient): Promise<void> {
  const want = await describeAll(reference);
  const got = await describeAll(strata);
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, w] of want) {
    const g = got.get(k)!;
    expect({ key: k, type: g.type, value: g.value, pexpiretime: g.pexpiretime }).toEqual({ key: k, type: w.type, value: w.value, pexpiretime: w.pexpiretime });
    if (w.pttl < 0) expect(g.pttl).toBe(w.pttl);
    else expect(Math.abs(g.pttl - w.pttl)).toBeLessThan(PTTL_SLACK_MS);
  }
}

/** A node started as `strata-server --import-rdb file` would be (startNode), or the error that stopped it. */
async function startImporting(file: string, options: [string, string][] = []): Promise<Server> {
  const config = configFrom([['port', '0'], ['bind', '127.0.0.1'], ['import-rdb', file], ...options]);
  const node = createNode({ runtime: realRuntime(), config, log: silentLogger() });
  await startNode(node);
  return node;
}

function clientOf(node: Server): Redis {
  return new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
}

/** A copy of the RDB file changed by `edit`. */
function damaged(name: string, edit: (data: Buffer) => Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, edit(Buffer.from(readFileSync(rdbFile))));
  return file;
}

/** The offset of a byte inside the LZF-free binary string's value, so flipping it changes data, not framing. */
function valueByteOffset(data: Buffer): number {
  const at = data.indexOf(Buffer.from('str:binary', 'latin1'));
  expect(at).toBeGreaterThan(0);
  return at + 'str:binary'.length + 3 + 100; // key, 2-byte length of the 256-byte value, then into the value
}

/**
 * A cut at or below `at` that does not look like a complete file (an EOF
 * opcode 9 bytes from the end would, and fail as a checksum mismatch
 * instead of a short read).
 */
function completeLooking(data: Buffer, at: number): number {
  let n = at;
  while (data[n - 9] === 0xff) n--;
  return n;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'strata-rdb-import-'));
  redisClient = await startRedis(tmp);
  await fill(redisClient);
  await redisClient.save();
  rdbFile = path.join(tmp, 'dump.rdb');
});

afterAll(async () => {
  redisClient?.disconnect();
  for (const p of redisProcesses) p.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('RDB import: a file written by Redis 7.0', () => {
  it('is RDB version 10 and holds the already expired key, the function and IDLE hints the import must handle', () => {
    const contents = decodeRdb(readFileSync(rdbFile), 16);
    expect(contents.version).toBe(10);
    expect(contents.functionsSkipped).toBe(1);
    expect(contents.keys.find((k) => k.key === 'ttl:gone')?.expireAt).toBeGreaterThan(0);
    expect(contents.keys.some((k) => k.idleSec >= 0)).toBe(true);
    expect(contents.aux.get('redis-ver')).toMatch(/^7\.0\./);
  });

  it('has the encodings the test means to cover (Redis picked them when it saved)', async () => {
    const want: Record<string, string> = {
      'int:32': 'int', 'str:lzf': 'raw', 'list:small': 'quicklist', 'set:intset': 'intset', 'set:intbig': 'hashtable',
      'set:strings': 'hashtable', 'zset:small': 'listpack', 'zset:big': 'skiplist', 'hash:small': 'listpack',
      'hash:big': 'hashtable', 'hash:longvalue': 'hashtable', 'stream:groups': 'stream',
    };
    for (const [key, encoding] of Object.entries(want)) expect([key, await redisClient.object('ENCODING', key)]).toEqual([key, encoding]);
    // Several quicklist nodes; a PLAIN node splits list:plain into three.
    const nodes = async (key: string): Promise<number> => Number(/ql_nodes:(\d+)/.exec(String(await redisClient.call('DEBUG', 'OBJECT', key)))![1]);
    expect(await nodes('list:big')).toBeGreaterThan(1);
    expect(await nodes('list:plain')).toBe(3);
  });

  it('strata-server --import-rdb: every key, type, value and TTL as Redis serves them', async () => {
    const node = await startImporting(rdbFile);
    const c = clientOf(node);
    try {
      await expectSameAsRedis(c);
      expect(await c.exists('ttl:gone')).toBe(0);
      expect(await c.call('FUNCTION', 'LIST')).toEqual([]);
    } finally {
      c.disconnect();
      await node.stop();
    }
  });

  it('DEBUG IMPORT-RDB on a running node: replies the keys written, replaces same-named keys', async () => {
    const t = await startServer();
    try {
      const c = t.ioredis();
      await c.set('hash:small', 'to be replaced');
      await c.set('unrelated', 'stays');
      const want = (await describeAll(redisClient)).size;
      expect(await c.call('DEBUG', 'IMPORT-RDB', rdbFile)).toBe(want);
      expect(await c.get('unrelated')).toBe('stays');
      await c.del('unrelated');
      await expectSameAsRedis(c);
    } finally {
      await t.stop();
    }
  });

  it('imported keys are replicated writes: a peer receives them', async () => {
    const [pa, pb, ba, bb] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const a = await startServer({ port: String(pa), 'bus-port': String(ba), peers: `127.0.0.1:${pb}@${bb}` });
    const b = await startServer({ port: String(pb), 'bus-port': String(bb), peers: `127.0.0.1:${pa}@${ba}` });
    try {
      const ca = a.ioredis();
      const cb = b.ioredis();
      await ca.call('DEBUG', 'IMPORT-RDB', rdbFile);
      await eventually('the peer holds the imported keys', async () => {
        const [x, y] = [await cb.dbsize(), await ca.dbsize()];
        return x === y ? null : `peer has ${x} keys in db 0, importer ${y}`;
      });
      expect(await cb.lrange('list:big', 0, -1)).toEqual(await redisClient.lrange('list:big', 0, -1));
      expect(await cb.call('PEXPIRETIME', 'ttl:ms')).toBe(await redisClient.call('PEXPIRETIME', 'ttl:ms'));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

// ---- hand-built files with the encodings Redis 7.0 reads but no longer writes ----

/** A ziplist (ziplist.c) of short strings and small integers, with correct prevlens and tail offset. */
function ziplist(items: (string | number)[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const body = typeof it === 'number' ? Buffer.from([0xfe, it & 0xff]) : Buffer.concat([Buffer.from([it.length]), Buffer.from(it, 'latin1')]);
    const entry = Buffer.concat([Buffer.from([prev]), body]);
    entries.push(entry);
    prev = entry.length;
  }
  const header = Buffer.alloc(10);
  const total = 10 + entries.reduce((n, e) => n + e.length, 0) + 1;
  header.writeUInt32LE(total, 0);
  header.writeUInt32LE(total - 1 - prev, 4);
  header.writeUInt16LE(items.length, 8);
  return Buffer.concat([header, ...entries, Buffer.from([0xff])]);
}

/** An intset (intset.c) of 16-bit members, sorted. */
function intset(members: number[]): Buffer {
  const b = Buffer.alloc(8 + 2 * members.length);
  b.writeUInt32LE(2, 0);
  b.writeUInt32LE(members.length, 4);
  [...members].sort((x, y) => x - y).forEach((m, i) => b.writeInt16LE(m, 8 + 2 * i));
  return b;
}

/** rdbSaveDoubleValue: the pre-ZSET_2 score encoding (length-prefixed text). */
function asciiDouble(w: RdbWriter, d: string): void {
  w.byte(d.length);
  w.bytes(d);
}

/** An RDB version 9 file (Redis 5/6) holding each older encoding once, checksummed. */
function olderEncodingsFile(): Buffer {
  const w = new RdbWriter();
  w.bytes('REDIS0009');
  w.byte(RDB_OPCODE.SELECTDB);
  w.length(0);
  const key = (type: number, name: string): void => {
    w.byte(type);
    w.string(name, false);
  };
  key(RDB_TYPE.LIST, 'linkedlist');
  w.length(3);
  for (const v of ['a', '12', 'c'.repeat(30)]) w.string(v, true);
  key(RDB_TYPE.LIST_ZIPLIST, 'ziplist-list');
  w.string(ziplist(['x', 5, 'y', -3]), false);
  key(RDB_TYPE.LIST_QUICKLIST, 'quicklist-v1');
  w.length(2);
  w.string(ziplist(['n1', 'n2']), false);
  w.string(ziplist([7, 'n4']), false);
  key(RDB_TYPE.SET, 'plain-set');
  w.length(2);
  w.string('m1', false);
  w.string('m2', false);
  key(RDB_TYPE.SET_INTSET, 'intset');
  w.string(intset([3, -1, 300]), false);
  key(RDB_TYPE.ZSET, 'zset-ascii');
  w.length(2);
  w.string('a', false);
  asciiDouble(w, '1.25');
  w.string('b', false);
  w.byte(254); // +inf
  key(RDB_TYPE.ZSET_2, 'zset-binary');
  w.length(1);
  w.string('z', false);
  w.binaryDouble(-0.5);
  key(RDB_TYPE.ZSET_ZIPLIST, 'zset-ziplist');
  w.string(ziplist(['lo', 1, 'hi', '2.5']), false);
  key(RDB_TYPE.HASH, 'plain-hash');
  w.length(1);
  w.string('f', false);
  w.string('v', false);
  w.byte(RDB_OPCODE.EXPIRETIME); // seconds, as Redis before 2.6 wrote it
  w.bytes(Buffer.from(new Int32Array([2_000_000_000]).buffer));
  key(RDB_TYPE.HASH_ZIPLIST, 'hash-ziplist');
  w.string(ziplist(['f1', 'v1', 'f2', 9]), false);
  w.byte(RDB_OPCODE.EOF);
  w.bytes(crc64Bytes(w.toBuffer()));
  return Buffer.from(w.toBuffer());
}

describe('RDB import: encodings of older Redis versions (hand-built RDB 9 file)', () => {
  it('loads as Redis 7.0 loads it', async () => {
    const dir = mkdtempSync(path.join(tmp, 'older-'));
    const file = path.join(dir, 'older.rdb');
    writeFileSync(file, olderEncodingsFile());
    const reference = await startRedis(dir, 'older.rdb');
    const node = await startImporting(file);
    const c = clientOf(node);
    try {
      expect(await reference.dbsize()).toBe(10);
      await expectSameAsRedis(c, reference);
    } finally {
      c.disconnect();
      reference.disconnect();
      await node.stop();
    }
  });
});

describe('RDB import: damaged files are refused whole', () => {
  it('a flipped byte: checksum error, the node does not start', async () => {
    const file = damaged('flipped.rdb', (d) => {
      d[valueByteOffset(d)]! ^= 0x01;
      return d;
    });
    await expect(startImporting(file)).rejects.toThrow(/^Wrong RDB checksum expected: \([0-9a-f]+\) got \([0-9a-f]+\)\. Aborting now\.$/);
  });

  it('a truncated file: short read, the node does not start', async () => {
    const file = damaged('truncated.rdb', (d) => d.subarray(0, completeLooking(d, Math.floor(d.length / 2))));
    await expect(startImporting(file)).rejects.toThrow(/^Short read or OOM loading DB\. Unrecoverable error, aborting now\./);
  });

  it('a missing file: the node does not start', async () => {
    await expect(startImporting(path.join(tmp, 'nope.rdb'))).rejects.toThrow(/No such file or directory/);
  });

  it('DEBUG IMPORT-RDB of a damaged file: an error and nothing loaded', async () => {
    const t = await startServer();
    try {
      const c = t.ioredis();
      const flipped = damaged('flipped2.rdb', (d) => {
        d[valueByteOffset(d)]! ^= 0x80;
        return d;
      });
      await expect(c.call('DEBUG', 'IMPORT-RDB', flipped)).rejects.toThrow(/^ERR Error trying to load the RDB dump: Wrong RDB checksum/);
      const truncated = damaged('truncated2.rdb', (d) => d.subarray(0, completeLooking(d, d.length - 20)));
      await expect(c.call('DEBUG', 'IMPORT-RDB', truncated)).rejects.toThrow(/^ERR Error trying to load the RDB dump: Short read/);
      for (const db of DATABASES) {
        await c.select(db);
        expect(await c.dbsize()).toBe(0);
      }
    } finally {
      await t.stop();
    }
  });
});
