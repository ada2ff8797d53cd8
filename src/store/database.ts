import type { SlotKeys } from '../cluster/slot-keys.js';
import { Dict, type DictNode } from './dict.js';
import { accessSec, Entry, type Bytes, type TypeName } from './entry.js';
import { lfuDecayed, lfuIncremented } from './lfu.js';

/** What the keyspace tells the rest of the node (WATCH, notifications, replication, stats). */
export interface KeyspaceListener {
  /**
   * A command changed a key (signalModifiedKey + notifyKeyspaceEvent):
   * `event` is Redis's keyspace event name ("set", "del", "expire"...).
   */
  keyWritten(db: Database, key: string, event: string): void;
  /** A key expired (lazily or by the active cycle) and was removed; e is the entry it had. */
  keyExpired(db: Database, key: string, e: Entry): void;
  /** A key was added (dbAdd: the "new" keyspace event). */
  keyCreated(db: Database, key: string): void;
}

/**
 * What replication hooks into the keyspace (null on a node without peers):
 * a removed entry leaves a tombstone, a flush leaves a flush record.
 */
export interface KeyCrdtHooks {
  /** Called before `e` leaves the keyspace (DEL, expiry, overwrite by RENAME...). */
  deleting(db: Database, e: Entry): void;
  /** Called before every key of db is removed (FLUSHDB/FLUSHALL). */
  flushing(db: Database): void;
  /**
   * INCR family on e: the increment joins this node's counter on the key's
   * version; returns the value every replica computes for the new state.
   */
  incremented(db: Database, e: Entry, prev: Bytes | undefined, incr: bigint | number, floatIncr: number): string | null;
  /** Called after SWAPDB exchanged the contents of a and b. */
  swapped(a: Database, b: Database): void;
}

class ExpireNode implements DictNode<ExpireNode> {
  next: ExpireNode | null = null;
  hash = 0;
  constructor(
    public key: string,
    public entry: Entry,
  ) {}
}

/** The clock as the keyspace sees it: frozen for the duration of one command. */
export interface CommandClock {
  /** Unix ms used for expiry decisions in the running command. */
  nowMs(): number;
  /** True where expired keys must not be deleted on access (a replica, a paused node). */
  readonly expiryPaused: boolean;
}

/** One of the 16 (configurable) databases: keys, their TTLs and the stats INFO reports. */
export class Database {
  keys: Dict<Entry>;
  expires: Dict<ExpireNode>;
  /** Average TTL estimate reported by INFO keyspace (avg_ttl), as Redis maintains it. */
  avgTtlMs = 0;
  /** lfu-log-factor and lfu-decay-time (the server keeps them in sync with its config). */
  lfuLogFactor = 10;
  /** Only an LFU maxmemory policy tracks access frequency (as Redis); otherwise reads just stamp the LRU time. */
  lfuEnabled = false;
  lfuDecayMinutes = 1;
  /**
   * The entry the running command last looked up or added: the write path
   * (written(), replication) asks for the same key again right after, and a
   * second dict lookup is a cache miss on a large keyspace. Cleared whenever
   * that entry leaves the dict.
   */
  private recent: Entry | null = null;
  /** Replication's hooks; null on a node without peers. */
  crdt: KeyCrdtHooks | null = null;
  /** Keys by hash slot (database 0 in cluster mode); null otherwise. */
  slotKeys: SlotKeys | null = null;
  /** xorshift32 state for the LFU counter's probabilistic increment (seeded, deterministic). */
  private rngState: number;

  constructor(
    public id: number,
    private readonly seed: number,
    private readonly clock: CommandClock,
    private readonly listener: KeyspaceListener,
  ) {
    this.keys = new Dict<Entry>(seed);
    this.expires = new Dict<ExpireNode>(seed ^ 0x5bd1e995);
    this.rngState = (seed ^ 0x2545f491) >>> 0 || 1;
  }

  get size(): number {
    return this.keys.size;
  }

  get expiresCount(): number {
    return this.expires.size;
  }

  /** The live entry for key, expiring it first if its time has come. Does not touch LRU. */
  lookup(key: string): Entry | undefined {
    const e = this.keys.get(key);
    if (e === undefined) return undefined;
    this.recent = e;
    if (e.expireAt !== 0 && this.clock.nowMs() > e.expireAt && !this.clock.expiryPaused) {
      this.expireEntry(e);
      return undefined;
    }
    return e;
  }

  /** lookup() + records the access for OBJECT IDLETIME/FREQ. */
  lookupTouch(key: string): Entry | undefined {
    const e = this.lookup(key);
    if (e !== undefined) this.touch(e);
    return e;
  }

  /** Records an access: the LFU counter (decay, then maybe +1) and the access time (LRU). */
  touch(e: Entry): void {
    const now = accessSec(this.clock.nowMs());
    if (!this.lfuEnabled) {
      e.accessedSec = now;
      return;
    }
    const counter = lfuDecayed(e.lfu, e.accessedSec, now, this.lfuDecayMinutes);
    e.lfu = lfuIncremented(counter, this.lfuLogFactor, this.nextRandom());
    e.accessedSec = now;
  }

