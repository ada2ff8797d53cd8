import { describe, expect, it } from 'vitest';
import { crc64Bytes } from '../../src/store/crc64.js';
import { useServer } from '../helpers/fixture.js';

const WRONGTYPE = /^WRONGTYPE Operation against a key holding the wrong kind of value/;

/** Field -> value of an HGETALL reply, whatever shape the client handed back (flat array, object or Map). */
function asRecord(v: unknown): Record<string, string> {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), String(x)]));
  if (Array.isArray(v)) {
    const out: Record<string, string> = {};
    for (let i = 0; i < v.length; i += 2) out[String(v[i])] = String(v[i + 1]);
    return out;
  }
  return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, String(x)]));
}

describe('hash commands', () => {
  const t = useServer();
  const { io, events, each, fails, raw } = t;

  it('HSET, HSETNX, HMSET, HGET, HMGET, HLEN, HSTRLEN, HEXISTS', async () => {
    await each(async (c) => {
      expect(await c.call('hset', 'h', 'a', '1', 'b', '2')).toBe(2);
      expect(await c.call('hset', 'h', 'a', '3', 'c', '4')).toBe(1);
      expect(await c.call('hsetnx', 'h', 'a', '9')).toBe(0);
      expect(await c.call('hsetnx', 'h', 'z', 'zz')).toBe(1);
      expect(await c.call('hmset', 'h', 'm', 'x', 'n', 'y')).toBe('OK');
      expect(await c.call('hget', 'h', 'a')).toBe('3');
      expect(await c.call('hget', 'h', 'nope')).toBeNull();
      expect(await c.call('hget', 'nokey', 'a')).toBeNull();
      expect(await c.call('hmget', 'h', 'a', 'nope', 'z')).toEqual(['3', null, 'zz']);
      expect(await c.call('hmget', 'nokey', 'a', 'b')).toEqual([null, null]);
      expect(await c.call('hlen', 'h')).toBe(6);
      expect(await c.call('hlen', 'nokey')).toBe(0);
      expect(await c.call('hstrlen', 'h', 'z')).toBe(2);
      expect(await c.call('hstrlen', 'h', 'nope')).toBe(0);
      expect(await c.call('hstrlen', 'nokey', 'a')).toBe(0);
      expect(await c.call('hexists', 'h', 'a')).toBe(1);
      expect(await c.call('hexists', 'h', 'nope')).toBe(0);
      expect(await c.call('hexists', 'nokey', 'a')).toBe(0);
      expect(events).toEqual(['hset:h', 'hset:h', 'hset:h', 'hset:h']);
    });
  });

  it('HKEYS, HVALS, HGETALL in insertion order while listpack, empty for a missing key', async () => {
    await each(async (c) => {
      await c.call('hset', 'h', 'b', '1', 'a', '2', 'c', '3');
      expect(await c.call('hkeys', 'h')).toEqual(['b', 'a', 'c']);
      expect(await c.call('hvals', 'h')).toEqual(['1', '2', '3']);
      expect(asRecord(await c.call('hgetall', 'h'))).toEqual({ b: '1', a: '2', c: '3' });
      expect(await c.call('hkeys', 'nokey')).toEqual([]);
      expect(await c.call('hvals', 'nokey')).toEqual([]);
      expect(asRecord(await c.call('hgetall', 'nokey'))).toEqual({});
    });
  });

  it('HGETALL is a map in RESP3 and a flat array in RESP2', async () => {
    await io.call('hset', 'h', 'f', 'v');
    const resp3 = await raw('HELLO 3\r\nHGETALL h\r\nHGETALL nokey\r\n', (s) => s.endsWith('%0\r\n'));
    expect(resp3).toContain('%1\r\n$1\r\nf\r\n$1\r\nv\r\n%0\r\n');
    const resp2 = await raw('HGETALL h\r\nHGETALL nokey\r\n', (s) => s.endsWith('*0\r\n'));
    expect(resp2).toBe('*2\r\n$1\r\nf\r\n$1\r\nv\r\n*0\r\n');
  });

  it('HDEL removes fields, deletes the emptied key and signals hdel then del', async () => {
    await each(async (c) => {
      await c.call('hset', 'h', 'a', '1', 'b', '2', 'c', '3');
      expect(await c.call('hdel', 'h', 'a', 'nope')).toBe(1);
      expect(await c.call('hdel', 'h', 'nope')).toBe(0);
      expect(await c.call('hdel', 'nokey', 'a')).toBe(0);
      expect(await c.call('hdel', 'h', 'b', 'c', 'd')).toBe(2);
      expect(await c.call('exists', 'h')).toBe(0);
      expect(events).toEqual(['hset:h', 'hdel:h', 'hdel:h', 'del:h']);
    });
  });

  it('HINCRBY: creates, adds, detects non-integers and overflow', async () => {
    await each(async (c) => {
      expect(await c.call('hincrby', 'h', 'n', 5)).toBe(5);
      expect(await c.call('hincrby', 'h', 'n', -15)).toBe(-10);
      await c.call('hset', 'h', 's', 'abc', 'sp', ' 1', 'big', '9223372036854775800');
      await fails(c, /^ERR hash value is not an integer$/, 'hincrby', 'h', 's', 1);
      await fails(c, /^ERR hash value is not an integer$/, 'hincrby', 'h', 'sp', 1);
      await fails(c, /^ERR value is not an integer or out of range$/, 'hincrby', 'h', 'n', 'x');
      await fails(c, /^ERR increment or decrement would overflow$/, 'hincrby', 'h', 'big', 100);
      await c.call('hincrby', 'h', 'big', 7);
      expect(await c.call('hget', 'h', 'big')).toBe('9223372036854775807');
      expect(events).toEqual(['hincrby:h', 'hincrby:h', 'hset:h', 'hincrby:h']);
    });
  });

  it('HINCRBYFLOAT: human format, float checks, NaN/Infinity refused', async () => {
    await each(async (c) => {
      expect(await c.call('hincrbyfloat', 'h', 'f', '1.23')).toBe('1.23');
      expect(await c.call('hincrbyfloat', 'h', 'f', '0.77')).toBe('2');
      expect(await c.call('hincrbyfloat', 'h', 'f', '-0.1')).toBe('1.9');
      expect(await c.call('hincrbyfloat', 'h', 'g', '5.0e3')).toBe('5000');
      expect(await c.call('hincrbyfloat', 'h', 'tiny', '0.0000005')).toBe('0.0000005');
      await c.call('hset', 'h', 's', 'abc', 'nul', '1\u00002');
      await fails(c, /^ERR hash value is not a float$/, 'hincrbyfloat', 'h', 's', 1);
      await fails(c, /^ERR hash value is not a float$/, 'hincrbyfloat', 'h', 'nul', 1);
      await fails(c, /^ERR value is not a valid float$/, 'hincrbyfloat', 'h', 'f', 'x');
      await fails(c, /^ERR value is NaN or Infinity$/, 'hincrbyfloat', 'nokey', 'f', '+inf');
      expect(await c.call('exists', 'nokey')).toBe(0);
      await c.call('hset', 'h', 'max', '1.7976931348623157e308');
      await fails(c, /^ERR increment would produce NaN or Infinity$/, 'hincrbyfloat', 'h', 'max', '1.7976931348623157e308');
      expect(events).toEqual(['hincrbyfloat:h', 'hincrbyfloat:h', 'hincrbyfloat:h', 'hincrbyfloat:h', 'hincrbyfloat:h', 'hset:h', 'hset:h']);
    });
  });

  it('WRONGTYPE and arity errors', async () => {
    await each(async (c) => {
      await c.call('set', 'str', 'v');
      for (const args of [
        ['hset', 'str', 'a', 1], ['hsetnx', 'str', 'a', 1], ['hmset', 'str', 'a', 1], ['hget', 'str', 'a'],
        ['hmget', 'str', 'a'], ['hdel', 'str', 'a'], ['hlen', 'str'], ['hstrlen', 'str', 'a'], ['hexists', 'str', 'a'],
        ['hkeys', 'str'], ['hvals', 'str'], ['hgetall', 'str'], ['hincrby', 'str', 'a', 1], ['hincrbyfloat', 'str', 'a', 1],
        ['hrandfield', 'str'], ['hrandfield', 'str', 2], ['hrandfield', 'str', 0], ['hscan', 'str', 0],
      ]) {
        await fails(c, WRONGTYPE, ...args);
      }
      await fails(c, /^ERR wrong number of arguments for 'hset' command$/, 'hset', 'h', 'a');
      await fails(c, /^ERR wrong number of arguments for 'hset' command$/, 'hset', 'h', 'a', 1, 'b');
      await fails(c, /^ERR wrong number of arguments for 'hmset' command$/, 'hmset', 'h', 'a', 1, 'b');
      await fails(c, /^ERR wrong number of arguments for 'hsetnx' command$/, 'hsetnx', 'h', 'a', 1, 'b');
      await fails(c, /^ERR wrong number of arguments for 'hget' command$/, 'hget', 'h');
      expect(await c.call('exists', 'h')).toBe(0);
    });
  });

  it('keeps listpack / hashtable encodings as Redis 7.0 does, one way', async () => {
    await io.call('hset', 'small', 'a', '1');
    expect(await io.call('object', 'encoding', 'small')).toBe('listpack');
    await io.call('hset', 'small', 'long', 'x'.repeat(65));
    expect(await io.call('object', 'encoding', 'small')).toBe('hashtable');
    await io.call('hdel', 'small', 'long');
    expect(await io.call('object', 'encoding', 'small')).toBe('hashtable');
    await io.call('config', 'set', 'hash-max-listpack-entries', 3);
    await io.call('config', 'set', 'hash-max-listpack-value', 8);
    try {
      await io.call('hset', 'n', 'a', 1, 'b', 2, 'c', 3);
      expect(await io.call('object', 'encoding', 'n')).toBe('listpack');
      await io.call('hset', 'n', 'd', 4);
      expect(await io.call('object', 'encoding', 'n')).toBe('hashtable');
      await io.call('hincrbyfloat', 'f1', 'tmp', '0.000005');
      expect(await io.call('object', 'encoding', 'f1')).toBe('listpack');
      await io.call('hincrbyfloat', 'f2', 'tmp', '0.0000005');
      expect(await io.call('object', 'encoding', 'f2')).toBe('hashtable');
    } finally {
      await io.call('config', 'set', 'hash-max-listpack-entries', 128);
      await io.call('config', 'set', 'hash-max-listpack-value', 64);
    }
  });

  it('HRANDFIELD without count, with count, with repetition and WITHVALUES', async () => {
    await each(async (c) => {
      const fields = ['a', 'b', 'c', 'd', 'e'];
      await c.call('hset', 'h', ...fields.flatMap((f) => [f, `v${f}`]));
      expect(fields).toContain(await c.call('hrandfield', 'h'));
      expect(await c.call('hrandfield', 'nokey')).toBeNull();
      const distinct = (await c.call('hrandfield', 'h', 3)) as string[];
      expect(new Set(distinct).size).toBe(3);
      expect(((await c.call('hrandfield', 'h', 10)) as string[]).sort()).toEqual(fields);
      const repeated = (await c.call('hrandfield', 'h', -20)) as string[];
      expect(repeated).toHaveLength(20);
      for (const f of repeated) expect(fields).toContain(f);
      const withValues = (await c.call('hrandfield', 'h', -4, 'withvalues')) as unknown[];
      const pairs = c.resp === 3 ? (withValues as string[][]) : [0, 2, 4, 6].map((i) => withValues.slice(i, i + 2) as string[]);
      expect(withValues).toHaveLength(c.resp === 3 ? 4 : 8);
      for (const [f, v] of pairs) expect(v).toBe(`v${f}`);
      expect(await c.call('hrandfield', 'h', 0)).toEqual([]);
      expect(await c.call('hrandfield', 'nokey', 5)).toEqual([]);
      expect(await c.call('hrandfield', 'nokey', 5, 'withvalues')).toEqual([]);
    });
  });

  it('HRANDFIELD argument errors', async () => {
    await each(async (c) => {
      await c.call('hset', 'h', 'a', 1);
      await fails(c, /^ERR value is not an integer or out of range$/, 'hrandfield', 'h', 'x');
      await fails(c, /^ERR syntax error$/, 'hrandfield', 'h', 1, 'foo');
      await fails(c, /^ERR syntax error$/, 'hrandfield', 'h', 1, 'withvalues', 'x');
      await fails(c, /^ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807$/,
        'hrandfield', 'h', '-9223372036854775808');
      await fails(c, /^ERR value is out of range$/, 'hrandfield', 'h', '-9223372036854770000', 'withvalues');
    });
  });

  it('HRANDFIELD reply shapes in RESP3: nested pairs only with WITHVALUES', async () => {
    await io.call('hset', 'h', 'a', '1');
    const out = await raw('HELLO 3\r\nHRANDFIELD h 1 WITHVALUES\r\nHRANDFIELD h -2\r\nHRANDFIELD h 0\r\n', (s) => s.endsWith('*0\r\n'));
    expect(out).toContain('*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\na\r\n*0\r\n');
  });

  it('HSCAN: whole listpack in one call, cursor walk over a hashtable, MATCH and COUNT', async () => {
    await each(async (c) => {
      await c.call('hset', 'small', 'foo', '1', 'fab', '2', 'fiz', '3', 'foobar', '4');
      expect(await c.call('hscan', 'small', 0, 'MATCH', 'foo*')).toEqual(['0', ['foo', '1', 'foobar', '4']]);
      expect(await c.call('hscan', 'nokey', 0)).toEqual(['0', []]);
      const n = 1000;
      await c.call('hset', 'big', ...Array.from({ length: n }, (_, i) => [`f${i}`, `v${i}`]).flat());
      const seen = new Map<string, string>();
      let cursor = '0';
      do {
        const [next, items] = (await c.call('hscan', 'big', cursor, 'COUNT', 50)) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.size).toBe(n);
      expect(seen.get('f7')).toBe('v7');
      await fails(c, /^ERR invalid cursor$/, 'hscan', 'big', 'x');
      await fails(c, /^ERR syntax error$/, 'hscan', 'big', 0, 'COUNT', 0);
      await fails(c, /^ERR value is not an integer or out of range$/, 'hscan', 'big', 0, 'COUNT', 'x');
      await fails(c, /^ERR syntax error$/, 'hscan', 'big', 0, 'foo');
    });
  });

  it('DUMP / RESTORE / COPY of listpack and hashtable hashes', async () => {
    await io.call('hset', 'small', 'a', '1', 'b', 'hello');
    await io.call('hset', 'big', ...Array.from({ length: 200 }, (_, i) => [`f${i}`, `${i}`]).flat());
    const r = t.ioredis();
    // Redis 7.0's DUMP of HSET small a 1 b hello with rdbcompression off.
    await io.call('config', 'set', 'rdbcompression', 'no');
    try {
      const dumped = await r.dumpBuffer('small');
      expect(dumped.toString('hex')).toBe('1016160000000400816102010181620285' + Buffer.from('hello').toString('hex') + '06ff0a00e8c5fe99ee07955d');
    } finally {
      await io.call('config', 'set', 'rdbcompression', 'yes');
    }
    for (const key of ['small', 'big']) {
      const payload = await r.dumpBuffer(key);
      await r.restore(`${key}:r`, 0, payload);
      expect(await io.call('object', 'encoding', `${key}:r`)).toBe(await io.call('object', 'encoding', key));
      expect(asRecord(await io.call('hgetall', `${key}:r`))).toEqual(asRecord(await io.call('hgetall', key)));
      await io.call('copy', key, `${key}:c`);
      await io.call('hset', `${key}:c`, 'new', 'x');
      expect(await io.call('hexists', key, 'new')).toBe(0);
    }
    expect(await io.call('object', 'encoding', 'big')).toBe('hashtable');
  });

  it('RESTOREs a Redis 6 ziplist-encoded hash payload', async () => {
    const r = t.ioredis();
    // RDB 9 payload of a ziplist hash {"a\0": "b\0", "c\0": "d\0"} (from Redis's corrupt-dump tests, made valid).
    const body = Buffer.from('0d1b1b00000016000000040000026100040262000402630004026400ff0900', 'hex');
    await r.restore('z', 0, Buffer.concat([body, crc64Bytes(body)]));
    expect(asRecord(await io.call('hgetall', 'z'))).toEqual({ 'a\u0000': 'b\u0000', 'c\u0000': 'd\u0000' });
    expect(await io.call('object', 'encoding', 'z')).toBe('listpack');
  });
});
