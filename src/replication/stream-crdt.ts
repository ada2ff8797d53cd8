import { compareVersion } from '../crdt/key-state.js';
import { formatId, parseStreamId, U64_MAX, type StreamId } from '../store/stream-id.js';
import { mixNumber, mixOrigin, mixString } from './merkle.js';

/**
 * The CRDT state of one stream (on one key version) as plain data, and its
 * join. Semantics (docs/CRDT.md):
 *
 * - entries: a map stream ID -> register with version (ts, origin, gen), as
 *   hash fields (elements.ts). XADD writes (its HLC stamp, its node, 0);
 *   XDEL/XTRIM write the removal (ts, origin, gen + 1) of the entry they saw,
 *   so it sorts above that entry and below any entry it did not see. Two
 *   entries created with one ID on two replicas: the larger stamp keeps it.
 * - lastId, maxDeletedId, base: max; added: per origin, the number of XADDs
 *   (max); entries-added = base + the sum of added.
 * - groups by name: a generation (create joins the bottom or the revival of
 *   the destroyed generation, as INCR on a key; destroy is gen + 1); on one
 *   generation (epoch, lastId, entriesRead) is joined by lexicographic max
 *   (XGROUP SETID bumps the epoch, so it can move backwards), the PEL is a
 *   map ID -> register like entries (delivery/claim = new stamp, XACK =
 *   removal of the delivery it saw) and consumers by name a generation plus
 *   the max seen-time.
 *
 * Records are immutable once in a document (a change replaces them); group
 * records (their maps) belong to one document.
 */

/** A versioned record: live when gen is even. */
interface Versioned {
  readonly ts: number;
  readonly origin: string;
  readonly gen: number;
  /** Removed records: HLC of the removal (the earliest known). Not part of the digest. */
  readonly removedAt: number;
  /** Local only: HLC since which this node holds the removal (collection). */
  readonly heldSince: number;
}

export interface EntryRec extends Versioned {
  /** Live: field/value pairs; removed: null. */
  readonly fields: readonly string[] | null;
}

export interface PelRec extends Versioned {
  readonly consumer: string;
  readonly deliveryTime: number;
  readonly deliveryCount: number;
}

export interface ConsRec {
  readonly gen: number;
  readonly seenTime: number;
  readonly removedAt: number;
  readonly heldSince: number;
}

export interface GroupRec {
  gen: number;
  epoch: number;
  lastId: StreamId;
  entriesRead: number;
  removedAt: number;
  heldSince: number;
  readonly pel: Map<StreamId, PelRec>;
  readonly consumers: Map<string, ConsRec>;
}

export interface StreamDoc {
  lastId: StreamId;
  maxDeletedId: StreamId;
  base: number;
  readonly added: Map<string, number>;
  readonly entries: Map<StreamId, EntryRec>;
  readonly groups: Map<string, GroupRec>;
}

export function emptyDoc(): StreamDoc {
  return { lastId: 0n, maxDeletedId: 0n, base: 0, added: new Map(), entries: new Map(), groups: new Map() };
}

export function isLive(r: { gen: number }): boolean {
  return (r.gen & 1) === 0;
}

export function newGroup(gen: number, lastId: StreamId, entriesRead: number, removedAt = 0, heldSince = 0): GroupRec {
  return { gen, epoch: 0, lastId, entriesRead, removedAt, heldSince, pel: new Map(), consumers: new Map() };
}

export function copyGroup(g: GroupRec): GroupRec {
  return { ...g, pel: new Map(g.pel), consumers: new Map(g.consumers) };
}

// ---- join ------------------------------------------------------------------

/** Joins `s` into `t` (t's group records are mutated, s is not). Returns whether t changed. */
export function mergeDoc(t: StreamDoc, s: Readonly<StreamDoc>): boolean {
  let changed = false;
  if (s.lastId > t.lastId) (t.lastId = s.lastId), (changed = true);
  if (s.maxDeletedId > t.maxDeletedId) (t.maxDeletedId = s.maxDeletedId), (changed = true);
  if (s.base > t.base) (t.base = s.base), (changed = true);
  for (const [o, n] of s.added) if (n > (t.added.get(o) ?? 0)) t.added.set(o, n), (changed = true);
  changed = mergeRegisters(t.entries, s.entries) || changed;
  for (const [name, g] of s.groups) changed = mergeGroup(t.groups, name, g) || changed;
  return changed;
}

