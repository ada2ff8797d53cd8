import type { ListMeta } from '../replication/list-crdt.js';
import type { StreamMeta } from '../replication/stream-writes.js';
import type { CounterRow } from './key-state.js';

/**
 * The CRDT metadata a replicated node keeps on each live entry (see
 * key-state.ts for the semantics). Only nodes with peers carry it: a
 * stand-alone node leaves Entry.crdt null and pays nothing.
 */
export class KeyMeta {
  /** Expire register epoch on this version. */
  epoch = 0;
  /** Increments on this version, sorted by origin; null for a plain value. */
  counters: CounterRow[] | null = null;
  /** The value the counters add to (the version's own value). */
  base = '';
  /** This key's contribution to its Merkle bucket (see replication/merkle.ts). */
  digest = 0;
  /** Hashes and sets: removed elements still to be seen by every replica, and the XOR of all element digests. */
  elementTombs: Map<string, ElementMeta> | null = null;
  elementsDigest = 0;
  /** HyperLogLogs written by PFADD/PFMERGE: the hash of their registers (they merge register-wise); 0 otherwise. */
  registersHash = 0;
  /** Lists: the sequence CRDT's elements (replication/list-crdt.ts). */
  list: ListMeta | null = null;
  /** Streams: entry removals, groups, counters (replication/stream-writes.ts); elementsDigest holds its digest. */
  stream: StreamMeta | null = null;

  constructor(
    /** Version: HLC timestamp, origin node id, generation (even: live). */
    public ts: number,
    public origin: string,
    public gen: number,
  ) {}
}

/** A deleted key's version, kept until every replica has seen it. */
export class Tombstone {
  digest = 0;

  constructor(
    public ts: number,
    public origin: string,
    /** Odd: the generation of the live version it removed, plus one. */
    public gen: number,
    /** HLC of the delete (the earliest, when replicas deleted the same version on their own). */
    public deletedAt: number,
    /** HLC since which this node holds it: collected once every peer completed an anti-entropy round started after that. */
    public heldSince: number,
  ) {}
}

/**
 * One element of a replicated hash or set (a field, a member): the same
 * version-and-counters register a key has (crdt/key-state.ts), one level
 * down. Live elements keep it on their structure node's `meta`; removed ones
 * in their container's `elementTombs` (odd gen).
 */
export class ElementMeta {
  counters: CounterRow[] | null = null;
  base = '';
  digest = 0;
  /** Removed elements: HLC since which this node holds the removal (collection, as key tombstones). */
  heldSince = 0;
  /** Removed elements: HLC of the removal (the earliest known), so a collected removal is not taken back from a peer. */
  removedAt = 0;

  constructor(
    public ts: number,
    public origin: string,
    public gen: number,
  ) {}
}
