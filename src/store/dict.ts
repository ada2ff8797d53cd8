/**
 * A chained hash table modelled on Redis's dict.c: power-of-two tables,
 * incremental rehashing spread over operations (so growing a table of millions
 * of keys never stalls the server), a SCAN cursor with Redis's guarantee (an
 * element present for the whole iteration is returned at least once, even
 * across resizes), and O(1) random sampling for RANDOMKEY, SPOP and the
 * active expire cycle.
 *
 * Nodes are the caller's own objects carrying `key` and `next`, so the
 * keyspace stores one object per key with no wrapper.
 */
export interface DictNode<N> {
  key: string;
  next: N | null;
  /**
   * The dict's hash of key (int32, set by the dict on insert). Compared before
   * the key itself: on a large table a chain neighbour's key string is a
   * cache miss, and rehashing moves nodes without reading their keys.
   */
  hash: number;
}

/** What KeyPrefetch reads ahead through, whatever the Dict's node type. */
export interface PrefetchTarget {
  hashBytes(buf: Uint8Array, start: number, end: number): number;
  bucketHead(h: number): { readonly key: string } | null;
  chainFind(head: { readonly key: string } | null, h: number): { readonly key: string } | null;
}

const INITIAL_SIZE = 4;
/** Buckets moved per operation while rehashing. */
const REHASH_STEP = 1;
/** Empty buckets visited per step before giving up (as dictRehash's empty_visits). */
const REHASH_EMPTY_VISITS = 10;

interface Table<N> {
  buckets: (N | null)[];
  mask: number;
  used: number;
}

function newTable<N>(size: number): Table<N> {
  return { buckets: new Array<N | null>(size).fill(null), mask: size - 1, used: 0 };
}

export class Dict<N extends DictNode<N>> implements PrefetchTarget {
  private t0: Table<N> = newTable(INITIAL_SIZE);
  private t1: Table<N> | null = null;
  /** Next bucket of t0 to move to t1, or -1 when not rehashing. */
  private rehashIdx = -1;
  /** Safe iterators/scans in progress pause shrinking (not growing). */
  private pauseRehash = 0;

  constructor(private readonly seed: number) {}

  get size(): number {
    return this.t0.used + (this.t1 ? this.t1.used : 0);
  }

  /** Number of buckets of the main table (for DEBUG HTSTATS-like introspection). */
  get bucketCount(): number {
    return this.t0.buckets.length + (this.t1 ? this.t1.buckets.length : 0);
  }

  hash(key: string): number {
    // Murmur3-style mixing over the key's bytes (latin1 chars), seeded per process
    // so that clients cannot choose colliding keys ahead of time.
    let h = this.seed ^ key.length;
    for (let i = 0; i < key.length; i++) h = mixByte(h, key.charCodeAt(i));
    return finishHash(h);
  }

  /** hash() of the latin1 string buf[start, end) would be, without making the string. */
  hashBytes(buf: Uint8Array, start: number, end: number): number {
    let h = this.seed ^ (end - start);
    for (let i = start; i < end; i++) h = mixByte(h, buf[i]!);
    return finishHash(h);
  }

  /**
   * Prefetch phase one (KeyPrefetch): the first node of hash h's bucket in
   * the main table. With chainFind, a read-ahead of what get() will read,
   * run phase by phase over a batch of keys so their misses overlap; a
   * hint, not a lookup (a 32-bit hash match is not a key match), and
   * read-only (no rehash step).
   */
  bucketHead(h: number): N | null {
    return this.t0.buckets[h & this.t0.mask] ?? null;
  }

  /** Prefetch phase two: the node with hash h in the chain from head (bucketHead's), or in the rehash target table. */
  chainFind(head: N | null, h: number): N | null {
    let n = head;
    while (n !== null && n.hash !== h) n = n.next;
    // While rehashing a key is in either table (moved, or added since).
    const t1 = this.t1;
    if (n === null && t1 !== null) n = t1.buckets[h & t1.mask] ?? null;
    while (n !== null && n.hash !== h) n = n.next;
    return n;
  }