/** Per key the larger version wins; equal removals keep the earlier removal time. */
function mergeRegisters<K, R extends Versioned>(t: Map<K, R>, s: ReadonlyMap<K, R>): boolean {
  let changed = false;
  for (const [k, r] of s) {
    const mine = t.get(k);
    const order = mine === undefined ? 1 : compareVersion(r.ts, r.origin, r.gen, mine.ts, mine.origin, mine.gen);
    if (order > 0) t.set(k, r);
    else if (order === 0 && !isLive(r) && r.removedAt < mine!.removedAt) t.set(k, { ...mine!, removedAt: r.removedAt });
    else continue;
    changed = true;
  }
  return changed;
}

function mergeGroup(t: Map<string, GroupRec>, name: string, g: GroupRec): boolean {
  const mine = t.get(name);
  if (mine === undefined || g.gen > mine.gen) return t.set(name, copyGroup(g)), true;
  if (g.gen < mine.gen) return false;
  if (!isLive(g)) {
    if (g.removedAt >= mine.removedAt) return false;
    mine.removedAt = g.removedAt;
    return true;
  }
  let changed = false;
  if (compareCursor(g, mine) > 0) {
    mine.epoch = g.epoch;
    mine.lastId = g.lastId;
    mine.entriesRead = g.entriesRead;
    changed = true;
  }
  changed = mergeRegisters(mine.pel, g.pel) || changed;
  for (const [cname, c] of g.consumers) changed = mergeConsumer(mine.consumers, cname, c) || changed;
  return changed;
}

/** The group's read position (epoch, lastId, entriesRead), lexicographically. */
function compareCursor(a: GroupRec, b: GroupRec): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.lastId !== b.lastId) return a.lastId < b.lastId ? -1 : 1;
  return a.entriesRead === b.entriesRead ? 0 : a.entriesRead < b.entriesRead ? -1 : 1;
}

function mergeConsumer(t: Map<string, ConsRec>, name: string, c: ConsRec): boolean {
  const mine = t.get(name);
  if (mine === undefined || c.gen > mine.gen) return t.set(name, c), true;
  if (c.gen < mine.gen) return false;
  if (isLive(c)) {
    if (c.seenTime <= mine.seenTime) return false;
    t.set(name, { ...mine, seenTime: c.seenTime });
  } else {
    if (c.removedAt >= mine.removedAt) return false;
    t.set(name, { ...mine, removedAt: c.removedAt });
  }
  return true;
}

// ---- collection ----------------------------------------------------------

/**
 * Drops removals every peer holds (held since before `horizon`, see
 * KeyCrdt.collectedBefore). Returns whether anything went.
 */
export function collectRemovals(entries: Map<StreamId, EntryRec> | null, groups: Map<string, GroupRec> | null, horizon: number): boolean {
  let dropped = entries === null ? false : collectMap(entries, horizon);
  if (groups === null) return dropped;
  for (const [name, g] of groups) {
    if (!isLive(g)) {
      if (g.heldSince < horizon) groups.delete(name), (dropped = true);
      continue;
    }
    dropped = collectMap(g.pel, horizon) || dropped;
    dropped = collectMap(g.consumers, horizon) || dropped;
  }
  return dropped;
}

function collectMap<K>(m: Map<K, { gen: number; heldSince: number }>, horizon: number): boolean {
  let dropped = false;
  for (const [k, r] of m) if (!isLive(r) && r.heldSince < horizon) m.delete(k), (dropped = true);
  return dropped;
}

/**
 * Leaves out of a remote document the removals this node no longer knows of
 * and that were made before `collectedBefore`: this node collected them
 * already, and taking them back would bounce them between peers forever.
 */
export function pruneCollected(remote: StreamDoc, local: StreamDoc, collectedBefore: number): void {
  const stale = (r: { gen: number; removedAt: number }): boolean => !isLive(r) && r.removedAt < collectedBefore;
  for (const [id, r] of remote.entries) if (stale(r) && !local.entries.has(id)) remote.entries.delete(id);
  for (const [name, g] of remote.groups) {
    const mine = local.groups.get(name);
    if (mine === undefined) {
      if (stale(g)) remote.groups.delete(name);
      continue;
    }
    for (const [id, r] of g.pel) if (stale(r) && !mine.pel.has(id)) g.pel.delete(id);
    for (const [c, r] of g.consumers) if (stale(r) && !mine.consumers.has(c)) g.consumers.delete(c);
  }
}

