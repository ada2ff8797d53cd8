import { counterValue } from '../crdt/counter-value.js';
import { KeyMeta, Tombstone } from '../crdt/key-meta.js';
import { counterInt, counterIntWire, type CounterRow } from '../crdt/key-state.js';
import type { Database, KeyCrdtHooks } from '../store/database.js';
import type { Bytes, Entry } from '../store/entry.js';
import { ContainerCrdt } from './container-crdt.js';
import { isContainer, isEmptyCollection } from './elements.js';
import { markRegisterMerged } from './hll-crdt.js';
import { collectListTombs } from './list-crdt.js';
import { isListElementEvent, listWritten, type ListStamps } from './list-writes.js';
import { keyHash, MerkleSummary, mixCounters, mixHash, mixNumber, mixOrigin } from './merkle.js';
import { isStreamElementEvent, streamWritten } from './stream-writes.js';
import type { StreamValue } from '../store/stream.js';

/** Where version timestamps come from (the node's HLC). */
export interface StampSource {
  now(): number;
}

/** Told of every key whose state this node changed by its own write (the delta log listens). */
/** `event`: the keyspace event name of the write, replayed to peers' notifications. */
export type LocalChangeSink = (db: Database, key: string, event: string) => void;

/** Keyspace events that change a counter or the expire register instead of writing a new version. */
const COUNTER_EVENTS = new Set(['incrby', 'incrbyfloat']);
const EXPIRE_EVENTS = new Set(['expire', 'persist']);

/**
 * Turns the keyspace's writes into CRDT operations (semantics in
 * crdt/key-state.ts and docs/CRDT.md): every write stamps a new version,
 * INCR adds to this origin's counter, EXPIRE/PERSIST bump the expire epoch,
 * a delete leaves a tombstone. Keeps each database's tombstones and Merkle
 * summary current. Remote states are applied by state-apply.ts with
 * `applyingRemote` set, so they are not stamped again.
 */
export class KeyCrdt implements KeyCrdtHooks {
  /** Per database index. */
  readonly tombstones: Map<string, Tombstone>[] = [];
  readonly merkle: MerkleSummary[] = [];
  /**
   * Collections emptied by their last element's removal, per database: Redis
   * deletes the key, but the CRDT state stays (same version, removed
   * elements) so that elements another replica adds concurrently are merged
   * into it instead of being wiped by a delete. Still in the Merkle summary.
   */
  readonly hidden: Map<string, Entry>[] = [];
  /** Tombstones deleted before this HLC are collected here (every peer holds them or something newer). */
  collectedBefore = 0;
  /** True while a remote state is being applied: writes then are not this node's own. */
  applyingRemote = false;
  /** The element-level CRDT of hashes and sets. */
  readonly containers = new ContainerCrdt(this);
  /** Element ids for local list writes. */
  private readonly listStamps: ListStamps;

  constructor(
    readonly self: string,
    private readonly stamps: StampSource,
    dbCount: number,
    private readonly changed: LocalChangeSink,
  ) {
    this.listStamps = { stamp: () => this.stampAbove(0), self };
    for (let i = 0; i < dbCount; i++) {
      this.tombstones.push(new Map());
      this.merkle.push(new MerkleSummary());
      this.hidden.push(new Map());
    }
  }

  /** A stamp above `floor`, so a local write always wins over the state it replaces. */
  stampAbove(floor: number): number {
    const t = this.stamps.now();
    return t > floor ? t : floor + 1;
  }

  // ---- hooks from the keyspace -------------------------------------------

  /** Server.keyWritten: the key's value, counter or TTL changed by a local command. */
  written(db: Database, key: string, event: string): void {
    if (this.applyingRemote) return;
    if (key === '') return; // whole-database events: flush tombstoned each key, swapdb restamps (keys.ts)
    const e = db.entryAt(key);
    if (e !== undefined) {
      if (EXPIRE_EVENTS.has(event)) this.bumpExpire(db, e);
      else if (isContainer(e)) this.containerWritten(db, e, event);
      else if (e.type === 'list') this.listWritten(db, e, event);
      else if (e.type === 'stream') this.streamWritten(db, e, event);
      else if (event === 'pfadd') this.hllWritten(db, e);
      else if (!COUNTER_EVENTS.has(event)) this.restamp(db, e);
    }
    // The delta log holds what it is given for up to delta-log-entries writes: the entry's own key, not the command's copy of it.
    this.changed(db, e !== undefined ? e.key : key, event);
  }

