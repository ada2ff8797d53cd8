/**
 * The one interface every CRDT in src/crdt/ implements: a delta-state CRDT
 * (Almeida, Shoker, Baquero, "Delta State Replicated Data Types", 2018).
 *
 * States are plain data (objects, arrays, Maps, numbers, strings) so that
 * msgpackr can carry them between nodes; the operations are free functions in
 * each module. A mutator changes a replica's state in place and returns the
 * delta it produced: a small state that, joined into any replica, has the
 * mutation's effect. Joins are commutative, associative and idempotent, so
 * deltas may arrive in any order, more than once, and still converge.
 */
export interface DeltaCrdt<State, Delta = State> {
  /** The bottom state: what a replica holds before any update. */
  empty(): State;
  /**
   * Joins a whole state into `target` in place and returns `target`. `source`
   * is not modified and `target` keeps no reference to its mutable parts.
   */
  mergeInto(target: State, source: Readonly<State>): State;
  /**
   * Joins a delta produced by a mutator into `state` in place and returns
   * `state`, with the same ownership rules as mergeInto. Where Delta = State
   * this is mergeInto; a type whose deltas are narrower (the OR-set) applies
   * them in time proportional to the delta, not to the state.
   */
  applyDelta(state: State, delta: Readonly<Delta>): State;
}

/** The join of two states as a new state: neither input is modified. */
export function merge<State, Delta>(crdt: DeltaCrdt<State, Delta>, a: Readonly<State>, b: Readonly<State>): State {
  return crdt.mergeInto(crdt.mergeInto(crdt.empty(), a), b);
}
