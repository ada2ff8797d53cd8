import type { KeyMeta } from '../crdt/key-meta.js';
import { StreamValue, type StreamEntry, type StreamLimits } from '../store/stream.js';
import { ID_MAX, ID_ZERO, type StreamId } from '../store/stream-id.js';
import { Consumer, ConsumerGroup, type Nack } from '../store/stream-pel.js';
import {
  collectRemovals, decodeDoc, encodeDoc, entryRecDigest, groupsDigest, headerDigest, isLive, mergeDoc, newGroup, pruneCollected,
  type ConsRec, type EntryRec, type GroupRec, type PelRec, type StreamDoc, type StreamWire,
} from './stream-crdt.js';

/**
 * Streams in the keyspace under replication: keeps a stream's CRDT state
 * (stream-crdt.ts) beside its StreamValue. Local commands change the value
 * and report an event; this turns the change into CRDT operations (entry
 * stamps and removals, group/PEL/consumer records). A peer's state is joined
 * with ours and, when it brought anything, the value is rebuilt from the join.
 */

/** Keyspace events of writes that keep the stream's version (anything else rewrites it whole: RESTORE, RENAME, COPY...). */
const STREAM_EVENTS = new Set([
  'xadd', 'xdel', 'xtrim', 'xsetid', 'xgroup-create', 'xgroup-setid', 'xgroup-destroy',
  'xgroup-createconsumer', 'xgroup-delconsumer', 'xgroup-state',
]);
const ENTRY_EVENTS = new Set(['xadd', 'xdel', 'xtrim', 'xsetid']);

/**
 * The CRDT state kept on a stream's KeyMeta. Live entries carry their stamp
 * on the StreamEntry (ts, origin); the rest lives here.
 */
export class StreamMeta {
  /** Removed entry IDs (odd gen), until collected. */
  tombs = new Map<StreamId, EntryRec>();
  base = 0;
  added = new Map<string, number>();
  groups = new Map<string, GroupRec>();
  /** XOR of the entry registers' digests (live and removed), kept incrementally: XADD/XDEL stay O(1). */
  entriesDigest = 0;
  groupsDigest = 0;
  /** The collection horizon removals were last collected at (it moves once per anti-entropy round, not per write). */
  collectedAt = 0;
}

/** What a local stream write needs from the keyspace CRDT. */
export interface StreamStamps {
  /** A fresh HLC stamp above `floor`. */
  stampAbove(floor: number): number;
  readonly self: string;
  readonly collectedBefore: number;
}

export function isStreamElementEvent(event: string): boolean {
  return STREAM_EVENTS.has(event);
}

/**
 * A command wrote stream `s` and reported `event`. `fresh`: the key had no
 * version before this command (it joins the bottom one, as a created hash).
 */
export function streamWritten(meta: KeyMeta, s: StreamValue, event: string, fresh: boolean, st: StreamStamps): void {
  if (!STREAM_EVENTS.has(event) || (!fresh && (meta.stream === null || s.removedLog === null))) return stampAll(meta, s, st);
  if (fresh || meta.stream === null) {
    meta.stream = new StreamMeta();
    s.removedLog = [];
  }
  const sm = meta.stream;
  if (event === 'xadd') entryAdded(sm, s, st);
  entriesRemoved(sm, s, st);
  if (event === 'xsetid') sm.base = s.entriesAdded - sumAdded(sm);
  if (ENTRY_EVENTS.has(event)) collectTombs(sm, st.collectedBefore);
  else syncGroups(sm, s, event === 'xgroup-setid', st);
  meta.elementsDigest = streamDigest(sm, s);
}

/** A stream new as a whole (RESTORE, RENAME, COPY...): every entry, delivery and consumer is a new record. */
function stampAll(meta: KeyMeta, s: StreamValue, st: StreamStamps): void {
  const sm = new StreamMeta();
  meta.stream = sm;
  s.removedLog = [];
  sm.base = s.entriesAdded;
  for (const e of s.range(ID_ZERO, ID_MAX, false)) {
    e.ts = st.stampAbove(0);
    e.origin = st.self;
  }
  redigestEntries(sm, s);
  syncGroups(sm, s, false, st);
  meta.elementsDigest = streamDigest(sm, s);
}

function sumAdded(sm: StreamMeta): number {
  let n = 0;
  for (const v of sm.added.values()) n += v;
  return n;
}

/** XADD put its entry at the tail: stamped above a removal of the same ID, counted as this node's add. */
function entryAdded(sm: StreamMeta, s: StreamValue, st: StreamStamps): void {
  const e = s.get(s.lastId);
  if (e === undefined) return;
  const tomb = sm.tombs.get(e.id);
  e.ts = st.stampAbove(tomb?.ts ?? 0);
  e.origin = st.self;
  if (tomb !== undefined) {
    sm.tombs.delete(e.id);
    sm.entriesDigest ^= entryRecDigest(e.id, tomb);
  }
  sm.entriesDigest ^= liveEntryDigest(e);
  sm.added.set(st.self, (sm.added.get(st.self) ?? 0) + 1);
}

