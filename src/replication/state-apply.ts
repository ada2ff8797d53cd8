import { counterValue } from '../crdt/counter-value.js';
import { KeyMeta, Tombstone } from '../crdt/key-meta.js';
import { compareExpire, compareVersion, copyRows, isDead, joinCountersInPlace, type ElementState, type KeyState } from '../crdt/key-state.js';
import { HashValue } from '../store/hash.js';
import { SetValue } from '../store/set.js';
import { ZSetValue } from '../store/zset.js';
import { QuickList } from '../store/list.js';
import { collectListTombs, elemStates, isListElemState, listMetaOf, mergeListElems, type ListElemState } from './list-crdt.js';
import { collectElementTombs, elementStates, elementsOf, isContainer, isEmptyCollection, loadElements, mergeElements } from './elements.js';
import type { Database } from '../store/database.js';
import { createDumpPayload, loadDumpPayload, verifyDumpPayload } from '../store/dump.js';
import type { Bytes, Entry, TypeName } from '../store/entry.js';
import { joinHll, markRegisterMerged, registersHash } from './hll-crdt.js';
import type { KeyCrdt } from './key-crdt.js';
import { isCounterRow, isUint, stateShapeError, type KeyStateItem } from './messages.js';
import { encodeStream, loadStream, mergeStream, streamStateError } from './stream-writes.js';
import { StreamValue } from '../store/stream.js';
import { ownString } from '../store/own-string.js';

/**
 * Between the keyspace and the wire: a key's current CRDT state as a
 * KeyState, and the merge of a KeyState received from a peer into the
 * local keyspace.
 */

/** Appends key's replicated state (live, hidden or tombstone) to out, if it has one. */
export function pushState(out: KeyStateItem[], crdt: KeyCrdt, db: Database, key: string): void {
  const s = stateOf(crdt, db, key);
  if (s !== null) out.push([db.id, key, s]);
}

/** The state of key in db as peers should see it; null if this node knows nothing of it. */
export function stateOf(crdt: KeyCrdt, db: Database, key: string): KeyState | null {
  const e = db.keys.get(key);
  if (e !== undefined && e.crdt !== null) return liveState(crdt, e, e.crdt);
  const hidden = crdt.hidden[db.id]!.get(key);
  if (hidden !== undefined) return liveState(crdt, hidden, hidden.crdt!);
  const tomb = crdt.tombstones[db.id]!.get(key);
  return tomb === undefined ? null : tombState(tomb);
}

export function tombState(tomb: Tombstone): KeyState {
  return { ts: tomb.ts, o: tomb.origin, g: tomb.gen, d: tomb.deletedAt };
}

export function liveState(crdt: KeyCrdt, e: Entry, meta: KeyMeta): KeyState {
  const s: KeyState = { ts: meta.ts, o: meta.origin, g: meta.gen, t: e.type, v: encodeValue(crdt, e, meta), x: meta.epoch, e: e.expireAt };
  // A state can outlive this step (the outbox's, until sealed) while the key's rows are raised in place.
  if (meta.counters !== null) s.c = copyRows(meta.counters);
  if (meta.registersHash !== 0) s.h = 1;
  return s;
}

function encodeValue(crdt: KeyCrdt, e: Entry, meta: KeyMeta): string | Uint8Array | ElementState[] {
  if (e.type === 'string') return meta.counters !== null ? meta.base : (e.value as string | Buffer);
  if (isContainer(e)) return elementStates(meta, elementsOf(e, crdt.containers.limits));
  if (e.type === 'list') return elemStates(listMetaOf(meta)) as unknown as ElementState[];
  if (e.type === 'stream') return encodeStream(meta, e.value as StreamValue) as unknown as ElementState[];
  const payload = createDumpPayload(e.type, e.value, false);
  if (payload === null) throw new Error(`no codec for type ${e.type}`);
  return payload;
}

const TYPES = new Set<string>(['string', 'list', 'set', 'zset', 'hash', 'stream']);