// ---- digests -------------------------------------------------------------

function mixId(h: number, id: StreamId): number {
  return mixNumber(mixNumber(h, Number(id >> 64n)), Number(id & U64_MAX));
}

function mixVersion(h: number, r: Versioned): number {
  return mixNumber(mixOrigin(mixNumber(h, r.ts), r.origin), r.gen);
}

/** One entry register's digest (removal times left out: replicas may learn them in any order). Never 0. */
export function entryRecDigest(id: StreamId, r: Versioned): number {
  return mixVersion(mixId(0x5f3759df, id), r) || 1;
}

export function headerDigest(d: Pick<StreamDoc, 'lastId' | 'maxDeletedId' | 'base' | 'added'>): number {
  let h = mixNumber(mixId(mixId(0x1b873593, d.lastId), d.maxDeletedId), d.base);
  for (const [o, n] of d.added) h ^= mixNumber(mixOrigin(0x2545f491, o), n);
  return h;
}

export function groupsDigest(groups: ReadonlyMap<string, GroupRec>): number {
  let h = 0;
  for (const [name, g] of groups) h ^= groupDigest(name, g);
  return h;
}

function groupDigest(name: string, g: GroupRec): number {
  let h = mixNumber(mixString(0x68e31da4, name), g.gen);
  if (!isLive(g)) return h;
  h = mixNumber(mixId(mixNumber(h, g.epoch), g.lastId), g.entriesRead);
  for (const [id, p] of g.pel) h ^= mixVersion(mixId(0x3c6ef372, id), p);
  for (const [c, r] of g.consumers) h ^= mixNumber(mixNumber(mixString(0x7f4a7c15, c), r.gen), r.seenTime);
  return h;
}

export function docDigest(d: StreamDoc): number {
  let h = headerDigest(d) ^ groupsDigest(d.groups);
  for (const [id, r] of d.entries) h ^= entryRecDigest(id, r);
  return h;
}

// ---- wire form -------------------------------------------------------------

/*
 * A stream's state on the wire is a list of tagged records (arrays, so the
 * replicator sizes it like element lists), the header first, each group
 * before its PEL and consumers:
 *
 *   ['h', lastId, maxDeletedId, base]
 *   ['a', origin, count]
 *   ['e', id, ts, origin, gen, removedAt, ...fields]      (removed: no fields)
 *   ['g', name, gen, epoch, lastId, entriesRead, removedAt]
 *   ['p', group, id, ts, origin, gen, removedAt, consumer, deliveryTime, deliveryCount]
 *   ['c', group, name, gen, seenTime, removedAt]
 *
 * IDs travel as "ms-seq" text (they do not fit a msgpack integer).
 */
export type StreamWire = unknown[][];

export function encodeDoc(d: StreamDoc): StreamWire {
  const out: StreamWire = [['h', formatId(d.lastId), formatId(d.maxDeletedId), d.base]];
  for (const [o, n] of d.added) out.push(['a', o, n]);
  for (const [id, r] of d.entries) out.push(['e', formatId(id), r.ts, r.origin, r.gen, r.removedAt, ...(r.fields ?? [])]);
  for (const [name, g] of d.groups) {
    out.push(['g', name, g.gen, g.epoch, formatId(g.lastId), g.entriesRead, g.removedAt]);
    for (const [id, p] of g.pel) {
      out.push(['p', name, formatId(id), p.ts, p.origin, p.gen, p.removedAt, p.consumer, p.deliveryTime, p.deliveryCount]);
    }
    for (const [c, r] of g.consumers) out.push(['c', name, c, r.gen, r.seenTime, r.removedAt]);
  }
  return out;
}

/** Thrown inside decodeDoc for a malformed record. */
class BadStream extends Error {}

/**
 * The document a peer sent, or why it is refused (never trusts it: every
 * field is checked). `heldSince` stamps its removals as held from now.
 */
export function decodeDoc(v: unknown, heldSince: number): StreamDoc | string {
  if (!Array.isArray(v) || v.length === 0) return 'bad stream state';
  const d = emptyDoc();
  try {
    readHeader(d, v[0]);
    for (let i = 1; i < v.length; i++) readRecord(d, v[i], heldSince);
  } catch (err) {
    if (err instanceof BadStream) return `bad stream ${err.message}`;
    throw err;
  }
  return d;
}

