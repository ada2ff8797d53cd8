/** Scheduling of future work. The simulator replaces this with virtual time. */
export interface TimerHandle {
  /** Lets the process exit even if this timer is pending. */
  unref?(): void;
}

export interface Timer {
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, periodMs: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  /** Runs fn after the current I/O callbacks complete. */
  setImmediate(fn: () => void): TimerHandle;
  clearImmediate(handle: TimerHandle): void;
}

export class SystemTimer implements Timer {
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return setTimeout(fn, delayMs);
  }
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
  setInterval(fn: () => void, periodMs: number): TimerHandle {
    return setInterval(fn, periodMs);
  }
  clearInterval(handle: TimerHandle): void {
    clearInterval(handle as NodeJS.Timeout);
  }
  setImmediate(fn: () => void): TimerHandle {
    return setImmediate(fn);
  }
  clearImmediate(handle: TimerHandle): void {
    clearImmediate(handle as NodeJS.Immediate);
  }
}
