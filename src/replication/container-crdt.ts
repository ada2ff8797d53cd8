import type { ElementMeta, KeyMeta } from '../crdt/key-meta.js';
import type { Database } from '../store/database.js';
import type { ElementObserver } from '../store/element-observer.js';
import type { Entry } from '../store/entry.js';
import type { HashValue } from '../store/hash.js';
import type { SetValue } from '../store/set.js';
import type { ZSetValue } from '../store/zset.js';
import { collectElementTombs, elementFloor, elementsOf, incrementElement, removeElement, stampElement, type ContainerLimits } from './elements.js';
import type { KeyCrdt } from './key-crdt.js';

/**
 * Keyspace events of element writes (anything else on a hash or set rewrites it whole: RENAME, SINTERSTORE, RESTORE...).
 * SMOVE emits "srem" on the source and "sadd" on the destination, as Redis (there is no "smove" event).
 */
const ELEMENT_EVENTS = new Set([
  'hset', 'hdel', 'hincrby', 'hincrbyfloat',
  'sadd', 'srem', 'spop',
  'zadd', 'zincr', 'zrem', 'zpopmin', 'zpopmax', 'zremrangebyscore', 'zremrangebyrank', 'zremrangebylex',
]);
/** Element events that add to a counter (field or score) instead of writing a new element version. */
const INCREMENT_EVENTS = new Set(['hincrby', 'hincrbyfloat', 'zincr']);

interface PendingChange {
  container: object;
  element: string;
  present: boolean;
  previous: string | undefined;
  meta: ElementMeta | undefined;
}

/** Most element changes one command may leave pending (bound: a runaway command fails loudly). */
const MAX_PENDING = 10_000_000;

/**
 * The write side of the element-level CRDT (elements.ts): observes the
 * elements a command writes to a stored hash or set, and when the command
 * reports the key written, turns them into element versions, removals or
 * counter increments.
 */
export class ContainerCrdt implements ElementObserver {
  private pending: PendingChange[] = [];
  limits: ContainerLimits = {
    hash: { maxEntries: 128, maxValue: 64 },
    intsetMax: 512,
    zset: { maxEntries: 128, maxValue: 64 },
    stream: { maxBytes: 4096, maxEntries: 100 },
  };

  constructor(private readonly crdt: KeyCrdt) {}

  elementChanged(container: object, element: string, present: boolean, previous: string | undefined, meta: unknown): void {
    if (this.crdt.applyingRemote) return;
    if (this.pending.length >= MAX_PENDING) throw new Error('too many pending element changes');
    this.pending.push({ container, element, present, previous, meta: meta as ElementMeta | undefined });
  }

  isElementEvent(event: string): boolean {
    return ELEMENT_EVENTS.has(event);
  }

  /** Starts observing a stored container. */
  attach(e: Entry): void {
    (e.value as HashValue | SetValue | ZSetValue).observer = this;
  }

  /**
   * The container leaves the keyspace. Removals a command made just before
   * deleting the emptied key (and reported no event for yet) still count:
   * they become element removals first.
   */
  detach(e: Entry): void {
    const changes = this.takePending(e.value as object);
    if (e.crdt !== null && !this.crdt.applyingRemote) this.applyChanges(e, e.crdt, changes, false);
    (e.value as HashValue | SetValue | ZSetValue).observer = null;
  }

  /** A command wrote the hash, set or sorted set `e`; `fresh` when it had no version yet (created by this command). */
  written(e: Entry, event: string, fresh: boolean, keepRemoved: boolean): void {
    this.attach(e);
    const meta = e.crdt!;
    let changes = this.takePending(e.value as object);
    if (!ELEMENT_EVENTS.has(event)) return this.stampAll(e, meta);
    if (fresh) {
      // Created by this command before it was observed: every element is new (HINCRBY's counts start from 0).
      // A continued emptied collection keeps its removed elements (they must stay removed).
      if (!keepRemoved) {
        meta.elementTombs = null;
        meta.elementsDigest = 0;
      }
      changes = elementsOf(e, this.limits)
        .names()
        .map((element) => ({ container: e.value as object, element, present: true, previous: undefined, meta: undefined }));
    }
    this.applyChanges(e, meta, changes, INCREMENT_EVENTS.has(event) ? event : null);
  }

  /** Turns observed element changes into element versions, removals or (`increment`: its event) counter increments. */
  private applyChanges(e: Entry, meta: KeyMeta, changes: PendingChange[], increment: string | false | null): void {
    const els = elementsOf(e, this.limits);
    for (const ch of changes) {
      if (!ch.present) removeElement(meta, ch.element, ch.meta, this.crdt.stampAbove(0));
      else if (increment) this.increment(e, meta, ch, increment);
      else stampElement(meta, els, ch.element, this.crdt.stampAbove(elementFloor(meta, els, ch.element)), this.crdt.self);
    }
    collectElementTombs(meta, this.crdt.collectedBefore);
  }

  /** Every element of a container that is new as a whole is a new element version. */
  private stampAll(e: Entry, meta: KeyMeta): void {
    meta.elementTombs = null;
    meta.elementsDigest = 0;
    const els = elementsOf(e, this.limits);
    for (const name of els.names()) stampElement(meta, els, name, this.crdt.stampAbove(0), this.crdt.self);
  }

  private increment(e: Entry, meta: KeyMeta, ch: PendingChange, event: string): void {
    const els = elementsOf(e, this.limits);
    const now = els.valueOf(ch.element) ?? '0';
    const before = ch.previous ?? '0';
    const isFloat = event !== 'hincrby';
    const agreed = incrementElement(meta, els, ch.element, ch.previous, (rows) =>
      isFloat ? this.crdt.addToRow(rows, 0, Number(now) - Number(before)) : this.crdt.addToRow(rows, BigInt(now) - BigInt(before), 0),
    );
    if (agreed !== now) this.rewrite(e, ch.element, agreed);
  }

  /** Stores the value every replica agrees on for a float counter, without observing it as a write. */
  private rewrite(e: Entry, element: string, value: string): void {
    const container = e.value as HashValue | ZSetValue;
    const els = elementsOf(e, this.limits);
    const m = els.metaOf(element)!;
    container.observer = null;
    els.write(element, value);
    els.setMeta(element, m);
    container.observer = this;
  }

  private takePending(container: object): PendingChange[] {
    if (this.pending.length === 0) return [];
    const mine = this.pending.filter((p) => p.container === container);
    if (mine.length > 0) this.pending = this.pending.filter((p) => p.container !== container);
    return mine;
  }
}