function readHeader(d: StreamDoc, r: unknown): void {
  const h = record(r, 'h', 4, 4);
  d.lastId = id(h[1]);
  d.maxDeletedId = id(h[2]);
  d.base = int(h[3], -Number.MAX_SAFE_INTEGER);
}

const READERS: Record<string, (d: StreamDoc, r: unknown[], heldSince: number) => void> = {
  a: (d, r) => {
    if (r.length !== 3 || typeof r[1] !== 'string' || d.added.has(r[1])) throw new BadStream('counter');
    d.added.set(r[1], uint(r[2]));
  },
  e: readEntry,
  g: readGroup,
  p: readPel,
  c: readConsumer,
};

function readRecord(d: StreamDoc, r: unknown, heldSince: number): void {
  if (!Array.isArray(r) || typeof r[0] !== 'string' || !Object.hasOwn(READERS, r[0])) throw new BadStream('record');
  READERS[r[0]]!(d, r, heldSince);
}

function readEntry(d: StreamDoc, r: unknown[], heldSince: number): void {
  const at = id(r[1]);
  const ver = version(r, 2);
  const fields = r.slice(6);
  const live = isLive(ver);
  if (live ? fields.length < 2 || fields.length % 2 !== 0 : fields.length !== 0) throw new BadStream('entry fields');
  if (!fields.every((f) => typeof f === 'string')) throw new BadStream('entry fields');
  if (d.entries.has(at)) throw new BadStream('duplicated entry');
  d.entries.set(at, { ...ver, heldSince, fields: live ? (fields as string[]) : null });
}

function readGroup(d: StreamDoc, r: unknown[], heldSince: number): void {
  record(r, 'g', 7, 7);
  const name = str(r[1]);
  if (d.groups.has(name)) throw new BadStream('duplicated group');
  const read = int(r[5], -1);
  d.groups.set(name, { ...newGroup(uint(r[2]), id(r[4]), read, uint(r[6]), heldSince), epoch: uint(r[3]) });
}

function readPel(d: StreamDoc, r: unknown[], heldSince: number): void {
  record(r, 'p', 10, 10);
  const g = liveGroup(d, r[1]);
  const at = id(r[2]);
  if (g.pel.has(at)) throw new BadStream('duplicated PEL entry');
  g.pel.set(at, { ...version(r, 3), heldSince, consumer: str(r[7]), deliveryTime: uint(r[8]), deliveryCount: uint(r[9]) });
}

function readConsumer(d: StreamDoc, r: unknown[], heldSince: number): void {
  record(r, 'c', 6, 6);
  const g = liveGroup(d, r[1]);
  const name = str(r[2]);
  if (g.consumers.has(name)) throw new BadStream('duplicated consumer');
  g.consumers.set(name, { gen: uint(r[3]), seenTime: uint(r[4]), removedAt: uint(r[5]), heldSince });
}

/** PEL and consumer records follow their group, which must be live. */
function liveGroup(d: StreamDoc, name: unknown): GroupRec {
  const g = d.groups.get(str(name));
  if (g === undefined || !isLive(g)) throw new BadStream('record of a missing group');
  return g;
}

/**
 * (ts, origin, gen, removedAt) at r[at..at+3]. Entries and deliveries are
 * written once and removed once: gen is 0 or 1 (a rewrite is a new stamp).
 */
function version(r: unknown[], at: number): { ts: number; origin: string; gen: number; removedAt: number } {
  if (r.length < at + 4 || (r[at + 2] !== 0 && r[at + 2] !== 1)) throw new BadStream('version');
  return { ts: uint(r[at]), origin: str(r[at + 1]), gen: r[at + 2] as number, removedAt: uint(r[at + 3]) };
}

function record(r: unknown, tag: string, min: number, max: number): unknown[] {
  if (!Array.isArray(r) || r[0] !== tag || r.length < min || r.length > max) throw new BadStream(`record ${tag}`);
  return r;
}

function id(x: unknown): StreamId {
  const p = typeof x === 'string' ? parseStreamId(x, 0n, true) : null;
  if (p === null) throw new BadStream('ID');
  return p.id;
}

function str(x: unknown): string {
  if (typeof x !== 'string') throw new BadStream('name');
  return x;
}

function uint(x: unknown): number {
  return int(x, 0);
}

function int(x: unknown, min: number): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) throw new BadStream('number');
  return x;
}
