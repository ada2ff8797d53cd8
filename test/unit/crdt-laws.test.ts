/**
 * The laws every CRDT in src/crdt/ must obey, checked on states that replicas
 * actually reach: several replicas run random operations, deliver random
 * deltas (late, reordered, duplicated) and merge whole states, and then
 *
 * - each mutator's delta, joined into the state before it, gives the state after it;
 * - merge is commutative, associative and idempotent, and never changes or aliases its inputs;
 * - applying all deltas in any order, with duplicates, equals merging the final states;
 * - the merged state agrees with a model of the type computed from the operations alone;
 * - states and deltas survive a msgpackr round trip.
 *
 * States are compared through a canonical form (sorted keys and entries), because
 * converged replicas may differ in object key and Map insertion order.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { compareStamp, Hlc, HLC_EPOCH_MS } from '../../src/crdt/hlc.js';
import { lwwRegisterCrdt, lwwSet, type LwwRegister } from '../../src/crdt/lww-register.js';
import { orSetAdd, orSetCrdt, orSetRemove, type OrSet, type OrSetDelta } from '../../src/crdt/or-set.js';
import { pnCounterCrdt, pnIncrement, pnValue, type PnCounter } from '../../src/crdt/pn-counter.js';
import { merge, type DeltaCrdt } from '../../src/crdt/types.js';
import {
  ccHas,
  vcGet,
  vcIncrement,
  vectorClockCrdt,
  type CausalContext,
  type Dot,
  type VectorClock,
} from '../../src/crdt/vector-clock.js';
import type { Clock } from '../../src/runtime/clock.js';

const NUM_RUNS = 400;
/** "constructor" checks that node ids are own properties, never Object.prototype's. */
const ORIGINS = ['alpha', 'constructor', 'zed'];

/** A wall clock the test moves by hand, backwards too. */
function fakeClock(startMs: number): Clock & { ms: number } {
  return { ms: startMs, nowMs() { return this.ms; }, nowUs() { return this.ms * 1000; }, monotonicMs() { return this.ms; } };
}

interface Replica {
  origin: string;
  clock: Clock & { ms: number };
  hlc: Hlc;
}

interface Subject<S, D, Op> {
  name: string;
  crdt: DeltaCrdt<S, D>;
  op: fc.Arbitrary<Op>;
  /** Runs op on the replica's state in place; returns the delta. */
  mutate(state: S, op: Op, replica: Replica): D;
  canonical(stateOrDelta: S | D): unknown;
  /** Checks the merge of everything against the operations done (ops[i] produced deltas[i]). */
  model(merged: S, ops: Done<Op>[], deltas: D[]): void;
}

interface Done<Op> {
  op: Op;
  origin: string;
}

type Step<Op> =
  | { kind: 'op'; replica: number; op: Op; clockStepMs: number }
  | { kind: 'deliver'; replica: number; pick: number }
  | { kind: 'sync'; from: number; to: number };

function stepsOf<Op>(op: fc.Arbitrary<Op>): fc.Arbitrary<Step<Op>[]> {
  const replica = fc.nat({ max: ORIGINS.length - 1 });
  const clockStepMs = fc.integer({ min: -20, max: 20 });
  const step: fc.Arbitrary<Step<Op>> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('op' as const), replica, op, clockStepMs }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), replica, pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: replica, to: replica }) },
  );
  return fc.array(step, { maxLength: 40 });
}

interface Run<S, D, Op> {
  states: S[];
  ops: Done<Op>[];
  deltas: D[];
}

