import type { DeltaCrdt } from './types.js';

/**
 * Vector clocks and causal contexts over string node ids.
 *
 * Representation: a plain object, node id -> counter. msgpackr encodes it as a
 * map (or a record) and decodes a plain object again, and pino logs it
 * readably (a Map would log as {}). Node ids are ours, not user data, and are
 * checked: "__proto__" is refused (assigning it sets the prototype, and
 * msgpackr renames it on decode). Reads go through own-property lookups, so a
 * node named "constructor" is not confused with Object.prototype. Zero
 * counters are never stored: equal clocks have equal key sets (key order may
 * differ; hash a sorted form if bytes must match).
 */
export type VectorClock = Record<string, number>;

export type VcOrder = 'before' | 'after' | 'equal' | 'concurrent';

/** One event of one node: its origin id and its counter there (1, 2, ...). Immutable, so states may share it. */
export type Dot = readonly [origin: string, counter: number];

/** Throws unless node is usable as a key of a VectorClock. */
export function assertNodeId(node: string): void {
  if (typeof node !== 'string' || node.length === 0 || node === '__proto__') {
    throw new Error(`CRDT: invalid node id ${JSON.stringify(node)}`);
  }
}

function assertCounter(counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new Error(`CRDT: invalid counter ${counter}`);
}

/** record[key] if it is an own property (never something inherited from Object.prototype). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export function vcCreate(): VectorClock {
  return {};
}

/** How many of node's events the clock has seen (0 if none). */
export function vcGet(vc: Readonly<VectorClock>, node: string): number {
  return ownValue(vc, node) ?? 0;
}

/** Raises node's counter to `counter`; a lower or equal value is a no-op (clocks only grow). */
export function vcSet(vc: VectorClock, node: string, counter: number): void {
  assertNodeId(node);
  assertCounter(counter);
  if (counter > vcGet(vc, node)) vc[node] = counter;
}

/** Counts one more event of node; returns the delta ({node: new counter}). */
export function vcIncrement(vc: VectorClock, node: string): VectorClock {
  const counter = vcGet(vc, node) + 1;
  vcSet(vc, node, counter);
  return { [node]: counter };
}

/**
 * Pointwise max of source into target, in place; returns target. Also the join
 * of any per-node grow-only totals (the PN counter's P and N).
 */
export function vcMergeInto(target: VectorClock, source: Readonly<VectorClock>): VectorClock {
  for (const node in source) {
    const counter = source[node]!;
    if (counter > vcGet(target, node)) {
      assertNodeId(node);
      target[node] = counter;
    }
  }
  return target;
}

/** Pointwise max as a new clock. */
export function vcMerge(a: Readonly<VectorClock>, b: Readonly<VectorClock>): VectorClock {
  return vcMergeInto(vcMergeInto({}, a), b);
}

/** True if a has seen some event of some node that b has not. */
function hasUnseenBy(a: Readonly<VectorClock>, b: Readonly<VectorClock>): boolean {
  for (const node in a) if (a[node]! > vcGet(b, node)) return true;
  return false;
}

/** Causal order of two clocks: 'before' means a happened before b. */
export function vcCompare(a: Readonly<VectorClock>, b: Readonly<VectorClock>): VcOrder {
  const aAhead = hasUnseenBy(a, b);
  const bAhead = hasUnseenBy(b, a);
  if (aAhead) return bAhead ? 'concurrent' : 'after';
  return bAhead ? 'before' : 'equal';
}

/** True if a has seen everything b has (a >= b pointwise; equal clocks dominate each other). */
export function vcDominates(a: Readonly<VectorClock>, b: Readonly<VectorClock>): boolean {
  return !hasUnseenBy(b, a);
}

/**
 * Pointwise min of several clocks: what every one of them has seen. Over all
 * peers' clocks this is the causally stable prefix (safe to collect tombstones
 * below it). At least one clock is required (the min of none is undefined).
 */
