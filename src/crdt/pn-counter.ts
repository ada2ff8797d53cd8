import type { DeltaCrdt } from './types.js';
import { assertNodeId, ownValue, vcMergeInto } from './vector-clock.js';

/**
 * PN counter: per origin, the total of its increments (p) and of its
 * decrements (n), each only growing, so the join is the pointwise max of each
 * (the vector clock join) and the value is sum(p) - sum(n).
 *
 * Exactness: plain numbers. With integer amounts the value is exact while the
 * sum of all increments and the sum of all decrements each stay at or below
 * 2^53 - 1 (about 9.007e15); callers enforcing int64 ranges (INCRBY) check
 * value() themselves. Fractional amounts (INCRBYFLOAT) round, but identically
 * on every replica: each origin's totals are computed by that origin alone,
 * and value() sums origins in sorted id order, so converged replicas report
 * bit-identical floats.
 */
export interface PnCounter {
  p: Record<string, number>;
  n: Record<string, number>;
}

export function pnCreate(): PnCounter {
  return { p: {}, n: {} };
}

/**
 * Adds amount (negative to decrement) as origin's update; returns the delta:
 * origin's new total on the side it grew. Throws on a non-finite amount or a
 * total that overflows to infinity.
 */
export function pnIncrement(state: PnCounter, origin: string, amount: number): PnCounter {
  assertNodeId(origin);
  if (!Number.isFinite(amount)) throw new Error(`PN counter: amount must be finite, got ${amount}`);
  const side = amount < 0 ? 'n' : 'p';
  const total = (ownValue(state[side], origin) ?? 0) + Math.abs(amount);
  if (!Number.isFinite(total)) throw new Error('PN counter: total overflows');
  const delta = pnCreate();
  delta[side][origin] = total;
  pnMergeInto(state, delta);
  return delta;
}

/** sum(p) - sum(n), each summed in sorted origin order (see the header). */
export function pnValue(state: Readonly<PnCounter>): number {
  return sortedSum(state.p) - sortedSum(state.n);
}

function sortedSum(totals: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const origin of Object.keys(totals).sort()) sum += totals[origin]!;
  return sum;
}

/** Pointwise max of p and of n into target; returns target. */
export function pnMergeInto(target: PnCounter, source: Readonly<PnCounter>): PnCounter {
  vcMergeInto(target.p, source.p);
  vcMergeInto(target.n, source.n);
  return target;
}

/** The counter as a DeltaCrdt: a delta is a counter holding one origin's new total. */
export const pnCounterCrdt = {
  empty: pnCreate,
  mergeInto: pnMergeInto,
  applyDelta: pnMergeInto,
} satisfies DeltaCrdt<PnCounter>;