  get(key: string): N | undefined {
    if (this.size === 0) return undefined;
    if (this.rehashIdx >= 0) this.rehashStep();
    const h = this.hash(key);
    let n = this.t0.buckets[h & this.t0.mask] ?? null;
    while (n !== null) {
      if (n.hash === h && n.key === key) return n;
      n = n.next;
    }
    if (this.t1 === null) return undefined;
    n = this.t1.buckets[h & this.t1.mask] ?? null;
    while (n !== null) {
      if (n.hash === h && n.key === key) return n;
      n = n.next;
    }
    return undefined;
  }

  /** Inserts a node whose key must not be present. */
  add(node: N): void {
    if (this.rehashIdx >= 0) this.rehashStep();
    else this.expandIfNeeded();
    const t = this.t1 ?? this.t0;
    const h = this.hash(node.key);
    node.hash = h;
    const idx = h & t.mask;
    node.next = t.buckets[idx] ?? null;
    t.buckets[idx] = node;
    t.used++;
  }

  /** Removes the node with this key; returns it, or undefined. */
  delete(key: string): N | undefined {
    if (this.size === 0) return undefined;
    if (this.rehashIdx >= 0) this.rehashStep();
    const h = this.hash(key);
    const found = this.unlinkFrom(this.t0, h, key) ?? (this.t1 ? this.unlinkFrom(this.t1, h, key) : undefined);
    if (found !== undefined && this.rehashIdx < 0) this.shrinkIfNeeded();
    return found;
  }

  private unlinkFrom(t: Table<N>, h: number, key: string): N | undefined {
    const idx = h & t.mask;
    let prev: N | null = null;
    let n = t.buckets[idx] ?? null;
    while (n !== null) {
      if (n.hash === h && n.key === key) {
        if (prev === null) t.buckets[idx] = n.next;
        else prev.next = n.next;
        n.next = null;
        t.used--;
        return n;
      }
      prev = n;
      n = n.next;
    }
    return undefined;
  }

  /** Replaces the node stored under node.key (which must be present) by node. */
  replace(node: N): void {
    const h = this.hash(node.key);
    node.hash = h;
    for (const t of this.t1 ? [this.t0, this.t1] : [this.t0]) {
      const idx = h & t.mask;
      let prev: N | null = null;
      let n = t.buckets[idx] ?? null;
      while (n !== null) {
        if (n.hash === h && n.key === node.key) {
          node.next = n.next;
          if (prev === null) t.buckets[idx] = node;
          else prev.next = node;
          n.next = null;
          return;
        }
        prev = n;
        n = n.next;
      }
    }
    throw new Error('Dict.replace: key not present');
  }

  clear(): void {
    this.t0 = newTable(INITIAL_SIZE);
    this.t1 = null;
    this.rehashIdx = -1;
  }

  *values(): IterableIterator<N> {
    for (const t of this.t1 ? [this.t0, this.t1] : [this.t0]) {
      for (let i = 0; i < t.buckets.length; i++) {
        let n = t.buckets[i] ?? null;
        while (n !== null) {
          const next: N | null = n.next;
          yield n;
          n = next;
        }
      }
    }
  }

  /** A snapshot of all nodes: safe to mutate the dict while walking it. */
  toArray(): N[] {
    const out: N[] = [];
    for (const n of this.values()) out.push(n);
    return out;
  }

  /**
   * One SCAN step (Redis's reverse-binary cursor). Calls visit for every node
   * of the bucket(s) at `cursor` and returns the next cursor (0 when done).
   */
  scan(cursor: number, visit: (node: N) => void): number {
    if (this.size === 0) return 0;
    this.pauseRehash++;
    try {
      if (this.t1 === null) {
        const t = this.t0;
        this.visitBucket(t, cursor & t.mask, visit);
        return nextCursor(cursor, t.mask);
      }
      // While rehashing, visit the small table's bucket and every bucket of
      // the large table that expands from it.
      let small = this.t0;
      let large = this.t1;
      if (small.buckets.length > large.buckets.length) [small, large] = [large, small];
      this.visitBucket(small, cursor & small.mask, visit);
      do {
        this.visitBucket(large, cursor & large.mask, visit);
        cursor = nextCursor(cursor, large.mask);
      } while (cursor & (small.mask ^ large.mask));
      return cursor;
    } finally {
      this.pauseRehash--;
    }
  }