  /**
   * A hash or set written by a command. One the command created joins the
   * key's bottom version (or the revival of its tombstone), as INCR does, so
   * the same hash created on two replicas merges field by field; element
   * writes keep the container's version; anything else (RENAME, *STORE,
   * RESTORE) is a new version of the whole value.
   */
  private containerWritten(db: Database, e: Entry, event: string): void {
    const fresh = e.crdt === null;
    const whole = !this.containers.isElementEvent(event);
    const continued = fresh && !whole && this.hiddenOfType(db, e);
    // A whole value (RESTORE, *STORE, ...) is a new version even on a fresh key: at the bottom
    // version it would lose to a peer's tombstone that this node has already collected.
    if (whole) this.restamp(db, e);
    const registered = this.continueVersion(db, e);
    this.containers.written(e, event, fresh, continued);
    this.redigest(db, e, registered);
  }

  /**
   * PFADD/PFMERGE: the key keeps its version (a new one joins the bottom or
   * revival version, as INCR) and replicas join registers (hll-crdt.ts).
   * A value that is not a valid HLL is written as any string.
   */
  private hllWritten(db: Database, e: Entry): void {
    const registered = this.continueVersion(db, e);
    const meta = e.crdt!;
    if (!markRegisterMerged(meta, e.value as Bytes)) {
      meta.digest = registered;
      return this.restamp(db, e);
    }
    this.redigest(db, e, registered);
  }

  /** A list written by a command: created ones join the bottom/revival version as hashes do; see list-writes.ts. */
  private listWritten(db: Database, e: Entry, event: string): void {
    const fresh = e.crdt === null;
    const elementEvent = isListElementEvent(event);
    const whole = (fresh && !this.hiddenOfType(db, e)) || !elementEvent;
    // As for hashes and sets: a whole value written by a command is a new version, fresh key or not.
    if (!elementEvent) this.restamp(db, e);
    const registered = this.continueVersion(db, e);
    listWritten(e.crdt!, e, event, whole, this.listStamps);
    collectListTombs(e.crdt!, this.collectedBefore);
    this.redigest(db, e, registered);
  }

  /**
   * A stream written by a command: stream commands keep its version (one
   * the command created joins the bottom/revival version, as a hash) and
   * become entry and group operations (stream-writes.ts); anything else
   * (RESTORE, RENAME, COPY) is a new version of the whole stream.
   */
  private streamWritten(db: Database, e: Entry, event: string): void {
    const fresh = e.crdt === null;
    const whole = !isStreamElementEvent(event);
    if (whole) this.restamp(db, e);
    const registered = this.continueVersion(db, e);
    streamWritten(e.crdt!, e.value as StreamValue, event, fresh && !whole, this);
    this.redigest(db, e, registered);
  }

  /** Whether an emptied collection of e's type is kept aside under e's key (e then continues it). */
  private hiddenOfType(db: Database, e: Entry): boolean {
    return this.hidden[db.id]!.get(e.key)?.type === e.type;
  }

  /**
   * Gives e (if this command created it) the version it continues (metaOf)
   * and returns the digest the Merkle summary holds for its key before the
   * write: the caller redigests against it.
   */
  private continueVersion(db: Database, e: Entry): number {
    if (e.crdt !== null) return e.crdt.digest;
    const registered = this.tombDigest(db, e.key);
    this.metaOf(db, e);
    this.tombstones[db.id]!.delete(e.key);
    return registered;
  }


  /** This node's counter row with an increment added (INCR family, HINCRBY). */
  addToRow(rows: CounterRow[], incr: bigint | number, floatIncr: number): CounterRow[] {
    return addToRow(rows, this.self, incr, floatIncr);
  }

  /** A key expired on this node: its tombstone was left by `deleting`. */
  expired(db: Database, key: string): void {
    if (!this.applyingRemote) this.changed(db, key, 'expired');
  }

  deleting(db: Database, e: Entry): void {
    if (isContainer(e)) {
      const registered = e.crdt?.digest ?? 0;
      this.containers.detach(e);
      if (e.crdt !== null && !this.applyingRemote) this.redigest(db, e, registered);
    }
    if (this.applyingRemote) return;
    if (e.crdt !== null && isEmptyCollection(e)) {
      this.hidden[db.id]!.set(e.key, e);
      return;
    }
    const meta = e.crdt;
    const ts = meta === null ? 0 : meta.ts;
    const origin = meta === null ? '' : meta.origin;
    const gen = meta === null ? 0 : meta.gen;
    const now = this.stamps.now();
    this.setTombstone(db, e.key, new Tombstone(ts, origin, gen + 1, now, now), meta === null ? 0 : meta.digest);
    // The entry object may live on under another key (RENAME, MOVE): it starts there without a version.
    e.crdt = null;
  }

  /** FLUSHDB/FLUSHALL under replication: an observed-remove of every key, so each gets a tombstone. */
  flushing(db: Database): void {
    for (const e of db.entries()) {
      this.deleting(db, e);
      this.changed(db, e.key, 'del');
    }
  }

