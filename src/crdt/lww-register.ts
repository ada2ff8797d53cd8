import { assertTimestamp, compareStamp, HLC_ZERO } from './hlc.js';
import type { DeltaCrdt } from './types.js';
import { assertNodeId } from './vector-clock.js';

/**
 * Last-writer-wins register: the write with the greatest (ts, origin) stamp
 * wins (HLC timestamp, then origin id). A stamp names one write, so equal
 * stamps carry equal values; merge trusts that and keeps its target. Values
 * are treated as immutable: states may share them.
 */
export interface LwwRegister<V> {
  /** null until the first write (ts = HLC_ZERO). */
  value: V | null;
  /** HLC timestamp of the winning write (src/crdt/hlc.ts). */
  ts: number;
  /** Node id of the winning write; '' until the first write. */
  origin: string;
}

/** A register never written: loses to every write. */
export function lwwCreate<V>(): LwwRegister<V> {
  return { value: null, ts: HLC_ZERO, origin: '' };
}

/**
 * Writes value with stamp (ts, origin), ts from the origin's Hlc.now().
 * Returns the delta (the write itself). A write whose stamp is below the
 * current one (a peer's clock ran ahead) loses here as it will everywhere.
 */
export function lwwSet<V>(reg: LwwRegister<V>, value: V, ts: number, origin: string): LwwRegister<V> {
  assertTimestamp(ts);
  if (ts === HLC_ZERO) throw new Error('LWW: a write needs a timestamp above HLC_ZERO');
  assertNodeId(origin);
  const delta: LwwRegister<V> = { value, ts, origin };
  lwwMergeInto(reg, delta);
  return delta;
}

/** Keeps the write with the greater stamp in target; returns target. */
export function lwwMergeInto<V>(target: LwwRegister<V>, source: Readonly<LwwRegister<V>>): LwwRegister<V> {
  if (compareStamp(source.ts, source.origin, target.ts, target.origin) > 0) {
    target.value = source.value;
    target.ts = source.ts;
    target.origin = source.origin;
  }
  return target;
}

/** The register as a DeltaCrdt: a delta is a one-write register. */
export const lwwRegisterCrdt = {
  empty: lwwCreate,
  mergeInto: lwwMergeInto,
  applyDelta: lwwMergeInto,
} satisfies DeltaCrdt<LwwRegister<unknown>>;
