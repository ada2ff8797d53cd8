import type { KeyMeta } from '../crdt/key-meta.js';
import type { Entry } from '../store/entry.js';
import type { QuickList } from '../store/list.js';
import { listMetaOf, markRemoved, newElem, rebuildList, redigestElem, type ListMeta } from './list-crdt.js';

/** Keyspace events of element writes to a list; anything else (RENAME, SORT STORE, RESTORE...) rewrites it whole. */
const LIST_EVENTS = new Set(['lpush', 'rpush', 'lpop', 'rpop', 'linsert', 'lset', 'lrem', 'ltrim']);

/** What a local list write needs from the keyspace CRDT. */
export interface ListStamps {
  /** A fresh HLC stamp (an element id). */
  stamp(): number;
  readonly self: string;
}

export function isListElementEvent(event: string): boolean {
  return LIST_EVENTS.has(event);
}

/**
 * A command changed list `e` (its QuickList already holds the result):
 * brings the sequence metadata in line, by the event where it says where
 * the change was (pushes and pops at one end, O(k)), else by comparing the
 * old and new contents (LINSERT, LREM, LTRIM, a rotation: O(n), as the
 * commands themselves).
 */
export function listWritten(meta: KeyMeta, e: Entry, event: string, whole: boolean, s: ListStamps): void {
  const list = e.value as QuickList;
  const lm = listMetaOf(meta);
  if (whole) return stampAll(meta, lm, list, s);
  const grown = list.length - lm.live.size;
  if (event === 'lpush' && grown > 0) return pushedHead(meta, lm, list, grown, s);
  if (event === 'rpush' && grown > 0) return pushedTail(meta, lm, list, grown, s);
  if (event === 'lpop' && grown < 0) return popped(meta, lm, -grown, true, s);
  if (event === 'rpop' && grown < 0) return popped(meta, lm, -grown, false, s);
  if (event === 'lset') return replaced(meta, lm, list, s);
  if (diffed(meta, lm, list, s)) rebuildList(lm, e);
}

function stampAll(meta: KeyMeta, lm: ListMeta, list: QuickList, s: ListStamps): void {
  meta.elementsDigest = 0;
  lm.removed.clear();
  const values = list.toArray();
  lm.live.reset(values.map((v, i) => newElem(meta, v, i, s.stamp(), s.self)));
}

function pushedHead(meta: KeyMeta, lm: ListMeta, list: QuickList, k: number, s: ListStamps): void {
  const base = lm.live.size > 0 ? lm.live.get(0).pos : 0;
  for (let i = k - 1; i >= 0; i--) lm.live.pushFront(newElem(meta, list.get(i)!, base - (k - i), s.stamp(), s.self));
}

function pushedTail(meta: KeyMeta, lm: ListMeta, list: QuickList, k: number, s: ListStamps): void {
  const old = lm.live.size;
  const base = old > 0 ? lm.live.get(old - 1).pos : -1;
  for (let i = 0; i < k; i++) lm.live.pushBack(newElem(meta, list.get(old + i)!, base + 1 + i, s.stamp(), s.self));
}

function popped(meta: KeyMeta, lm: ListMeta, k: number, fromHead: boolean, s: ListStamps): void {
  const now = s.stamp();
  for (let i = 0; i < k; i++) markRemoved(meta, lm, fromHead ? lm.live.popFront() : lm.live.popBack(), now, now);
}

/** LSET: the element at the first differing index gets the new value under a new stamp (same id). */
function replaced(meta: KeyMeta, lm: ListMeta, list: QuickList, s: ListStamps): void {
  const values = list.toArray();
  for (let i = 0; i < values.length; i++) {
    const el = lm.live.get(i);
    if (el.value === values[i]) continue;
    el.value = values[i]!;
    el.vts = s.stamp();
    el.vorigin = s.self;
    redigestElem(meta, el);
    return;
  }
}

/**
 * The elements between the common prefix and suffix of the old and new
 * contents were removed, and the new ones there inserted with positions
 * between their neighbours. Returns true when positions ran out of
 * precision, so the local list must be rebuilt in the agreed order.
 */
function diffed(meta: KeyMeta, lm: ListMeta, list: QuickList, s: ListStamps): boolean {
  const now = list.toArray();
  const old = lm.live.toArray();
  let p = 0;
  while (p < old.length && p < now.length && old[p]!.value === now[p]) p++;
  let q = 0;
  while (q < old.length - p && q < now.length - p && old[old.length - 1 - q]!.value === now[now.length - 1 - q]) q++;
  const stamp = s.stamp();
  for (const el of lm.live.remove(p, old.length - q - p)) markRemoved(meta, lm, el, stamp, stamp);
  const inserted = now.slice(p, now.length - q);
  const before = p > 0 ? lm.live.get(p - 1).pos : undefined;
  const after = p < lm.live.size ? lm.live.get(p).pos : undefined;
  let exhausted = false;
  inserted.forEach((v, i) => {
    const pos = positionBetween(before, after, i, inserted.length);
    if ((before !== undefined && pos <= before) || (after !== undefined && pos >= after)) exhausted = true;
    lm.live.insert(p + i, newElem(meta, v, pos, s.stamp(), s.self));
  });
  return exhausted;
}

/** The i-th of n positions spread between a and b (either may be open). */
function positionBetween(a: number | undefined, b: number | undefined, i: number, n: number): number {
  if (a === undefined && b === undefined) return i;
  if (a === undefined) return b! - (n - i);
  if (b === undefined) return a + 1 + i;
  return a + ((b - a) * (i + 1)) / (n + 1);
}
