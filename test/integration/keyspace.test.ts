import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

/** DUMP of "foo" produced by Redis 7.0.15. */
const REDIS_DUMP_FOO = Buffer.from('0003666f6f0a00734939db4dc1ba97', 'hex');
/** DUMP of 50 x "a" (LZF-compressed) produced by Redis 7.0.15. */
const REDIS_DUMP_LZF = Buffer.from('00c30932016161e025000161610a0009ac48b9ab15fbc9', 'hex');

describe('generic keyspace commands', () => {
  const t = useServer({ config: { databases: '16' }, event: (db, key, event) => `${db.id}:${key}:${event}` });
  const { events } = t;
  let r: Redis;
  beforeAll(() => {
    r = t.ioredis();
  });

  it('DEL and UNLINK count removed keys and emit del', async () => {
    await r.mset('a', '1', 'b', '2');
    expect(await r.del('a', 'b', 'c')).toBe(2);
    await r.set('x', 'y');
    expect(await r.unlink('x', 'x')).toBe(1);
    expect(events.filter((e) => e.endsWith(':del'))).toEqual(['0:a:del', '0:b:del', '0:x:del']);
    await expect(r.call('del')).rejects.toThrow("ERR wrong number of arguments for 'del' command");
  });

  it('EXISTS counts repeats, TYPE names the type, TOUCH counts existing keys', async () => {
    await r.set('k', 'v');
    expect(await r.exists('k', 'k', 'nope')).toBe(2);
    expect(await r.type('k')).toBe('string');
    expect(await r.type('nope')).toBe('none');
    expect(await r.touch('k', 'nope')).toBe(1);
  });

  it('DBSIZE, KEYS with patterns, RANDOMKEY', async () => {
    expect(await r.randomkey()).toBeNull();
    await r.mset('foo_a', '1', 'foo_b', '2', 'key_x', '3');
    expect(await r.dbsize()).toBe(3);
    expect((await r.keys('foo*')).sort()).toEqual(['foo_a', 'foo_b']);
    expect((await r.keys('*')).sort()).toEqual(['foo_a', 'foo_b', 'key_x']);
    expect(await r.keys('a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b')).toEqual([]);
    expect(['foo_a', 'foo_b', 'key_x']).toContain(await r.randomkey());
  });

  it('RENAME and RENAMENX move value and TTL, with Redis replies and errors', async () => {
    await r.set('src', 'v');
    await r.expire('src', 100);
    expect(await r.rename('src', 'dst')).toBe('OK');
    expect(await r.get('dst')).toBe('v');
    expect(await r.ttl('dst')).toBeGreaterThan(95);
    expect(await r.exists('src')).toBe(0);
    expect(events).toContain('0:src:rename_from');
    expect(events).toContain('0:dst:rename_to');
    await expect(r.rename('nokey', 'x')).rejects.toThrow('ERR no such key');
    await expect(r.renamenx('nokey', 'nokey')).rejects.toThrow('ERR no such key');
    expect(await r.rename('dst', 'dst')).toBe('OK');
    expect(await r.renamenx('dst', 'dst')).toBe(0);
    await r.set('other', 'o');
    expect(await r.renamenx('dst', 'other')).toBe(0);
    expect(await r.renamenx('dst', 'fresh')).toBe(1);
    await r.set('a', '1');
    await r.set('b', '2');
    await r.expire('b', 100);
    await r.rename('a', 'b');
    expect(await r.ttl('b')).toBe(-1);
  });

  it('MOVE between databases', async () => {
    await r.set('k', 'v', 'EX', 100);
    expect(await r.move('k', 1)).toBe(1);
    expect(await r.exists('k')).toBe(0);
    const r1 = t.ioredis({ db: 1 });
    expect(await r1.get('k')).toBe('v');
    expect(await r1.ttl('k')).toBeGreaterThan(95);
    await r.set('k', 'again');
    expect(await r.move('k', 1)).toBe(0);
    expect(await r.move('missing', 1)).toBe(0);
    await expect(r.move('k', 0)).rejects.toThrow('ERR source and destination objects are the same');
    await expect(r.move('k', 99)).rejects.toThrow('ERR DB index is out of range');
    await expect(r.call('move', 'k', 'notanumber')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('move', 'k', '4294967296')).rejects.toThrow('ERR value is out of range, value must between -2147483648 and 2147483647');
    expect(events).toContain('0:k:move_from');
    expect(events).toContain('1:k:move_to');
  });

  it('COPY within and across databases, with REPLACE and TTL', async () => {
    await r.set('s', 'v', 'EX', 100);
    expect(await r.copy('s', 'd')).toBe(1);
    expect(await r.get('d')).toBe('v');
    expect(await r.ttl('d')).toBeGreaterThan(95);
    expect(await r.copy('s', 'd')).toBe(0);
    await r.set('s', 'w');
    expect(await r.copy('s', 'd', 'REPLACE')).toBe(1);
    expect(await r.ttl('d')).toBe(-1);
    expect(await r.call('copy', 's', 'd', 'DB', '2')).toBe(1);
    const r2 = t.ioredis({ db: 2 });
    expect(await r2.get('d')).toBe('w');
    await r2.set('d', 'changed');
    expect(await r.get('s')).toBe('w');
    expect(await r.copy('missing', 'x')).toBe(0);
    await expect(r.copy('s', 's')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(r.call('copy', 's', 'x', 'DB', 'notanumber')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('copy', 's', 'x', 'DB', '100')).rejects.toThrow('ERR DB index is out of range');
    await expect(r.call('copy', 's', 'x', 'BOGUS')).rejects.toThrow('ERR syntax error');
    expect(events).toContain('2:d:copy_to');
  });

  it('SWAPDB exchanges contents, clients keep their index', async () => {
    const r3 = t.ioredis({ db: 3 });
    await r.set('zero', '0');
    await r3.set('three', '3');
    expect(await r.swapdb(0, 3)).toBe('OK');
    expect(await r.get('three')).toBe('3');
    expect(await r3.get('zero')).toBe('0');
    await expect(r.call('swapdb', 'x', '1')).rejects.toThrow('ERR invalid first DB index');
    await expect(r.call('swapdb', '1', 'y')).rejects.toThrow('ERR invalid second DB index');
    await expect(r.swapdb(0, 100)).rejects.toThrow('ERR DB index is out of range');
    expect(events).toEqual(['0:zero:set', '3:three:set', '0::swapdb', '3::swapdb']);
  });

  it('FLUSHDB and FLUSHALL with SYNC/ASYNC', async () => {
    const r4 = t.ioredis({ db: 4 });
    await r.set('a', '1');
    await r4.set('b', '2');
    expect(await r.flushdb('ASYNC')).toBe('OK');
    expect(await r.dbsize()).toBe(0);
    expect(await r4.dbsize()).toBe(1);
    expect(await r.call('flushall', 'sync')).toBe('OK');
    expect(await r4.dbsize()).toBe(0);
    await expect(r.call('flushdb', 'now')).rejects.toThrow('ERR syntax error');
    await expect(r.call('flushall', 'async', 'x')).rejects.toThrow('ERR syntax error');
  });

  it('FLUSHDB of a big database returns at once and leaves a working database', async () => {
    const db = t.server.keyspace.db(5);
    for (let i = 0; i < 200_000; i++) db.add(`big:${i}`, 'string', 'v');
    const r5 = t.ioredis({ db: 5 });
    expect(await r5.dbsize()).toBe(200_000);
    expect(await r5.flushdb()).toBe('OK');
    expect(await r5.dbsize()).toBe(0);
    await r5.set('after', 'x');
    expect(await r5.get('after')).toBe('x');
  });

  it('SCAN walks every key with MATCH, COUNT and TYPE', async () => {
    const pipe = r.pipeline();
    for (let i = 0; i < 500; i++) pipe.set(`key:${i}`, 'v');
    await pipe.exec();
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'COUNT', 7);
      keys.forEach((k) => seen.add(k));
      cursor = next;
    } while (cursor !== '0');
    expect(seen.size).toBe(500);
    const matched = new Set<string>();
    cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', 'key:1??', 'TYPE', 'STRING');
      keys.forEach((k) => matched.add(k));
      cursor = next;
    } while (cursor !== '0');
    expect(matched.size).toBe(100);
    const [, none] = (await r.call('SCAN', '0', 'TYPE', 'list', 'COUNT', '1000')) as [string, string[]];
    expect(none).toEqual([]);
  });

  it('SCAN errors', async () => {
    await expect(r.scan('abc')).rejects.toThrow('ERR invalid cursor');
    await expect(r.scan(' 1')).rejects.toThrow('ERR invalid cursor');
    await expect(r.scan('18446744073709551616')).rejects.toThrow('ERR invalid cursor');
    expect((await r.scan('18446744073709551615'))[0]).toMatch(/^\d+$/);
    await expect(r.call('scan', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    await expect(r.call('scan', '0', 'COUNT', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('scan', '0', 'MATCH')).rejects.toThrow('ERR syntax error');
  });

  it('SCAN replies the same shape over RESP2 and RESP3', async () => {
    await r.set('only', '1');
    for (const resp of [2, 3] as const) {
      const c = await t.nodeRedis(resp);
      expect(await c.sendCommand(['SCAN', '0', 'COUNT', '100'])).toEqual(['0', ['only']]);
    }
  });

  it('OBJECT ENCODING/REFCOUNT/IDLETIME/FREQ/HELP', async () => {
    await r.set('i', '123');
    await r.set('e', 'hello');
    await r.set('w', 'x'.repeat(45));
    await r.setrange('b', 0, 'abc');
    expect(await r.object('ENCODING', 'i')).toBe('int');
    expect(await r.object('ENCODING', 'e')).toBe('embstr');
    expect(await r.object('ENCODING', 'w')).toBe('raw');
    expect(await r.object('ENCODING', 'b')).toBe('raw');
    expect(await r.object('ENCODING', 'missing')).toBeNull();
    expect(await r.object('REFCOUNT', 'i')).toBe(2147483647);
    expect(await r.object('REFCOUNT', 'e')).toBe(1);
    expect(await r.object('IDLETIME', 'e')).toBe(0);
    await expect(r.object('FREQ', 'e')).rejects.toThrow('ERR An LFU maxmemory policy is not selected');
    const help = (await r.object('HELP')) as string[];
    expect(help[0]).toBe('OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    await expect(r.call('object', 'foo')).rejects.toThrow("ERR unknown subcommand 'foo'. Try OBJECT HELP.");
    await expect(r.call('object', 'encoding')).rejects.toThrow("ERR wrong number of arguments for 'object|encoding' command");
    const c3 = await t.nodeRedis(3);
    expect(await c3.sendCommand(['OBJECT', 'ENCODING', 'missing'])).toBeNull();
  });

  it('OBJECT FREQ under an LFU policy, IDLETIME refused then', async () => {
    await r.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    try {
      await r.set('k', 'v');
      expect(await r.object('FREQ', 'k')).toBeGreaterThanOrEqual(5);
      await expect(r.object('IDLETIME', 'k')).rejects.toThrow('ERR An LFU maxmemory policy is selected');
      const payload = await r.dumpBuffer('k');
      await r.restore('k2', 0, payload, 'FREQ', 100);
      expect(await r.object('FREQ', 'k2')).toBe(100);
    } finally {
      await r.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('DUMP/RESTORE round-trip and restore payloads dumped by Redis', async () => {
    await r.set('k', 'hello');
    const payload = await r.dumpBuffer('k');
    expect(await r.dumpBuffer('missing')).toBeNull();
    expect(await r.restore('k2', 0, payload)).toBe('OK');
    expect(await r.get('k2')).toBe('hello');
    expect(await r.restore('fromredis', 0, REDIS_DUMP_FOO)).toBe('OK');
    expect(await r.get('fromredis')).toBe('foo');
    expect(await r.restore('lzf', 0, REDIS_DUMP_LZF)).toBe('OK');
    expect(await r.get('lzf')).toBe('a'.repeat(50));
    await r.set('n', '123');
    expect((await r.dumpBuffer('n')).toString('hex')).toBe('00c07b0a0048e253e1007a67b9');
    const big = 'hello world, '.repeat(40);
    await r.set('big', big);
    const packed = await r.dumpBuffer('big');
    expect(packed.length).toBeLessThan(big.length);
    await r.restore('big2', 0, packed);
    expect(await r.get('big2')).toBe(big);
    expect(events).toContain('0:k2:restore');
  });

  it('RESTORE options and errors', async () => {
    await r.set('k', 'v');
    const payload = await r.dumpBuffer('k');
    await expect(r.restore('k', 0, payload)).rejects.toThrow('BUSYKEY Target key name already exists.');
    expect(await r.restore('k', 5000, payload, 'REPLACE')).toBe('OK');
    expect(await r.pttl('k')).toBeGreaterThan(4000);
    const at = Date.now() + 100_000;
    await r.restore('abs', at, payload, 'ABSTTL');
    expect(await r.pexpiretime('abs')).toBe(at);
    expect(await r.restore('past', 1, payload, 'ABSTTL')).toBe('OK');
    expect(await r.exists('past')).toBe(0);
    await r.restore('idle', 0, payload, 'IDLETIME', 1000);
    expect(await r.object('IDLETIME', 'idle')).toBeGreaterThanOrEqual(1000);
    await expect(r.restore('x', -1, payload)).rejects.toThrow('ERR Invalid TTL value, must be >= 0');
    await expect(r.restore('x', 0, payload, 'IDLETIME', -1)).rejects.toThrow('ERR Invalid IDLETIME value, must be >= 0');
    await expect(r.restore('x', 0, payload, 'FREQ', 256)).rejects.toThrow('ERR Invalid FREQ value, must be >= 0 and <= 255');
    await expect(r.restore('x', 0, payload, 'IDLETIME', 1, 'FREQ', 1)).rejects.toThrow('ERR syntax error');
    await expect(r.call('RESTORE', 'x', '0', payload, 'BOGUS')).rejects.toThrow('ERR syntax error');
    await expect(r.call('RESTORE', 'x', '0', 'garbage!!!!')).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
    const corrupt = Buffer.from(payload);
    corrupt[1]! ^= 0xff;
    await expect(r.restore('x', 0, corrupt)).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
    // A valid footer around bytes that are not a value.
    const listType = Buffer.from(REDIS_DUMP_FOO);
    expect(await r.restore('ok', 0, listType)).toBe('OK');
  });

  it('RESTORE rejects well-checksummed but malformed data', async () => {
    const { crc64Bytes } = await import('../../src/store/crc64.js');
    const body = Buffer.from([0x00, 0x05, 0x61, 0x0a, 0x00]); // claims 5 bytes, has 1
    const p = Buffer.concat([body, crc64Bytes(body)]);
    await expect(r.restore('x', 0, p)).rejects.toThrow('ERR Bad data format');
  });

  it('lazily expires keys on access and emits expired', async () => {
    await r.set('k', 'v');
    await r.set('other', 'v');
    const db = t.server.keyspace.db(0);
    db.setExpire(db.lookup('k')!, 1);
    expect(await r.get('k')).toBeNull();
    expect(events).toContain('0:k:expired');
    expect(await r.exists('k')).toBe(0);
    db.setExpire(db.lookup('other')!, 1);
    expect(await r.keys('*')).toEqual([]);
    expect(await r.randomkey()).toBeNull();
  });

  it('the active expire cycle removes expired keys without access', async () => {
    const db = t.server.keyspace.db(0);
    for (let i = 0; i < 1000; i++) db.setExpire(db.add(`e${i}`, 'string', 'v'), 1);
    db.add('live', 'string', 'v');
    for (let i = 0; i < 100 && db.expiresCount > 0; i++) t.server.activeExpireCycle(100);
    expect(db.expiresCount).toBe(0);
    expect(await r.dbsize()).toBe(1);
  });

  it('COMMAND metadata for key positions', async () => {
    expect(await r.command('GETKEYS', 'rename', 'a', 'b')).toEqual(['a', 'b']);
    expect(await r.command('GETKEYS', 'del', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']);
    expect(await r.command('GETKEYS', 'object', 'encoding', 'k')).toEqual(['k']);
  });
});
