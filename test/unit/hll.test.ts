import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  denseGet,
  denseSet,
  hllAdd,
  hllCachedCount,
  hllCount,
  hllCountRegisters,
  hllCreate,
  hllDecodeSparse,
  hllEncoding,
  hllInvalidateCache,
  hllIsValid,
  hllMerge,
  hllMergeRegisters,
  hllPatLen,
  hllRegisters,
  hllSelfTest,
  hllSetRegisters,
  hllStoreCount,
  hllToDense,
  hllToSparse,
  hllValidate,
  HLL_DENSE_SIZE,
  HLL_HDR_SIZE,
  HLL_REGISTERS,
  murmurHash64A,
} from '../../src/store/hll.js';

/** MurmurHash64A written directly from its definition over 64-bit bigints: the oracle for the 32-bit-halves version. */
function referenceMurmur(data: Uint8Array, seed = 0xadc83b19n): bigint {
  const mask = (1n << 64n) - 1n;
  const m = 0xc6a4a7935bd1e995n;
  const mul = (a: bigint, b: bigint): bigint => (a * b) & mask;
  let h = seed ^ mul(BigInt(data.length), m);
  const blocks = data.length - (data.length % 8);
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(data[i + j]!);
    k = mul(k, m);
    k ^= k >> 47n;
    k = mul(k, m);
    h ^= k;
    h = mul(h, m);
  }
  const rest = data.length % 8;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) h ^= BigInt(data[blocks + j]!) << BigInt(8 * j);
    h = mul(h, m);
  }
  h ^= h >> 47n;
  h = mul(h, m);
  h ^= h >> 47n;
  return h;
}

/** n distinct elements: `${prefix}:${i}`. */
function elements(prefix: string, n: number, from = 0): string[] {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) out.push(`${prefix}:${i}`);
  return out;
}

/** A new HLL holding `els` (sparse unless it had to be promoted). */
function hllOf(els: readonly (string | Uint8Array)[], sparseMaxBytes = 3000): Buffer {
  return hllAdd(hllCreate(), els, 0, sparseMaxBytes).value;
}

/** A dense HLL holding `els`. */
function denseOf(els: readonly (string | Uint8Array)[]): Buffer {
  return hllAdd(hllToDense(hllCreate())!, els).value;
}

function asNumber(n: number | bigint | null): number {
  if (n === null) throw new Error('corrupt');
  return Number(n);
}

describe('MurmurHash64A and the register pattern', () => {
  it('equals a 64-bit bigint implementation on any bytes and seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 0xffffffff }), (data, seed) => {
        expect(murmurHash64A(data, seed)).toBe(referenceMurmur(data, BigInt(seed)));
      }),
      { numRuns: 2000 },
    );
  });

  it('hllPatLen: low 14 bits index the register, then trailing zeros + 1 (at most 51)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (data) => {
        const h = referenceMurmur(data);
        const index = Number(h & 0x3fffn);
        let rest = (h >> 14n) | (1n << 50n);
        let count = 1;
        while ((rest & 1n) === 0n) {
          count++;
          rest >>= 1n;
        }
        expect(hllPatLen(data)).toEqual({ index, count });
        expect(hllPatLen(Buffer.from(data).toString('latin1'))).toEqual({ index, count });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('dense registers', () => {
  it('set then get returns each value without touching the neighbours', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: HLL_REGISTERS - 1 }), fc.integer({ min: 0, max: 63 })), { maxLength: 300 }), (writes) => {
        const v = Buffer.alloc(HLL_DENSE_SIZE);
        const model = new Uint8Array(HLL_REGISTERS);
        for (const [r, val] of writes) {
          denseSet(v, r, val);
          model[r] = val;
        }
        for (const [r] of writes) {
          for (const n of [r - 1, r, r + 1]) if (n >= 0 && n < HLL_REGISTERS) expect(denseGet(v, n)).toBe(model[n]);
        }
        expect(v.subarray(0, HLL_HDR_SIZE).every((b) => b === 0)).toBe(true);
      }),
    );
  });

  it('every register of a random fill reads back (PFSELFTEST part 1 over all 16384)', () => {
    const v = Buffer.alloc(HLL_DENSE_SIZE);
    const want = new Uint8Array(HLL_REGISTERS).map((_, i) => (i * 37 + 11) & 63);
    for (let r = 0; r < HLL_REGISTERS; r++) denseSet(v, r, want[r]!);
    for (let r = 0; r < HLL_REGISTERS; r++) expect(denseGet(v, r)).toBe(want[r]);
  });
});

