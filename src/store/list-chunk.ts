import { bulkBytes } from '../protocol/resp-bytes.js';

/** Elements per chunk at most. */
export const CHUNK_MAX = 128;
/**
 * Bytes (as RESP bulk strings) a chunk grows to by pushes and inserts
 * before the next element goes to a new chunk (Redis's default
 * list-max-listpack-size -2: 8 KB). A larger element pushed gets a chunk of
 * its own, as in Redis's plain nodes; LSET, and LINSERT into a chunk of one
 * element, may take a chunk past the limit (it stays bounded by CHUNK_MAX
 * elements).
 */
export const CHUNK_BYTES = 8 * 1024;

/** An element searched for (LREM, LPOS-style scans): its text, and its bytes once a packed chunk needs them. */
export class Needle {
  private asBytes: Buffer | null = null;
  constructor(readonly text: string) {}

  get bytes(): Buffer {
    return (this.asBytes ??= Buffer.from(this.text, 'latin1'));
  }
}

/**
 * One node of a list's doubly linked list of chunks, in one of two forms
 * behind the same methods: StringChunk (an array of strings: pushes and
 * pops cost nothing to encode) and PackedChunk (list-packed.ts: one buffer
 * of RESP bulk strings, so a range goes into a reply as one copy). Chunks
 * start as strings and are packed the first time a range is read from
 * them: queues never pay for encoding, and lists read by range pay once.
 */
export abstract class Chunk {
  prev: Chunk | null = null;
  next: Chunk | null = null;

  abstract get count(): number;
  /** Bytes the elements take as bulk strings (the chunk size limit counts these). */
  abstract get bytes(): number;
  /** Adds v (of bulkBytes(v.length) = size bytes, which the caller has for fits()) before the first element. */
  abstract pushHead(v: string, size: number): void;
  /** Adds v (size: as for pushHead) after the last element. */
  abstract pushTail(v: string, size: number): void;
  /** Removes and returns the first element (the chunk must not be empty). */
  abstract popHead(): string;
  /** Removes and returns the last element (the chunk must not be empty). */
  abstract popTail(): string;
  /** Element i (0 <= i < count). */
  abstract get(i: number): string;
  /** Replaces `remove` elements from index i on with `values`. */
  abstract splice(i: number, remove: number, values: readonly string[]): void;
  /** Moves elements i..count-1 to a new chunk of the same form, returned (not linked). */
  abstract splitAt(i: number): Chunk;
  /** Index of the first element equal to the needle, or -1. */
  abstract indexOf(needle: Needle): number;
  /** Removes up to `limit` elements equal to the needle, the first ones or (fromTail) the last ones; returns how many. */
  abstract removeMatching(needle: Needle, limit: number, fromTail: boolean): number;
  /** Every element, appended to out. */
  abstract collect(out: string[]): void;
  abstract clone(): Chunk;
  /** Gives back unused room once the chunk is no longer at an end of its list. */
  abstract trim(): void;
  /** Checks the chunk's own bookkeeping (for tests; O(size)); throws on the first violation. */
  abstract verify(): void;

  /** Whether an element of `size` bytes (bulkBytes of its length) may join this chunk by a push or an insert. */
  fits(size: number): boolean {
    return this.count < CHUNK_MAX && this.bytes + size <= CHUNK_BYTES;
  }
}

/** A chunk of plain strings. */
export class StringChunk extends Chunk {
  /** Sum of bulkBytes() of the items. */
  private size = 0;

  constructor(readonly items: string[]) {
    super();
    for (const v of items) this.size += bulkBytes(v.length);
  }

  get count(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.size;
  }

  pushHead(v: string, size: number): void {
    this.items.unshift(v);
    this.size += size;
  }

  pushTail(v: string, size: number): void {
    this.items.push(v);
    this.size += size;
  }

  popHead(): string {
    const v = this.items.shift()!;
    this.size -= bulkBytes(v.length);
    return v;
  }

  popTail(): string {
    const v = this.items.pop()!;
    this.size -= bulkBytes(v.length);
    return v;
  }

  get(i: number): string {
    return this.items[i]!;
  }

  splice(i: number, remove: number, values: readonly string[]): void {
    for (const v of this.items.splice(i, remove, ...values)) this.size -= bulkBytes(v.length);
    for (const v of values) this.size += bulkBytes(v.length);
  }

  splitAt(i: number): StringChunk {
    const moved = new StringChunk(this.items.splice(i));
    this.size -= moved.bytes;
    return moved;
  }

  /** Appends every element of `other` (which the caller then drops). */
  absorb(other: StringChunk): void {
    for (const v of other.items) this.items.push(v);
    this.size += other.bytes;
  }

  indexOf(needle: Needle): number {
    return this.items.indexOf(needle.text);
  }

  removeMatching(needle: Needle, limit: number, fromTail: boolean): number {
    const items = this.items;
    const v = needle.text;
    let removed = 0;
    if (fromTail) {
      for (let i = items.length - 1; i >= 0 && removed < limit; i--) {
        if (items[i] === v) {
          items.splice(i, 1);
          removed++;
        }
      }
    } else {
      let w = 0;
      for (let r = 0; r < items.length; r++) {
        const x = items[r]!;
        if (x === v && removed < limit) removed++;
        else items[w++] = x;
      }
      items.length = w;
    }
    this.size -= removed * bulkBytes(v.length);
    return removed;
  }

  collect(out: string[]): void {
    for (const v of this.items) out.push(v);
  }

  clone(): StringChunk {
    return new StringChunk(this.items.slice());
  }

  trim(): void {
    // An array has no room to give back worth a copy.
  }

  verify(): void {
    let bytes = 0;
    for (const v of this.items) bytes += bulkBytes(v.length);
    if (bytes !== this.size) throw new Error('list chunk: stale byte size');
  }
}
