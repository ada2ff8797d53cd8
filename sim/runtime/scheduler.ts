/**
 * The simulator's event loop: virtual time that advances only from one event to
 * the next. Every timer, message delivery and injected fault of a run is an
 * event here, and events due at the same instant run in the order they were
 * scheduled, so one seed always produces the same interleaving.
 */

/** 2026-01-01T00:00:00Z: virtual time starts at a realistic Unix time so HLC timestamps look real. */
export const SIM_EPOCH_MS = 1_767_225_600_000;

/** More pending events than this is a livelock or a leak in the simulated code, not a workload. */
export const DEFAULT_MAX_PENDING_EVENTS = 5_000_000;

/** Events run at one instant without time moving on: beyond this, something reschedules itself at "now" forever. */
export const DEFAULT_MAX_EVENTS_AT_ONE_INSTANT = 1_000_000;

/** Microtask turns given to promise continuations after each event by the async runners. */
export const DEFAULT_SETTLE_TURNS = 32;

/** Cancelled entries tolerated in the heap before it is worth rebuilding. */
const COMPACT_MIN_CANCELLED = 1024;

export interface SchedulerOptions {
  startMs?: number;
  maxPendingEvents?: number;
  maxEventsAtOneInstant?: number;
}

/** A scheduled event; cancel() is idempotent and a no-op once the event ran. */
export interface ScheduledEvent {
  readonly timeMs: number;
  /** True until the event runs or is cancelled. */
  readonly pending: boolean;
  cancel(): void;
}

class EventEntry implements ScheduledEvent {
  constructor(
    readonly timeMs: number,
    readonly seq: number,
    public fn: (() => void) | null,
    private readonly owner: Scheduler,
  ) {}
  get pending(): boolean {
    return this.fn !== null;
  }
  cancel(): void {
    if (this.fn === null) return;
    this.fn = null;
    this.owner.noteCancelled();
  }
}

/** (timeMs, seq) order: earlier first, and FIFO among events due at the same time. */
function before(a: EventEntry, b: EventEntry): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}

export class Scheduler {
  private now: number;
  private heap: EventEntry[] = [];
  private seq = 0;
  /** Cancelled entries still in the heap (removed lazily when popped or compacted). */
  private cancelledInHeap = 0;
  private running = false;
  private eventsAtThisInstant = 0;
  private readonly maxPendingEvents: number;
  private readonly maxEventsAtOneInstant: number;
  private counts = { eventsScheduled: 0, eventsRun: 0, eventsCancelled: 0 };

  constructor(options: SchedulerOptions = {}) {
    this.now = options.startMs ?? SIM_EPOCH_MS;
    this.maxPendingEvents = options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS;
    this.maxEventsAtOneInstant = options.maxEventsAtOneInstant ?? DEFAULT_MAX_EVENTS_AT_ONE_INSTANT;
    assertFinite(this.now, 'startMs');
  }

  /** Virtual Unix time in milliseconds: the time of the event running now, or of the last one run. */
  get nowMs(): number {
    return this.now;
  }
  /** Events scheduled and neither run nor cancelled. */
  get pendingCount(): number {
    return this.heap.length - this.cancelledInHeap;
  }
  get idle(): boolean {
    return this.pendingCount === 0;
  }
  /** Plain counters for the run summary. */
  stats(): { eventsScheduled: number; eventsRun: number; eventsCancelled: number; pending: number; nowMs: number } {
    return { ...this.counts, pending: this.pendingCount, nowMs: this.now };
  }
  /** Time of the next live event, or undefined when idle. */
  nextTimeMs(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.timeMs;
  }

  /** Schedules fn at an absolute virtual time, which must not be in the past. */
  at(timeMs: number, fn: () => void): ScheduledEvent {
    assertFinite(timeMs, 'timeMs');
    if (timeMs < this.now) throw new RangeError(`scheduler: event at ${timeMs} is before now (${this.now})`);
    // Timers reset on every message leave cancelled entries behind: drop them once they are half the heap.
    if (this.cancelledInHeap > COMPACT_MIN_CANCELLED && this.cancelledInHeap * 2 > this.heap.length) this.compact();
    if (this.heap.length >= this.maxPendingEvents) this.compact();
    if (this.heap.length >= this.maxPendingEvents) {
      throw new Error(
        `scheduler: more than ${this.maxPendingEvents} pending events at ${this.now}: ` +
          'a livelock or a leak in the simulated code (replay the seed to debug it)',
      );
    }
    const entry = new EventEntry(timeMs, this.seq++, fn, this);
    this.push(entry);
    this.counts.eventsScheduled++;
    return entry;
  }