  /**
   * scan() steps over up to `steps` buckets at once, appending their nodes
   * to out; returns the next cursor (0 when done). Successive buckets'
   * loads do not depend on each other, so in one tight loop their cache
   * misses overlap, where a call per bucket waits for each in turn (a
   * snapshot visits every bucket).
   */
  scanMany(cursor: number, steps: number, out: N[]): number {
    // While rehashing a step spans both tables: one scan() step does that.
    if (this.t1 !== null) return this.scan(cursor, (n) => void out.push(n));
    if (this.size === 0) return 0;
    const t = this.t0;
    const mask = t.mask;
    const buckets = t.buckets;
    for (let k = 0; k < steps; k++) {
      for (let n = buckets[cursor & mask] ?? null; n !== null; n = n.next) out.push(n);
      cursor = nextCursor(cursor, mask);
      if (cursor === 0) break;
    }
    return cursor;
  }

  private visitBucket(t: Table<N>, idx: number, visit: (node: N) => void): void {
    let n = t.buckets[idx] ?? null;
    while (n !== null) {
      const next: N | null = n.next;
      visit(n);
      n = next;
    }
  }

  /**
   * A random node (dictGetFairRandomKey: sample some, pick one), or
   * undefined when empty. A sample can come back empty while rehashing (its
   * walk may cover only buckets both tables have emptied); then, as Redis,
   * random buckets are drawn until a non-empty one.
   */
  random(rand: (bound: number) => number): N | undefined {
    if (this.size === 0) return undefined;
    const sample = randomSample as N[];
    const n = this.sampleInto(FAIR_SAMPLE_NODES, rand, sample);
    const node = n > 0 ? sample[rand(n)] : this.randomBucketNode(rand);
    sample.length = 0;
    return node;
  }

  /** dictGetRandomKey: a random non-empty bucket (the dict must not be empty), then a random node of its chain. */
  private randomBucketNode(rand: (bound: number) => number): N {
    const t0 = this.t0;
    const t1 = this.t1;
    // t0's buckets below rehashIdx were moved to t1: draw from the rest of t0 and all of t1.
    const skip = t1 === null ? 0 : this.rehashIdx;
    const span = t0.buckets.length - skip + (t1 === null ? 0 : t1.buckets.length);
    const at = (i: number): N | null => (i < t0.buckets.length ? t0.buckets[i] : t1!.buckets[i - t0.buckets.length]) ?? null;
    let i = skip + rand(span);
    let head = at(i);
    // Random draws find a non-empty bucket within a few tries on any table the
    // dict keeps; the bound makes a degenerate draw sequence walk on instead of spin.
    for (let tries = 1; head === null && tries < RANDOM_BUCKET_TRIES; tries++) head = at((i = skip + rand(span)));
    for (let k = 1; head === null && k <= span; k++) head = at(skip + ((i - skip + k) % span));
    if (head === null) throw new Error('Dict.randomBucketNode: no node in a non-empty dict');
    let length = 0;
    for (let n: N | null = head; n !== null; n = n.next) length++;
    let node = head;
    for (let k = rand(length); k > 0; k--) node = node.next!;
    return node;
  }

  /**
   * Up to `count` distinct nodes from consecutive buckets starting at a random
   * one (dictGetSomeKeys without its random jumps, so no bucket is visited
   * twice): cheap, not uniformly distributed, good for eviction and active
   * expiry. Returns min(count, size) nodes: the walk covers the table once at
   * most, and the table is never sparser than the shrink threshold.
   */
  sample(count: number, rand: (bound: number) => number): N[] {
    const out: N[] = [];
    // The walk can come back empty while a grow is rehashing (the new table's
    // upper half holds only what was moved yet): a random node then, so a
    // sample of a non-empty dict is never empty (eviction refused writes with
    // -OOM on such a draw, and without writes the rehash never went on).
    if (this.sampleInto(count, rand, out) === 0 && this.size > 0 && count > 0) out.push(this.randomBucketNode(rand));
    return out;
  }