/** Entries XDEL/XTRIM removed: observed removes of the versions they held. */
function entriesRemoved(sm: StreamMeta, s: StreamValue, st: StreamStamps): void {
  const log = s.removedLog!;
  if (log.length === 0) return;
  const now = st.stampAbove(0);
  for (const e of log) {
    const tomb: EntryRec = { ts: e.ts ?? 0, origin: e.origin ?? '', gen: 1, removedAt: now, heldSince: now, fields: null };
    sm.tombs.set(e.id, tomb);
    sm.entriesDigest ^= liveEntryDigest(e) ^ entryRecDigest(e.id, tomb);
  }
  log.length = 0;
}

/** Drops entry removals every peer holds (see KeyCrdt.collectedBefore); O(removals) once per horizon move. */
function collectTombs(sm: StreamMeta, horizon: number): void {
  if (horizon === sm.collectedAt) return;
  sm.collectedAt = horizon;
  for (const [id, t] of sm.tombs) {
    if (t.heldSince >= horizon) continue;
    sm.tombs.delete(id);
    sm.entriesDigest ^= entryRecDigest(id, t);
  }
}

function liveEntryDigest(e: StreamEntry): number {
  return entryRecDigest(e.id, { ts: e.ts ?? 0, origin: e.origin ?? '', gen: 0, removedAt: 0, heldSince: 0 });
}

function redigestEntries(sm: StreamMeta, s: StreamValue): void {
  let h = 0;
  for (const e of s.range(ID_ZERO, ID_MAX, false)) h ^= liveEntryDigest(e);
  for (const [id, t] of sm.tombs) h ^= entryRecDigest(id, t);
  sm.entriesDigest = h;
}

function streamDigest(sm: StreamMeta, s: StreamValue): number {
  return sm.entriesDigest ^ sm.groupsDigest ^ headerDigest({ lastId: s.lastId, maxDeletedId: s.maxDeletedId, base: sm.base, added: sm.added });
}

// ---- consumer groups: local changes ---------------------------------------

/**
 * Brings the group records in line with the value's groups (O(PELs), as the
 * state a delta ships): new or changed deliveries get a new stamp, missing
 * ones are removals of what was there; `setid`: a moved read position
 * bumps the group's epoch (it may go backwards).
 */
function syncGroups(sm: StreamMeta, s: StreamValue, setid: boolean, st: StreamStamps): void {
  const now = st.stampAbove(0);
  for (const [name, g] of s.groups) {
    let rec = sm.groups.get(name);
    if (rec === undefined || !isLive(rec)) {
      rec = newGroup(rec === undefined ? 0 : rec.gen + 1, g.lastId, g.entriesRead);
      sm.groups.set(name, rec);
    }
    syncCursor(rec, g, setid);
    syncPel(rec, g, st, now);
    syncConsumers(rec, g, now);
  }
  for (const [name, rec] of sm.groups) {
    if (isLive(rec) && !s.groups.has(name)) sm.groups.set(name, newGroup(rec.gen + 1, 0n, 0, now, now));
  }
  collectRemovals(null, sm.groups, st.collectedBefore);
  sm.groupsDigest = groupsDigest(sm.groups);
}

function syncCursor(rec: GroupRec, g: ConsumerGroup, setid: boolean): void {
  if (rec.lastId === g.lastId && rec.entriesRead === g.entriesRead) return;
  if (setid) rec.epoch++;
  rec.lastId = g.lastId;
  rec.entriesRead = g.entriesRead;
}

function syncPel(rec: GroupRec, g: ConsumerGroup, st: StreamStamps, now: number): void {
  // By index: no copy of the PEL and no pair per entry.
  for (let i = 0; i < g.pel.size; i++) {
    const id = g.pel.idAt(i);
    const nack = g.pel.valueAt(i);
    const r = rec.pel.get(id);
    const owner = nack.consumer?.name ?? '';
    if (r !== undefined && isLive(r) && r.consumer === owner && r.deliveryTime === nack.deliveryTime && r.deliveryCount === nack.deliveryCount) continue;
    const ts = st.stampAbove(r?.ts ?? 0);
    rec.pel.set(id, { ts, origin: st.self, gen: 0, removedAt: 0, heldSince: 0, consumer: owner, deliveryTime: nack.deliveryTime, deliveryCount: nack.deliveryCount });
  }
  for (const [id, r] of rec.pel) {
    if (isLive(r) && g.pel.get(id) === undefined) rec.pel.set(id, { ...r, gen: r.gen + 1, removedAt: now, heldSince: now });
  }
}

function syncConsumers(rec: GroupRec, g: ConsumerGroup, now: number): void {
  for (const [name, c] of g.consumers) {
    const r = rec.consumers.get(name);
    if (r !== undefined && isLive(r) && r.seenTime === c.seenTime) continue;
    const gen = r === undefined ? 0 : isLive(r) ? r.gen : r.gen + 1;
    rec.consumers.set(name, { gen, seenTime: c.seenTime, removedAt: 0, heldSince: 0 });
  }
  for (const [name, r] of rec.consumers) {
    if (isLive(r) && !g.consumers.has(name)) rec.consumers.set(name, { ...r, gen: r.gen + 1, removedAt: now, heldSince: now });
  }
}

