import { counterValue } from '../crdt/counter-value.js';
import { ElementMeta, type KeyMeta } from '../crdt/key-meta.js';
import { compareVersion, copyRows, joinCountersInPlace, type CounterRow, type ElementState } from '../crdt/key-state.js';
import type { Entry } from '../store/entry.js';
import type { HashLimits, HashValue } from '../store/hash.js';
import type { SetValue } from '../store/set.js';
import type { StreamLimits } from '../store/stream.js';
import type { ZSetValue } from '../store/zset.js';
import { mixCounters, mixNumber, mixOrigin, mixString } from './merkle.js';

/**
 * Element-level CRDT for hashes and sets: every field or member carries the
 * same register a key has (version, counters for HINCRBY), so concurrent
 * writes to different fields both survive, a field write beats a concurrent
 * HDEL it did not see (the removal's version sorts right above what it saw),
 * and a set is add-wins. The container itself is versioned like any key.
 */

/**
 * Settings a merged value needs to stay encoded as Redis would
 * (hash-max-listpack-*, set-max-intset-entries, zset-max-listpack-*,
 * stream-node-max-*).
 */
export interface ContainerLimits {
  hash: HashLimits;
  intsetMax: number;
  zset: HashLimits;
  stream: StreamLimits;
}

/** What replication does to a hash or a set, whichever it is. */
interface Elements {
  metaOf(name: string): ElementMeta | undefined;
  setMeta(name: string, meta: ElementMeta): void;
  valueOf(name: string): string | null;
  write(name: string, value: string | null): void;
  remove(name: string): void;
  names(): string[];
  readonly size: number;
}

/** A hash, set, sorted set or list without elements (Redis never shows one). */
export function isEmptyCollection(e: Entry): boolean {
  if (e.type === 'list') return (e.value as { length: number }).length === 0;
  return isContainer(e) && (e.value as { size: number }).size === 0;
}

export function isContainer(e: Entry): boolean {
  return e.type === 'hash' || e.type === 'set' || e.type === 'zset';
}

export function elementsOf(e: Entry, limits: ContainerLimits): Elements {
  if (e.type === 'hash') return hashElements(e.value as HashValue, limits.hash);
  if (e.type === 'zset') return zsetElements(e.value as ZSetValue, limits.zset);
  return setElements(e.value as SetValue, limits.intsetMax);
}

/** Sorted-set members: the element value is the score as text (String/Number round-trip exactly). */
function zsetElements(z: ZSetValue, limits: HashLimits): Elements {
  return {
    metaOf: (name) => z.node(name)?.meta as ElementMeta | undefined,
    setMeta: (name, meta) => void (z.node(name)!.meta = meta),
    valueOf: (name) => {
      const score = z.score(name);
      return score === undefined ? null : String(score);
    },
    write: (name, value) => {
      const score = Number(value ?? '0');
      const node = z.node(name);
      if (node !== undefined) return z.setScore(node, score);
      if (z.encoding === 'listpack' && (z.size + 1 > limits.maxEntries || name.length > limits.maxValue)) z.toSkiplist();
      z.insert(name, score);
    },
    remove: (name) => void z.remove(name),
    names: () => Array.from(z, (n) => n.key),
    get size() {
      return z.size;
    },
  };
}

function hashElements(h: HashValue, limits: HashLimits): Elements {
  return {
    metaOf: (name) => h.field(name)?.meta as ElementMeta | undefined,
    setMeta: (name, meta) => void (h.field(name)!.meta = meta),
    valueOf: (name) => h.get(name) ?? null,
    write: (name, value) => void h.set(name, value ?? '', limits),
    remove: (name) => void h.delete(name),
    names: () => h.toArray().map((f) => f.key),
    get size() {
      return h.size;
    },
  };
}