  /** The LFU counter as OBJECT FREQ reports it (decayed, not stored). */
  frequency(e: Entry): number {
    return lfuDecayed(e.lfu, e.accessedSec, accessSec(this.clock.nowMs()), this.lfuDecayMinutes);
  }

  /** A uniform draw in [0, 1) (xorshift32). */
  private nextRandom(): number {
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 4294967296;
  }

  /**
   * True if the key is logically expired (keyIsExpired: strictly past its
   * time), whether or not this node may delete it yet.
   */
  isExpired(e: Entry): boolean {
    return e.expireAt !== 0 && this.clock.nowMs() > e.expireAt;
  }

  /** Adds a key that must not exist. */
  add(key: string, type: TypeName, value: unknown): Entry {
    const e = new Entry(key, type, value, this.clock.nowMs());
    this.keys.add(e);
    this.recent = e;
    if (this.slotKeys !== null) this.slotKeys.added(key);
    this.listener.keyCreated(this, key);
    return e;
  }

  /** The entry stored under key, expired or not (no expiry check): the recent one when it is that key. */
  entryAt(key: string): Entry | undefined {
    const r = this.recent;
    return r !== null && r.key === key ? r : this.keys.get(key);
  }

  /**
   * Stores value under key (setKey): overwrites any existing value and type,
   * clears the TTL unless keepTtl.
   */
  set(key: string, type: TypeName, value: unknown, keepTtl = false): Entry {
    const e = this.lookup(key);
    if (e === undefined) return this.add(key, type, value);
    e.type = type;
    e.value = value;
    e.accessedSec = accessSec(this.clock.nowMs());
    if (!keepTtl && e.expireAt !== 0) this.removeExpire(e);
    return e;
  }

  /**
   * Records an increment of a string counter (after the new value was
   * stored): with replication and a float increment, returns the value all
   * replicas agree on, which the caller stores and replies; otherwise null
   * (an integer sum computed locally is already that value).
   */
  incremented(key: string, prev: Bytes | undefined, incr: bigint | number, floatIncr: number): string | null {
    if (this.crdt === null) return null;
    const e = this.entryAt(key);
    if (e === undefined) throw new Error('incremented: key was not stored');
    return this.crdt.incremented(this, e, prev, incr, floatIncr);
  }

  /**
   * Puts back an entry object that left the keyspace (replication keeps an
   * emptied collection's CRDT state aside and revives it when a merge gives
   * it elements again). The key must not exist.
   */
  adopt(e: Entry): void {
    const expireAt = e.expireAt;
    e.next = null;
    e.expireAt = 0;
    this.keys.add(e);
    this.recent = e;
    if (this.slotKeys !== null) this.slotKeys.added(e.key);
    if (expireAt !== 0) this.setExpire(e, expireAt);
  }

  /** Removes key; returns the removed entry. */
  delete(key: string): Entry | undefined {
    if (this.crdt !== null) {
      const live = this.entryAt(key);
      if (live !== undefined) this.crdt.deleting(this, live);
    }
    if (this.recent !== null && this.recent.key === key) this.recent = null;
    const e = this.keys.delete(key);
    if (e !== undefined && this.slotKeys !== null) this.slotKeys.removed(key);
    if (e !== undefined && e.expireAt !== 0) {
      this.expires.delete(key);
      e.expireAt = 0;
    }
    return e;
  }

  /**
   * Adds key with an optional expire time (0 = none): what COPY, RESTORE
   * and loaders need. The key must not exist.
   */
  addWithExpire(key: string, type: TypeName, value: unknown, expireAt: number): Entry {
    const e = this.add(key, type, value);
    if (expireAt !== 0) this.setExpire(e, expireAt);
    return e;
  }

  /**
   * Moves entry `e` of this database to `dst` under `newKey` (RENAME within
   * one database, MOVE across two), replacing whatever `newKey` held there.
   * The value object, its TTL and its access statistics travel with it.
   */
  transfer(e: Entry, dst: Database, newKey: string): Entry {
    const expireAt = e.expireAt;
    this.delete(e.key);
    dst.delete(newKey);
    e.key = newKey;
    e.next = null;
    dst.keys.add(e);
    if (expireAt !== 0) dst.setExpire(e, expireAt);
    return e;
  }

  /** Sets an absolute expire time (ms) on an existing entry. */
  setExpire(e: Entry, atMs: number): void {
    if (e.expireAt === 0) this.expires.add(new ExpireNode(e.key, e));
    e.expireAt = atMs;
  }

  /** PERSIST: clears the TTL; returns false if there was none. */
  removeExpire(e: Entry): boolean {
    if (e.expireAt === 0) return false;
    this.expires.delete(e.key);
    e.expireAt = 0;
    return true;
  }

