import { Dict, type DictNode } from './dict.js';
import { Entry, type TypeName } from './entry.js';

/** What the keyspace tells the rest of the node (WATCH, notifications, replication, stats). */
export interface KeyspaceListener {
  /**
   * A command changed a key (signalModifiedKey + notifyKeyspaceEvent):
   * `event` is Redis's keyspace event name ("set", "del", "expire"...).
   */
  keyWritten(db: Database, key: string, event: string): void;
  /** A key expired (lazily or by the active cycle) and was removed. */
  keyExpired(db: Database, key: string): void;
}

class ExpireNode implements DictNode<ExpireNode> {
  next: ExpireNode | null = null;
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

  constructor(
    public id: number,
    seed: number,
    private readonly clock: CommandClock,
    private readonly listener: KeyspaceListener,
  ) {
    this.keys = new Dict<Entry>(seed);
    this.expires = new Dict<ExpireNode>(seed ^ 0x5bd1e995);
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
    if (e.expireAt !== 0 && e.expireAt <= this.clock.nowMs() && !this.clock.expiryPaused) {
      this.expireEntry(e);
      return undefined;
    }
    return e;
  }

  /** lookup() + records the access for OBJECT IDLETIME/FREQ. */
  lookupTouch(key: string): Entry | undefined {
    const e = this.lookup(key);
    if (e !== undefined) e.accessedAt = this.clock.nowMs();
    return e;
  }

  /** True if the key exists and is logically expired (for replicas that keep it). */
  isExpired(e: Entry): boolean {
    return e.expireAt !== 0 && e.expireAt <= this.clock.nowMs();
  }

  /** Adds a key that must not exist. */
  add(key: string, type: TypeName, value: unknown): Entry {
    const e = new Entry(key, type, value, this.clock.nowMs());
    this.keys.add(e);
    return e;
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
    e.accessedAt = this.clock.nowMs();
    if (!keepTtl && e.expireAt !== 0) this.removeExpire(e);
    return e;
  }

  /** Removes key; returns the removed entry. */
  delete(key: string): Entry | undefined {
    const e = this.keys.delete(key);
    if (e !== undefined && e.expireAt !== 0) {
      this.expires.delete(key);
      e.expireAt = 0;
    }
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
    this.listener.keyExpired(this, e.key);
  }

  /**
   * Every write ends here: WATCH, client tracking, keyspace events, the dirty
   * counter and (with replication) the CRDT delta all hang off this call.
   */
  written(key: string, event: string): void {
    this.listener.keyWritten(this, key, event);
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
      if (e.expireAt <= now) {
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

  /** Removes every key; returns the entries removed (for lazy freeing). */
  clear(): number {
    const n = this.keys.size;
    this.keys.clear();
    this.expires.clear();
    this.avgTtlMs = 0;
    return n;
  }

  /** Exchanges contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    const mine = { keys: this.keys, expires: this.expires, avg: this.avgTtlMs };
    this.keys = other.keys;
    this.expires = other.expires;
    this.avgTtlMs = other.avgTtlMs;
    other.keys = mine.keys;
    other.expires = mine.expires;
    other.avgTtlMs = mine.avg;
  }

  /** A random live key (RANDOMKEY): skips and expires dead ones, bounded attempts. */
  randomKey(rand: (bound: number) => number): string | null {
    for (let attempt = 0; attempt < 100 && this.keys.size > 0; attempt++) {
      const e = this.keys.random(rand);
      if (e === undefined) return null;
      if (e.expireAt !== 0 && e.expireAt <= this.clock.nowMs()) {
        if (this.clock.expiryPaused) return e.key;
        this.expireEntry(e);
        continue;
      }
      return e.key;
    }
    return null;
  }
}