describe('format', () => {
  it('a new HLL is the 18-byte sparse value Redis creates', () => {
    const v = hllCreate();
    expect(v.toString('hex')).toBe('48594c4c' + '01000000' + '0000000000000000' + '7fff');
    expect(hllIsValid(v) && hllValidate(v)).toBe(true);
    expect(hllEncoding(v)).toBe('sparse');
    expect(hllDecodeSparse(v)).toBe('Z:16384');
    expect(hllCount(v)).toBe(0);
  });

  it('header checks: magic, encoding byte, dense length; hllValidate also walks the sparse body', () => {
    const v = hllOf(['a', 'b', 'c']);
    const bad = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(v);
      f(b);
      return b;
    };
    expect(hllIsValid(bad((b) => b.write('0123', 0, 'latin1')))).toBe(false);
    expect(hllIsValid(bad((b) => (b[4] = 2)))).toBe(false);
    expect(hllIsValid(bad((b) => (b[4] = 0)))).toBe(false); // dense of the wrong length
    expect(hllIsValid(v.subarray(0, 15))).toBe(false);
    const tail = Buffer.concat([v, Buffer.from('hello')]);
    expect(hllIsValid(tail)).toBe(true);
    expect(hllValidate(tail)).toBe(false);
    expect(hllCount(tail)).toBeNull();
  });

  it('cached cardinality: 8 bytes little endian, bit 7 of byte 15 marks it stale', () => {
    const v = hllOf(['x', 'y']);
    expect(v[15]! & 0x80).toBe(0x80);
    expect(hllCachedCount(v)).toBeNull();
    hllStoreCount(v, 2);
    expect(v.subarray(8, 16).toString('hex')).toBe('0200000000000000');
    expect(hllCachedCount(v)).toBe(2);
    hllStoreCount(v, 2 ** 40 + 5);
    expect(hllCachedCount(v)).toBe(2 ** 40 + 5);
    const same = hllAdd(v, ['x', 'y']);
    expect(same.updated).toBe(0);
    expect(hllCachedCount(same.value)).toBe(2 ** 40 + 5);
    expect(hllCachedCount(hllAdd(v, ['z']).value)).toBeNull();
  });

  it('decodes sparse opcodes as PFDEBUG DECODE prints them', () => {
    expect(hllDecodeSparse(hllOf(['a', 'b', 'c']))).toBe('Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603');
  });
});

