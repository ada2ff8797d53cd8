import type { KeyMeta } from '../crdt/key-meta.js';
import type { DictNode } from './dict.js';

/** Redis type names as TYPE reports them. */
export type TypeName = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream';

/** A string value: latin1 text (compact, immutable) or bytes once mutated in place (SETRANGE, SETBIT). */
export type Bytes = string | Buffer;

/**
 * One key of the keyspace. The dict chains through `next`; everything a later
 * merge or eviction needs hangs off this one object.
 */
export class Entry implements DictNode<Entry> {
  // Declared in the order V8 lays them out: what a lookup reads (key, hash,
  // next) shares the object's first cache line.
  key: string;
  hash = 0;
  next: Entry | null = null;
  type: TypeName;
  value: unknown;
  /** Unix ms at which the key expires; 0 when it has no TTL. */
  expireAt = 0;
  /**
   * Last access (OBJECT IDLETIME, LRU, LFU decay) in whole seconds since
   * ACCESS_EPOCH_MS, Redis's LRU clock resolution. A small integer, so V8
   * stores it inside the object: a millisecond timestamp would be a heap
   * number, and every read command would allocate a new one (measured: GET
   * on 100k keys spent 5% of its time scavenging them).
   */
  accessedSec: number;
  /** Logarithmic access counter (OBJECT FREQ, LFU), as Redis's 8-bit counter. */
  lfu = 5;
  /** CRDT version, counters and expire epoch; null on a node without peers. */
  crdt: KeyMeta | null = null;

  constructor(key: string, type: TypeName, value: unknown, nowMs: number) {
    this.key = key;
    this.type = type;
    this.value = value;
    this.accessedSec = accessSec(nowMs);
  }
}

/** Base of Entry.accessedSec (2020-01-01T00:00:00Z): int31 seconds reach past 2080. */
export const ACCESS_EPOCH_MS = 1_577_836_800_000;

/** Entry.accessedSec for a Unix ms time. */
export function accessSec(nowMs: number): number {
  return Math.floor((nowMs - ACCESS_EPOCH_MS) / 1000);
}

/** Whole seconds between an access and nowMs (OBJECT IDLETIME, LRU age). */
export function idleSec(e: Entry, nowMs: number): number {
  return Math.max(0, accessSec(nowMs) - e.accessedSec);
}

/** Latin1 text of a string value. */
export function bytesToString(v: Bytes): string {
  return typeof v === 'string' ? v : v.latin1Slice(0, v.length);
}