  /** Schedules fn delayMs after now (negative delays count as 0). */
  after(delayMs: number, fn: () => void): ScheduledEvent {
    assertFinite(delayMs, 'delayMs');
    return this.at(this.now + Math.max(0, delayMs), fn);
  }

  /** Runs the next event, advancing time to it. Returns false when there was none. */
  step(): boolean {
    return this.runNext(Infinity);
  }

  /** Runs every event due at or before timeMs, then leaves the clock at timeMs. Returns events run. */
  runUntil(timeMs: number): number {
    assertFinite(timeMs, 'timeMs');
    let ran = 0;
    while (this.runNext(timeMs)) ran++;
    this.advanceTo(timeMs);
    return ran;
  }

  /** Runs events until none is pending or maxEvents ran. Returns events run; check `idle` for which. */
  runUntilIdle(maxEvents: number): number {
    let ran = 0;
    while (ran < maxEvents && this.runNext(Infinity)) ran++;
    return ran;
  }

  /**
   * As runUntil, but after each event yields to promise continuations (async
   * node code) before running the next, as Node drains microtasks between
   * timers. `settle` defaults to a fixed number of microtask turns: deterministic
   * and host-timer free, but a continuation chain deeper than the turns finishes
   * during a later event; pass a deeper settle if the node code needs one.
   */
  async runUntilAsync(timeMs: number, settle: () => Promise<void> = settleMicrotasks): Promise<number> {
    assertFinite(timeMs, 'timeMs');
    let ran = 0;
    await settle();
    while (this.runNext(timeMs)) {
      ran++;
      await settle();
    }
    this.advanceTo(timeMs);
    return ran;
  }

  /** As runUntilIdle, settling promise continuations after each event (see runUntilAsync). */
  async runUntilIdleAsync(maxEvents: number, settle: () => Promise<void> = settleMicrotasks): Promise<number> {
    let ran = 0;
    await settle();
    while (ran < maxEvents && this.runNext(Infinity)) {
      ran++;
      await settle();
    }
    return ran;
  }

  /** Called by EventEntry.cancel. */
  noteCancelled(): void {
    this.cancelledInHeap++;
    this.counts.eventsCancelled++;
  }

  /** Pops and runs the next live event due at or before limitMs. An exception from it propagates to the caller. */
  private runNext(limitMs: number): boolean {
    if (this.running) throw new Error('scheduler: run called from inside an event');
    this.dropCancelledTop();
    const top = this.heap[0];
    if (top === undefined || top.timeMs > limitMs) return false;
    this.pop();
    const fn = top.fn!;
    top.fn = null;
    this.eventsAtThisInstant = top.timeMs === this.now ? this.eventsAtThisInstant + 1 : 1;
    if (this.eventsAtThisInstant > this.maxEventsAtOneInstant) {
      throw new Error(`scheduler: ${this.maxEventsAtOneInstant} events at ${this.now} without time moving: a livelock`);
    }
    this.now = top.timeMs;
    this.counts.eventsRun++;
    this.running = true;
    try {
      fn();
    } finally {
      this.running = false;
    }
    return true;
  }

  private advanceTo(timeMs: number): void {
    if (timeMs > this.now) {
      this.now = timeMs;
      this.eventsAtThisInstant = 0;
    }
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) {
      this.pop();
      this.cancelledInHeap--;
    }
  }

  /** Rebuilds the heap without cancelled entries; (timeMs, seq) keys keep the order. */
  private compact(): void {
    if (this.cancelledInHeap === 0) return;
    const live = this.heap.filter((e) => e.fn !== null);
    this.heap = [];
    this.cancelledInHeap = 0;
    for (const e of live) this.push(e);
  }

  private push(entry: EventEntry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

/** Lets queued promise continuations run: each turn runs every microtask queued before it. */
export async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < DEFAULT_SETTLE_TURNS; i++) await undefined;
}

function assertFinite(value: number, name: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`scheduler: ${name} must be a finite number, got ${value}`);
}