// ---- peers ------------------------------------------------------------------

/** The stream's state as a document (shares this meta's group records: the caller owns the result until it is loaded back). */
function docOf(sm: StreamMeta, s: StreamValue): StreamDoc {
  const entries = new Map<StreamId, EntryRec>();
  for (const e of s.range(ID_ZERO, ID_MAX, false)) {
    entries.set(e.id, { ts: e.ts ?? 0, origin: e.origin ?? '', gen: 0, removedAt: 0, heldSince: 0, fields: e.fields });
  }
  for (const [id, t] of sm.tombs) entries.set(id, t);
  return { lastId: s.lastId, maxDeletedId: s.maxDeletedId, base: sm.base, added: new Map(sm.added), entries, groups: sm.groups };
}

export function encodeStream(meta: KeyMeta, s: StreamValue): StreamWire {
  return encodeDoc(docOf(meta.stream ?? new StreamMeta(), s));
}

/** Why a peer's stream state is refused; null when acceptable. */
export function streamStateError(v: unknown): string | null {
  const d = decodeDoc(v, 0);
  return typeof d === 'string' ? d : null;
}

/** Installs a peer's stream state into a fresh value (a newer version replaced ours). */
export function loadStream(meta: KeyMeta, s: StreamValue, v: unknown, nowHlc: number, limits: StreamLimits): void {
  const d = decodeDoc(v, nowHlc);
  if (typeof d === 'string') throw new Error(d);
  meta.stream = new StreamMeta();
  materialize(meta, s, d, limits);
}

/**
 * Joins a peer's state of the same version into ours. Returns whether the
 * stream changed (then it was rebuilt from the join).
 */
export function mergeStream(meta: KeyMeta, s: StreamValue, v: unknown, nowHlc: number, collectedBefore: number, limits: StreamLimits): boolean {
  const remote = decodeDoc(v, nowHlc);
  if (typeof remote === 'string') throw new Error(remote);
  const sm = meta.stream ?? (meta.stream = new StreamMeta());
  const local = docOf(sm, s);
  pruneCollected(remote, local, collectedBefore);
  const changed = mergeDoc(local, remote);
  const collected = collectRemovals(local.entries, local.groups, collectedBefore);
  if (!changed && !collected) return false;
  materialize(meta, s, local, limits);
  return true;
}

/** Rebuilds value and meta from a document (entries in ID order, groups with their PELs and consumers). */
function materialize(meta: KeyMeta, s: StreamValue, d: StreamDoc, limits: StreamLimits): void {
  const sm = meta.stream!;
  const live: StreamEntry[] = [];
  sm.tombs = new Map();
  for (const [id, r] of d.entries) {
    if (r.fields !== null) live.push({ id, fields: r.fields as string[], deleted: false, ts: r.ts, origin: r.origin });
    else sm.tombs.set(id, r);
  }
  live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const top = live.length === 0 ? ID_ZERO : live[live.length - 1]!.id;
  sm.base = d.base;
  sm.added = d.added;
  s.lastId = d.lastId > top ? d.lastId : top;
  s.maxDeletedId = d.maxDeletedId;
  s.entriesAdded = Math.max(d.base + sumAdded(sm), live.length);
  s.loadEntries(live, limits);
  s.removedLog = [];
  sm.groups = d.groups;
  loadGroups(s, d.groups);
  redigestEntries(sm, s);
  sm.groupsDigest = groupsDigest(sm.groups);
  meta.elementsDigest = streamDigest(sm, s);
}

function loadGroups(s: StreamValue, groups: ReadonlyMap<string, GroupRec>): void {
  s.groups.clear();
  for (const [name, rec] of groups) {
    if (!isLive(rec)) continue;
    const g = new ConsumerGroup(name, rec.lastId, rec.entriesRead);
    for (const [c, r] of rec.consumers) if (isLive(r)) g.consumers.set(c, new Consumer(c, r.seenTime));
    loadPel(g, rec.pel, rec.consumers);
    s.groups.set(name, g);
  }
}

/** A delivery to a consumer removed elsewhere keeps that consumer (deliveries are never dropped silently). */
function loadPel(g: ConsumerGroup, pel: ReadonlyMap<StreamId, PelRec>, consumers: ReadonlyMap<string, ConsRec>): void {
  const ids = [...pel.keys()].filter((id) => isLive(pel.get(id)!)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const id of ids) {
    const p = pel.get(id)!;
    let owner = g.consumers.get(p.consumer);
    if (owner === undefined) {
      owner = new Consumer(p.consumer, consumers.get(p.consumer)?.seenTime ?? 0);
      g.consumers.set(p.consumer, owner);
    }
    const nack: Nack = { deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount, consumer: owner };
    g.pel.set(id, nack);
    owner.pel.set(id, nack);
  }
}