describe('cardinality', () => {
  it('stays within Redis error bounds (6 standard errors, ±1 below 10)', () => {
    const relErr = 1.04 / Math.sqrt(HLL_REGISTERS);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30_000 }), fc.string({ maxLength: 6 }), (n, prefix) => {
        const count = asNumber(hllCount(hllOf(elements(prefix, n))));
        const bound = n < 10 ? 1 : Math.ceil(relErr * 6 * n);
        expect(Math.abs(count - n)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 60 },
    );
  });

  it('one million elements counts within 1%', () => {
    const v = denseOf(elements('big', 1_000_000));
    expect(Math.abs(asNumber(hllCount(v)) - 1_000_000)).toBeLessThan(10_000);
  });

  it('sparse and dense encodings of the same set hold the same registers and count equal', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 3000 }), fc.integer({ min: 20, max: 5000 }), (els, maxBytes) => {
        const sparse = hllOf(els, maxBytes);
        const dense = denseOf(els);
        expect(hllEncoding(dense)).toBe('dense');
        expect(hllRegisters(sparse)).toEqual(hllRegisters(dense));
        expect(hllCount(sparse)).toBe(hllCount(dense));
        expect(hllCountRegisters(hllRegisters(sparse)!)).toBe(hllCount(dense));
        expect(hllToDense(sparse)!.subarray(HLL_HDR_SIZE)).toEqual(dense.subarray(HLL_HDR_SIZE));
        const back = hllToSparse(dense, 1 << 20);
        expect(back).not.toBeNull();
        expect(hllRegisters(back!)).toEqual(hllRegisters(dense));
      }),
      { numRuns: 40 },
    );
  });

  it('a sparse HLL goes dense past hll-sparse-max-bytes or at a register above 32', () => {
    const small = hllOf(elements('p', 200), 3000);
    expect(hllEncoding(small)).toBe('sparse');
    expect(hllEncoding(hllOf(elements('p', 200), 100))).toBe('dense');
    expect(hllEncoding(hllOf(elements('p', 20_000), 3000))).toBe('dense');
    const regs = new Uint8Array(HLL_REGISTERS);
    regs[5] = 33;
    expect(hllEncoding(hllSetRegisters(null, regs, false)!)).toBe('dense');
    regs[5] = 32;
    expect(hllEncoding(hllSetRegisters(null, regs, false)!)).toBe('sparse');
  });
});