  /**
   * sample() into out (its first entries; returns how many). In two phases:
   * the walk collects the heads of non-empty buckets (the bucket arrays are
   * read in order), then their chains are followed. The chain nodes are
   * scattered; followed in one tight loop their misses overlap instead of
   * each stalling the walk (SPOP on a large set spent two thirds of its time
   * here).
   */
  private sampleInto(count: number, rand: (bound: number) => number, out: N[]): number {
    const total = this.size;
    if (total === 0) return 0;
    if (count > total) count = total;
    if (this.rehashIdx >= 0) this.rehashStep();
    const t0 = this.t0;
    const t1 = this.t1;
    const maxMask = t1 !== null ? Math.max(t0.mask, t1.mask) : t0.mask;
    // As dictGetSomeKeys: at most count*10 buckets, so a sparse table (shrinking
    // as SPOP empties it) cannot make one sample walk thousands of empty buckets.
    const maxSteps = Math.min(maxMask, count * 10);
    const heads = sampleHeads as N[];
    let i = rand(maxMask + 1);
    for (let steps = 0; steps <= maxSteps && heads.length < count; steps++) {
      const a = i <= t0.mask ? (t0.buckets[i] ?? null) : null;
      if (a !== null) heads.push(a);
      const b = t1 !== null && i <= t1.mask ? (t1.buckets[i] ?? null) : null;
      if (b !== null) heads.push(b);
      i = (i + 1) & maxMask;
    }
    let n = 0;
    for (let h = 0; h < heads.length && n < count; h++) {
      for (let node: N | null = heads[h]!; node !== null && n < count; node = node.next) out[n++] = node;
    }
    heads.length = 0;
    out.length = n;
    return n;
  }

  private expandIfNeeded(): void {
    const t = this.t0;
    // Load factor 1 as Redis (dict_can_resize), forced at 5 when resizing is paused.
    if (t.used >= t.buckets.length) this.startRehash(nextPow2(t.used + 1));
  }

  private shrinkIfNeeded(): void {
    const t = this.t0;
    if (this.pauseRehash > 0) return;
    if (t.buckets.length > INITIAL_SIZE && t.used * 10 < t.buckets.length) {
      this.startRehash(Math.max(INITIAL_SIZE, nextPow2(t.used)));
    }
  }

  private startRehash(size: number): void {
    if (size === this.t0.buckets.length) return;
    if (this.t0.used === 0) {
      this.t0 = newTable(size);
      return;
    }
    this.t1 = newTable(size);
    this.rehashIdx = 0;
  }

  /** Moves REHASH_STEP buckets from t0 to t1 (dictRehash). */
  private rehashStep(): void {
    this.rehash(REHASH_STEP);
  }

  /** Rehashes up to n buckets; returns true while more remain (false while a SCAN step holds the tables still). */
  rehash(n: number): boolean {
    const t1 = this.t1;
    if (t1 === null || this.pauseRehash > 0) return false;
    const t0 = this.t0;
    let emptyVisits = n * REHASH_EMPTY_VISITS;
    while (n-- > 0 && t0.used > 0) {
      while (t0.buckets[this.rehashIdx] === null) {
        this.rehashIdx++;
        if (--emptyVisits === 0) return true;
      }
      let node = t0.buckets[this.rehashIdx] ?? null;
      while (node !== null) {
        const next: N | null = node.next;
        const idx = node.hash & t1.mask;
        node.next = t1.buckets[idx] ?? null;
        t1.buckets[idx] = node;
        t0.used--;
        t1.used++;
        node = next;
      }
      t0.buckets[this.rehashIdx] = null;
      this.rehashIdx++;
    }
    if (t0.used === 0) {
      this.t0 = t1;
      this.t1 = null;
      this.rehashIdx = -1;
      return false;
    }
    return true;
  }
}

/** One Murmur3 mixing step of hash() over a byte (a latin1 char code). */
function mixByte(h: number, byte: number): number {
  let k = Math.imul(byte, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Murmur3's finalizer; int32, so that nodes store the hash inline (a small integer) rather than boxed. */
function finishHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Random buckets randomBucketNode() draws before it walks on from the last one. */
const RANDOM_BUCKET_TRIES = 1000;
/** Nodes random() samples to pick one (Redis's GETFAIR_NUM_ENTRIES is 15). */
const FAIR_SAMPLE_NODES = 16;
/** Scratch of random() and sampleInto() (one runs at a time; emptied after use so no node is kept alive). */
const randomSample: unknown[] = [];
const sampleHeads: unknown[] = [];

/** Increments the reversed cursor (dictScan's v = rev(rev(v | ~mask) + 1)). */
function nextCursor(cursor: number, mask: number): number {
  let v = (cursor | ~mask) >>> 0;
  v = reverseBits(v);
  v = (v + 1) >>> 0;
  return reverseBits(v);
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

function nextPow2(n: number): number {
  let size = INITIAL_SIZE;
  while (size < n) size *= 2;
  return size;
}