  /**
   * SWAPDB under replication: each database's new keys are new versions
   * written there, and the keys it lost are deleted there (tombstones of the
   * versions it held). Both summaries are rebuilt.
   */
  swapped(a: Database, b: Database): void {
    if (this.applyingRemote) return;
    for (const [x, y] of [[a, b], [b, a]] as const) {
      for (const e of y.entries()) {
        if (x.keys.get(e.key) !== undefined) continue;
        const m = e.crdt;
        const now = this.stamps.now();
        const tomb = m === null ? new Tombstone(0, '', 1, now, now) : new Tombstone(m.ts, m.origin, m.gen + 1, now, now);
        this.tombstones[x.id]!.set(e.key, tomb);
        this.changed(x, e.key, 'del');
      }
    }
    for (const x of [a, b]) {
      for (const e of x.entries()) {
        this.restamp(x, e);
        this.changed(x, e.key, 'set');
      }
      this.rebuildSummary(x);
    }
  }

  /** Recomputes every digest of db and its Merkle summary from scratch. */
  rebuildSummary(db: Database): void {
    const summary = this.merkle[db.id]!;
    summary.clear();
    for (const e of db.entries()) {
      if (e.crdt === null) continue;
      e.crdt.digest = entryDigest(e);
      summary.update(e.key, 0, e.crdt.digest);
    }
    for (const [key, tomb] of this.tombstones[db.id]!) {
      tomb.digest = tombDigest(key, tomb);
      summary.update(key, 0, tomb.digest);
    }
    for (const [key, h] of this.hidden[db.id]!) summary.update(key, 0, h.crdt!.digest);
  }

  // ---- local operations ----------------------------------------------------

  /** A new version for e written by this node (SET family, in-place edits, RENAME/COPY targets...). */
  restamp(db: Database, e: Entry): void {
    const tombs = this.tombstones[db.id]!;
    const tomb = tombs.size === 0 ? undefined : tombs.get(e.key);
    const hiddenMap = this.hidden[db.id]!;
    const hidden = e.crdt === null && hiddenMap.size !== 0 ? hiddenMap.get(e.key) : undefined;
    if (hidden !== undefined) hiddenMap.delete(e.key);
    let meta = e.crdt;
    const oldDigest = meta !== null ? meta.digest : hidden !== undefined ? hidden.crdt!.digest : tomb !== undefined ? tomb.digest : 0;
    const floor = Math.max(meta === null ? 0 : meta.ts, tomb === undefined ? 0 : tomb.ts, hidden === undefined ? 0 : hidden.crdt!.ts);
    const ts = this.stampAbove(floor);
    if (meta === null) {
      meta = new KeyMeta(ts, this.self, 0);
      e.crdt = meta;
    } else {
      meta.ts = ts;
      meta.origin = this.self;
      meta.gen = 0;
      meta.epoch = 0;
      meta.counters = null;
      meta.base = '';
      meta.registersHash = 0;
    }
    if (tomb !== undefined) tombs.delete(e.key);
    this.redigest(db, e, oldDigest);
  }

  private bumpExpire(db: Database, e: Entry): void {
    const registered = this.continueVersion(db, e);
    e.crdt!.epoch++;
    this.redigest(db, e, registered);
  }

  /**
   * INCR family: adds to this origin's counter on the key's version. `prev`
   * is the value before the increment (undefined: the key was missing).
   * Returns the value every replica computes for the new state; null for an
   * integer increment, whose locally computed value is already exactly that.
   */
  incremented(db: Database, e: Entry, prev: Bytes | undefined, incr: bigint | number, floatIncr: number): string | null {
    const registered = this.continueVersion(db, e);
    const meta = e.crdt!;
    if (meta.counters === null) {
      meta.counters = [];
      meta.base = prev === undefined ? '0' : typeof prev === 'string' ? prev : prev.latin1Slice(0, prev.length);
    }
    meta.counters = addToRow(meta.counters, this.self, incr, floatIncr);
    this.redigest(db, e, registered);
    return floatIncr === 0 ? null : counterValue(meta.base, meta.counters);
  }

  /**
   * The metadata of e, creating it for a key this command just added without
   * a version: an INCR on a missing key works on the "revival" of the
   * tombstone it observed (or the bottom version of a never-written key), so
   * concurrent INCRs on replicas that saw the same thing add up.
   */
  private metaOf(db: Database, e: Entry): KeyMeta {
    if (e.crdt !== null) return e.crdt;
    const adopted = this.adoptHidden(db, e);
    if (adopted !== null) return (e.crdt = adopted);
    const tomb = this.tombstones[db.id]!.get(e.key);
    e.crdt = tomb === undefined ? new KeyMeta(0, '', 0) : new KeyMeta(tomb.ts, tomb.origin, tomb.gen + 1);
    return e.crdt;
  }