  /** Deletes an expired entry and tells the listener (notification, propagation). */
  expireEntry(e: Entry): void {
    this.delete(e.key);
    this.listener.keyExpired(this, e.key, e);
  }

  /**
   * Every write ends here: WATCH, client tracking, keyspace events, the dirty
   * counter and (with replication) the CRDT delta all hang off this call.
   */
  written(key: string, event: string): void {
    this.listener.keyWritten(this, key, event);
  }

  /**
   * A change to the whole database (FLUSHDB/FLUSHALL: "flushdb", SWAPDB:
   * "swapdb"): told to the listener with an empty key, so WATCH, tracking
   * and replication can react to it as a unit.
   */
  writtenAll(event: string): void {
    this.listener.keyWritten(this, '', event);
  }

  /** One SCAN step over the keys (Dict.scan's reverse-binary cursor). */
  scan(cursor: number, visit: (e: Entry) => void): number {
    return this.keys.scan(cursor, visit);
  }

  /** Dict.scanMany over the keys: up to `steps` buckets' entries appended to out. */
  scanMany(cursor: number, steps: number, out: Entry[]): number {
    return this.keys.scanMany(cursor, steps, out);
  }

  /** Moves up to `buckets` buckets of a pending rehash of the keys and expires tables; true while either has more. */
  rehash(buckets: number): boolean {
    const keys = this.keys.rehash(buckets);
    const expires = this.expires.rehash(buckets);
    return keys || expires;
  }

  /** Every entry (expired ones included: check isExpired). Do not add or delete keys while iterating. */
  entries(): IterableIterator<Entry> {
    return this.keys.values();
  }

  /**
   * One active-expire step (activeExpireCycle): samples keys with a TTL and
   * deletes the expired ones, at most `budget` samples. Returns
   * [sampled, expired] so the caller can decide whether to repeat.
   */
  activeExpireStep(budget: number, rand: (bound: number) => number): [number, number] {
    if (this.expires.size === 0 || this.clock.expiryPaused) return [0, 0];
    const now = this.clock.nowMs();
    const sample = this.expires.sample(budget, rand);
    let expired = 0;
    let ttlSum = 0;
    let ttlSamples = 0;
    for (const node of sample) {
      const e = node.entry;
      if (e.expireAt === 0 || e.key !== node.key) continue; // already gone this step
      if (now > e.expireAt) {
        this.expireEntry(e);
        expired++;
      } else {
        ttlSum += e.expireAt - now;
        ttlSamples++;
      }
    }
    if (ttlSamples > 0) {
      const avg = ttlSum / ttlSamples;
      // Running average, as Redis: give the new sample 2% weight.
      this.avgTtlMs = this.avgTtlMs === 0 ? avg : (this.avgTtlMs / 50) * 49 + avg / 50;
    }
    return [sample.length, expired];
  }

  /**
   * Removes every key; returns how many there were. The old tables are
   * dropped whole and left to the garbage collector, so flushing millions
   * of keys takes constant time (what FLUSHDB ASYNC promises).
   */
  clear(): number {
    const n = this.keys.size;
    this.recent = null;
    if (this.crdt !== null) this.crdt.flushing(this);
    this.keys = new Dict<Entry>(this.seed);
    this.expires = new Dict<ExpireNode>(this.seed ^ 0x5bd1e995);
    this.avgTtlMs = 0;
    if (this.slotKeys !== null) this.slotKeys.cleared();
    return n;
  }

  /** Exchanges contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    this.recent = null;
    other.recent = null;
    const mine = { keys: this.keys, expires: this.expires, avg: this.avgTtlMs };
    this.keys = other.keys;
    this.expires = other.expires;
    this.avgTtlMs = other.avgTtlMs;
    other.keys = mine.keys;
    other.expires = mine.expires;
    other.avgTtlMs = mine.avg;
  }

  /** Up to `count` random entries (expired ones included), from every key or only those with a TTL (eviction). */
  sampleEntries(count: number, rand: (bound: number) => number, withTtlOnly: boolean): Entry[] {
    if (withTtlOnly) return this.expires.sample(count, rand).map((n) => n.entry);
    return this.keys.sample(count, rand);
  }

  /**
   * A random live key (dbRandomKey): expired picks are deleted and another
   * is drawn, so this ends (every retry removes a key). Where expired keys
   * must be kept (expiryPaused), gives up after 100 expired picks and
   * returns the last one, as Redis does on a replica.
   */
  randomKey(rand: (bound: number) => number): string | null {
    let keptExpired = 0;
    for (;;) {
      const e = this.keys.random(rand);
      if (e === undefined) return null;
      if (!this.isExpired(e)) return e.key;
      if (this.clock.expiryPaused) {
        if (++keptExpired >= 100) return e.key;
        continue;
      }
      this.expireEntry(e);
    }
  }
}