export function vcMin(clocks: readonly Readonly<VectorClock>[]): VectorClock {
  if (clocks.length === 0) throw new Error('CRDT: vcMin of no clocks');
  const min = vcMerge({}, clocks[0]!);
  for (let i = 1; i < clocks.length; i++) {
    for (const node in min) {
      const counter = Math.min(min[node]!, vcGet(clocks[i]!, node));
      if (counter === 0) delete min[node];
      else min[node] = counter;
    }
  }
  return min;
}

/** Vector clocks are themselves a delta CRDT (the join is pointwise max); vcIncrement is its mutator. */
export const vectorClockCrdt = {
  empty: vcCreate,
  mergeInto: vcMergeInto,
  applyDelta: vcMergeInto,
} satisfies DeltaCrdt<VectorClock>;

/**
 * A causal context: the set of dots a replica (or a delta) has seen, kept
 * compact as a vector clock prefix plus the dots beyond it. A replica that
 * receives deltas in order keeps an empty cloud; deltas out of order, and
 * deltas themselves (which see only a few dots), fill it.
 *
 * Invariants: for each origin, every counter 1..vc[origin] is in the set; the
 * cloud's arrays are non-empty, strictly ascending and start above
 * vc[origin] + 1 (otherwise they would have been folded into the prefix).
 */
export interface CausalContext {
  vc: VectorClock;
  cloud: Record<string, number[]>;
}

export function ccCreate(): CausalContext {
  return { vc: {}, cloud: {} };
}

/** True if the context contains the dot (origin, counter). */
export function ccHas(ctx: Readonly<CausalContext>, origin: string, counter: number): boolean {
  if (counter <= vcGet(ctx.vc, origin)) return true;
  const cloud = ownValue(ctx.cloud, origin);
  return cloud !== undefined && cloud[indexAtOrAbove(cloud, counter)] === counter;
}

/** The highest counter of origin in the context (0 if none): origin's next dot is this + 1. */
export function ccMax(ctx: Readonly<CausalContext>, origin: string): number {
  const cloud = ownValue(ctx.cloud, origin);
  return cloud === undefined ? vcGet(ctx.vc, origin) : cloud[cloud.length - 1]!;
}

/** Adds the dot (origin, counter) to the context in place, keeping it compact. */
export function ccAddDot(ctx: CausalContext, origin: string, counter: number): void {
  assertNodeId(origin);
  if (!Number.isSafeInteger(counter) || counter < 1) throw new Error(`CRDT: invalid dot counter ${counter}`);
  if (counter <= vcGet(ctx.vc, origin)) return;
  let cloud = ownValue(ctx.cloud, origin);
  if (cloud === undefined) cloud = ctx.cloud[origin] = [];
  const at = indexAtOrAbove(cloud, counter);
  if (cloud[at] !== counter) cloud.splice(at, 0, counter);
  compactOrigin(ctx, origin);
}

/** The union of two contexts into target, in place; returns target. */
export function ccMergeInto(target: CausalContext, source: Readonly<CausalContext>): CausalContext {
  vcMergeInto(target.vc, source.vc);
  for (const origin in target.cloud) compactOrigin(target, origin);
  for (const origin in source.cloud) for (const counter of source.cloud[origin]!) ccAddDot(target, origin, counter);
  return target;
}

/** Folds origin's cloud into its prefix where it has become contiguous, and drops what the prefix covers. */
function compactOrigin(ctx: CausalContext, origin: string): void {
  const cloud = ctx.cloud[origin]!;
  let prefix = vcGet(ctx.vc, origin);
  let used = 0;
  while (used < cloud.length && cloud[used]! <= prefix + 1) prefix = Math.max(prefix, cloud[used++]!);
  if (prefix > 0) ctx.vc[origin] = prefix;
  if (used === cloud.length) delete ctx.cloud[origin];
  else if (used > 0) cloud.splice(0, used);
}

/** Index of the first element >= value in an ascending array (its length if none). */
function indexAtOrAbove(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