  /** The digest the Merkle summary holds for a key without a live entry: its hidden collection's, its tombstone's, or 0. */
  private tombDigest(db: Database, key: string): number {
    const hidden = this.hidden[db.id]!.get(key);
    if (hidden !== undefined) return hidden.crdt!.digest;
    const tomb = this.tombstones[db.id]!.get(key);
    return tomb === undefined ? 0 : tomb.digest;
  }

  /**
   * Takes key's hidden emptied collection out of the aside map. Returns its
   * metadata when e (a fresh entry of the same type) can continue it.
   */
  private adoptHidden(db: Database, e: Entry): KeyMeta | null {
    const map = this.hidden[db.id]!;
    if (map.size === 0) return null;
    const h = map.get(e.key);
    if (h === undefined) return null;
    map.delete(e.key);
    if (h.type === e.type) return h.crdt;
    // Another type on top of it: a new version above it, as a SET would be.
    return new KeyMeta(this.stampAbove(h.crdt!.ts), this.self, 0);
  }

  // ---- digests -------------------------------------------------------------

  /** Recomputes e's digest and moves its Merkle leaf from oldDigest to it. */
  redigest(db: Database, e: Entry, oldDigest: number): void {
    const meta = e.crdt!;
    const hash = keyHash(e.key);
    meta.digest = entryDigest(e, hash);
    this.merkle[db.id]!.update(e.key, oldDigest, meta.digest, hash);
  }

  /** Installs a tombstone for key, replacing whatever digest the key had. */
  setTombstone(db: Database, key: string, tomb: Tombstone, oldDigest: number): void {
    const map = this.tombstones[db.id]!;
    const prev = map.get(key);
    const hash = keyHash(key);
    tomb.digest = tombDigest(key, tomb, hash);
    map.set(key, tomb);
    this.merkle[db.id]!.update(key, prev === undefined ? oldDigest : prev.digest, tomb.digest, hash);
  }

  /** Forgets a tombstone (collection once every peer has it). */
  dropTombstone(db: Database, key: string): void {
    const map = this.tombstones[db.id]!;
    const tomb = map.get(key);
    if (tomb === undefined) return;
    map.delete(key);
    this.merkle[db.id]!.update(key, tomb.digest, 0);
  }
}

/**
 * Adds an increment to origin's row, in place (see joinCountersInPlace: a
 * new array and row per INCR were young objects the keyspace kept). Rows
 * stay sorted by origin; a new origin's row makes a new array.
 */
function addToRow(rows: CounterRow[], origin: string, incr: bigint | number, floatIncr: number): CounterRow[] {
  let i = 0;
  while (i < rows.length && rows[i]![0] < origin) i++;
  let out = rows;
  let row = rows[i];
  if (row === undefined || row[0] !== origin) {
    row = [origin, 0, 0, 0, 0];
    out = rows.slice();
    out.splice(i, 0, row);
  }
  if (incr > 0) row[1] = addCount(row[1], incr);
  else if (incr < 0) row[2] = addCount(row[2], -incr);
  if (floatIncr > 0) row[3] += floatIncr;
  else if (floatIncr < 0) row[4] -= floatIncr;
  return out;
}

/** count + amount (both non-negative), exact: numbers while safe, bigint beyond. */
function addCount(count: number | string, amount: bigint | number): number | string {
  if (typeof count === 'number' && typeof amount === 'number') {
    const sum = count + amount;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return counterIntWire(counterInt(count) + BigInt(amount));
}

/** Digest of a live entry: its own state and, for a hash or set, its elements'. Never 0. `keyHashed`: keyHash(e.key). */
export function entryDigest(e: Entry, keyHashed = keyHash(e.key)): number {
  const meta = e.crdt!;
  return liveDigest(keyHashed, meta, e.expireAt) ^ meta.elementsDigest || 1;
}

/** Digest of a live key's CRDT state (the value is implied by the version), from keyHash of its name. Never 0. */
function liveDigest(keyHashed: number, meta: KeyMeta, expireAt: number): number {
  let h = mixHash(0x2f1e3d4c, keyHashed);
  h = mixNumber(h, meta.ts);
  h = mixOrigin(h, meta.origin);
  h = mixNumber(h, meta.gen);
  h = mixNumber(h, meta.epoch);
  h = mixNumber(h, expireAt);
  if (meta.registersHash !== 0) h = mixNumber(h, meta.registersHash);
  if (meta.counters !== null) h = mixCounters(h, meta.counters);
  return h === 0 ? 1 : h;
}

export function tombDigest(key: string, tomb: Tombstone, keyHashed = keyHash(key)): number {
  let h = mixHash(0x5a17c0de, keyHashed);
  h = mixNumber(h, tomb.ts);
  h = mixOrigin(h, tomb.origin);
  h = mixNumber(h, tomb.gen);
  return h === 0 ? 1 : h;
}
