import { randomBytes } from 'node:crypto';

/** Randomness. Production uses the OS; the simulator a seeded generator. */
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). bound must be a positive safe integer. */
  int(bound: number): number;
  /** n random bytes. */
  bytes(n: number): Buffer;
}

export class SystemRandom implements Random {
  next(): number {
    return Math.random();
  }
  int(bound: number): number {
    return Math.floor(Math.random() * bound);
  }
  bytes(n: number): Buffer {
    return randomBytes(n);
  }
}

/**
 * Deterministic generator (xorshift128+ on 32-bit halves, splitmix32 seeding),
 * used by the simulator and by tests that need reproducible draws.
 */
export class SeededRandom implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const mix = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix() | 1;
  }

  /** xoshiro128** step: 32 random bits. */
  private u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    // 53 bits of precision from two draws.
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
