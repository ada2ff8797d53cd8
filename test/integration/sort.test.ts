import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

const WRONGTYPE = /^WRONGTYPE Operation against a key holding the wrong kind of value/;
const NOT_DOUBLE = /^ERR One or more scores can't be converted into double/;
const SYNTAX = /^ERR syntax error/;
const NOT_INTEGER = /^ERR value is not an integer or out of range/;

describe('SORT / SORT_RO', () => {
  const t = useServer();
  const { io, each, fails, events } = t;

  it('sorts numbers as doubles, DESC, ALPHA by bytes', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 3, 1, 2, 10, '1.5', -1, '1e1');
      expect(await c.call('sort', 'l')).toEqual(['-1', '1', '1.5', '2', '3', '10', '1e1']);
      expect(await c.call('sort', 'l', 'desc')).toEqual(['1e1', '10', '3', '2', '1.5', '1', '-1']);
      expect(await c.call('sort', 'l', 'alpha')).toEqual(['-1', '1', '1.5', '10', '1e1', '2', '3']);
      expect(await c.call('sort', 'l', 'ALPHA', 'DESC', 'ASC')).toEqual(['-1', '1', '1.5', '10', '1e1', '2', '3']);
      expect(await c.call('sort', 'l', 'alpha', 'desc')).toEqual(['3', '2', '1e1', '10', '1.5', '1', '-1']);
      expect(await c.call('sort_ro', 'l')).toEqual(['-1', '1', '1.5', '2', '3', '10', '1e1']);
      expect(await c.call('sort', 'nokey')).toEqual([]);
      await c.call('sadd', 's', 5, 3, 'x');
      expect(await c.call('sort', 's', 'alpha')).toEqual(['3', '5', 'x']);
      await c.call('zadd', 'z', 1, 'b', 2, 'a', 3, 'c');
      expect(await c.call('sort', 'z', 'alpha', 'desc')).toEqual(['c', 'b', 'a']);
    });
  });

  it('reads weights as strtod does', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', '0x10', ' 4', '', 'inf', '-inf', '0x1p3', '-0x.8', '1e5');
      expect(await c.call('sort', 'l')).toEqual(['-inf', '-0x.8', '', ' 4', '0x1p3', '0x10', '1e5', 'inf']);
      for (const bad of ['nan', '1 ', 'x', '1e400', '1e-400', '0x', '1e']) {
        await c.call('del', 'b');
        await c.call('rpush', 'b', 1, bad);
        await fails(c, NOT_DOUBLE, 'sort', 'b');
        await fails(c, NOT_DOUBLE, 'sort', 'b', 'store', 'dst');
      }
      expect(await c.call('exists', 'dst')).toBe(0);
    });
  });

  it('breaks ties by comparing the elements; keeps BY ALPHA ties in place', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 'b', 'c', 'a');
      expect(await c.call('sort', 'l', 'by', 'nokey_*')).toEqual(['a', 'b', 'c']);
      expect(await c.call('sort', 'l', 'by', 'nokey_*', 'desc')).toEqual(['c', 'b', 'a']);
      expect(await c.call('sort', 'l', 'by', 'nokey_*', 'alpha')).toEqual(['b', 'c', 'a']);
      expect(await c.call('sort', 'l', 'by', 'nokey_*', 'alpha', 'desc')).toEqual(['b', 'c', 'a']);
      await c.call('mset', 'w_b', 'x', 'w_a', 'y');
      // Missing BY values sort first under ALPHA.
      expect(await c.call('sort', 'l', 'by', 'w_*', 'alpha')).toEqual(['c', 'b', 'a']);
    });
  });

  it('compares ALPHA as strcoll in the C locale (stops at NUL) but STORE compares all bytes', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 'a\0c', 'a\0b', 'a', '\xff', 'b');
      expect(await c.call('sort', 'l', 'alpha')).toEqual(['a\0c', 'a\0b', 'a', 'b', '\xff']);
      expect(await c.call('sort', 'l', 'alpha', 'store', 'dst')).toBe(5);
      expect(await c.call('lrange', 'dst', 0, -1)).toEqual(['a', 'a\0b', 'a\0c', 'b', '\xff']);
    });
  });

  it('LIMIT offset count, clamped like Redis', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 5, 4, 3, 2, 1);
      expect(await c.call('sort', 'l', 'limit', 1, 2)).toEqual(['2', '3']);
      expect(await c.call('sort', 'l', 'limit', -5, 2)).toEqual(['1', '2']);
      expect(await c.call('sort', 'l', 'limit', 3, -1)).toEqual(['4', '5']);
      expect(await c.call('sort', 'l', 'limit', 3, 100)).toEqual(['4', '5']);
      expect(await c.call('sort', 'l', 'limit', 5, 1)).toEqual([]);
      expect(await c.call('sort', 'l', 'limit', 0, 0)).toEqual([]);
      expect(await c.call('sort', 'l', 'limit', 0, 1, 'limit', 4, 1)).toEqual(['5']);
      expect(await c.call('sort_ro', 'l', 'by', 'a', 'limit', 2, '9223372036854775807')).toEqual(['3', '2', '1']);
      await fails(c, NOT_INTEGER, 'sort', 'l', 'limit', 'a', 1);
      await fails(c, NOT_INTEGER, 'sort', 'l', 'limit', 1, '1.5');
      await fails(c, NOT_INTEGER, 'sort', 'l', 'limit', '99999999999999999999', 1);
      await fails(c, SYNTAX, 'sort', 'l', 'limit', 1);
    });
  });

  it('BY nosort keeps the native order of lists and sorted sets (DESC reverses, LIMIT applies)', async () => {
    await each(async (c) => {
      await c.call('lpush', 'l', 2, 1, 4, 3, 5);
      expect(await c.call('sort', 'l', 'by', 'nosort')).toEqual(['5', '3', '4', '1', '2']);
      expect(await c.call('sort', 'l', 'by', 'nosort', 'desc')).toEqual(['2', '1', '4', '3', '5']);
      expect(await c.call('sort', 'l', 'by', 'nosort', 'limit', 1, 2)).toEqual(['3', '4']);
      expect(await c.call('sort', 'l', 'by', 'nosort', 'desc', 'limit', 1, 2)).toEqual(['1', '4']);
      expect(await c.call('sort', 'l', 'by', 'nosort', 'limit', 9, 2)).toEqual([]);
      // A constant BY switches sorting off even when a later BY has a '*'.
      expect(await c.call('sort', 'l', 'by', 'nosort', 'by', 'w_*', 'limit', 0, 2)).toEqual(['5', '3']);
      await c.call('zadd', 'z', 1, 'a', 5, 'b', 2, 'c', 10, 'd', 3, 'e');
      expect(await c.call('sort', 'z', 'by', 'nosort')).toEqual(['a', 'c', 'e', 'b', 'd']);
      expect(await c.call('sort', 'z', 'by', 'nosort', 'desc')).toEqual(['d', 'b', 'e', 'c', 'a']);
      expect(await c.call('sort', 'z', 'by', 'nosort', 'desc', 'limit', 0, 2)).toEqual(['d', 'b']);
      expect(await c.call('sort', 'z', 'by', 'nosort', 'limit', 1, 2)).toEqual(['c', 'e']);
      expect(await c.call('sort', 'z', 'by', 'nosort', 'limit', -10, 100)).toEqual(['a', 'c', 'e', 'b', 'd']);
      expect(await c.call('sort', 'z', 'by', 'nosort', 'limit', 5, 10)).toEqual([]);
    });
  });

  it('a set BY nosort with STORE is sorted ALPHA', async () => {
    await each(async (c) => {
      await c.call('sadd', 's', 'b', 'aa', 'c', 'a', '10', '9');
      expect(await c.call('sort', 's', 'by', 'nosort', 'store', 'dst')).toBe(6);
      expect(await c.call('lrange', 'dst', 0, -1)).toEqual(['10', '9', 'a', 'aa', 'b', 'c']);
      expect(await c.call('sort', 's', 'by', 'nosort', 'desc', 'limit', 0, 2, 'store', 'dst')).toBe(2);
      expect(await c.call('lrange', 'dst', 0, -1)).toEqual(['c', 'b']);
      expect(((await c.call('sort', 's', 'by', 'nosort')) as string[]).sort()).toEqual(['10', '9', 'a', 'aa', 'b', 'c']);
    });
  });

  it('BY weights from string keys and hash fields', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 1, 2, 3);
      await c.call('mset', 'w_1', 30, 'w_2', 10, 'w_3', 20);
      await c.call('hset', 'h_1', 'f', 'b');
      await c.call('hset', 'h_2', 'f', 'c');
      await c.call('hset', 'h_3', 'f', 'a');
      expect(await c.call('sort', 'l', 'by', 'w_*')).toEqual(['2', '3', '1']);
      expect(await c.call('sort', 'l', 'by', 'w_*', 'desc', 'limit', 0, 2)).toEqual(['1', '3']);
      expect(await c.call('sort', 'l', 'by', 'h_*->f', 'alpha')).toEqual(['3', '1', '2']);
      // A hash field that is not a number, a key of the wrong type: not a weight / missing.
      await fails(c, NOT_DOUBLE, 'sort', 'l', 'by', 'h_*->f');
      expect(await c.call('sort', 'l', 'by', 'h_*', 'desc')).toEqual(['3', '2', '1']);
      expect(await c.call('sort', 'l', 'by', 'w_*->f')).toEqual(['1', '2', '3']);
      await c.call('set', 'w_2', 'x');
      await fails(c, NOT_DOUBLE, 'sort', 'l', 'by', 'w_*');
    });
  });

  it('GET #, string keys, hash fields, constants and missing values', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 2, 1);
      await c.call('mset', 'v_1', 'one', 'x:1->', 'arrow');
      await c.call('hset', 'h_2', 'name', 'two');
      expect(await c.call('sort', 'l', 'get', '#', 'get', 'v_*', 'get', 'h_*->name')).toEqual([
        '1', 'one', null, '2', null, 'two',
      ]);
      expect(await c.call('sort', 'l', 'get', 'const')).toEqual([null, null]);
      expect(await c.call('sort', 'l', 'get', 'x:*->')).toEqual(['arrow', null]);
      expect(await c.call('sort', 'l', 'get', '#', 'get', '#', 'desc', 'limit', 0, 1)).toEqual(['2', '2']);
      expect(await c.call('sort_ro', 'l', 'by', 'nosort', 'get', 'v_*')).toEqual([null, 'one']);
      expect(await c.call('sort', 'l', 'get', 'v_*', 'store', 'dst')).toBe(2);
      expect(await c.call('lrange', 'dst', 0, -1)).toEqual(['one', '']);
    });
  });

  it('STORE replaces the destination with a list, or deletes it when the result is empty', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 3, 1, 2);
      await c.call('set', 'dst', 'old', 'ex', 100);
      expect(await c.call('sort', 'l', 'store', 'dst')).toBe(3);
      expect(await c.call('type', 'dst')).toBe('list');
      expect(await c.call('ttl', 'dst')).toBe(-1);
      expect(await c.call('lrange', 'dst', 0, -1)).toEqual(['1', '2', '3']);
      expect(events).toContain('sortstore:dst');
      events.length = 0;
      expect(await c.call('sort', 'l', 'limit', 10, 10, 'store', 'dst')).toBe(0);
      expect(await c.call('exists', 'dst')).toBe(0);
      expect(events).toEqual(['del:dst']);
      events.length = 0;
      expect(await c.call('sort', 'nokey', 'store', 'dst')).toBe(0);
      expect(events).toEqual([]);
      expect(await c.call('sort', 'l', 'store', 'l')).toBe(3);
      expect(await c.call('lrange', 'l', 0, -1)).toEqual(['1', '2', '3']);
      expect(await c.call('sort', 'l', 'store', 'a', 'store', 'b')).toBe(3);
      expect(await c.call('exists', 'a', 'b')).toBe(1);
    });
  });

  it('errors: syntax, WRONGTYPE, SORT_RO without STORE', async () => {
    await each(async (c) => {
      await c.call('set', 'str', 'v');
      await c.call('hset', 'h', 'f', 'v');
      await fails(c, WRONGTYPE, 'sort', 'str');
      await fails(c, WRONGTYPE, 'sort', 'h', 'store', 'dst');
      await fails(c, WRONGTYPE, 'sort_ro', 'h');
      // Options are parsed before the key is looked up.
      await fails(c, SYNTAX, 'sort', 'str', 'foo');
      await fails(c, NOT_INTEGER, 'sort', 'str', 'limit', 'x', 1);
      await fails(c, SYNTAX, 'sort', 'l', 'store');
      await fails(c, SYNTAX, 'sort', 'l', 'by');
      await fails(c, SYNTAX, 'sort', 'l', 'get');
      await fails(c, SYNTAX, 'sort_ro', 'l', 'store', 'dst');
      await fails(c, /wrong number of arguments for 'sort' command/, 'sort');
      await fails(c, /wrong number of arguments for 'sort_ro' command/, 'sort_ro');
    });
  });

  it('converts a sorted set to skiplist, as Redis 7.0 does', async () => {
    await io.call('del', 'z');
    await io.call('zadd', 'z', 1, 'a', 2, 'b');
    expect(await io.call('object', 'encoding', 'z')).toBe('listpack');
    await io.call('sort', 'z', 'by', 'nosort');
    expect(await io.call('object', 'encoding', 'z')).toBe('skiplist');
  });

  it('COMMAND GETKEYS finds the STORE destination; COMMAND INFO marks movablekeys', async () => {
    await each(async (c) => {
      expect(await c.call('command', 'getkeys', 'sort', 'abc', 'store', 'def')).toEqual(['abc', 'def']);
      expect(await c.call('command', 'getkeys', 'sort', 'abc', 'store', 'x', 'store', 'y', 'store', 'def')).toEqual(['abc', 'def']);
      expect(await c.call('command', 'getkeys', 'sort', 'abc', 'get', 'store', 'limit', 'store', 1)).toEqual(['abc']);
      expect(await c.call('command', 'getkeys', 'sort', 'abc', 'store')).toEqual(['abc']);
      expect(await c.call('command', 'getkeys', 'sort_ro', 'abc', 'store', 'x')).toEqual(['abc']);
    });
    expect(await io.call('command', 'getkeysandflags', 'sort', 'k1', 'store', 'k2')).toEqual([
      ['k1', ['RO', 'access']],
      ['k2', ['OW', 'update']],
    ]);
    const [sort, sortRo] = (await io.call('command', 'info', 'sort', 'sort_ro')) as unknown[][];
    expect(sort!.slice(0, 6)).toEqual(['sort', -2, ['write', 'denyoom', 'movablekeys'], 1, 1, 1]);
    expect(sortRo!.slice(0, 6)).toEqual(['sort_ro', -2, ['readonly', 'movablekeys'], 1, 1, 1]);
  });

  it('a WATCHed destination is touched by SORT STORE even when the result is empty', async () => {
    const r = t.ioredis();
    await r.rpush('foo', 'bar');
    await r.watch('foo');
    await io.call('sort', 'emptylist', 'store', 'foo');
    expect(await r.multi().ping().exec()).toBeNull();
  });
});

describe('SORT in cluster mode', () => {
  const t = useServer({ config: { 'cluster-enabled': 'yes' } });

  it('refuses BY and GET patterns that name other keys', async () => {
    const r = t.ioredis();
    await r.call('cluster', 'addslotsrange', '0', '16383');
    // A primary reports the cluster down for its first 2 s, as Redis (CLUSTER_WRITABLE_DELAY).
    while (!String(await r.call('cluster', 'info')).includes('cluster_state:ok')) await new Promise((res) => setTimeout(res, 50));
    const call = (...args: string[]) => r.call(args[0]!, ...args.slice(1));
    await expect(call('sort', 'l', 'by', 'w_*')).rejects.toThrow(/^ERR BY option of SORT denied in Cluster mode\./);
    await expect(call('sort', 'l', 'get', '#')).rejects.toThrow(/^ERR GET option of SORT denied in Cluster mode\./);
    await expect(call('sort_ro', 'l', 'get', 'x_*')).rejects.toThrow(/^ERR GET option of SORT denied in Cluster mode\./);
  });
});