function isElementState(x: unknown): boolean {
  if (!Array.isArray(x) || x.length !== 6) return false;
  const [name, ts, origin, g, value, counters] = x as unknown[];
  if (typeof name !== 'string' || !isUint(ts) || typeof origin !== 'string' || !isUint(g)) return false;
  if (value !== null && typeof value !== 'string') return false;
  return counters === null || (Array.isArray(counters) && counters.every(isCounterRow));
}

/** Why a remote state was refused (hostile or corrupt input); null when it is acceptable. */
export function invalidState(s: KeyState): string | null {
  return stateShapeError(s) ?? invalidContent(s);
}

/** invalidState of a state whose shape was already checked (decodeStates does, for every item it returns). */
export function invalidContent(s: KeyState): string | null {
  if (!isDead(s)) {
    if (s.t === undefined || !TYPES.has(s.t)) return 'unknown type';
    if (s.t === 'hash' || s.t === 'set' || s.t === 'zset') return Array.isArray(s.v) && s.v.every(isElementState) ? null : 'bad elements';
    if (s.t === 'list') return Array.isArray(s.v) && s.v.every(isListElemState) ? null : 'bad list elements';
    if (s.t === 'stream') return streamStateError(s.v);
    if (typeof s.v !== 'string' && !(s.v instanceof Uint8Array)) return 'bad value';
    if (s.t !== 'string' && (typeof s.v === 'string' || !verifyDumpPayload(Buffer.from(s.v.buffer, s.v.byteOffset, s.v.byteLength)))) return 'bad payload';
  }
  return null;
}

/**
 * Merges a remote state of key into db. Returns the keyspace event that
 * the change amounts to ('set', 'del', 'incrby', 'expire'...) or null when
 * the local state already dominated it. The caller validated s.
 */
export function applyState(crdt: KeyCrdt, db: Database, key: string, s: KeyState): string | null {
  const hidden = crdt.hidden[db.id]!.size === 0 ? undefined : crdt.hidden[db.id]!.get(key);
  if (hidden !== undefined) return applyToHidden(crdt, db, hidden, s);
  const e = db.keys.get(key);
  const live = e !== undefined && e.crdt !== null ? e.crdt : null;
  const tombs = crdt.tombstones[db.id]!;
  const tomb = live !== null || tombs.size === 0 ? undefined : tombs.get(key);
  let order: number;
  if (live !== null) order = compareVersion(s.ts, s.o, s.g, live.ts, live.origin, live.gen);
  else if (tomb !== undefined) order = compareVersion(s.ts, s.o, s.g, tomb.ts, tomb.origin, tomb.gen);
  // A tombstone this node already collected (or one older than what every peer
  // is known to hold) comes back from a peer that has not collected it yet:
  // taking it again would bounce it between peers forever.
  else if (isDead(s) && (s.d ?? 0) < crdt.collectedBefore) return null;
  else order = 1;
  // Two replicas can revive one tombstone as different types at once (INCR here, HSET there): same version, so the type name decides.
  if (order === 0 && live !== null && !isDead(s) && s.t !== e!.type) order = s.t! > e!.type ? 1 : -1;
  if (order < 0) return null;
  // The key is kept (a new entry, a tombstone): a copy of its own, not a slice of the message's keys (wire.ts).
  if (order > 0 && (e === undefined || isDead(s))) key = ownString(key);
  return asRemote(crdt, () => {
    if (order > 0) return isDead(s) ? replaceWithTombstone(crdt, db, key, e, s, null) : replaceLive(crdt, db, key, e, tomb, s, null);
    return isDead(s) ? mergeTombstone(tomb!, s) : mergeLive(crdt, db, e!, s);
  });
}

function asRemote<T>(crdt: KeyCrdt, fn: () => T): T {
  crdt.applyingRemote = true;
  try {
    return fn();
  } finally {
    crdt.applyingRemote = false;
  }
}

/**
 * A state for a key whose collection this node emptied (kept aside, see
 * KeyCrdt.hidden): a newer state replaces it; the same version merges into
 * it, and the key comes back if the merge gave it elements.
 */
