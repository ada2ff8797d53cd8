import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

/** What Redis 7.0.15 stores after `PFADD h a b c` then `PFCOUNT h` (sparse, cached cardinality 3). */
const REDIS_ABC = Buffer.from('48594c4c01000000030000000000000060f38050b1844bfb80425a', 'hex');

/** A sparse HLL whose opcodes cover only registers 0..99 (one XZERO of 100). */
const SHORT = Buffer.from('48594c4c010000000000000000000080' + '4063', 'hex');

const NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const CORRUPT = 'INVALIDOBJ Corrupted HLL object detected';
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

describe('HyperLogLog commands', () => {
  const t = useServer();
  const { io, each, events, fails } = t;

  function bytes(key: string): Promise<Buffer | null> {
    return t.ioredis().getBuffer(key);
  }

  it('PFADD creates a string value, answers 1 when a register changed and 0 otherwise', async () => {
    await each(async (c) => {
      expect(await c.call('pfadd', 'hll')).toBe(1);
      expect(await c.call('exists', 'hll')).toBe(1);
      expect(await c.call('type', 'hll')).toBe('string');
      expect(await c.call('pfcount', 'hll')).toBe(0);
      expect(await c.call('pfadd', 'hll', 'a', 'b', 'c')).toBe(1);
      expect(await c.call('pfadd', 'hll', 'a', 'b', 'c')).toBe(0);
      expect(await c.call('pfadd', 'hll')).toBe(0);
      expect(await c.call('pfadd', 'hll', '')).toBe(1);
      expect(await c.call('pfcount', 'hll')).toBe(4);
      expect(events).toEqual(['pfadd:hll', 'pfadd:hll', 'pfadd:hll']);
    });
  });

  it('stores the bytes Redis stores, and reads values copied from Redis', async () => {
    await io.call('pfadd', 'h', 'a', 'b', 'c');
    await io.call('pfcount', 'h');
    expect(await bytes('h')).toEqual(REDIS_ABC);
    await each(async (c) => {
      await t.ioredis().set('copy', REDIS_ABC);
      expect(await c.call('pfcount', 'copy')).toBe(3);
      expect(await c.call('pfadd', 'copy', 'c', 'b', 'a')).toBe(0);
      expect(await c.call('pfadd', 'copy', 'd')).toBe(1);
      expect(await c.call('pfcount', 'copy')).toBe(4);
      expect(await c.call('pfdebug', 'decode', 'copy')).toMatch(/^Z:\d+ v:/);
    });
  });

  it('GET/SET round trip: a value moved as bytes keeps counting', async () => {
    const r = t.ioredis();
    const many = Array.from({ length: 5000 }, (_, i) => `e${i}`);
    await r.call('pfadd', 'dense', ...many);
    expect(await r.call('pfdebug', 'encoding', 'dense')).toBe('dense');
    await r.set('moved', (await r.getBuffer('dense'))!);
    expect(await r.pfcount('moved')).toBe(await r.pfcount('dense'));
    expect(await r.call('pfdebug', 'encoding', 'moved')).toBe('dense');
    expect(await r.call('pfadd', 'moved', ...many.slice(0, 100))).toBe(0);
  });

  it('PFCOUNT caches the estimate in the value (byte 15 clear) and PFADD marks it stale', async () => {
    const r = t.ioredis();
    await r.call('pfadd', 'hll', 'a', 'b', 'c');
    expect((await bytes('hll'))![15]).toBe(0x80);
    events.length = 0;
    expect(await r.pfcount('hll')).toBe(3);
    expect((await bytes('hll'))![15]).toBe(0);
    expect(events).toEqual([]); // filling the cache is not a write of the registers
    await r.call('pfadd', 'hll', 'a', 'b', 'c');
    expect((await bytes('hll'))![15]).toBe(0);
    await r.call('pfadd', 'hll', '1', '2', '3');
    expect((await bytes('hll'))![15]).toBe(0x80);
    expect(await r.pfcount('hll')).toBe(6);
  });

  it('PFCOUNT of several keys is the union, leaves the keys untouched, counts missing keys as empty', async () => {
    await each(async (c) => {
      await c.call('pfadd', 'h1', 'a', 'b', 'c');
      await c.call('pfadd', 'h2', 'b', 'c', 'd');
      await c.call('pfadd', 'h3', 'c', 'd', 'e');
      const before = await Promise.all(['h1', 'h2', 'h3'].map(bytes));
      events.length = 0;
      expect(await c.call('pfcount', 'h1', 'h2', 'h3', 'missing')).toBe(5);
      expect(await Promise.all(['h1', 'h2', 'h3'].map(bytes))).toEqual(before);
      expect(events).toEqual([]);
      expect(await c.call('pfcount', 'missing')).toBe(0);
      expect(await c.call('pfcount', 'missing', 'other')).toBe(0);
    });
  });

  it('PFMERGE writes the union into the destination (a source too) with a pfadd event', async () => {
    await each(async (c) => {
      await c.call('pfadd', 'h1', 'a', 'b', 'c');
      await c.call('pfadd', 'h2', 'b', 'c', 'd');
      await c.call('pfadd', 'h3', 'c', 'd', 'e');
      events.length = 0;
      expect(await c.call('pfmerge', 'dest', 'h1', 'h2', 'h3')).toBe('OK');
      expect(events).toEqual(['pfadd:dest']);
      expect(await c.call('pfcount', 'dest')).toBe(5);
      expect(await c.call('pfmerge', 'h1', 'h3')).toBe('OK');
      expect(await c.call('pfcount', 'h1')).toBe(5);
      expect(await c.call('pfmerge', 'empty')).toBe('OK');
      expect(await c.call('pfcount', 'empty')).toBe(0);
      expect(await c.call('pfmerge', 'fromnothing', 'nokey')).toBe('OK');
      expect(await c.call('exists', 'fromnothing')).toBe(1);
    });
  });

  it('PFMERGE with a dense source makes a dense destination', async () => {
    const r = t.ioredis();
    await r.call('pfadd', 'small', 'a');
    await r.call('pfadd', 'big', 'b');
    await r.call('pfdebug', 'todense', 'big');
    await r.call('pfmerge', 'out', 'small', 'big');
    expect(await r.call('pfdebug', 'encoding', 'out')).toBe('dense');
    expect(await r.pfcount('out')).toBe(2);
    await r.call('pfmerge', 'out2', 'small');
    expect(await r.call('pfdebug', 'encoding', 'out2')).toBe('sparse');
  });

  it('type errors: other types, strings that are not HLLs', async () => {
    await each(async (c) => {
      await c.call('rpush', 'list', 'x');
      await c.call('set', 'str', 'bar');
      await fails(c, WRONGTYPE, 'pfadd', 'list', 'a');
      await fails(c, WRONGTYPE, 'pfcount', 'list');
      await fails(c, WRONGTYPE, 'pfcount', 'missing', 'list');
      await fails(c, WRONGTYPE, 'pfmerge', 'dest', 'list');
      await fails(c, NOT_HLL, 'pfadd', 'str', 'a');
      await fails(c, NOT_HLL, 'pfcount', 'str');
      await fails(c, NOT_HLL, 'pfcount', 'str', 'other');
      await fails(c, NOT_HLL, 'pfmerge', 'dest', 'str');
      await fails(c, NOT_HLL, 'pfmerge', 'str', 'dest');
      await fails(c, NOT_HLL, 'pfdebug', 'encoding', 'str');
      expect(await c.call('exists', 'dest')).toBe(0);
      expect(await c.call('get', 'str')).toBe('bar');
    });
  });

  it('corrupt values: header damage is WRONGTYPE, a bad sparse body INVALIDOBJ', async () => {
    await each(async (c) => {
      await c.call('pfadd', 'tail', 'a', 'b', 'c');
      await c.call('append', 'tail', 'hello');
      await fails(c, CORRUPT, 'pfcount', 'tail');
      await fails(c, CORRUPT, 'pfcount', 'tail', 'other');
      await fails(c, CORRUPT, 'pfdebug', 'getreg', 'tail');
      await c.call('pfadd', 'magic', 'a');
      await c.call('setrange', 'magic', 0, '0123');
      await fails(c, NOT_HLL, 'pfcount', 'magic');
      await c.call('pfadd', 'enc', 'a');
      await c.call('setrange', 'enc', 4, 'x');
      await fails(c, NOT_HLL, 'pfadd', 'enc', 'b');
      await c.call('pfadd', 'len', 'a');
      await c.call('setrange', 'len', 4, '\x00');
      await fails(c, NOT_HLL, 'pfmerge', 'x', 'len');
      await t.ioredis().set('short', SHORT);
      await fails(c, CORRUPT, 'pfcount', 'short');
      await fails(c, CORRUPT, 'pfadd', 'short', ...Array.from({ length: 200 }, (_, i) => `x${i}`));
    });
  });

  it('runs that add up past 4 GB of registers are INVALIDOBJ, not an overflow (CVE-2025-32023)', async () => {
    const r = t.ioredis();
    const xzeroMax = Buffer.from([0x7f, 0xff]);
    const body = Buffer.concat([Buffer.from('HYLL\x01\0\0\0\0\0\0\0\0\0\0\0', 'latin1'), ...Array.from({ length: 131_072 + 1000 }, () => xzeroMax), Buffer.from([0xff])]);
    await r.set('hll', body);
    await expect(r.call('pfcount', 'hll', 'hll')).rejects.toThrow(CORRUPT);
    expect(await r.call('pfcount', 'hll')).toBe(0); // the header's cached cardinality (0, valid) is trusted, as in Redis
    await expect(r.call('pfdebug', 'getreg', 'hll')).rejects.toThrow(CORRUPT);
    expect(await r.ping()).toBe('PONG');
  });

  it('a corrupt PFADD leaves the stored value as it was', async () => {
    const r = t.ioredis();
    await r.set('short', SHORT);
    const before = await bytes('short');
    events.length = 0;
    await expect(r.call('pfadd', 'short', ...Array.from({ length: 200 }, (_, i) => `x${i}`))).rejects.toThrow(CORRUPT);
    expect(await bytes('short')).toEqual(before);
    expect(events).toEqual([]);
  });

  it('sparse values are promoted to dense past hll-sparse-max-bytes', async () => {
    const r = t.ioredis();
    try {
      await r.config('SET', 'hll-sparse-max-bytes', '100');
      await r.call('pfadd', 'p', ...Array.from({ length: 10 }, (_, i) => `a${i}`));
      expect(await r.call('pfdebug', 'encoding', 'p')).toBe('sparse');
      await r.call('pfadd', 'p', ...Array.from({ length: 100 }, (_, i) => `b${i}`));
      expect(await r.call('pfdebug', 'encoding', 'p')).toBe('dense');
      expect(await r.strlen('p')).toBe(12304);
      await r.config('SET', 'hll-sparse-max-bytes', '3000');
      let n = 0;
      while (n < 20_000) {
        await r.call('pfadd', 'q', ...Array.from({ length: 500 }, (_, i) => `q${n + i}`));
        n += 500;
        const card = Number(await r.pfcount('q'));
        expect(Math.abs(card - n)).toBeLessThan(card * 0.05);
        if (n < 1000) expect(await r.call('pfdebug', 'encoding', 'q')).toBe('sparse');
        if (n > 10_000) expect(await r.call('pfdebug', 'encoding', 'q')).toBe('dense');
      }
    } finally {
      await r.config('SET', 'hll-sparse-max-bytes', '3000');
    }
  });

  it('PFDEBUG GETREG / DECODE / ENCODING / TODENSE', async () => {
    await each(async (c) => {
      await c.call('pfadd', 'h', 'a', 'b', 'c');
      expect(await c.call('pfdebug', 'ENCODING', 'h')).toBe('sparse');
      expect(await c.call('pfdebug', 'decode', 'h')).toBe('Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603');
      expect(await c.call('pfdebug', 'todense', 'h')).toBe(1);
      expect(await c.call('pfdebug', 'todense', 'h')).toBe(0);
      expect(await c.call('pfdebug', 'encoding', 'h')).toBe('dense');
      await fails(c, 'ERR HLL encoding is not sparse', 'pfdebug', 'decode', 'h');
      const regs = (await c.call('pfdebug', 'getreg', 'h')) as number[];
      expect(regs).toHaveLength(16384);
      expect(regs[8436]).toBe(1);
      expect(regs[12711]).toBe(2);
      expect(regs.filter((x) => x !== 0)).toHaveLength(3);
      expect(await c.call('pfcount', 'h')).toBe(3);
      await c.call('pfadd', 's', 'a');
      expect(((await c.call('pfdebug', 'getreg', 's')) as number[]).filter((x) => x !== 0)).toHaveLength(1);
      expect(await c.call('pfdebug', 'encoding', 's')).toBe('dense'); // GETREG converts, as in Redis
      await fails(c, 'ERR The specified key does not exist', 'pfdebug', 'getreg', 'missing');
      await fails(c, 'ERR The specified key does not exist', 'pfdebug', 'bogus', 'missing');
      await fails(c, "ERR Unknown PFDEBUG subcommand 'bogus'", 'pfdebug', 'bogus', 'h');
      await fails(c, "ERR wrong number of arguments for 'pfdebug' command", 'pfdebug', 'getreg');
      await fails(c, "ERR wrong number of arguments for 'pfadd' command", 'pfadd');
      await fails(c, "ERR wrong number of arguments for 'pfselftest' command", 'pfselftest', 'x');
    });
  });

  it('WATCH sees PFADD and PFMERGE', async () => {
    const a = t.ioredis();
    const b = t.ioredis();
    await a.call('pfadd', 'w', 'x');
    await a.watch('w');
    await b.call('pfadd', 'w', 'y');
    expect(await a.multi().pfcount('w').exec()).toBeNull();
    await a.watch('w');
    await b.call('pfmerge', 'w', 'w');
    expect(await a.multi().pfcount('w').exec()).toBeNull();
  });

  it('PFSELFTEST passes', async () => {
    expect(await io.call('pfselftest')).toBe('OK');
  });

  it('COMMAND INFO: flags, key specs and categories as Redis', async () => {
    const info = (await io.call('command', 'info', 'pfcount', 'pfadd', 'pfmerge')) as unknown[][];
    expect(info[0]!.slice(0, 6)).toEqual(['pfcount', -2, ['readonly'], 1, -1, 1]);
    expect(info[0]![6]).toEqual(['@read', '@hyperloglog', '@slow']);
    expect(info[1]!.slice(0, 6)).toEqual(['pfadd', -2, ['write', 'denyoom', 'fast'], 1, 1, 1]);
    expect(info[2]!.slice(0, 6)).toEqual(['pfmerge', -2, ['write', 'denyoom'], 1, -1, 1]);
  });
});
