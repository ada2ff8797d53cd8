/**
 * Vector clocks (order, join, min) and causal contexts (a dot set kept as a
 * prefix plus a cloud) against straightforward models: clocks as total maps
 * over a few nodes, contexts as plain sets of "origin:counter".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ccAddDot,
  ccCreate,
  ccHas,
  ccMax,
  ccMergeInto,
  vcCompare,
  vcDominates,
  vcGet,
  vcIncrement,
  vcMerge,
  vcMin,
  vcSet,
  type CausalContext,
  type VectorClock,
} from '../../src/crdt/vector-clock.js';

const NODES = ['a', 'b', 'constructor'];

/** Clocks over NODES with small counters, so equal and ordered pairs are common; zeros are left out. */
const clockArb: fc.Arbitrary<VectorClock> = fc
  .tuple(...NODES.map(() => fc.nat({ max: 2 })))
  .map((counters) => {
    const vc: VectorClock = {};
    counters.forEach((counter, i) => vcSet(vc, NODES[i]!, counter));
    return vc;
  });

const leq = (a: VectorClock, b: VectorClock): boolean => NODES.every((n) => vcGet(a, n) <= vcGet(b, n));

describe('vector clock', () => {
  it('compare and dominates agree with the pointwise order', () => {
    fc.assert(
      fc.property(clockArb, clockArb, (a, b) => {
        const expected = leq(a, b) ? (leq(b, a) ? 'equal' : 'before') : leq(b, a) ? 'after' : 'concurrent';
        expect(vcCompare(a, b)).toBe(expected);
        expect(vcDominates(b, a)).toBe(leq(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it('merge is the least upper bound', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
        const m = vcMerge(a, b);
        expect(vcDominates(m, a) && vcDominates(m, b)).toBe(true);
        if (vcDominates(c, a) && vcDominates(c, b)) expect(vcDominates(c, m)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('min is the greatest lower bound and stores no zero counters', () => {
    fc.assert(
      fc.property(fc.array(clockArb, { minLength: 1, maxLength: 4 }), clockArb, (clocks, c) => {
        const min = vcMin(clocks);
        for (const vc of clocks) expect(vcDominates(vc, min)).toBe(true);
        if (clocks.every((vc) => vcDominates(vc, c))) expect(vcDominates(min, c)).toBe(true);
        expect(Object.values(min).every((counter) => counter > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(vcMin([{ a: 3, b: 1 }, { a: 2, c: 5 }])).toEqual({ a: 2 });
    expect(() => vcMin([])).toThrow();
  });

  it('set only raises, increment returns its delta, and bad ids or counters throw', () => {
    const vc: VectorClock = {};
    vcSet(vc, 'a', 3);
    vcSet(vc, 'a', 1);
    vcSet(vc, 'b', 0);
    expect(vc).toEqual({ a: 3 });
    expect(vcIncrement(vc, 'a')).toEqual({ a: 4 });
    expect(vcIncrement(vc, 'toString')).toEqual({ toString: 1 });
    expect(vcGet(vc, 'hasOwnProperty')).toBe(0);
    expect(() => vcSet(vc, '__proto__', 1)).toThrow();
    expect(() => vcSet(vc, '', 1)).toThrow();
    expect(() => vcSet(vc, 'a', -1)).toThrow();
    expect(() => vcSet(vc, 'a', 1.5)).toThrow();
  });
});

type DotOp = { kind: 'add'; origin: string; counter: number } | { kind: 'merge'; from: number };

const dotOps = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('add' as const), origin: fc.constantFrom(...NODES), counter: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('merge' as const), from: fc.nat() }),
  ),
  { maxLength: 30 },
);

/** Runs the ops on a context, merging in earlier snapshots of it, beside a set model. */
function playContext(ops: readonly DotOp[]): { ctx: CausalContext; model: Set<string> } {
  const snapshots: { ctx: CausalContext; model: Set<string> }[] = [];
  let ctx = ccCreate();
  let model = new Set<string>();
  for (const op of ops) {
    if (op.kind === 'add') {
      ccAddDot(ctx, op.origin, op.counter);
      model.add(`${op.origin}:${op.counter}`);
    } else if (snapshots.length > 0) {
      const other = snapshots[op.from % snapshots.length]!;
      ccMergeInto(ctx, other.ctx);
      for (const dot of other.model) model.add(dot);
    }
    snapshots.push({ ctx: ccMergeInto(ccCreate(), ctx), model: new Set(model) });
    if (op.kind === 'merge' && op.from % 3 === 0) {
      // Now and then start over, so merges also bring in dots the context never had.
      ctx = ccCreate();
      model = new Set();
    }
  }
  return { ctx, model };
}

/** The compactness invariant: cloud arrays non-empty, strictly ascending, starting beyond prefix + 1. */
function expectCompact(ctx: CausalContext): void {
  for (const [origin, cloud] of Object.entries(ctx.cloud)) {
    expect(cloud.length).toBeGreaterThan(0);
    expect(cloud[0]).toBeGreaterThan(vcGet(ctx.vc, origin) + 1);
    for (let i = 1; i < cloud.length; i++) expect(cloud[i]).toBeGreaterThan(cloud[i - 1]!);
  }
}

describe('causal context', () => {
  it('holds exactly the dots added or merged in, compactly', () => {
    fc.assert(
      fc.property(dotOps, (ops) => {
        const { ctx, model } = playContext(ops);
        expectCompact(ctx);
        for (const origin of NODES) {
          const counters = [...model].filter((d) => d.startsWith(`${origin}:`)).map((d) => Number(d.slice(origin.length + 1)));
          expect(ccMax(ctx, origin)).toBe(Math.max(0, ...counters));
          for (let counter = 1; counter <= 9; counter++) {
            expect(ccHas(ctx, origin, counter)).toBe(model.has(`${origin}:${counter}`));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('equal dot sets have equal representations', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...NODES), fc.integer({ min: 1, max: 6 })), { maxLength: 12 }), (dots) => {
        const forward = ccCreate();
        const backward = ccCreate();
        for (const [origin, counter] of dots) ccAddDot(forward, origin, counter);
        for (const [origin, counter] of [...dots].reverse()) ccAddDot(backward, origin, counter);
        expect(backward).toEqual(forward);
      }),
      { numRuns: 300 },
    );
  });

  it('folds the cloud into the prefix once the gap fills', () => {
    const ctx = ccCreate();
    ccAddDot(ctx, 'a', 3);
    ccAddDot(ctx, 'a', 2);
    expect(ctx).toEqual({ vc: {}, cloud: { a: [2, 3] } });
    ccAddDot(ctx, 'a', 1);
    expect(ctx).toEqual({ vc: { a: 3 }, cloud: {} });
    expect(() => ccAddDot(ctx, 'a', 0)).toThrow();
  });
});