describe('merge (the replication join)', () => {
  const setArb = fc.array(fc.string({ maxLength: 8 }), { maxLength: 600 });
  /** Sometimes dense, sometimes sparse, sometimes promoted by a tiny sparse limit. */
  const hllArb = fc.tuple(setArb, fc.constantFrom('sparse', 'dense', 'small')).map(([els, kind]) =>
    kind === 'dense' ? denseOf(els) : hllOf(els, kind === 'small' ? 60 : 3000),
  );

  it('is register-wise max: the union of the sets', () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        const merged = hllMerge(hllOf(a), hllOf(b));
        expect(hllRegisters(merged)).toEqual(hllRegisters(hllOf([...a, ...b])));
        expect(hllValidate(merged)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('is commutative, associative and idempotent, on registers and byte for byte', () => {
    fc.assert(
      fc.property(hllArb, hllArb, hllArb, (a, b, c) => {
        const ab = hllMerge(a, b);
        expect(ab).toEqual(hllMerge(b, a));
        expect(hllMerge(ab, c)).toEqual(hllMerge(a, hllMerge(b, c)));
        expect(hllMerge(ab, ab)).toEqual(ab);
        expect(hllRegisters(hllMerge(a, a))).toEqual(hllRegisters(a));
        expect(hllCount(hllMerge(a, a))).toBe(hllCount(a));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses invalid input', () => {
    expect(() => hllMerge(hllCreate(), Buffer.from('not an hll at all, no'))).toThrow(RangeError);
    expect(() => hllMerge(hllCreate(), Buffer.concat([hllCreate(), Buffer.from([0x80])]))).toThrow(RangeError);
  });

  it('hllMergeRegisters takes each register at its max', () => {
    const max = new Uint8Array(HLL_REGISTERS);
    expect(hllMergeRegisters(max, hllOf(['a']))).toBe(true);
    expect(hllMergeRegisters(max, denseOf(['b']))).toBe(true);
    expect(max).toEqual(hllRegisters(hllOf(['a', 'b'])));
  });
});

describe('corrupt values', () => {
  it('never throw: count is a number or null, add reports corruption', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }),
        (n, edits) => {
          const v = Buffer.from(hllOf(elements('c', n)));
          for (const [pos, byte] of edits) v[pos % v.length] = byte;
          if (!hllIsValid(v)) return;
          const count = hllCount(v);
          expect(count === null || typeof count === 'number' || typeof count === 'bigint').toBe(true);
          const added = hllAdd(Buffer.from(v), elements('more', 50));
          if (added.corrupt) expect(hllEncoding(v)).toBe('sparse');
          hllRegisters(v);
          hllDecodeSparse(v);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('opcodes must add up to exactly 16384: a trailing VAL is corrupt too (CVE-2025-32023 fix)', () => {
    const header = '48594c4c010000000000000000000080';
    const corrupt = ['7fff80', '7fff8000', '5fff5fff80', '7ffe8080', '7fff00', '7ffe', ''];
    for (const body of corrupt) {
      const v = Buffer.from(header + body, 'hex');
      expect(hllIsValid(v)).toBe(true);
      expect(hllValidate(v)).toBe(false);
      expect(hllCount(v)).toBeNull();
      expect(hllRegisters(v)).toBeNull();
      expect(hllToDense(v)).toBeNull();
    }
    const ok = Buffer.from(header + '807ffe', 'hex');
    expect(hllValidate(ok) && hllCount(ok) === 1 && hllToDense(ok) !== null).toBe(true);
  });

  it('a dense value with every register at 63 overflows the estimate as llroundl does', () => {
    const v = hllToDense(hllCreate())!;
    for (let r = 0; r < HLL_REGISTERS; r++) denseSet(v, r, 63);
    expect(hllCount(v)).toBe(-(2n ** 63n));
  });
});

describe('PFSELFTEST', () => {
  it('passes', () => {
    let x = 7;
    const bytes = (n: number): Uint8Array => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
      return out;
    };
    expect(hllSelfTest(bytes)).toBeNull();
  });
});

// ---- against a real redis-server ------------------------------------------------

const REDIS_SERVER = '/usr/bin/redis-server';

describe(`byte compatibility with ${REDIS_SERVER}`, () => {
  beforeAll(() => {
    // A system package like tcl: bash .ci/run installs it (apt-get install redis-server).
    if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is not installed: apt-get install redis-server`);
  });
  let child: ChildProcess | null = null;
  let redis: Redis;

  let dir = '';
  let socketPath = '';

  /**
   * One command over a fresh raw connection, answered by a one-line reply
   * (':n', '-ERR ...', '+OK'): read as text, since ioredis turns integers
   * above 2^53 into inexact doubles.
   */
  function rawLine(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      let got = '';
      sock.on('error', reject);
      sock.on('data', (d) => {
        got += d.toString('latin1');
        const end = got.indexOf('\r\n');
        if (end >= 0) {
          sock.destroy();
          resolve(got.slice(0, end));
        }
      });
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  }

  beforeAll(async () => {
    // A unix socket in a private directory: no TCP port to find or collide on.
    dir = mkdtempSync(join(tmpdir(), 'hll-redis-'));
    const socket = join(dir, 'redis.sock');
    socketPath = socket;
    child = spawn(REDIS_SERVER, ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let waited = 0; !existsSync(socket); waited += 20) {
      if (waited > 10_000) throw new Error(`${REDIS_SERVER} did not create ${socket}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    redis = new Redis({ path: socket, lazyConnect: true });
    await redis.connect();
    await redis.ping();
  });

  afterAll(async () => {
    redis?.disconnect();
    child?.kill('SIGKILL');
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const els = fc.array(fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.string({ maxLength: 10 }).map((s) => new TextEncoder().encode(s))), { maxLength: 400 });

  it('PFADD produces the same bytes (sparse edits, promotion, dense) and PFCOUNT the same estimate', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(els, { minLength: 1, maxLength: 6 }), fc.constantFrom(3000, 3000, 200, 20), async (batches, maxBytes) => {
        await redis.del('k');
        await redis.config('SET', 'hll-sparse-max-bytes', String(maxBytes));
        let ours = hllCreate();
        let created = false;
        for (const batch of batches) {
          const theirsReply = await redis.call('pfadd', 'k', ...batch.map((b) => Buffer.from(b)));
          const r = hllAdd(ours, batch, 0, maxBytes);
          expect(r.corrupt).toBe(false);
          expect(theirsReply).toBe(!created || r.updated > 0 ? 1 : 0);
          if (!created) hllInvalidateCache(r.value);
          created = true;
          ours = r.value;
          expect((await redis.getBuffer('k'))!.toString('hex')).toBe(ours.toString('hex'));
        }
        expect(Number(await redis.pfcount('k'))).toBe(hllCount(ours));
      }),
      { numRuns: 80 },
    );
    await redis.config('SET', 'hll-sparse-max-bytes', '3000');
  });

  it('judges corrupted values as Redis does (WRONGTYPE header, INVALIDOBJ body) and counts what it accepts alike', async () => {
    await fc.assert(
      fc.asyncProperty(
        els,
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 3 }),
        async (items, dense, edits, tail) => {
          await redis.del('x');
          await redis.call('pfadd', 'x', ...items.map((b) => Buffer.from(b)));
          if (dense) await redis.call('pfdebug', 'todense', 'x');
          const v = Buffer.concat([(await redis.getBuffer('x'))!, tail]);
          for (const [pos, byte] of edits) v[pos % v.length] = byte;
          const outcome = async (...args: string[]): Promise<string> => {
            await redis.set('x', v);
            const line = await rawLine(args);
            return line.startsWith('-') ? line.slice(1).split(' ')[0]! : line.slice(1);
          };
          const valid = hllIsValid(v);
          const single = valid ? (hllCachedCount(v) ?? hllCount(v)) : null;
          expect(await outcome('pfcount', 'x')).toBe(!valid ? 'WRONGTYPE' : single === null ? 'INVALIDOBJ' : String(single));
          const regs = valid ? hllRegisters(v) : null;
          expect(await outcome('pfcount', 'x', 'nokey')).toBe(!valid ? 'WRONGTYPE' : regs === null ? 'INVALIDOBJ' : String(hllCountRegisters(regs)));
          const converted = valid ? hllToDense(v) : null;
          expect(await outcome('pfdebug', 'todense', 'x')).toBe(!valid ? 'WRONGTYPE' : converted === null ? 'INVALIDOBJ' : converted === v ? '0' : '1');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads values Redis wrote: registers (PFDEBUG GETREG), TODENSE bytes, PFMERGE bytes, multi-key PFCOUNT', async () => {
    await fc.assert(
      fc.asyncProperty(els, els, fc.boolean(), async (a, b, denseB) => {
        await redis.del('a', 'b', 'm');
        await redis.call('pfadd', 'a', ...a.map((x) => Buffer.from(x)));
        await redis.call('pfadd', 'b', ...b.map((x) => Buffer.from(x)));
        if (denseB) await redis.call('pfdebug', 'todense', 'b');
        const va = (await redis.getBuffer('a'))!;
        const vb = (await redis.getBuffer('b'))!;
        expect(hllIsValid(va) && hllIsValid(vb)).toBe(true);
        expect(Number(await redis.call('pfcount', 'a', 'b'))).toBe(hllCountRegisters(hllRegisters(hllMerge(va, vb))!));

        await redis.call('pfmerge', 'm', 'a', 'b');
        const anyDense = hllEncoding(va) === 'dense' || hllEncoding(vb) === 'dense';
        const regs = new Uint8Array(HLL_REGISTERS);
        hllMergeRegisters(regs, va);
        hllMergeRegisters(regs, vb);
        expect((await redis.getBuffer('m'))!.toString('hex')).toBe(hllSetRegisters(null, regs, anyDense)!.toString('hex'));
        expect(hllMerge(va, vb).toString('hex')).toBe((await redis.getBuffer('m'))!.toString('hex'));
        await redis.call('pfmerge', 'a', 'b');
        expect((await redis.getBuffer('a'))!.toString('hex')).toBe(hllSetRegisters(Buffer.from(va), regs, anyDense)!.toString('hex'));

        const reply = (await redis.call('pfdebug', 'getreg', 'b')) as number[];
        expect(Array.from(hllRegisters(vb)!)).toEqual(reply);
        const denseTheirs = (await redis.getBuffer('b'))!;
        expect(hllToDense(vb)!.toString('hex')).toBe(denseTheirs.toString('hex'));
      }),
      { numRuns: 60 },
    );
  });
});