function applyToHidden(crdt: KeyCrdt, db: Database, h: Entry, s: KeyState): string | null {
  const m = h.crdt!;
  let order = compareVersion(s.ts, s.o, s.g, m.ts, m.origin, m.gen);
  if (order === 0 && !isDead(s) && s.t !== h.type) order = s.t! > h.type ? 1 : -1;
  if (order < 0) return null;
  return asRemote(crdt, () => {
    if (order > 0) {
      crdt.hidden[db.id]!.delete(h.key);
      return isDead(s) ? replaceWithTombstone(crdt, db, h.key, undefined, s, m.digest) : replaceLive(crdt, db, h.key, undefined, undefined, s, m.digest);
    }
    const oldDigest = m.digest;
    if (!mergeCollection(crdt, h, s)) return null;
    crdt.redigest(db, h, oldDigest);
    if (isEmptyCollection(h)) return null;
    crdt.hidden[db.id]!.delete(h.key);
    db.adopt(h);
    if (isContainer(h)) crdt.containers.attach(h);
    return MERGE_EVENTS[h.type]!;
  });
}

function replaceWithTombstone(crdt: KeyCrdt, db: Database, key: string, e: Entry | undefined, s: KeyState, registered: number | null): string {
  const oldDigest = registered ?? (e !== undefined && e.crdt !== null ? e.crdt.digest : 0);
  if (e !== undefined) db.delete(key);
  crdt.setTombstone(db, key, new Tombstone(s.ts, s.o, s.g, s.d ?? 0, crdt.stampAbove(0)), oldDigest);
  return 'del';
}

function replaceLive(crdt: KeyCrdt, db: Database, key: string, e: Entry | undefined, tomb: Tombstone | undefined, s: KeyState, registered: number | null): string {
  const value = decodeValue(crdt, s);
  const oldDigest = registered ?? (e !== undefined && e.crdt !== null ? e.crdt.digest : tomb !== undefined ? tomb.digest : 0);
  if (e === undefined) {
    e = db.add(key, s.t as TypeName, value);
  } else {
    e.type = s.t as TypeName;
    e.value = value;
  }
  const meta = e.crdt ?? new KeyMeta(s.ts, s.o, s.g);
  meta.ts = s.ts;
  meta.origin = s.o;
  meta.gen = s.g;
  meta.epoch = s.x ?? 0;
  meta.counters = null;
  meta.base = '';
  if (s.c !== undefined && s.c.length > 0) {
    meta.counters = s.c;
    meta.base = s.v as string;
    e.value = counterValue(meta.base, meta.counters);
  }
  e.crdt = meta;
  meta.registersHash = 0;
  // A stream replaced by another type leaves no stream state (nor its digest) behind.
  if (meta.stream !== null && s.t !== 'stream') (meta.stream = null), (meta.elementsDigest = 0);
  if (s.h === 1) markRegisterMerged(meta, e.value as Bytes);
  if (isContainer(e)) {
    loadElements(meta, elementsOf(e, crdt.containers.limits), s.v as ElementState[], crdt.stampAbove(0));
    crdt.containers.attach(e);
  } else if (e.type === 'list') {
    meta.list = null;
    meta.elementsDigest = 0;
    mergeListElems(meta, e, s.v as unknown as ListElemState[], crdt.stampAbove(0), crdt.collectedBefore);
  } else if (e.type === 'stream') {
    loadStream(meta, e.value as StreamValue, s.v, crdt.stampAbove(0), crdt.containers.limits.stream);
  }
  setExpireAt(db, e, s.e ?? 0);
  if (tomb !== undefined) crdt.tombstones[db.id]!.delete(key);
  crdt.redigest(db, e, oldDigest);
  if (isEmptyCollection(e)) return emptied(crdt, db, e);
  return 'set';
}

/** The keyspace event a merge of new elements amounts to, per type. */
const MERGE_EVENTS: Record<string, string> = { hash: 'hset', set: 'sadd', zset: 'zadd', list: 'rpush' };

