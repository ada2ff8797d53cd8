/**
 * The OR-set's own semantics (src/crdt/or-set.ts); the lattice laws are in
 * crdt-laws.test.ts. Add wins over a remove that did not see it; a remove
 * that saw every add stays removed; elements are user data, "__proto__" too.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  orSetAdd,
  orSetApplyDelta,
  orSetCreate,
  orSetElements,
  orSetHas,
  orSetMergeInto,
  orSetRemove,
  type OrSet,
  type OrSetDelta,
} from '../../src/crdt/or-set.js';
import type { Dot } from '../../src/crdt/vector-clock.js';

const ELEMENTS = ['x', 'y', '__proto__'];

interface SetOp {
  replica: number;
  add: boolean;
  element: string;
  /** Replica to merge this one's whole state into afterwards, if any. */
  syncTo: number | null;
}

const history = fc.array(
  fc.record({
    replica: fc.nat({ max: 1 }),
    add: fc.boolean(),
    element: fc.constantFrom(...ELEMENTS),
    syncTo: fc.option(fc.nat({ max: 1 })),
  }),
  { maxLength: 20 },
);

/** Two replicas ("a", "b") after a random shared history; returns them and every delta produced. */
function replicasAfter(ops: readonly SetOp[]): { sets: [OrSet, OrSet]; deltas: OrSetDelta[] } {
  const sets: [OrSet, OrSet] = [orSetCreate(), orSetCreate()];
  const deltas: OrSetDelta[] = [];
  for (const op of ops) {
    const set = sets[op.replica]!;
    deltas.push(op.add ? orSetAdd(set, op.element, op.replica === 0 ? 'a' : 'b') : orSetRemove(set, op.element));
    if (op.syncTo !== null) orSetMergeInto(sets[op.syncTo]!, set);
  }
  return { sets, deltas };
}

describe('OR-set', () => {
  it('add wins over a concurrent remove, whichever delta arrives first', () => {
    fc.assert(
      fc.property(history, fc.constantFrom(...ELEMENTS), fc.boolean(), (ops, element, addFirst) => {
        const { sets } = replicasAfter(ops);
        const [a, b] = sets;
        const add = orSetAdd(a, element, 'a');
        const remove = orSetRemove(b, element);
        for (const set of sets) {
          for (const delta of addFirst ? [add, remove] : [remove, add]) orSetApplyDelta(set, delta);
          expect(orSetHas(set, element)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a remove that saw every add keeps the element out, even when old adds arrive again', () => {
    fc.assert(
      fc.property(history, fc.constantFrom(...ELEMENTS), (ops, element) => {
        const { sets, deltas } = replicasAfter(ops);
        const [a, b] = sets;
        orSetMergeInto(a, b); // a has now seen every add
        const remove = orSetRemove(a, element);
        orSetApplyDelta(b, remove);
        for (const delta of deltas) orSetApplyDelta(b, delta);
        orSetMergeInto(a, b);
        for (const set of sets) expect(orSetHas(set, element)).toBe(false);
        expect(orSetElements(a)).toEqual(orSetElements(b));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every element\'s dots sorted, so converged replicas encode alike', () => {
    const sorted = (dots: readonly Dot[]): boolean =>
      dots.every((d, i) => i === 0 || dots[i - 1]![0] < d[0] || (dots[i - 1]![0] === d[0] && dots[i - 1]![1] < d[1]));
    fc.assert(
      fc.property(history, (ops) => {
        for (const set of replicasAfter(ops).sets) for (const dots of set.entries.values()) expect(sorted(dots)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('once every delta is in, each element holds at most one dot per origin', () => {
    fc.assert(
      fc.property(history, (ops) => {
        const { sets, deltas } = replicasAfter(ops);
        const all = orSetMergeInto(orSetMergeInto(orSetCreate(), sets[0]), sets[1]);
        for (const delta of deltas) orSetApplyDelta(all, delta);
        for (const dots of all.entries.values()) expect(new Set(dots.map(([origin]) => origin)).size).toBe(dots.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a re-add the other replica missed the remove of keeps both dots until the remove arrives', () => {
    const a = orSetCreate();
    const b = orSetCreate();
    const first = orSetAdd(a, 'x', 'a');
    const remove = orSetRemove(a, 'x');
    const again = orSetAdd(a, 'x', 'a');
    orSetApplyDelta(b, first);
    orSetApplyDelta(b, again);
    expect(b.entries.get('x')).toEqual([
      ['a', 1],
      ['a', 2],
    ]);
    orSetApplyDelta(b, remove);
    expect(b.entries.get('x')).toEqual([['a', 2]]);
    expect(b).toEqual(a);
  });

  it('removing an absent element is an empty delta and changes nothing', () => {
    const set = orSetCreate();
    orSetAdd(set, 'x', 'a');
    const before = structuredClone(set);
    const delta = orSetRemove(set, 'y');
    expect(delta.entries.size).toBe(0);
    expect(delta.context).toEqual({ vc: {}, cloud: {} });
    expect(set).toEqual(before);
  });

  it('lists elements sorted and keeps "__proto__" through msgpackr', () => {
    const set = orSetCreate();
    for (const element of ['b', '__proto__', 'a', 'constructor']) orSetAdd(set, element, 'n1');
    expect(orSetElements(set)).toEqual(['__proto__', 'a', 'b', 'constructor']);
    const packr = new Packr();
    const decoded = packr.unpack(packr.pack(set)) as OrSet;
    expect(orSetElements(decoded)).toEqual(orSetElements(set));
    expect(orSetHas(decoded, '__proto__')).toBe(true);
  });

  it('refuses an invalid origin', () => {
    expect(() => orSetAdd(orSetCreate(), 'x', '__proto__')).toThrow();
    expect(() => orSetAdd(orSetCreate(), 'x', '')).toThrow();
  });
});
