import type { Clock } from '../../src/runtime/clock.js';
import type { Scheduler } from './scheduler.js';

export interface SimClockOptions {
  /** Initial wall-clock skew against virtual true time. */
  offsetMs?: number;
  /** Rate error in parts per million: +100 runs 100 µs fast per second of true time. */
  driftPpm?: number;
}

/** Drift beyond ±50%: no real oscillator, and at -100% time would stop. */
const MAX_ABS_DRIFT_PPM = 500_000;

/**
 * One machine's clock: the scheduler's virtual true time seen through a skew
 * (offset) and a drift (rate error). The wall clock can be stepped either way
 * (jump, like an NTP step); the monotonic clock only ever moves forward. A
 * restarted process on the same machine keeps its machine's SimClock.
 */
export class SimClock implements Clock {
  /** True time and local elapsed time at the last rate change: local time is piecewise linear in true time. */
  private anchorTrueMs: number;
  private anchorLocalMs = 0;
  private readonly createdTrueMs: number;
  private rate: number;
  private offsetMs: number;
  private lastMonotonicMs = 0;

  constructor(
    private readonly scheduler: Scheduler,
    options: SimClockOptions = {},
  ) {
    this.anchorTrueMs = scheduler.nowMs;
    this.createdTrueMs = scheduler.nowMs;
    this.offsetMs = options.offsetMs ?? 0;
    this.rate = rateOf(options.driftPpm ?? 0);
    if (!Number.isFinite(this.offsetMs)) throw new RangeError(`clock offset must be finite, got ${this.offsetMs}`);
  }

  nowMs(): number {
    return Math.floor(this.wallMs());
  }
  nowUs(): number {
    return Math.floor(this.wallMs() * 1000);
  }
  monotonicMs(): number {
    // Local elapsed time is non-decreasing by construction; the max is the invariant's guard, not its mechanism.
    const elapsed = this.localElapsedMs();
    if (elapsed > this.lastMonotonicMs) this.lastMonotonicMs = elapsed;
    return this.lastMonotonicMs;
  }

  /** Steps the wall clock by deltaMs (negative: backwards). The monotonic clock is unaffected. */
  jump(deltaMs: number): void {
    if (!Number.isFinite(deltaMs)) throw new RangeError(`clock jump must be finite, got ${deltaMs}`);
    this.offsetMs += deltaMs;
  }

  /** Changes the drift from now on; time read so far is unchanged (no step). */
  setDriftPpm(driftPpm: number): void {
    this.anchorLocalMs = this.localElapsedMs();
    this.anchorTrueMs = this.scheduler.nowMs;
    this.rate = rateOf(driftPpm);
  }

  /** Current wall-clock error against true time, for the run summary. */
  skewMs(): number {
    return this.wallMs() - this.scheduler.nowMs;
  }
  get driftPpm(): number {
    return (this.rate - 1) * 1e6;
  }

  private localElapsedMs(): number {
    return this.anchorLocalMs + (this.scheduler.nowMs - this.anchorTrueMs) * this.rate;
  }
  /** Wall time = the true time the clock was created at, plus local elapsed time, plus skew. */
  private wallMs(): number {
    return this.createdTrueMs + this.localElapsedMs() + this.offsetMs;
  }
}

function rateOf(driftPpm: number): number {
  if (!Number.isFinite(driftPpm) || Math.abs(driftPpm) > MAX_ABS_DRIFT_PPM) {
    throw new RangeError(`clock drift must be within ±${MAX_ABS_DRIFT_PPM} ppm, got ${driftPpm}`);
  }
  return 1 + driftPpm / 1e6;
}
