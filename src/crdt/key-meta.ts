import type { ListMeta } from '../replication/list-crdt.js';
import type { StreamMeta } from '../replication/stream-writes.js';
import type { CounterRow } from './key-state.js';

/**
 * An HLC timestamp (below 2^53) is a double: as a field it would be a boxed
 * heap number, 16 bytes more per key and one more dependent memory load
 * before every version comparison. Versions keep it as two small integers.
 */
const STAMP_SPLIT = 2 ** 26;

/** Fields only some versions use (counters): kept apart so a plain one does not carry them. */
class CounterFields {
  counters: CounterRow[] | null = null;
  base = '';
}

/**
 * A version (HLC timestamp, origin node id, generation: even live, odd
 * removed) with its Merkle digest, and counters kept in a side object made
 * on the first write of such a field. The accessors keep the shape callers
 * see: reading a field nobody wrote gives its default, and writing a
 * default where there is no side object makes none.
 */
abstract class Version<Extra extends CounterFields> {
  private tsHigh = 0;
  private tsLow = 0;
  /** This version's contribution to its Merkle digest (see replication/merkle.ts). */
  digest = 0;
  protected extra: Extra | null = null;

  constructor(
    ts: number,
    public origin: string,
    public gen: number,
  ) {
    this.ts = ts;
  }

  get ts(): number {
    return this.tsHigh * STAMP_SPLIT + this.tsLow;
  }

  set ts(ts: number) {
    // `| 0`: an int32 result, so the fields stay small integers (a double stored once would box them all).
    const high = Math.floor(ts / STAMP_SPLIT) | 0;
    this.tsHigh = high;
    this.tsLow = (ts - high * STAMP_SPLIT) | 0;
  }

  protected abstract newExtra(): Extra;

  protected get ext(): Extra {
    return (this.extra ??= this.newExtra());
  }

  /** Increments on this version, sorted by origin; null for a plain value. */
  get counters(): CounterRow[] | null {
    return this.extra === null ? null : this.extra.counters;
  }

  set counters(rows: CounterRow[] | null) {
    if (rows !== null || this.extra !== null) this.ext.counters = rows;
  }

  /** The value the counters add to (the version's own value). */
  get base(): string {
    return this.extra === null ? '' : this.extra.base;
  }

  set base(value: string) {
    if (value !== '' || this.extra !== null) this.ext.base = value;
  }
}

/** What a key's collection needs besides counters (a counter alone keeps a CounterFields). */
class KeyFields extends CounterFields {
  elementTombs: Map<string, ElementMeta> | null = null;
  elementsDigest = 0;
  registersHash = 0;
  list: ListMeta | null = null;
  stream: StreamMeta | null = null;
}

/**
 * The CRDT metadata a replicated node keeps on each live entry (see
 * key-state.ts for the semantics). Only nodes with peers carry it: a
 * stand-alone node leaves Entry.crdt null and pays nothing. A plain string
 * key's is seven small fields; what collections, HyperLogLogs and counters
 * need is on the side (bench/memory-per-key.mjs: 304 -> 248 bytes per
 * replicated key against every field inline and the timestamp boxed).
 */
export class KeyMeta extends Version<CounterFields> {
  /** Expire register epoch on this version. */
  epoch = 0;

  /** A counter's side object holds its two fields only; a collection field's write widens it. */
  protected newExtra(): CounterFields {
    return new CounterFields();
  }

  private get keyExt(): KeyFields {
    const extra = this.extra;
    if (extra instanceof KeyFields) return extra;
    const wide = new KeyFields();
    if (extra !== null) (wide.counters = extra.counters), (wide.base = extra.base);
    this.extra = wide;
    return wide;
  }

  private get keyFields(): KeyFields | null {
    const extra = this.extra;
    return extra instanceof KeyFields ? extra : null;
  }

  /** Hashes and sets: removed elements still to be seen by every replica. */
  get elementTombs(): Map<string, ElementMeta> | null {
    return this.keyFields?.elementTombs ?? null;
  }

  set elementTombs(tombs: Map<string, ElementMeta> | null) {
    if (tombs !== null || this.keyFields !== null) this.keyExt.elementTombs = tombs;
  }

  /** Collections: the XOR of all element digests (a stream's whole digest). */
  get elementsDigest(): number {
    return this.keyFields?.elementsDigest ?? 0;
  }

  set elementsDigest(digest: number) {
    if (digest !== 0 || this.keyFields !== null) this.keyExt.elementsDigest = digest;
  }

  /** HyperLogLogs written by PFADD/PFMERGE: the hash of their registers (they merge register-wise); 0 otherwise. */
  get registersHash(): number {
    return this.keyFields?.registersHash ?? 0;
  }

  set registersHash(hash: number) {
    if (hash !== 0 || this.keyFields !== null) this.keyExt.registersHash = hash;
  }

  /** Lists: the sequence CRDT's elements (replication/list-crdt.ts). */
  get list(): ListMeta | null {
    return this.keyFields?.list ?? null;
  }

  set list(list: ListMeta | null) {
    if (list !== null || this.keyFields !== null) this.keyExt.list = list;
  }

  /** Streams: entry removals, groups, counters (replication/stream-writes.ts); elementsDigest holds its digest. */
  get stream(): StreamMeta | null {
    return this.keyFields?.stream ?? null;
  }

  set stream(stream: StreamMeta | null) {
    if (stream !== null || this.keyFields !== null) this.keyExt.stream = stream;
  }
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

class ElementFields extends CounterFields {
  heldSince = 0;
  removedAt = 0;
}

/**
 * One element of a replicated hash or set (a field, a member): the same
 * version-and-counters register a key has (crdt/key-state.ts), one level
 * down. Live elements keep it on their structure node's `meta`; removed ones
 * in their container's `elementTombs` (odd gen). A live element without
 * counters is five small fields (bench/memory-per-element.mjs).
 */
export class ElementMeta extends Version<ElementFields> {
  protected newExtra(): ElementFields {
    return new ElementFields();
  }

  /** Removed elements: HLC since which this node holds the removal (collection, as key tombstones). */
  get heldSince(): number {
    return this.extra === null ? 0 : this.extra.heldSince;
  }

  set heldSince(hlc: number) {
    if (hlc !== 0 || this.extra !== null) this.ext.heldSince = hlc;
  }

  /** Removed elements: HLC of the removal (the earliest known), so a collected removal is not taken back from a peer. */
  get removedAt(): number {
    return this.extra === null ? 0 : this.extra.removedAt;
  }

  set removedAt(hlc: number) {
    if (hlc !== 0 || this.extra !== null) this.ext.removedAt = hlc;
  }
}
