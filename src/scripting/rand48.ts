/**
 * Redis's own rand48 (src/rand.c semantics): the generator behind
 * math.random in scripts, so a seeded sequence is the same on every platform
 * and never touches the process's randomness.
 */
const A = 0x5deece66dn;
const C = 0xbn;
const MASK = (1n << 48n) - 1n;
/** X0, X1, X2 of rand.c: the state before any seeding. */
const INITIAL = 0x1234abcd330en;

export const RAND48_MAX = 0x7fffffff;

export class Rand48 {
  private x = INITIAL;

  /** srand48: the seed's 32 bits above the fixed low word 0x330E. */
  seed(seed: number): void {
    this.x = ((BigInt(seed) & 0xffffffffn) << 16n) | 0x330en;
  }

  /** lrand48: the next 31-bit value. */
  next(): number {
    this.x = (A * this.x + C) & MASK;
    return Number(this.x >> 17n);
  }
}
