import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

const WRONGTYPE = /^WRONGTYPE Operation against a key holding the wrong kind of value/;

/** Replies as text: RESP3 doubles (numbers) printed the way RESP2 bulk strings carry them. */
function text(v: unknown): unknown {
  if (typeof v === 'number') return v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  if (Array.isArray(v)) return v.map(text);
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return v;
}

/** A WITHSCORES reply as flat [member, score, ...] whatever the protocol (RESP3 sends pairs). */
function flat(v: unknown): unknown {
  const t = text(v) as unknown[];
  return t.flatMap((x) => (Array.isArray(x) ? x : [x]));
}

describe('sorted set commands', () => {
  const t = useServer();
  const { io, each, fails, raw, events } = t;

  it('ZADD flags, replies and errors', async () => {
    await each(async (c) => {
      expect(await c.call('zadd', 'z', 1, 'a', 2, 'b')).toBe(2);
      expect(await c.call('zadd', 'z', 'NX', 5, 'a', 3, 'c')).toBe(1);
      expect(await c.call('zadd', 'z', 'XX', 'CH', 5, 'a', 9, 'd')).toBe(1);
      expect(await c.call('zadd', 'z', 'GT', 'CH', 4, 'a', 6, 'b')).toBe(1);
      expect(await c.call('zadd', 'z', 'LT', 'CH', 7, 'a', 1, 'b')).toBe(1);
      expect(text(await c.call('zadd', 'z', 'INCR', 2.5, 'a'))).toBe('7.5');
      expect(await c.call('zadd', 'z', 'NX', 'INCR', 1, 'a')).toBeNull();
      expect(await c.call('zadd', 'nokey', 'XX', 1, 'a')).toBe(0);
      expect(await c.call('zadd', 'nokey', 'XX', 'INCR', 1, 'a')).toBeNull();
      expect(await c.call('exists', 'nokey')).toBe(0);
      await fails(c, /^ERR XX and NX options at the same time are not compatible$/, 'zadd', 'z', 'NX', 'XX', 1, 'a');
      await fails(c, /^ERR GT, LT, and\/or NX options at the same time are not compatible$/, 'zadd', 'z', 'GT', 'LT', 1, 'a');
      await fails(c, /^ERR GT, LT, and\/or NX options at the same time are not compatible$/, 'zadd', 'z', 'NX', 'GT', 1, 'a');
      await fails(c, /^ERR INCR option supports a single increment-element pair$/, 'zadd', 'z', 'INCR', 1, 'a', 2, 'b');
      await fails(c, /^ERR value is not a valid float$/, 'zadd', 'z', 'nan', 'a');
      await fails(c, /^ERR value is not a valid float$/, 'zadd', 'z', '', 'a');
      await fails(c, /^ERR syntax error$/, 'zadd', 'z', 1, 'a', 2);
      await c.call('zadd', 'inf', '+inf', 'x');
      await fails(c, /^ERR resulting score is not a number \(NaN\)$/, 'zadd', 'inf', 'INCR', '-inf', 'x');
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'zadd', 'str', 1, 'a');
      expect(events.filter((e) => e.endsWith(':z'))).toEqual(['zadd:z', 'zadd:z', 'zadd:z', 'zadd:z', 'zadd:z', 'zincr:z']);
    });
  });

  it('ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM and the del event', async () => {
    await each(async (c) => {
      expect(text(await c.call('zincrby', 'z', 1.5, 'a'))).toBe('1.5');
      expect(text(await c.call('zincrby', 'z', '-inf', 'a'))).toBe('-inf');
      await fails(c, /^ERR resulting score is not a number \(NaN\)$/, 'zincrby', 'z', '+inf', 'a');
      await fails(c, /^ERR value is not a valid float$/, 'zincrby', 'z', 'x', 'a');
      await c.call('zadd', 'z', 0.1, 'b');
      expect(text(await c.call('zscore', 'z', 'b'))).toBe(c.resp === 2 ? '0.10000000000000001' : '0.1');
      expect(await c.call('zscore', 'z', 'nope')).toBeNull();
      expect(await c.call('zscore', 'nokey', 'a')).toBeNull();
      expect(text(await c.call('zmscore', 'z', 'a', 'nope'))).toEqual(['-inf', null]);
      expect(await c.call('zcard', 'z')).toBe(2);
      expect(await c.call('zcard', 'nokey')).toBe(0);
      events.length = 0;
      expect(await c.call('zrem', 'z', 'a', 'x')).toBe(1);
      expect(await c.call('zrem', 'z', 'b')).toBe(1);
      expect(await c.call('exists', 'z')).toBe(0);
      expect(events).toEqual(['zrem:z', 'zrem:z', 'del:z']);
      await c.call('set', 'str', 'v');
      for (const cmd of [['zincrby', 'str', 1, 'a'], ['zscore', 'str', 'a'], ['zcard', 'str'], ['zrem', 'str', 'a']]) {
        await fails(c, WRONGTYPE, ...cmd);
      }
    });
  });

  it('ZRANGE by rank, score and lex, with REV, LIMIT and WITHSCORES', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
      expect(await c.call('zrange', 'z', 0, -1)).toEqual(['a', 'b', 'c', 'd']);
      expect(await c.call('zrange', 'z', 0, -2, 'REV')).toEqual(['d', 'c', 'b']);
      expect(await c.call('zrevrange', 'z', 1, 2)).toEqual(['c', 'b']);
      expect(flat(await c.call('zrange', 'z', 0, 1, 'WITHSCORES'))).toEqual(['a', '1', 'b', '2']);
      const pairs = await c.call('zrange', 'z', 0, 0, 'WITHSCORES');
      expect(text(pairs)).toEqual(c.resp === 3 ? [['a', '1']] : ['a', '1']);
      expect(await c.call('zrange', 'z', '(1', 3, 'BYSCORE')).toEqual(['b', 'c']);
      expect(await c.call('zrange', 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 1, 2)).toEqual(['c', 'b']);
      expect(await c.call('zrangebyscore', 'z', '-inf', '+inf', 'LIMIT', 1, -1)).toEqual(['b', 'c', 'd']);
      expect(await c.call('zrangebyscore', 'z', '-inf', '+inf', 'LIMIT', -1, 2)).toEqual([]);
      expect(await c.call('zrevrangebyscore', 'z', 3, '(1')).toEqual(['c', 'b']);
      expect(await c.call('zrange', 'z', 5, 1, 'BYSCORE')).toEqual([]);
      expect(await c.call('zrange', 'nokey', 0, -1)).toEqual([]);
      await c.call('zadd', 'l', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
      expect(await c.call('zrange', 'l', '[b', '(d', 'BYLEX')).toEqual(['b', 'c']);
      expect(await c.call('zrangebylex', 'l', '-', '+', 'LIMIT', 1, 2)).toEqual(['b', 'c']);
      expect(await c.call('zrevrangebylex', 'l', '+', '(b')).toEqual(['d', 'c']);
      await fails(c, /^ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX$/, 'zrange', 'z', 0, 1, 'LIMIT', 0, 1);
      await fails(c, /^ERR syntax error, WITHSCORES not supported in combination with BYLEX$/, 'zrange', 'l', '-', '+', 'BYLEX', 'WITHSCORES');
      await fails(c, /^ERR syntax error$/, 'zrange', 'z', 0, 1, 'BYSCORE', 'BYLEX');
      await fails(c, /^ERR syntax error$/, 'zrangebyscore', 'z', 0, 1, 'REV');
      await fails(c, /^ERR min or max is not a float$/, 'zrangebyscore', 'z', 'x', 1);
      await fails(c, /^ERR min or max is not a float$/, 'zrangebyscore', 'z', 0, 'NaN');
      await fails(c, /^ERR min or max not valid string range item$/, 'zrangebylex', 'z', 'a', '+');
      await fails(c, /^ERR min or max not valid string range item$/, 'zrangebylex', 'z', '-x', '+');
      await fails(c, /^ERR value is not an integer or out of range$/, 'zrange', 'z', 'a', 1);
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'zrange', 'str', 0, 1);
    });
  });

  it('ZCOUNT, ZLEXCOUNT, ZRANK, ZREVRANK', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z', 1, 'a', 2, 'b', 3, 'c');
      expect(await c.call('zcount', 'z', '(1', '+inf')).toBe(2);
      expect(await c.call('zcount', 'z', 3, 1)).toBe(0);
      expect(await c.call('zcount', 'nokey', 0, 1)).toBe(0);
      await fails(c, /^ERR min or max is not a float$/, 'zcount', 'z', 'a', 1);
      await c.call('zadd', 'l', 0, 'a', 0, 'b', 0, 'c');
      expect(await c.call('zlexcount', 'l', '[a', '(c')).toBe(2);
      expect(await c.call('zlexcount', 'l', '-', '+')).toBe(3);
      await fails(c, /^ERR min or max not valid string range item$/, 'zlexcount', 'l', 'a', '+');
      expect(await c.call('zrank', 'z', 'c')).toBe(2);
      expect(await c.call('zrevrank', 'z', 'c')).toBe(0);
      expect(await c.call('zrank', 'z', 'x')).toBeNull();
      expect(await c.call('zrank', 'nokey', 'x')).toBeNull();
    });
  });

  it('ZREMRANGEBYRANK / BYSCORE / BYLEX with their events', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
      expect(await c.call('zremrangebyrank', 'z', 0, 1)).toBe(2);
      expect(await c.call('zremrangebyscore', 'z', '(3', 4)).toBe(1);
      expect(await c.call('zremrangebyrank', 'z', 5, 10)).toBe(0);
      expect(await c.call('zrange', 'z', 0, -1)).toEqual(['c', 'e']);
      await c.call('zadd', 'l', 0, 'a', 0, 'b');
      expect(await c.call('zremrangebylex', 'l', '-', '+')).toBe(2);
      expect(await c.call('exists', 'l')).toBe(0);
      expect(events.slice(1)).toEqual(['zremrangebyrank:z', 'zremrangebyscore:z', 'zadd:l', 'zremrangebylex:l', 'del:l']);
      await fails(c, /^ERR min or max is not a float$/, 'zremrangebyscore', 'z', 'x', 1);
      await fails(c, /^ERR min or max not valid string range item$/, 'zremrangebylex', 'z', 'x', '+');
      await fails(c, /^ERR value is not an integer or out of range$/, 'zremrangebyrank', 'z', 'x', 1);
    });
  });

  it('ZRANGESTORE stores, deletes on an empty result, and reports events', async () => {
    await each(async (c) => {
      await c.call('zadd', 'src', 1, 'a', 2, 'b', 3, 'c');
      expect(await c.call('zrangestore', 'dst', 'src', 1, '+inf', 'BYSCORE', 'LIMIT', 1, 5)).toBe(2);
      expect(flat(await c.call('zrange', 'dst', 0, -1, 'WITHSCORES'))).toEqual(['b', '2', 'c', '3']);
      expect(await c.call('zrangestore', 'dst', 'src', 5, 10)).toBe(0);
      expect(await c.call('exists', 'dst')).toBe(0);
      expect(await c.call('zrangestore', 'dst', 'nokey', 0, -1)).toBe(0);
      expect(events).toEqual(['zadd:src', 'zrangestore:dst', 'del:dst']);
      await fails(c, /^ERR syntax error$/, 'zrangestore', 'dst', 'src', 0, -1, 'WITHSCORES');
    });
  });

  it('ZUNION / ZINTER / ZDIFF with WEIGHTS, AGGREGATE, sets as inputs and STORE forms', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z1', 1, 'a', 2, 'b', 3, 'c');
      await c.call('zadd', 'z2', 10, 'b', 20, 'c', 30, 'd');
      await c.call('sadd', 's', 'c', 'd', 'e');
      expect(flat(await c.call('zunion', 2, 'z1', 'z2', 'WITHSCORES'))).toEqual(['a', '1', 'b', '12', 'c', '23', 'd', '30']);
      expect(flat(await c.call('zinter', 2, 'z1', 'z2', 'WEIGHTS', 2, 1, 'AGGREGATE', 'MAX', 'WITHSCORES'))).toEqual(['b', '10', 'c', '20']);
      expect(flat(await c.call('zinter', 2, 'z1', 's', 'AGGREGATE', 'MIN', 'WITHSCORES'))).toEqual(['c', '1']);
      expect(await c.call('zdiff', 2, 'z1', 'z2')).toEqual(['a']);
      expect(await c.call('zdiff', 2, 'z1', 'nokey')).toEqual(['a', 'b', 'c']);
      expect(await c.call('zintercard', 2, 'z1', 'z2')).toBe(2);
      expect(await c.call('zintercard', 2, 'z1', 'z2', 'LIMIT', 1)).toBe(1);
      expect(await c.call('zunionstore', 'out', 2, 'z1', 's')).toBe(5);
      expect(await c.call('zinterstore', 'out2', 2, 'z1', 'z2')).toBe(2);
      expect(await c.call('zdiffstore', 'out3', 2, 'z1', 'z1')).toBe(0);
      expect(events.slice(-2)).toEqual(['zunionstore:out', 'zinterstore:out2']);
      await fails(c, /^ERR at least 1 input key is needed for 'zunion' command$/, 'zunion', 0, 'z1');
      await fails(c, /^ERR at least 1 input key is needed for 'zinterstore' command$/, 'zinterstore', 'd', 0, 'z1');
      await fails(c, /^ERR syntax error$/, 'zunion', 3, 'z1', 'z2');
      await fails(c, /^ERR weight value is not a float$/, 'zunion', 2, 'z1', 'z2', 'WEIGHTS', 1, 'x');
      await fails(c, /^ERR syntax error$/, 'zunion', 2, 'z1', 'z2', 'AGGREGATE', 'avg');
      await fails(c, /^ERR syntax error$/, 'zunionstore', 'd', 2, 'z1', 'z2', 'WITHSCORES');
      await fails(c, /^ERR syntax error$/, 'zdiff', 2, 'z1', 'z2', 'WEIGHTS', 1, 1);
      await fails(c, /^ERR LIMIT can't be negative$/, 'zintercard', 1, 'z1', 'LIMIT', -1);
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'zunion', 2, 'z1', 'str');
    });
  });

  it('ZPOPMIN / ZPOPMAX / ZMPOP reply shapes per protocol', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z', 1, 'a', 2, 'b', 3, 'c');
      expect(text(await c.call('zpopmin', 'z'))).toEqual(['a', '1']);
      expect(text(await c.call('zpopmax', 'z', 1))).toEqual(c.resp === 3 ? [['c', '3']] : ['c', '3']);
      expect(await c.call('zpopmin', 'z', 0)).toEqual([]);
      expect(await c.call('zpopmin', 'nokey')).toEqual([]);
      await fails(c, /^ERR value is out of range, must be positive$/, 'zpopmin', 'z', -1);
      expect(text(await c.call('zmpop', 2, 'nokey', 'z', 'MIN', 'COUNT', 5))).toEqual(['z', [['b', '2']]]);
      expect(await c.call('exists', 'z')).toBe(0);
      expect(await c.call('zmpop', 1, 'z', 'MAX')).toBeNull();
      expect(events).toEqual(['zadd:z', 'zpopmin:z', 'zpopmax:z', 'zpopmin:z', 'del:z']);
      await fails(c, /^ERR numkeys should be greater than 0$/, 'zmpop', 0, 'z', 'MIN');
      await fails(c, /^ERR count should be greater than 0$/, 'zmpop', 1, 'z', 'MIN', 'COUNT', 0);
      await fails(c, /^ERR syntax error$/, 'zmpop', 1, 'z', 'MIDDLE');
      await fails(c, /^ERR syntax error$/, 'zmpop', 1, 'z', 'MIN', 'COUNT', 1, 'COUNT', 2);
    });
  });

  it('BZPOPMIN / BZMPOP serve at once, time out, and answer as a timeout inside MULTI', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z', 1, 'a', 2, 'b');
      expect(text(await c.call('bzpopmin', 'nokey', 'z', 0))).toEqual(['z', 'a', '1']);
      expect(text(await c.call('bzmpop', 0, 1, 'z', 'MAX'))).toEqual(['z', [['b', '2']]]);
      expect(await c.call('bzpopmax', 'z', 0.01)).toBeNull();
      await fails(c, /^ERR timeout is not a float or out of range$/, 'bzpopmin', 'z', 'x');
    });
    const out = await raw('MULTI\r\nBZPOPMIN z 0\r\nEXEC\r\n', (s) => s.includes('*1\r\n*-1'));
    expect(out).toContain('*1\r\n*-1\r\n');
  });

  it('a client blocked in BZPOPMIN / BZMPOP is woken by a ZADD from another client', async () => {
    const blocked = t.ioredis();
    const pusher = t.ioredis();
    const waiting = blocked.call('bzpopmin', 'zwait', '0');
    while (t.server.blocking.blockedCount === 0) await new Promise((r) => setImmediate(r));
    await pusher.zadd('zwait', 5, 'm');
    expect(await waiting).toEqual(['zwait', 'm', '5']);
    const waitingMpop = blocked.call('bzmpop', '0', '1', 'zwait2', 'MIN');
    while (t.server.blocking.blockedCount === 0) await new Promise((r) => setImmediate(r));
    await pusher.zadd('zwait2', 1, 'x', 2, 'y');
    expect(await waitingMpop).toEqual(['zwait2', [['x', '1']]]);
  });

  it('ZRANDMEMBER', async () => {
    await each(async (c) => {
      expect(await c.call('zrandmember', 'nokey')).toBeNull();
      expect(await c.call('zrandmember', 'nokey', 3)).toEqual([]);
      await c.call('zadd', 'z', 1, 'a', 2, 'b', 3, 'c');
      expect(['a', 'b', 'c']).toContain(await c.call('zrandmember', 'z'));
      const distinct = (await c.call('zrandmember', 'z', 5)) as string[];
      expect([...distinct].sort()).toEqual(['a', 'b', 'c']);
      expect(((await c.call('zrandmember', 'z', -7)) as string[]).length).toBe(7);
      const ws = flat(await c.call('zrandmember', 'z', 2, 'WITHSCORES')) as string[];
      expect(ws.length).toBe(4);
      expect(ws[1]).toBe(String(['a', 'b', 'c'].indexOf(ws[0]!) + 1));
      await fails(c, /^ERR syntax error$/, 'zrandmember', 'z', 1, 'x');
      await fails(c, /^ERR value is out of range$/, 'zrandmember', 'z', '-9223372036854775807', 'WITHSCORES');
      await fails(c, /^ERR value is not an integer or out of range$/, 'zrandmember', 'z', 'x');
    });
  });

  it('ZSCAN returns member/score pairs and honours MATCH', async () => {
    await each(async (c) => {
      await c.call('zadd', 'z', 1, 'a', 2.5, 'b', 3, 'cc');
      const [cursor, items] = (await c.call('zscan', 'z', 0, 'MATCH', '?')) as [string, string[]];
      expect(cursor).toBe('0');
      expect(text(items)).toEqual(['a', '1', 'b', '2.5']);
      await fails(c, /^ERR invalid cursor$/, 'zscan', 'z', 'x');
    });
    await io.call('config', 'set', 'zset-max-listpack-entries', 4);
    try {
      const members: (string | number)[] = [];
      for (let i = 0; i < 200; i++) members.push(i, `m${i}`);
      await io.call('zadd', 'big', ...members);
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, items] = (await io.call('zscan', 'big', cursor, 'COUNT', 20)) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.add(items[i]!);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.size).toBe(200);
    } finally {
      await io.call('config', 'set', 'zset-max-listpack-entries', 128);
    }
  });

  it('OBJECT ENCODING follows the listpack limits; COPY and DUMP/RESTORE round-trip', async () => {
    await io.call('zadd', 'z', 1, 'a');
    expect(await io.call('object', 'encoding', 'z')).toBe('listpack');
    await io.call('zadd', 'z', 2, 'x'.repeat(65));
    expect(await io.call('object', 'encoding', 'z')).toBe('skiplist');
    await io.call('config', 'set', 'zset-max-listpack-entries', 2);
    try {
      await io.call('zadd', 'y', 1, 'a', 2, 'b');
      expect(await io.call('object', 'encoding', 'y')).toBe('listpack');
      await io.call('zadd', 'y', 3, 'c');
      expect(await io.call('object', 'encoding', 'y')).toBe('skiplist');
    } finally {
      await io.call('config', 'set', 'zset-max-listpack-entries', 128);
    }
    expect(await io.call('copy', 'y', 'y2')).toBe(1);
    await io.call('zrem', 'y2', 'a');
    expect(await io.call('zcard', 'y')).toBe(3);
    for (const key of ['y', 'z']) {
      const r = t.ioredis();
      const dump = await r.dumpBuffer(key);
      await r.restore(`${key}-copy`, 0, dump);
      expect(await io.call('zrange', `${key}-copy`, 0, -1, 'WITHSCORES')).toEqual(await io.call('zrange', key, 0, -1, 'WITHSCORES'));
    }
  });

  it('RESTOREs a listpack payload as real Redis 7.0 dumps it', async () => {
    // DUMP of "ZADD z 1 a 2.5 b" from redis 7.0.15.
    const payload = Buffer.from('1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7', 'hex');
    const r = t.ioredis();
    await r.restore('fromredis', 0, payload);
    expect(await io.call('zrange', 'fromredis', 0, -1, 'WITHSCORES')).toEqual(['a', '1', 'b', '2.5']);
  });
});