/** Plays the steps on one replica per origin, checking every delta against the state change it made. */
function play<S, D, Op>(subject: Subject<S, D, Op>, steps: readonly Step<Op>[]): Run<S, D, Op> {
  const { crdt, canonical } = subject;
  const replicas: Replica[] = ORIGINS.map((origin) => {
    const clock = fakeClock(HLC_EPOCH_MS + 1_000_000);
    return { origin, clock, hlc: new Hlc(clock) };
  });
  const run: Run<S, D, Op> = { states: replicas.map(() => crdt.empty()), ops: [], deltas: [] };
  for (const step of steps) {
    if (step.kind === 'op') {
      const replica = replicas[step.replica]!;
      const state = run.states[step.replica]!;
      replica.clock.ms += step.clockStepMs;
      const before = crdt.mergeInto(crdt.empty(), state);
      const delta = subject.mutate(state, step.op, replica);
      expect(canonical(crdt.applyDelta(before, delta))).toEqual(canonical(state));
      run.ops.push({ op: step.op, origin: replica.origin });
      run.deltas.push(delta);
    } else if (step.kind === 'deliver') {
      if (run.deltas.length > 0) crdt.applyDelta(run.states[step.replica]!, run.deltas[step.pick % run.deltas.length]!);
    } else {
      crdt.mergeInto(run.states[step.to]!, run.states[step.from]!);
    }
  }
  return run;
}

function mergeAll<S, D>(crdt: DeltaCrdt<S, D>, states: readonly S[]): S {
  return states.reduce((acc, s) => crdt.mergeInto(acc, s), crdt.empty());
}

/** Indices 0..n-1 shuffled, then some repeated at random places. */
function interleaving(n: number, gen: fc.GeneratorValue): number[] {
  const order = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = gen(fc.integer, { min: 0, max: i });
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  if (n === 0) return order;
  const duplicates = gen(fc.array, fc.tuple(fc.nat({ max: n - 1 }), fc.nat()), { maxLength: n });
  for (const [index, at] of duplicates) order.splice(at % (order.length + 1), 0, index);
  return order;
}

function describeLaws<S, D, Op>(subject: Subject<S, D, Op>): void {
  const { crdt, canonical } = subject;
  const steps = stepsOf(subject.op);
  const runs = { numRuns: NUM_RUNS };

  describe(`${subject.name} laws`, () => {
    it('merge is commutative, associative and idempotent on reachable states', () => {
      fc.assert(
        fc.property(steps, (s) => {
          const [a, b, c] = play(subject, s).states as [S, S, S];
          expect(canonical(merge(crdt, a, b))).toEqual(canonical(merge(crdt, b, a)));
          expect(canonical(merge(crdt, merge(crdt, a, b), c))).toEqual(canonical(merge(crdt, a, merge(crdt, b, c))));
          expect(canonical(merge(crdt, a, a))).toEqual(canonical(a));
        }),
        runs,
      );
    });

    it('merge leaves its inputs alone and its result shares nothing mutable with them', () => {
      fc.assert(
        fc.property(steps, (s) => {
          const { states, deltas } = play(subject, s);
          const [a, b, c] = states as [S, S, S];
          const before = [canonical(a), canonical(b), deltas.map(canonical)];
          const merged = merge(crdt, a, b);
          crdt.mergeInto(merged, c);
          for (const delta of deltas) crdt.applyDelta(merged, delta);
          expect([canonical(a), canonical(b), deltas.map(canonical)]).toEqual(before);
        }),
        runs,
      );
    });

    it('any interleaving of the deltas, with duplicates, equals the merge of the final states', () => {
      fc.assert(
        fc.property(steps, fc.gen(), (s, gen) => {
          const { states, deltas } = play(subject, s);
          const replica = crdt.empty();
          for (const i of interleaving(deltas.length, gen)) crdt.applyDelta(replica, deltas[i]!);
          expect(canonical(replica)).toEqual(canonical(mergeAll(crdt, states)));
        }),
        runs,
      );
    });

    it('the merged state agrees with the model of the operations', () => {
      fc.assert(
        fc.property(steps, (s) => {
          const { states, ops, deltas } = play(subject, s);
          subject.model(mergeAll(crdt, states), ops, deltas);
        }),
        runs,
      );
    });

    it('states and deltas survive a msgpackr round trip (new Packr())', () => {
      const packr = new Packr();
      fc.assert(
        fc.property(steps, (s) => {
          const { states, deltas } = play(subject, s);
          for (const x of [...states, ...deltas]) expect(packr.unpack(packr.pack(x))).toEqual(x);
        }),
        { numRuns: 30 },
      );
    });
  });
}