function mergeCollection(crdt: KeyCrdt, e: Entry, s: KeyState): boolean {
  const meta = e.crdt!;
  if (e.type !== 'list') {
    const changed = mergeElements(meta, elementsOf(e, crdt.containers.limits), s.v as ElementState[], crdt.stampAbove(0), crdt.collectedBefore);
    const before = meta.elementsDigest;
    collectElementTombs(meta, crdt.collectedBefore);
    return changed || meta.elementsDigest !== before;
  }
  const changed = mergeListElems(meta, e, s.v as unknown as ListElemState[], crdt.stampAbove(0), crdt.collectedBefore);
  const before = meta.elementsDigest;
  collectListTombs(meta, crdt.collectedBefore);
  return changed || meta.elementsDigest !== before;
}


/**
 * A merge left a collection without elements: as in Redis the key goes, but
 * its CRDT state is kept aside (KeyCrdt.hidden), as the replicas whose own
 * commands emptied it keep theirs.
 */
function emptied(crdt: KeyCrdt, db: Database, e: Entry): string {
  crdt.hidden[db.id]!.set(e.key, e);
  db.delete(e.key);
  return 'del';
}

function mergeTombstone(tomb: Tombstone, s: KeyState): string | null {
  if (s.d !== undefined && s.d < tomb.deletedAt) tomb.deletedAt = s.d;
  return null;
}

/** Same live version on both sides: join the expire registers and the counters. */
function mergeLive(crdt: KeyCrdt, db: Database, e: Entry, s: KeyState): string | null {
  const meta = e.crdt!;
  const oldDigest = meta.digest;
  let event: string | null = null;
  if (compareExpire(s.x ?? 0, s.e ?? 0, meta.epoch, e.expireAt) > 0) {
    meta.epoch = s.x ?? 0;
    setExpireAt(db, e, s.e ?? 0);
    event = s.e === 0 ? 'persist' : 'expire';
  }
  if (e.type === 'stream') {
    if (mergeStream(meta, e.value as StreamValue, s.v, crdt.stampAbove(0), crdt.collectedBefore, crdt.containers.limits.stream)) event = 'xadd';
    if (event !== null) crdt.redigest(db, e, oldDigest);
    return event;
  }
  if (isContainer(e) || e.type === 'list') {
    if (mergeCollection(crdt, e, s)) event = MERGE_EVENTS[e.type]!;
    if (event !== null) crdt.redigest(db, e, oldDigest);
    return isEmptyCollection(e) ? emptied(crdt, db, e) : event;
  }
  if (s.h === 1 && meta.registersHash !== 0) {
    const joined = joinHll(e.value as Bytes, s.v as Bytes);
    if (joined !== null && registersHash(joined) !== meta.registersHash) {
      e.value = joined;
      markRegisterMerged(meta, joined);
      event = 'pfadd';
    }
  }
  const counters = joinCountersInPlace(meta.counters, s.c);
  if (counters !== null) {
    if (meta.counters === null) meta.base = s.v as string;
    meta.counters = counters;
    e.value = counterValue(meta.base, counters);
    event = 'incrby';
  }
  if (event !== null) crdt.redigest(db, e, oldDigest);
  return event;
}

function setExpireAt(db: Database, e: Entry, atMs: number): void {
  if (atMs === 0) db.removeExpire(e);
  else if (e.expireAt !== atMs) {
    if (e.expireAt !== 0) db.removeExpire(e);
    db.setExpire(e, atMs);
  }
}

function decodeValue(crdt: KeyCrdt, s: KeyState): unknown {
  if (s.t === 'string') return typeof s.v === 'string' ? s.v : Buffer.from(s.v as Uint8Array);
  // Elements arrive one by one (loadElements) into an empty container.
  if (s.t === 'hash') return new HashValue(s.ts % 0x7fffffff);
  if (s.t === 'set') return new SetValue(s.ts % 0x7fffffff);
  if (s.t === 'zset') return new ZSetValue(s.ts % 0x7fffffff);
  if (s.t === 'list') return new QuickList();
  // Entries and groups arrive as records (loadStream).
  if (s.t === 'stream') return new StreamValue();
  const v = s.v as Uint8Array;
  const loaded = loadDumpPayload(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  if (loaded === null || loaded.type !== s.t) throw new Error('undecodable payload');
  return loaded.value;
}
