/** Wall-clock and monotonic time. The only source of time outside the simulator. */
export interface Clock {
  /** Unix time in milliseconds (may jump: NTP, skew injected by the simulator). */
  nowMs(): number;
  /** Unix time in microseconds. */
  nowUs(): number;
  /** Monotonic milliseconds since an arbitrary origin; never goes back. */
  monotonicMs(): number;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }
  nowUs(): number {
    // performance.timeOrigin + now() gives sub-ms precision on the wall clock.
    return Math.floor((performance.timeOrigin + performance.now()) * 1000);
  }
  monotonicMs(): number {
    return performance.now();
  }
}
