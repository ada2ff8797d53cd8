import type { CounterRow } from '../crdt/key-state.js';

/**
 * Merkle summary of one database for anti-entropy.
 *
 * Every key (live or tombstone) has a 32-bit digest of its CRDT state; a
 * leaf is the XOR of the digests of the keys that hash into it, so a write
 * updates one leaf in O(1) (leaf ^= old ^ new) and the summary never needs a
 * rebuild. Leaves group into GROUP_FANOUT-wide groups: replicas first
 * compare the group hashes, then the leaves of differing groups, then the
 * keys of differing leaves. XOR is order-independent, which is what lets
 * two replicas that applied the same states in different orders agree.
 */

export const LEAF_COUNT = 1024;
export const GROUP_FANOUT = 32;
export const GROUP_COUNT = LEAF_COUNT / GROUP_FANOUT;

/** FNV-1a over the key's UTF-16 code units: which leaf a key belongs to. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a over bytes (HyperLogLog registers). */
export function bytesHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function leafOf(key: string): number {
  return leafOfHash(keyHash(key));
}

/** leafOf with the key's keyHash already known. */
function leafOfHash(hash: number): number {
  return hash & (LEAF_COUNT - 1);
}

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

/** Mixes a number (its IEEE bits, so fractions count) into a running 32-bit hash. */
export function mixNumber(h: number, n: number): number {
  f64[0] = n;
  return mix32(mix32(h ^ f64Words[0]!) ^ f64Words[1]!);
}

export function mixString(h: number, s: string): number {
  return mixHash(h, keyHash(s));
}

/** mixString with the string's keyHash already known (a write hashes its key once, for its digest and its leaf). */
export function mixHash(h: number, stringHash: number): number {
  return mix32(h ^ stringHash);
}

/** Node ids are few and long (40 hex chars): their hashes are cached, within a bound. */
const originHashes = new Map<string, number>();
const MAX_CACHED_ORIGINS = 4096;

export function mixOrigin(h: number, origin: string): number {
  let oh = originHashes.get(origin);
  if (oh === undefined) {
    if (originHashes.size >= MAX_CACHED_ORIGINS) originHashes.clear();
    oh = keyHash(origin);
    originHashes.set(origin, oh);
  }
  return mix32(h ^ oh);
}

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

export class MerkleSummary {
  readonly leaves = new Int32Array(LEAF_COUNT);

  /** Replaces a key's digest (0 = the key is not there); `hash`: keyHash(key), when the caller has it. */
  update(key: string, oldDigest: number, newDigest: number, hash = keyHash(key)): void {
    if (oldDigest === newDigest) return;
    const leaf = leafOfHash(hash);
    this.leaves[leaf] = this.leaves[leaf]! ^ oldDigest ^ newDigest;
  }

  clear(): void {
    this.leaves.fill(0);
  }

  /** The group hashes: what a replica sends first. */
  groups(): number[] {
    const out = new Array<number>(GROUP_COUNT).fill(0);
    for (let i = 0; i < LEAF_COUNT; i++) out[(i / GROUP_FANOUT) | 0] ^= this.leaves[i]!;
    return out;
  }

  /** The leaves of one group. */
  groupLeaves(group: number): number[] {
    const from = group * GROUP_FANOUT;
    return Array.from(this.leaves.subarray(from, from + GROUP_FANOUT));
  }
}

/** Mixes counter rows into a digest (keys and hash fields / sorted-set members alike). */
export function mixCounters(h: number, rows: readonly CounterRow[]): number {
  for (const r of rows) {
    h = mixOrigin(h, r[0]);
    h = typeof r[1] === 'number' ? mixNumber(h, r[1]) : mixString(h, r[1]);
    h = typeof r[2] === 'number' ? mixNumber(h, r[2]) : mixString(h, r[2]);
    h = mixNumber(mixNumber(h, r[3]), r[4]);
  }
  return h;
}
