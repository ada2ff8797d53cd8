import type { DeltaCrdt } from './types.js';
import { ccAddDot, ccCreate, ccHas, ccMax, ccMergeInto, type CausalContext, type Dot } from './vector-clock.js';

/**
 * Add-wins observed-remove set of strings without tombstones (the "optimized
 * OR-set", ORSWOT; as the AWORSet of the delta-CRDT paper). Each add creates
 * a unique dot (origin, counter); an element is present while it has a live
 * dot. The causal context records every dot the replica has seen, so a dot
 * that is in the context but not live was removed: nothing else is kept for
 * removed elements. A remove kills only the dots it observed, so an add it did
 * not see survives (add wins).
 *
 * Encoding: entries is a Map because elements are user data (a plain object
 * cannot hold "__proto__", and msgpackr renames it on decode). msgpackr
 * writes a Map as a msgpack map; decode with a Packr whose mapsAsObjects is
 * off (the default of `new Packr()`), which returns a Map.
 */
export interface OrSet {
  /** element -> its live dots, sorted by (origin, counter); never empty. */
  entries: Map<string, Dot[]>;
  /** Every dot this replica has seen; contains every live dot. */
  context: CausalContext;
}

/**
 * A mutator's delta: the elements it touched, each with its live dots after
 * the operation ([] when a remove left none), and the dots it saw. Every dot
 * in its context belongs to one of its elements, which is what lets
 * orSetApplyDelta visit only those elements. A whole OrSet is not a valid
 * OrSetDelta (its context covers removed elements): join states with
 * orSetMergeInto.
 */
export interface OrSetDelta {
  entries: Map<string, Dot[]>;
  context: CausalContext;
}

const NO_DOTS: readonly Dot[] = [];

export function orSetCreate(): OrSet {
  return { entries: new Map(), context: ccCreate() };
}

export function orSetHas(state: Readonly<OrSet>, element: string): boolean {
  return state.entries.has(element);
}

/** The elements in JS string order (UTF-16 code units; byte order for latin1), the same on every replica. */
export function orSetElements(state: Readonly<OrSet>): string[] {
  return [...state.entries.keys()].sort();
}

/** Adds element as a new event of origin; the new dot replaces the element's dots seen here. Returns the delta. */
export function orSetAdd(state: OrSet, element: string, origin: string): OrSetDelta {
  const dot: Dot = [origin, ccMax(state.context, origin) + 1];
  const delta = observedDelta(state, element);
  delta.entries.set(element, [dot]);
  ccAddDot(delta.context, dot[0], dot[1]);
  orSetApplyDelta(state, delta);
  return delta;
}

/** Removes element's dots seen here (a concurrent add elsewhere survives). Returns the delta (empty if absent). */
export function orSetRemove(state: OrSet, element: string): OrSetDelta {
  if (!state.entries.has(element)) return { entries: new Map(), context: ccCreate() };
  const delta = observedDelta(state, element);
  delta.entries.set(element, []);
  orSetApplyDelta(state, delta);
  return delta;
}

/** A delta whose context holds the element's live dots here: what an add or remove supersedes. */
function observedDelta(state: Readonly<OrSet>, element: string): OrSetDelta {
  const context = ccCreate();
  for (const [origin, counter] of state.entries.get(element) ?? NO_DOTS) ccAddDot(context, origin, counter);
  return { entries: new Map(), context };
}

/** Joins a mutator's delta into state in place, visiting only the delta's elements; returns state. */
export function orSetApplyDelta(state: OrSet, delta: Readonly<OrSetDelta>): OrSet {
  for (const [element, theirs] of delta.entries) {
    setDots(state, element, joinDots(state.entries.get(element) ?? NO_DOTS, state.context, theirs, delta.context));
  }
  ccMergeInto(state.context, delta.context);
  return state;
}

/** Joins a whole state into target in place (anti-entropy); returns target. */
export function orSetMergeInto(target: OrSet, source: Readonly<OrSet>): OrSet {
  for (const [element, mine] of target.entries) {
    if (!source.entries.has(element)) setDots(target, element, joinDots(mine, target.context, NO_DOTS, source.context));
  }
  return orSetApplyDelta(target, source);
}

function setDots(state: OrSet, element: string, dots: Dot[]): void {
  if (dots.length === 0) state.entries.delete(element);
  else state.entries.set(element, dots);
}

/**
 * One element's join: a dot survives if both sides have it, or if one side
 * has it and the other has not seen it (seen but not live means removed).
 * Relies on each side's context containing its own live dots.
 */
export function joinDots(
  mine: readonly Dot[],
  myContext: Readonly<CausalContext>,
  theirs: readonly Dot[],
  theirContext: Readonly<CausalContext>,
): Dot[] {
  const kept: Dot[] = [];
  for (const dot of mine) if (hasDot(theirs, dot) || !ccHas(theirContext, dot[0], dot[1])) kept.push(dot);
  for (const dot of theirs) if (!ccHas(myContext, dot[0], dot[1])) kept.push(dot);
  if (kept.length > 1) kept.sort(compareDots);
  return kept;
}

function hasDot(dots: readonly Dot[], dot: Dot): boolean {
  for (const d of dots) if (d[0] === dot[0] && d[1] === dot[1]) return true;
  return false;
}

function compareDots(a: Dot, b: Dot): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}

/** The set as a DeltaCrdt. */
export const orSetCrdt = {
  empty: orSetCreate,
  mergeInto: orSetMergeInto,
  applyDelta: orSetApplyDelta,
} satisfies DeltaCrdt<OrSet, OrSetDelta>;