function sortedEntries<T>(record: Readonly<Record<string, T>>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function canonicalContext(ctx: CausalContext): unknown {
  return { vc: sortedEntries(ctx.vc), cloud: sortedEntries(ctx.cloud) };
}

describeLaws<VectorClock, VectorClock, null>({
  name: 'vector clock',
  crdt: vectorClockCrdt,
  op: fc.constant(null),
  mutate: (state, _op, replica) => vcIncrement(state, replica.origin),
  canonical: sortedEntries,
  model(merged, ops) {
    for (const origin of ORIGINS) expect(vcGet(merged, origin)).toBe(ops.filter((o) => o.origin === origin).length);
  },
});

describeLaws<LwwRegister<number>, LwwRegister<number>, number>({
  name: 'LWW register',
  crdt: lwwRegisterCrdt,
  op: fc.integer({ min: 0, max: 5 }),
  mutate: (state, value, replica) => lwwSet(state, value, replica.hlc.now(), replica.origin),
  canonical: (reg) => ({ ...reg }),
  model(merged, _ops, deltas) {
    let winner = lwwRegisterCrdt.empty<number>();
    for (const d of deltas) {
      if (d.ts === winner.ts && d.origin === winner.origin) expect(d.value).toBe(winner.value);
      if (compareStamp(d.ts, d.origin, winner.ts, winner.origin) > 0) winner = d;
    }
    expect(merged).toEqual(winner);
  },
});

describeLaws<PnCounter, PnCounter, number>({
  name: 'PN counter',
  crdt: pnCounterCrdt,
  op: fc.integer({ min: -1000, max: 1000 }),
  mutate: (state, amount, replica) => pnIncrement(state, replica.origin, amount),
  canonical: (c) => ({ p: sortedEntries(c.p), n: sortedEntries(c.n) }),
  model(merged, ops) {
    expect(pnValue(merged)).toBe(ops.reduce((sum, o) => sum + o.op, 0));
  },
});

interface SetOp {
  add: boolean;
  element: string;
}

/** The dots of an add delta's element that no other delta superseded: the spec of what stays live. */
function liveAdds(ops: readonly Done<SetOp>[], deltas: readonly OrSetDelta[]): Map<string, Dot[]> {
  const live = new Map<string, Dot[]>();
  deltas.forEach((delta, i) => {
    const { add, element } = ops[i]!.op;
    if (!add) return;
    const dot = delta.entries.get(element)![0]!;
    if (deltas.some((other, j) => j !== i && ccHas(other.context, dot[0], dot[1]))) return;
    live.set(element, [...(live.get(element) ?? []), dot]);
  });
  return live;
}

function canonicalEntries(entries: ReadonlyMap<string, readonly Dot[]>): unknown {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([e, dots]) => [e, [...dots].sort()]);
}

function canonicalOrSet(s: OrSet | OrSetDelta): unknown {
  return { entries: canonicalEntries(s.entries), context: canonicalContext(s.context) };
}

describeLaws<OrSet, OrSetDelta, SetOp>({
  name: 'OR-set',
  crdt: orSetCrdt,
  // "__proto__" and "constructor" check that elements are Map keys, not object properties.
  op: fc.record({ add: fc.boolean(), element: fc.constantFrom('x', 'y', '__proto__', 'constructor') }),
  mutate: (state, op, replica) => (op.add ? orSetAdd(state, op.element, replica.origin) : orSetRemove(state, op.element)),
  canonical: canonicalOrSet,
  model(merged, ops, deltas) {
    expect(canonicalEntries(merged.entries)).toEqual(canonicalEntries(liveAdds(ops, deltas)));
  },
});