function setElements(s: SetValue, intsetMax: number): Elements {
  return {
    metaOf: (name) => s.member(name)?.meta as ElementMeta | undefined,
    setMeta: (name, meta) => void (s.member(name)!.meta = meta),
    valueOf: () => null,
    write: (name) => void s.add(name, intsetMax),
    remove: (name) => void s.remove(name),
    names: () => s.members(),
    get size() {
      return s.size;
    },
  };
}

/** Digest of one element's state. Never 0. */
export function elementDigest(name: string, m: ElementMeta): number {
  let h = mixString(0x61c88647, name);
  h = mixNumber(h, m.ts);
  h = mixOrigin(h, m.origin);
  h = mixNumber(h, m.gen);
  if (m.counters !== null) h = mixCounters(h, m.counters);
  return h === 0 ? 1 : h;
}

/** Replaces an element's contribution to its container's digest. */
function redigestElement(container: KeyMeta, name: string, m: ElementMeta, oldDigest: number): void {
  m.digest = elementDigest(name, m);
  container.elementsDigest ^= oldDigest ^ m.digest;
}

/** A new version of element `name` written by this node. */
export function stampElement(container: KeyMeta, els: Elements, name: string, ts: number, self: string): void {
  const old = els.metaOf(name) ?? container.elementTombs?.get(name);
  container.elementTombs?.delete(name);
  const m = new ElementMeta(ts, self, 0);
  redigestElement(container, name, m, old?.digest ?? 0);
  els.setMeta(name, m);
}

/** The floor a new stamp of `name` must exceed. */
export function elementFloor(container: KeyMeta, els: Elements, name: string): number {
  return Math.max(els.metaOf(name)?.ts ?? 0, container.elementTombs?.get(name)?.ts ?? 0);
}

/** Element `name` was removed by this node: its removal sorts right above the version it saw. */
export function removeElement(container: KeyMeta, name: string, seen: ElementMeta | undefined, nowHlc: number): void {
  const tomb = seen === undefined ? new ElementMeta(0, '', 1) : new ElementMeta(seen.ts, seen.origin, seen.gen + 1);
  tomb.heldSince = nowHlc;
  tomb.removedAt = nowHlc;
  const tombs = (container.elementTombs ??= new Map());
  const prior = tombs.get(name);
  tombs.set(name, tomb);
  redigestElement(container, name, tomb, (seen ?? prior)?.digest ?? 0);
}

/**
 * HINCRBY/HINCRBYFLOAT on field `name`: adds to this node's counter row on
 * the field's version (the revival of its removal, or the bottom version,
 * when the field is new, so concurrent increments of a new field add up).
 * Returns the value all replicas compute.
 */
export function incrementElement(
  container: KeyMeta,
  els: Elements,
  name: string,
  previous: string | undefined,
  addRow: (rows: CounterRow[]) => CounterRow[],
): string {
  let m = els.metaOf(name);
  const oldDigest = m?.digest ?? container.elementTombs?.get(name)?.digest ?? 0;
  if (m === undefined) {
    const tomb = container.elementTombs?.get(name);
    m = tomb === undefined ? new ElementMeta(0, '', 0) : new ElementMeta(tomb.ts, tomb.origin, tomb.gen + 1);
    container.elementTombs?.delete(name);
    els.setMeta(name, m);
  }
  if (m.counters === null) {
    m.counters = [];
    m.base = previous ?? '0';
  }
  m.counters = addRow(m.counters);
  redigestElement(container, name, m, oldDigest);
  return counterValue(m.base, m.counters);
}

/** Every element's state (live and removed), for a replica. */
export function elementStates(container: KeyMeta, els: Elements): ElementState[] {
  const out: ElementState[] = [];
  for (const name of els.names()) {
    const m = els.metaOf(name);
    if (m === undefined) continue;
    out.push([name, m.ts, m.origin, m.gen, m.counters !== null ? m.base : els.valueOf(name), m.counters !== null ? copyRows(m.counters) : null]);
  }
  // A removal carries its HLC (as text) where a live element has its value.
  if (container.elementTombs !== null) for (const [name, t] of container.elementTombs) out.push([name, t.ts, t.origin, t.gen, String(t.removedAt), null]);
  return out;
}

