import type { Timer, TimerHandle } from '../../src/runtime/timer.js';
import type { ScheduledEvent, Scheduler } from './scheduler.js';

/** Node clamps timeouts outside [1, 2^31-1] ms to 1 ms; so do we, so code behaves as in production. */
const TIMEOUT_MAX_MS = 2 ** 31 - 1;

/** One node's pending timers above this is a leak in the node (a timer per request never cleared). */
export const DEFAULT_MAX_TIMERS_PER_NODE = 1_000_000;

/** A pending timeout, interval or immediate. The handle stays valid across an interval's repeats. */
export class SimTimerHandle implements TimerHandle {
  /** The event of the next firing; null once fired (timeouts) or cleared. */
  event: ScheduledEvent | null = null;
  constructor(readonly owner: SimTimer) {}
  /** Virtual time never keeps a process alive, so there is nothing to unref. */
  unref(): void {}
}

/**
 * One node's Timer on the shared scheduler. It remembers the node's pending
 * timers so that a crash can drop them all at once (cancelAll), and a halted
 * timer (the crashed incarnation's) ignores new ones, so code still running in
 * a dead node's promise chains cannot keep scheduling work.
 */
export class SimTimer implements Timer {
  private readonly live = new Set<SimTimerHandle>();
  private halted = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly maxTimers = DEFAULT_MAX_TIMERS_PER_NODE,
  ) {}

  get pendingCount(): number {
    return this.live.size;
  }
  get isHalted(): boolean {
    return this.halted;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.once(nodeDelayMs(delayMs), fn);
  }
  clearTimeout(handle: TimerHandle): void {
    this.clear(handle);
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const handle = this.track();
    const period = nodeDelayMs(periodMs);
    const fire = (): void => {
      // Re-arm before running fn, so clearInterval inside fn cancels the next firing.
      this.arm(handle, period, fire);
      fn();
    };
    this.arm(handle, period, fire);
    return handle;
  }
  clearInterval(handle: TimerHandle): void {
    this.clear(handle);
  }

  /** Due now, after everything already scheduled for now: the scheduler's FIFO tie-break keeps the order. */
  setImmediate(fn: () => void): TimerHandle {
    return this.once(0, fn);
  }
  clearImmediate(handle: TimerHandle): void {
    this.clear(handle);
  }

  /** Drops every pending timer of this node (a crash). Returns how many were dropped. */
  cancelAll(): number {
    const dropped = this.live.size;
    for (const handle of this.live) {
      handle.event?.cancel();
      handle.event = null;
    }
    this.live.clear();
    return dropped;
  }

  /** cancelAll, and from now on accept timers without ever running them: this incarnation is dead. */
  halt(): number {
    this.halted = true;
    return this.cancelAll();
  }

  private once(delayMs: number, fn: () => void): SimTimerHandle {
    const handle = this.track();
    this.arm(handle, delayMs, () => {
      this.live.delete(handle);
      handle.event = null;
      fn();
    });
    return handle;
  }

  private track(): SimTimerHandle {
    const handle = new SimTimerHandle(this);
    if (this.halted) return handle;
    if (this.live.size >= this.maxTimers) {
      throw new Error(`sim timer: more than ${this.maxTimers} pending timers on one node: a timer leak`);
    }
    this.live.add(handle);
    return handle;
  }

  private arm(handle: SimTimerHandle, delayMs: number, fire: () => void): void {
    if (this.halted) return;
    handle.event = this.scheduler.after(delayMs, fire);
  }

  /** Clearing another node's handle, a fired one or a cleared one is a no-op, as in Node. */
  private clear(handle: TimerHandle): void {
    if (!(handle instanceof SimTimerHandle) || handle.owner !== this) return;
    handle.event?.cancel();
    handle.event = null;
    this.live.delete(handle);
  }
}

function nodeDelayMs(delayMs: number): number {
  return delayMs >= 1 && delayMs <= TIMEOUT_MAX_MS ? delayMs : 1;
}
