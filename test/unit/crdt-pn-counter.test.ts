/**
 * The PN counter's own semantics (src/crdt/pn-counter.ts); the lattice laws
 * and "value = sum of all increments" are in crdt-laws.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merge } from '../../src/crdt/types.js';
import { pnCounterCrdt, pnCreate, pnIncrement, pnValue, type PnCounter } from '../../src/crdt/pn-counter.js';

describe('PN counter', () => {
  it('converged replicas report bit-identical floats whatever order they merged in', () => {
    const origins = ['n3', 'n1', 'constructor', 'n2'];
    // Tenths are inexact in binary, so the order of a float sum shows in its last bits.
    const amount = fc.integer({ min: -1000, max: 1000 }).map((n) => n / 10);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 3 }), amount), { maxLength: 30 }), (ops) => {
        const replicas: PnCounter[] = origins.map(() => pnCreate());
        for (const [r, amount] of ops) pnIncrement(replicas[r]!, origins[r]!, amount);
        const forward = replicas.reduce((acc, s) => merge(pnCounterCrdt, acc, s), pnCreate());
        const backward = [...replicas].reverse().reduce((acc, s) => merge(pnCounterCrdt, acc, s), pnCreate());
        expect(Object.is(pnValue(forward), pnValue(backward))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps increments and decrements apart, each only growing', () => {
    const c = pnCreate();
    expect(pnIncrement(c, 'a', 5)).toEqual({ p: { a: 5 }, n: {} });
    expect(pnIncrement(c, 'a', -2)).toEqual({ p: {}, n: { a: 2 } });
    expect(pnIncrement(c, 'b', -4)).toEqual({ p: {}, n: { b: 4 } });
    expect(c).toEqual({ p: { a: 5 }, n: { a: 2, b: 4 } });
    expect(pnValue(c)).toBe(-1);
  });

  it('refuses non-finite amounts and totals', () => {
    const c = pnCreate();
    expect(() => pnIncrement(c, 'a', Number.POSITIVE_INFINITY)).toThrow();
    expect(() => pnIncrement(c, 'a', Number.NaN)).toThrow();
    pnIncrement(c, 'a', Number.MAX_VALUE);
    expect(() => pnIncrement(c, 'a', Number.MAX_VALUE)).toThrow();
    expect(() => pnIncrement(c, '__proto__', 1)).toThrow();
  });
});
