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
  next: Entry | null = null;
  /** Unix ms at which the key expires; 0 when it has no TTL. */
  expireAt = 0;
  /** Unix ms of the last access (OBJECT IDLETIME, LRU). */
  accessedAt: number;
  /** Logarithmic access counter (OBJECT FREQ, LFU), as Redis's 8-bit counter. */
  lfu = 5;
  /** CRDT version, counters and expire epoch; null on a node without peers. */
  crdt: KeyMeta | null = null;

  constructor(
    public key: string,
    public type: TypeName,
    public value: unknown,
    nowMs: number,
  ) {
    this.accessedAt = nowMs;
  }
}

/** Latin1 text of a string value. */
export function bytesToString(v: Bytes): string {
  return typeof v === 'string' ? v : v.latin1Slice(0, v.length);
}
