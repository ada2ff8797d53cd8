import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

const WRONGTYPE = /^WRONGTYPE Operation against a key holding the wrong kind of value/;

/** Members of a set or array reply, sorted (RESP3 clients may hand back a JS Set). */
function sorted(v: unknown): string[] {
  const items = v instanceof Set ? [...v] : (v as unknown[]);
  return items.map(String).sort();
}

describe('set commands', () => {
  const t = useServer();
  const { io, events, each, fails, raw } = t;

  it('SADD, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS', async () => {
    await each(async (c) => {
      expect(await c.call('sadd', 's', 'a', 'b', 'a')).toBe(2);
      expect(await c.call('sadd', 's', 'b', 'c')).toBe(1);
      expect(await c.call('sadd', 's', 'c')).toBe(0);
      expect(await c.call('scard', 's')).toBe(3);
      expect(await c.call('scard', 'nokey')).toBe(0);
      expect(await c.call('sismember', 's', 'a')).toBe(1);
      expect(await c.call('sismember', 's', 'z')).toBe(0);
      expect(await c.call('sismember', 'nokey', 'a')).toBe(0);
      expect(await c.call('smismember', 's', 'a', 'z', 'c')).toEqual([1, 0, 1]);
      expect(await c.call('smismember', 'nokey', 'a', 'b')).toEqual([0, 0]);
      expect(sorted(await c.call('smembers', 's'))).toEqual(['a', 'b', 'c']);
      expect(sorted(await c.call('smembers', 'nokey'))).toEqual([]);
    });
    t.server.keyspace.db(0).clear();
    events.length = 0;
    await io.call('sadd', 'e', 'x');
    await io.call('sadd', 'e', 'x');
    expect(events).toEqual(['sadd:e']);
  });

  it('WRONGTYPE and arity errors', async () => {
    await each(async (c) => {
      await c.call('set', 'str', 'v');
      for (const args of [
        ['sadd', 'str', 'a'], ['srem', 'str', 'a'], ['scard', 'str'], ['sismember', 'str', 'a'],
        ['smismember', 'str', 'a'], ['smembers', 'str'], ['srandmember', 'str'], ['srandmember', 'str', 2],
        ['spop', 'str'], ['spop', 'str', 2], ['smove', 'str', 'x', 'a'], ['sinter', 'str'],
        ['sunion', 'str'], ['sdiff', 'str'], ['sintercard', 1, 'str'], ['sscan', 'str', 0],
        ['sinterstore', 'd', 'str'], ['sunionstore', 'd', 'str'], ['sdiffstore', 'd', 'str'],
      ]) {
        await fails(c, WRONGTYPE, ...args);
      }
      await fails(c, /wrong number of arguments for 'sadd' command/, 'sadd', 's');
      await fails(c, /wrong number of arguments for 'smismember' command/, 'smismember', 's');
      await fails(c, /wrong number of arguments for 'sintercard' command/, 'sintercard', 1);
      await fails(c, /^ERR syntax error/, 'srandmember', 's', 1, 2);
      await fails(c, /^ERR syntax error/, 'spop', 's', 1, 2);
    });
  });

  it('keeps intset / hashtable encodings as Redis 7.0 does', async () => {
    await io.call('sadd', 'i', 1, 2, 3);
    expect(await io.call('object', 'encoding', 'i')).toBe('intset');
    await io.call('sadd', 'i', 'a');
    expect(await io.call('object', 'encoding', 'i')).toBe('hashtable');
    await io.call('srem', 'i', 'a');
    expect(await io.call('object', 'encoding', 'i')).toBe('hashtable');
    await io.call('sadd', 'big', '213244124402402314402033402');
    expect(await io.call('object', 'encoding', 'big')).toBe('hashtable');
    await io.call('config', 'set', 'set-max-intset-entries', 4);
    try {
      await io.call('sadd', 'n', 1, 2, 3, 4);
      expect(await io.call('object', 'encoding', 'n')).toBe('intset');
      await io.call('sadd', 'n', 5);
      expect(await io.call('object', 'encoding', 'n')).toBe('hashtable');
    } finally {
      await io.call('config', 'set', 'set-max-intset-entries', 512);
    }
    await io.call('sadd', 'sortedints', 30, -2, 7);
    expect(await io.call('smembers', 'sortedints')).toEqual(['-2', '7', '30']); // an intset iterates in order
  });

  it('SREM removes members, deletes the emptied key and signals srem then del', async () => {
    await each(async (c) => {
      await c.call('sadd', 's', 1, 2, 3);
      expect(await c.call('srem', 's', 1, 9)).toBe(1);
      expect(await c.call('srem', 's', 9)).toBe(0);
      expect(await c.call('srem', 'nokey', 1)).toBe(0);
      expect(await c.call('srem', 's', 2, 3, 4, 5)).toBe(2);
      expect(await c.call('exists', 's')).toBe(0);
      expect(events).toEqual(['sadd:s', 'srem:s', 'srem:s', 'del:s']);
    });
  });

  it('SMOVE', async () => {
    await each(async (c) => {
      await c.call('sadd', 'src', 'a', 'b');
      await c.call('sadd', 'dst', 'a');
      expect(await c.call('smove', 'src', 'dst', 'z')).toBe(0);
      expect(await c.call('smove', 'nokey', 'dst', 'a')).toBe(0);
      events.length = 0;
      expect(await c.call('smove', 'src', 'dst', 'a')).toBe(1);
      expect(events).toEqual(['srem:src']); // dst already had it: no sadd
      expect(await c.call('smove', 'src', 'dst', 'b')).toBe(1);
      expect(events).toEqual(['srem:src', 'srem:src', 'del:src', 'sadd:dst']);
      expect(await c.call('exists', 'src')).toBe(0);
      expect(sorted(await c.call('smembers', 'dst'))).toEqual(['a', 'b']);
      expect(await c.call('smove', 'dst', 'new', 'a')).toBe(1);
      expect(sorted(await c.call('smembers', 'new'))).toEqual(['a']);
      expect(await c.call('smove', 'dst', 'dst', 'b')).toBe(1);
      expect(await c.call('smove', 'dst', 'dst', 'zz')).toBe(0);
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'smove', 'dst', 'str', 'b');
      expect(await c.call('smove', 'nokey', 'str', 'b')).toBe(0);
    });
  });

  it('SRANDMEMBER without and with count', async () => {
    await each(async (c) => {
      expect(await c.call('srandmember', 'nokey')).toBeNull();
      expect(await c.call('srandmember', 'nokey', 5)).toEqual([]);
      await c.call('sadd', 's', 'a', 'b', 'c', 'd', 'e');
      expect(['a', 'b', 'c', 'd', 'e']).toContain(await c.call('srandmember', 's'));
      expect(await c.call('srandmember', 's', 0)).toEqual([]);
      const distinct = (await c.call('srandmember', 's', 3)) as string[];
      expect(new Set(distinct).size).toBe(3);
      expect(sorted(await c.call('srandmember', 's', 100))).toEqual(['a', 'b', 'c', 'd', 'e']);
      const repeated = (await c.call('srandmember', 's', -20)) as string[];
      expect(repeated).toHaveLength(20);
      expect(repeated.every((m) => 'abcde'.includes(m))).toBe(true);
      await fails(c, /^ERR value is not an integer or out of range/, 'srandmember', 's', 'x');
      await fails(c, /^ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807/,
        'srandmember', 's', '-9223372036854775808');
      expect(await c.call('scard', 's')).toBe(5);
    });
  });

  it('SPOP without and with count, its events and errors', async () => {
    await each(async (c) => {
      expect(await c.call('spop', 'nokey')).toBeNull();
      expect(sorted(await c.call('spop', 'nokey', 3))).toEqual([]);
      await c.call('sadd', 's', 1, 2, 3, 4, 5, 6);
      const one = (await c.call('spop', 's')) as string;
      expect(await c.call('sismember', 's', one)).toBe(0);
      const two = sorted(await c.call('spop', 's', 2));
      expect(two).toHaveLength(2);
      expect(sorted(await c.call('spop', 's', 0))).toEqual([]);
      expect(await c.call('scard', 's')).toBe(3);
      const rest = sorted(await c.call('spop', 's', 10));
      expect(new Set([one, ...two, ...rest]).size).toBe(6);
      expect(await c.call('exists', 's')).toBe(0);
      expect(events).toEqual(['sadd:s', 'spop:s', 'spop:s', 'spop:s', 'del:s']);
      await fails(c, /^ERR value is out of range, must be positive/, 'spop', 's', -1);
      await fails(c, /^ERR value is not an integer or out of range/, 'spop', 's', 'x');
    });
  });

  it('SINTER, SUNION, SDIFF and missing keys', async () => {
    await each(async (c) => {
      await c.call('sadd', 'a', 1, 2, 3, 'x');
      await c.call('sadd', 'b', 2, 3, 4, 'x');
      await c.call('sadd', 'c', 3, 'x', 'y');
      expect(sorted(await c.call('sinter', 'a', 'b', 'c'))).toEqual(['3', 'x']);
      expect(sorted(await c.call('sinter', 'a', 'nokey'))).toEqual([]);
      expect(sorted(await c.call('sunion', 'a', 'b', 'nokey'))).toEqual(['1', '2', '3', '4', 'x']);
      expect(sorted(await c.call('sdiff', 'a', 'b'))).toEqual(['1']);
      expect(sorted(await c.call('sdiff', 'a', 'nokey', 'c'))).toEqual(['1', '2']);
      expect(sorted(await c.call('sdiff', 'nokey', 'a'))).toEqual([]);
      expect(sorted(await c.call('sdiff', 'a', 'a'))).toEqual([]);
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'sinter', 'nokey', 'str'); // every key's type is checked
    });
  });

  it('SINTERCARD with numkeys and LIMIT, and its errors', async () => {
    await each(async (c) => {
      await c.call('sadd', 'a', 1, 2, 3, 4);
      await c.call('sadd', 'b', 2, 3, 4, 5);
      expect(await c.call('sintercard', 2, 'a', 'b')).toBe(3);
      expect(await c.call('sintercard', 2, 'a', 'b', 'limit', 2)).toBe(2);
      expect(await c.call('sintercard', 2, 'a', 'b', 'LIMIT', 0)).toBe(3);
      expect(await c.call('sintercard', 1, 'nokey')).toBe(0);
      await fails(c, /^ERR numkeys should be greater than 0/, 'sintercard', 0, 'a');
      await fails(c, /^ERR numkeys should be greater than 0/, 'sintercard', 'x', 'a');
      await fails(c, /^ERR Number of keys can't be greater than number of args/, 'sintercard', 3, 'a', 'b');
      await fails(c, /^ERR syntax error/, 'sintercard', 1, 'a', 'b');
      await fails(c, /^ERR syntax error/, 'sintercard', 1, 'a', 'limit');
      await fails(c, /^ERR LIMIT can't be negative/, 'sintercard', 1, 'a', 'limit', -1);
      await fails(c, /^ERR LIMIT can't be negative/, 'sintercard', 1, 'a', 'limit', 'x');
    });
    expect(await io.call('command', 'getkeys', 'sintercard', 2, 'a', 'b', 'limit', 1)).toEqual(['a', 'b']);
  });

  it('STORE forms replace the destination, drop its TTL, and delete it on an empty result', async () => {
    await each(async (c) => {
      await c.call('sadd', 'a', 1, 2, 3);
      await c.call('sadd', 'b', 2, 3, 4);
      await c.call('set', 'dst', 'old', 'EX', 100);
      expect(await c.call('sinterstore', 'dst', 'a', 'b')).toBe(2);
      expect(await c.call('ttl', 'dst')).toBe(-1);
      expect(sorted(await c.call('smembers', 'dst'))).toEqual(['2', '3']);
      expect(await c.call('object', 'encoding', 'dst')).toBe('intset');
      expect(await c.call('sunionstore', 'dst', 'a', 'b')).toBe(4);
      expect(await c.call('sdiffstore', 'dst', 'a', 'b')).toBe(1);
      expect(await c.call('sdiffstore', 'a', 'a', 'b')).toBe(1); // destination among the sources
      expect(sorted(await c.call('smembers', 'a'))).toEqual(['1']);
      expect(await c.call('sinterstore', 'dst', 'a', 'nokey')).toBe(0);
      expect(await c.call('exists', 'dst')).toBe(0);
      expect(await c.call('sunionstore', 'dst', 'nokey')).toBe(0);
      expect(events).toEqual([
        'sadd:a', 'sadd:b', 'set:dst', 'expire:dst', 'sinterstore:dst', 'sunionstore:dst', 'sdiffstore:dst',
        'sdiffstore:a', 'del:dst',
      ]);
    });
  });

  it('SSCAN with MATCH and COUNT returns every member once over a full iteration', async () => {
    const members = Array.from({ length: 500 }, (_, i) => `m:${i}`);
    await each(async (c) => {
      await io.call('sadd', 'big', ...members);
      await io.call('sadd', 'ints', 1, 2, 3);
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = (await c.call('sscan', 'big', cursor, 'COUNT', 20)) as [string, string[]];
        batch.forEach((m) => seen.add(m));
        cursor = next;
      } while (cursor !== '0');
      expect(seen.size).toBe(500);
      const [cur, matched] = (await c.call('sscan', 'big', 0, 'MATCH', 'm:1?', 'COUNT', 1000)) as [string, string[]];
      expect(cur).toBe('0');
      expect(matched.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m:1${i}`).sort());
      expect(await c.call('sscan', 'ints', 0)).toEqual(['0', ['1', '2', '3']]);
      expect(await c.call('sscan', 'nokey', 0)).toEqual(['0', []]);
      await fails(c, /^ERR invalid cursor/, 'sscan', 'big', 'abc');
      await fails(c, /^ERR syntax error/, 'sscan', 'big', 0, 'COUNT', 0);
      await fails(c, /^ERR syntax error/, 'sscan', 'big', 0, 'TYPE', 'set');
      await fails(c, /^ERR value is not an integer or out of range/, 'sscan', 'big', 0, 'COUNT', 'x');
    });
  });

  it('replies with RESP3 set types where Redis does, arrays where it does not', async () => {
    const out = await raw(
      'HELLO 3\r\nSADD s a\r\nSMEMBERS s\r\nSINTER s\r\nSUNION s\r\nSDIFF s\r\nSPOP nokey 1\r\nSRANDMEMBER s 1\r\nSRANDMEMBER s -1\r\nSMISMEMBER s a\r\n',
      (s) => s.endsWith('*1\r\n:1\r\n'),
    );
    const tail = out.slice(out.indexOf(':1\r\n') + 4);
    expect(tail).toBe('~1\r\n$1\r\na\r\n'.repeat(4) + '~0\r\n' + '*1\r\n$1\r\na\r\n'.repeat(2) + '*1\r\n:1\r\n');
    const resp2 = await raw('SADD t a\r\nSMEMBERS t\r\nSRANDMEMBER missing 3\r\n', (s) => s.endsWith('*0\r\n'));
    expect(resp2).toBe(':1\r\n*1\r\n$1\r\na\r\n*0\r\n');
  });

  it('COMMAND INFO derives from the specs', async () => {
    const [sadd] = (await io.call('command', 'info', 'sadd')) as unknown[][];
    expect(sadd!.slice(0, 6)).toEqual(['sadd', -3, ['write', 'denyoom', 'fast'], 1, 1, 1]);
    const [sintercard] = (await io.call('command', 'info', 'sintercard')) as unknown[][];
    expect(sintercard!.slice(1, 6)).toEqual([-3, ['readonly', 'movablekeys'], 0, 0, 0]);
  });
});
