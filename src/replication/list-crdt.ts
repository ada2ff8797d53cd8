import { Deque } from '../crdt/deque.js';
import { compareVersion } from '../crdt/key-state.js';
import type { KeyMeta } from '../crdt/key-meta.js';
import type { Entry } from '../store/entry.js';
import { QuickList } from '../store/list.js';
import { mixNumber, mixOrigin, mixString } from './merkle.js';
import { isUint } from './messages.js';

/**
 * Lists as a sequence CRDT. Every element has a unique id (the HLC stamp and
 * node of its push) and a position number; the list is the elements sorted
 * by (position, id). LPUSH takes positions below the first element, RPUSH
 * above the last, LINSERT between its neighbours, so concurrent pushes on
 * two nodes are all kept, in one order every replica agrees on. A pop (or
 * LREM, LTRIM) removes exactly the elements it saw, by id; LSET rewrites an
 * element's value (last writer wins by its own stamp).
 *
 * The local QuickList always holds the live elements in that sorted order;
 * the metadata sits beside it in a Deque (O(1) at both ends, like a queue).
 */

export class ListElem {
  digest = 0;
  /** HLC of the removal (0 while live); a removed element is kept until every peer has it. */
  removedAt = 0;
  heldSince = 0;

  constructor(
    readonly ts: number,
    readonly origin: string,
    readonly pos: number,
    public value: string,
    /** Stamp of the value (the push, or the last LSET). */
    public vts: number,
    public vorigin: string,
  ) {}
}

/** [ts, origin, pos, value, vts, vorigin, removedAt] */
export type ListElemState = [number, string, number, string, number, string, number];

export interface ListMeta {
  live: Deque<ListElem>;
  removed: Map<string, ListElem>;
}

export function idOf(ts: number, origin: string): string {
  return `${ts}:${origin}`;
}

function order(a: ListElem, b: ListElem): number {
  if (a.pos !== b.pos) return a.pos < b.pos ? -1 : 1;
  return compareVersion(a.ts, a.origin, 0, b.ts, b.origin, 0);
}

export function elemDigest(el: ListElem): number {
  let h = mixNumber(0x3c6ef372, el.ts);
  h = mixOrigin(h, el.origin);
  h = mixNumber(h, el.pos);
  h = mixString(h, el.removedAt === 0 ? el.value : '');
  h = mixNumber(h, el.removedAt === 0 ? el.vts : -1);
  h = mixOrigin(h, el.removedAt === 0 ? el.vorigin : '');
  return h === 0 ? 1 : h;
}

/** Replaces el's contribution to the container digest. */
export function redigestElem(meta: KeyMeta, el: ListElem): void {
  const old = el.digest;
  el.digest = elemDigest(el);
  meta.elementsDigest ^= old ^ el.digest;
}

function forget(meta: KeyMeta, el: ListElem): void {
  meta.elementsDigest ^= el.digest;
  el.digest = 0;
}

export function listMetaOf(meta: KeyMeta): ListMeta {
  return (meta.list ??= { live: new Deque(), removed: new Map() });
}

/** Marks el removed (by this node or a peer) and keeps it as a tombstone. */
export function markRemoved(meta: KeyMeta, lm: ListMeta, el: ListElem, removedAt: number, nowHlc: number): void {
  el.removedAt = removedAt;
  el.heldSince = nowHlc;
  lm.removed.set(idOf(el.ts, el.origin), el);
  redigestElem(meta, el);
}

/** A new element with a fresh id at `pos`. */
export function newElem(meta: KeyMeta, value: string, pos: number, ts: number, self: string): ListElem {
  const el = new ListElem(ts, self, pos, value, ts, self);
  redigestElem(meta, el);
  return el;
}

export function elemStates(lm: ListMeta): ListElemState[] {
  const out: ListElemState[] = [];
  for (let i = 0; i < lm.live.size; i++) out.push(stateOfElem(lm.live.get(i)));
  for (const el of lm.removed.values()) out.push(stateOfElem(el));
  return out;
}

function stateOfElem(el: ListElem): ListElemState {
  return [el.ts, el.origin, el.pos, el.removedAt === 0 ? el.value : '', el.vts, el.vorigin, el.removedAt];
}

export function isListElemState(x: unknown): boolean {
  if (!Array.isArray(x) || x.length !== 7) return false;
  const [ts, origin, pos, value, vts, vorigin, removedAt] = x as unknown[];
  return isUint(ts) && typeof origin === 'string' && typeof pos === 'number' && Number.isFinite(pos) && typeof value === 'string' && isUint(vts) && typeof vorigin === 'string' && isUint(removedAt);
}

/** Index of the first live element not before el (binary search on the sorted deque). */
function lowerBound(live: Deque<ListElem>, el: ListElem): number {
  let lo = 0;
  let hi = live.size;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order(live.get(mid), el) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Merges a replica's element states into this list (same container
 * version): new elements are inserted in sorted place, removals remove by
 * id, values join by their stamps. Returns whether anything changed.
 * Removals older than `collectedBefore` for ids this node never held are
 * ignored (this node already collected them).
 */
export function mergeListElems(meta: KeyMeta, e: Entry, remote: readonly ListElemState[], nowHlc: number, collectedBefore: number): boolean {
  const lm = listMetaOf(meta);
  const list = e.value as QuickList;
  // Live elements by id; their index is found by binary search when needed (positions sort the deque).
  const byId = new Map<string, ListElem>();
  for (let i = 0; i < lm.live.size; i++) byId.set(idOf(lm.live.get(i).ts, lm.live.get(i).origin), lm.live.get(i));
  let changed = false;
  for (const [ts, origin, pos, value, vts, vorigin, removedAt] of remote) {
    const id = idOf(ts, origin);
    if (lm.removed.has(id)) continue;
    const live = byId.get(id);
    if (removedAt !== 0) {
      if (live === undefined && removedAt < collectedBefore) continue;
      const el = live ?? new ListElem(ts, origin, pos, '', vts, vorigin);
      if (live !== undefined) {
        removeLiveAt(lm, list, live);
        byId.delete(id);
      }
      markRemoved(meta, lm, el, removedAt, nowHlc);
    } else if (live !== undefined) {
      if (compareVersion(vts, vorigin, 0, live.vts, live.vorigin, 0) <= 0) continue;
      live.value = value;
      live.vts = vts;
      live.vorigin = vorigin;
      list.set(lowerBound(lm.live, live), value);
      redigestElem(meta, live);
    } else {
      const el = new ListElem(ts, origin, pos, value, vts, vorigin);
      const index = lowerBound(lm.live, el);
      lm.live.insert(index, el);
      list.insertAt(index, value);
      redigestElem(meta, el);
      byId.set(id, el);
    }
    changed = true;
  }
  return changed;
}

function removeLiveAt(lm: ListMeta, list: QuickList, el: ListElem): void {
  const index = lowerBound(lm.live, el);
  lm.live.remove(index);
  list.removeRange(index, 1);
}

/** Drops removed elements held since before `horizon` (every peer has their removal). */
export function collectListTombs(meta: KeyMeta, horizon: number): void {
  const lm = meta.list;
  if (lm === null || lm === undefined) return;
  for (const [id, el] of lm.removed) {
    if (el.heldSince >= horizon) continue;
    lm.removed.delete(id);
    forget(meta, el);
  }
}

/** Rebuilds the QuickList from the live elements (after positions could not keep the local order). */
export function rebuildList(lm: ListMeta, e: Entry): void {
  const sorted = lm.live.toArray().sort(order);
  lm.live.reset(sorted);
  e.value = QuickList.from(sorted.map((el) => el.value));
}

export { order as compareListElems };
