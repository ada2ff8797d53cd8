import { describe, expect, it } from 'vitest';
import { clientUnblockSpec } from '../../src/commands/lists-unblock.js';
import { useServer } from '../helpers/fixture.js';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

describe('list commands', () => {
  const t = useServer();
  const { callers, events, each } = t;

  async function err(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected an error reply');
  }

  async function blockedCount(n: number): Promise<void> {
    while (t.server.blocking.blockedCount !== n) await new Promise((r) => setTimeout(r, 2));
  }

  it('LPUSH/RPUSH/LPUSHX/RPUSHX, LLEN, LRANGE', async () => {
    await each(async (c) => {
      expect(await c.call('rpush', 'l', 'a', 'b')).toBe(2);
      expect(await c.call('lpush', 'l', 'x', 'y')).toBe(4);
      expect(await c.call('lrange', 'l', 0, -1)).toEqual(['y', 'x', 'a', 'b']);
      expect(await c.call('lpushx', 'none', 'v')).toBe(0);
      expect(await c.call('rpushx', 'l', 'z')).toBe(5);
      expect(await c.call('lpushx', 'l', 'w')).toBe(6);
      expect(await c.call('llen', 'l')).toBe(6);
      expect(await c.call('llen', 'none')).toBe(0);
      expect(await c.call('lrange', 'l', -2, 100)).toEqual(['b', 'z']);
      expect(await c.call('lrange', 'l', 4, 2)).toEqual([]);
      expect(await c.call('lrange', 'none', 0, -1)).toEqual([]);
      expect(await err(c.call('lrange', 'l', 'a', 1))).toBe('ERR value is not an integer or out of range');
      await c.call('set', 's', 'v');
      expect(await err(c.call('lpush', 's', 'v'))).toBe(WRONGTYPE);
      expect(await err(c.call('rpushx', 's', 'v'))).toBe(WRONGTYPE);
      expect(await err(c.call('llen', 's'))).toBe(WRONGTYPE);
      expect(await err(c.call('lpush', 'l'))).toBe("ERR wrong number of arguments for 'lpush' command");
    });
  });

  it('LPOP/RPOP with and without count', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 'a', 'b', 'c', 'd', 'e');
      expect(await c.call('lpop', 'l')).toBe('a');
      expect(await c.call('rpop', 'l')).toBe('e');
      expect(await c.call('lpop', 'l', 0)).toEqual([]);
      expect(await c.call('rpop', 'l', 2)).toEqual(['d', 'c']);
      expect(await c.call('lpop', 'l', 10)).toEqual(['b']);
      expect(await c.call('exists', 'l')).toBe(0);
      expect(await c.call('lpop', 'l')).toBeNull();
      expect(await c.call('rpop', 'l', 3)).toBeNull();
      expect(await err(c.call('lpop', 'l', -1))).toBe('ERR value is out of range, must be positive');
      expect(await err(c.call('lpop', 'l', 'x'))).toBe('ERR value is out of range, must be positive');
      expect(await err(c.call('lpop', 'l', 1, 2))).toBe("ERR wrong number of arguments for 'lpop' command");
    });
  });

  it('null shapes of pops are exactly as Redis in RESP2 and RESP3', async () => {
    const r2 = await t.connect(2);
    r2.write('LPOP nokey\r\nLPOP nokey 2\r\nBLPOP nokey 0.01\r\nLMPOP 1 nokey LEFT\r\nRPOPLPUSH nokey d\r\nLPOS nokey x\r\n');
    expect(await r2.lines(6)).toBe('$-1\r\n*-1\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n');
    const r3 = await t.connect(3);
    r3.write('LPOP nokey\r\nLPOP nokey 2\r\nBLPOP nokey 0.01\r\nBLMOVE nokey d LEFT LEFT 0.01\r\nLPOS nokey x COUNT 0\r\n');
    expect(await r3.lines(5)).toBe('_\r\n_\r\n_\r\n_\r\n*0\r\n');
  });

  it('LINDEX, LSET, LINSERT', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 'a', 'b', 'c');
      expect(await c.call('lindex', 'l', 0)).toBe('a');
      expect(await c.call('lindex', 'l', -1)).toBe('c');
      expect(await c.call('lindex', 'l', 3)).toBeNull();
      expect(await c.call('lindex', 'none', 0)).toBeNull();
      expect(await err(c.call('lindex', 'l', 'x'))).toBe('ERR value is not an integer or out of range');
      expect(await c.call('lset', 'l', -2, 'B')).toBe('OK');
      expect(await err(c.call('lset', 'l', 3, 'x'))).toBe('ERR index out of range');
      expect(await err(c.call('lset', 'none', 0, 'x'))).toBe('ERR no such key');
      expect(await c.call('linsert', 'l', 'before', 'B', 'p')).toBe(4);
      expect(await c.call('linsert', 'l', 'AFTER', 'c', 'q')).toBe(5);
      expect(await c.call('linsert', 'l', 'after', 'zz', 'q')).toBe(-1);
      expect(await c.call('linsert', 'none', 'after', 'a', 'q')).toBe(0);
      expect(await err(c.call('linsert', 'l', 'middle', 'a', 'q'))).toBe('ERR syntax error');
      expect(await c.call('lrange', 'l', 0, -1)).toEqual(['a', 'p', 'B', 'c', 'q']);
    });
  });

  it('LREM and LTRIM, deleting emptied lists', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 'x', 'a', 'x', 'b', 'x', 'c', 'x');
      expect(await c.call('lrem', 'l', 2, 'x')).toBe(2);
      expect(await c.call('lrem', 'l', -1, 'x')).toBe(1);
      expect(await c.call('lrange', 'l', 0, -1)).toEqual(['a', 'b', 'x', 'c']);
      expect(await c.call('lrem', 'l', 0, 'x')).toBe(1);
      expect(await c.call('lrem', 'none', 0, 'x')).toBe(0);
      expect(await err(c.call('lrem', 'l', 'n', 'x'))).toBe('ERR value is not an integer or out of range');
      expect(await c.call('ltrim', 'l', 1, -1)).toBe('OK');
      expect(await c.call('lrange', 'l', 0, -1)).toEqual(['b', 'c']);
      expect(await c.call('ltrim', 'none', 0, 1)).toBe('OK');
      expect(await c.call('ltrim', 'l', 5, 10)).toBe('OK');
      expect(await c.call('exists', 'l')).toBe(0);
    });
  });

  it('LPOS with RANK, COUNT, MAXLEN and their errors', async () => {
    await each(async (c) => {
      await c.call('rpush', 'l', 'a', 'b', 'c', '1', '2', '3', 'c', 'c');
      expect(await c.call('lpos', 'l', 'c')).toBe(2);
      expect(await c.call('lpos', 'l', 'c', 'rank', 2)).toBe(6);
      expect(await c.call('lpos', 'l', 'c', 'rank', -1)).toBe(7);
      expect(await c.call('lpos', 'l', 'c', 'count', 0)).toEqual([2, 6, 7]);
      expect(await c.call('lpos', 'l', 'c', 'count', 2, 'rank', -1)).toEqual([7, 6]);
      expect(await c.call('lpos', 'l', 'c', 'count', 0, 'maxlen', 7)).toEqual([2, 6]);
      expect(await c.call('lpos', 'l', 'c', 'rank', 4)).toBeNull();
      expect(await c.call('lpos', 'l', 'zz')).toBeNull();
      expect(await err(c.call('lpos', 'l', 'c', 'rank', 0))).toMatch(/^ERR RANK can't be zero: use 1 to start/);
      expect(await err(c.call('lpos', 'l', 'c', 'count', -1))).toBe("ERR COUNT can't be negative");
      expect(await err(c.call('lpos', 'l', 'c', 'maxlen', -1))).toBe("ERR MAXLEN can't be negative");
      expect(await err(c.call('lpos', 'l', 'c', 'rank'))).toBe('ERR syntax error');
    });
  });

  it('LMOVE and RPOPLPUSH, including the same list and wrong types', async () => {
    await each(async (c) => {
      await c.call('rpush', 'src', 'a', 'b', 'c');
      expect(await c.call('rpoplpush', 'src', 'dst')).toBe('c');
      expect(await c.call('lmove', 'src', 'dst', 'left', 'right')).toBe('a');
      expect(await c.call('lrange', 'dst', 0, -1)).toEqual(['c', 'a']);
      expect(await c.call('lmove', 'src', 'src', 'LEFT', 'RIGHT')).toBe('b');
      expect(await c.call('lrange', 'src', 0, -1)).toEqual(['b']);
      expect(await c.call('lmove', 'none', 'dst', 'left', 'left')).toBeNull();
      expect(await err(c.call('lmove', 'src', 'dst', 'up', 'left'))).toBe('ERR syntax error');
      await c.call('set', 's', 'v');
      expect(await err(c.call('rpoplpush', 'src', 's'))).toBe(WRONGTYPE);
      expect(await c.call('lrange', 'src', 0, -1)).toEqual(['b']);
      expect(await c.call('lmove', 'src', 'dst', 'right', 'left')).toBe('b');
      expect(await c.call('exists', 'src')).toBe(0);
    });
  });

  it('LMPOP with numkeys, LEFT|RIGHT, COUNT and its errors', async () => {
    await each(async (c) => {
      await c.call('rpush', 'b', '1', '2', '3');
      expect(await c.call('lmpop', 2, 'a', 'b', 'left')).toEqual(['b', ['1']]);
      expect(await c.call('lmpop', 2, 'a', 'b', 'RIGHT', 'count', 5)).toEqual(['b', ['3', '2']]);
      expect(await c.call('lmpop', 2, 'a', 'b', 'left')).toBeNull();
      expect(await err(c.call('lmpop', 0, 'a', 'left'))).toBe('ERR numkeys should be greater than 0');
      expect(await err(c.call('lmpop', 3, 'a', 'left'))).toBe('ERR syntax error');
      expect(await err(c.call('lmpop', 1, 'a', 'up'))).toBe('ERR syntax error');
      expect(await err(c.call('lmpop', 1, 'a', 'left', 'count', 0))).toBe('ERR count should be greater than 0');
      expect(await err(c.call('lmpop', 1, 'a', 'left', 'count', 1, 'count', 1))).toBe('ERR syntax error');
      await c.call('set', 's', 'v');
      expect(await err(c.call('lmpop', 2, 's', 'b', 'left'))).toBe(WRONGTYPE);
    });
  });

  it('signals Redis keyspace events, and "del" when a list empties', async () => {
    const c = callers[0]!;
    await c.call('rpush', 'l', 'a', 'b');
    await c.call('lpush', 'l', 'c');
    await c.call('lset', 'l', 0, 'x');
    await c.call('linsert', 'l', 'before', 'x', 'y');
    await c.call('lrem', 'l', 1, 'y');
    await c.call('ltrim', 'l', 0, 1);
    await c.call('lmove', 'l', 'm', 'left', 'right');
    await c.call('rpop', 'l');
    expect(events).toEqual([
      'rpush:l', 'lpush:l', 'lset:l', 'linsert:l', 'lrem:l', 'ltrim:l', 'rpush:m', 'lpop:l', 'rpop:l', 'del:l',
    ]);
  });

  it('BLPOP/BRPOP/BLMPOP serve at once when a list has elements', async () => {
    await each(async (c) => {
      await c.call('rpush', 'b', '1', '2', '3', '4');
      expect(await c.call('blpop', 'a', 'b', 0)).toEqual(['b', '1']);
      expect(await c.call('brpop', 'a', 'b', 0)).toEqual(['b', '4']);
      expect(await c.call('blmpop', 0, 2, 'a', 'b', 'left', 'count', 5)).toEqual(['b', ['2', '3']]);
      expect(await err(c.call('blpop', 'a', -1))).toBe('ERR timeout is negative');
      expect(await err(c.call('blpop', 'a', 'x'))).toBe('ERR timeout is not a float or out of range');
      expect(await err(c.call('blmpop', 'x', 1, 'a', 'left'))).toBe('ERR timeout is not a float or out of range');
      expect(await err(c.call('blmove', 'a', 'b', 'left', 'left', -0.5))).toBe('ERR timeout is negative');
      await c.call('set', 's', 'v');
      expect(await err(c.call('brpop', 'a', 's', 0))).toBe(WRONGTYPE);
    });
  });

  it('serves blocked clients in FIFO order per key, woken by pushes', async () => {
    const blockers = [t.ioredis(), t.ioredis(), t.ioredis()];
    const replies: Promise<unknown>[] = [];
    for (const [i, b] of blockers.entries()) {
      replies.push(b.blpop('q', 0));
      await blockedCount(i + 1);
    }
    await callers[0]!.call('rpush', 'q', 'one', 'two');
    await callers[0]!.call('rpush', 'q', 'three');
    expect(await Promise.all(replies)).toEqual([['q', 'one'], ['q', 'two'], ['q', 'three']]);
    expect(await callers[0]!.call('exists', 'q')).toBe(0);
    expect(t.server.blocking.blockedCount).toBe(0);
  });

  it('times out with the command\'s null, on each client kind', async () => {
    for (const resp of [2, 3] as const) {
      const n = await t.nodeRedis(resp);
      expect(await n.sendCommand(['BLPOP', 'nothing', '0.02'])).toBeNull();
      expect(await n.sendCommand(['BLMOVE', 'nothing', 'x', 'LEFT', 'LEFT', '0.02'])).toBeNull();
      expect(await n.sendCommand(['BLMPOP', '0.02', '1', 'nothing', 'RIGHT'])).toBeNull();
    }
    expect(await t.ioredis().brpoplpush('nothing', 'x', 0.02)).toBeNull();
  });

  it('holds pipelined commands while blocked, then runs them', async () => {
    const r = await t.connect();
    r.write('BLPOP q 0\r\nPING\r\n');
    await blockedCount(1);
    await callers[0]!.call('lpush', 'q', 'v');
    expect(await r.lines(6)).toBe('*2\r\n$1\r\nq\r\n$1\r\nv\r\n+PONG\r\n');
  });

  it('BLMOVE / BRPOPLPUSH block, then move into the destination (waking its own waiters)', async () => {
    const mover = t.ioredis();
    const popper = t.ioredis();
    const moved = mover.blmove('src', 'dst', 'RIGHT', 'LEFT', 0);
    await blockedCount(1);
    const popped = popper.brpop('dst', 0);
    await blockedCount(2);
    await callers[0]!.call('rpush', 'src', 'a', 'b');
    expect(await moved).toBe('b');
    expect(await popped).toEqual(['dst', 'b']);
    expect(await callers[0]!.call('lrange', 'src', 0, -1)).toEqual(['a']);
  });

  it('a blocked BLMOVE gets WRONGTYPE when its destination is not a list', async () => {
    const mover = t.ioredis();
    const moved = mover.brpoplpush('src', 'dst', 0).catch((e: Error) => e.message);
    await blockedCount(1);
    await callers[0]!.call('set', 'dst', 'string');
    await callers[0]!.call('rpush', 'src', 'a');
    expect(await moved).toBe(WRONGTYPE);
    expect(await callers[0]!.call('lrange', 'src', 0, -1)).toEqual(['a']);
  });

  it('is woken by a push inside MULTI/EXEC, and does not wake on LPUSH+DEL', async () => {
    const b = t.ioredis();
    const popped = b.blpop('q', 0);
    await blockedCount(1);
    const m = t.ioredis();
    await m.multi().lpush('q', 'x').del('q').exec();
    expect(t.server.blocking.blockedCount).toBe(1);
    await m.multi().lpush('q', 'a').lpush('q', 'b').exec();
    expect(await popped).toEqual(['q', 'b']);
  });

  it('inside MULTI a blocking command answers like its non-blocking form', async () => {
    const m = t.ioredis();
    await m.rpush('full', 'v');
    const res = await m.multi().blpop('empty', 0).brpoplpush('empty', 'x', 0).blmpop(0, 1, 'full', 'LEFT').exec();
    expect(res).toEqual([[null, null], [null, null], [null, ['full', ['v']]]]);
  });

  it('forgets a blocked client that disconnects', async () => {
    const r = await t.connect();
    r.write('BLPOP gone 0\r\n');
    await blockedCount(1);
    r.close();
    await blockedCount(0);
    await callers[0]!.call('rpush', 'gone', 'v');
    expect(await callers[0]!.call('llen', 'gone')).toBe(1);
  });

  it('CLIENT UNBLOCK id [TIMEOUT|ERROR]', async () => {
    const blocked = t.ioredis();
    const id = Number(await blocked.client('ID'));
    const target = t.server.clients.get(id)!;
    const caller = [...t.server.clients.all()].find((c) => c.id !== id)!;
    const unblock = (...args: string[]): string => {
      clientUnblockSpec.handler!(caller, ['CLIENT', 'UNBLOCK', ...args]);
      return caller.reply.take()!.toString('latin1');
    };
    let p: Promise<unknown> = blocked.blpop('nothing', 0);
    await blockedCount(1);
    expect(unblock(String(id))).toBe(':1\r\n');
    expect(await p).toBeNull();
    p = blocked.blpop('nothing', 0).catch((e: Error) => e.message);
    await blockedCount(1);
    expect(unblock(String(id), 'error')).toBe(':1\r\n');
    expect(await p).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    expect(unblock(String(id), 'TIMEOUT')).toBe(':0\r\n');
    expect(unblock('x')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(unblock(String(id), 'later')).toBe('-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n');
    expect(target.closed).toBe(false);
  });

  it('handles large lists: LRANGE, LTRIM and DEL of a million elements', async () => {
    const c = callers[0]!;
    const chunk = Array.from({ length: 10_000 }, (_, i) => String(i));
    for (let i = 0; i < 100; i++) await c.call('rpush', 'big', ...chunk);
    expect(await c.call('llen', 'big')).toBe(1_000_000);
    expect(await c.call('lindex', 'big', 500_000)).toBe('0');
    expect(await c.call('lrange', 'big', -3, -1)).toEqual(['9997', '9998', '9999']);
    expect(await c.call('ltrim', 'big', 10, -11)).toBe('OK');
    expect(await c.call('llen', 'big')).toBe(999_980);
    expect(await c.call('del', 'big')).toBe(1);
  });
});
