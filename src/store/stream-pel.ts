import type { StreamId } from './stream-id.js';

/**
 * A map ordered by stream ID (the rax of a PEL): parallel sorted arrays.
 * Deliveries arrive in ID order, so inserts are almost always appends.
 */
export class IdMap<T> {
  private ids: StreamId[] = [];
  private vals: T[] = [];

  get size(): number {
    return this.ids.length;
  }

  /** Index of the first ID >= id. */
  lowerBound(id: StreamId): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(id: StreamId): T | undefined {
    const i = this.lowerBound(id);
    return this.ids[i] === id ? this.vals[i] : undefined;
  }

  /** Inserts or replaces. */
  set(id: StreamId, v: T): void {
    const n = this.ids.length;
    if (n === 0 || this.ids[n - 1]! < id) {
      this.ids.push(id);
      this.vals.push(v);
      return;
    }
    const i = this.lowerBound(id);
    if (this.ids[i] === id) {
      this.vals[i] = v;
      return;
    }
    this.ids.splice(i, 0, id);
    this.vals.splice(i, 0, v);
  }

  delete(id: StreamId): boolean {
    const i = this.lowerBound(id);
    if (this.ids[i] !== id) return false;
    this.ids.splice(i, 1);
    this.vals.splice(i, 1);
    return true;
  }

  idAt(i: number): StreamId {
    return this.ids[i]!;
  }

  valueAt(i: number): T {
    return this.vals[i]!;
  }

  /** [id, value] pairs from the first ID >= from, in order. A snapshot: callers may delete while iterating. */
  *from(from: StreamId): IterableIterator<[StreamId, T]> {
    const ids = this.ids.slice(this.lowerBound(from));
    for (const id of ids) {
      const v = this.get(id);
      if (v !== undefined) yield [id, v];
    }
  }
}

/** A pending (delivered, unacknowledged) entry of a group: streamNACK. */
export interface Nack {
  /** Unix ms of the last delivery. */
  deliveryTime: number;
  deliveryCount: number;
  /** Null only transiently (XCLAIM FORCE before assignment). */
  consumer: Consumer | null;
}

/** streamConsumer: its pending entries share the Nack objects of the group's PEL. */
export class Consumer {
  readonly pel = new IdMap<Nack>();
  constructor(
    readonly name: string,
    public seenTime: number,
  ) {}
}

/** entries_read when unknown (SCG_INVALID_ENTRIES_READ). */
export const ENTRIES_READ_INVALID = -1;

/** streamCG: last delivered ID, logical read counter, PEL and consumers. */
export class ConsumerGroup {
  readonly pel = new IdMap<Nack>();
  readonly consumers = new Map<string, Consumer>();
  constructor(
    readonly name: string,
    public lastId: StreamId,
    public entriesRead: number,
  ) {}

  /** Consumers in rax (byte) order. */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.keys()].sort().map((k) => this.consumers.get(k)!);
  }

  /** streamDelConsumer: its pending entries leave the group's PEL too. */
  deleteConsumer(consumer: Consumer): void {
    for (const [id] of consumer.pel.from(0n)) this.pel.delete(id);
    this.consumers.delete(consumer.name);
  }

  /** XACK of one ID: true if it was pending. */
  ack(id: StreamId): boolean {
    const nack = this.pel.get(id);
    if (nack === undefined) return false;
    this.pel.delete(id);
    nack.consumer?.pel.delete(id);
    return true;
  }
}