/**
 * Merges a replica's element states into this container (same container
 * version): per element the larger version wins, equal versions join their
 * counters. Returns whether anything changed.
 */
export function mergeElements(container: KeyMeta, els: Elements, remote: readonly ElementState[], nowHlc: number, collectedBefore: number): boolean {
  let changed = false;
  for (const r of remote) changed = mergeElement(container, els, r, nowHlc, collectedBefore) || changed;
  return changed;
}

function mergeElement(container: KeyMeta, els: Elements, r: ElementState, nowHlc: number, collectedBefore: number): boolean {
  const [name, ts, origin, gen] = r;
  const live = els.metaOf(name);
  const local = live ?? container.elementTombs?.get(name);
  // A removal this node already collected comes back from a peer that has not: taking it again would bounce it forever.
  if (local === undefined && (gen & 1) === 1 && Number(r[4] ?? 0) < collectedBefore) return false;
  const order = local === undefined ? 1 : compareVersion(ts, origin, gen, local.ts, local.origin, local.gen);
  if (order < 0) return false;
  if (order === 0) return (gen & 1) === 0 && live !== undefined ? joinCounters(container, els, name, live, r[5]) : false;
  if ((gen & 1) === 1) {
    if (live !== undefined) els.remove(name);
    const tomb = new ElementMeta(ts, origin, gen);
    tomb.heldSince = nowHlc;
    tomb.removedAt = Number(r[4] ?? 0);
    (container.elementTombs ??= new Map()).set(name, tomb);
    redigestElement(container, name, tomb, local?.digest ?? 0);
    return true;
  }
  const m = new ElementMeta(ts, origin, gen);
  if (r[5] !== null && r[5].length > 0) {
    m.counters = r[5];
    m.base = r[4] ?? '0';
  }
  els.write(name, m.counters !== null ? counterValue(m.base, m.counters) : r[4]);
  container.elementTombs?.delete(name);
  els.setMeta(name, m);
  redigestElement(container, name, m, local?.digest ?? 0);
  return true;
}

function joinCounters(container: KeyMeta, els: Elements, name: string, m: ElementMeta, remote: CounterRow[] | null): boolean {
  const merged = joinCountersInPlace(m.counters, remote);
  if (merged === null) return false;
  if (m.counters === null) m.base = els.valueOf(name) ?? '0';
  const old = m.digest;
  m.counters = merged;
  els.write(name, counterValue(m.base, merged));
  els.setMeta(name, m);
  redigestElement(container, name, m, old);
  return true;
}

/** Installs a replica's element states into a fresh container (a newer container version replaced ours). */
export function loadElements(container: KeyMeta, els: Elements, remote: readonly ElementState[], nowHlc: number): void {
  container.elementTombs = null;
  container.elementsDigest = 0;
  for (const r of remote) mergeElement(container, els, r, nowHlc, 0);
}

/** Drops element tombstones held since before `horizon` (every peer holds them or newer). */
export function collectElementTombs(container: KeyMeta, horizon: number): void {
  const tombs = container.elementTombs;
  if (tombs === null) return;
  for (const [name, t] of tombs) {
    if (t.heldSince >= horizon) continue;
    tombs.delete(name);
    container.elementsDigest ^= t.digest;
  }
  if (tombs.size === 0) container.elementTombs = null;
}

/** The container's element digest recomputed from scratch (checkers compare it with the kept one). */
export function recomputeElementsDigest(container: KeyMeta, els: Elements): number {
  let d = 0;
  for (const name of els.names()) {
    const m = els.metaOf(name);
    if (m !== undefined) d ^= elementDigest(name, m);
  }
  if (container.elementTombs !== null) for (const [name, t] of container.elementTombs) d ^= elementDigest(name, t);
  return d;
}
