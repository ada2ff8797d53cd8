import type { Clock } from '../runtime/clock.js';

/**
 * Hybrid Logical Clock (Kulkarni et al., 2014) packed into one JS number so a
 * per-key timestamp costs 8 bytes and compares with `<`:
 *
 *   ts = (physicalMs - HLC_EPOCH_MS) * HLC_LOGICAL_RANGE + logical
 *
 * with logical in [0, 4095]. Because the packing is linear, "logical overflows
 * into the physical part" is simply ts + 1, which keeps the clock monotonic at
 * the price of running slightly ahead of wall time under a burst of more than
 * 4096 events in one millisecond (standard HLC behaviour). A timestamp stays
 * below 2^53 until about 2089.
 *
 * Ties between nodes are broken by callers with the origin id (compareStamp).
 */

/** 2020-01-01T00:00:00Z in Unix ms (Date.UTC(2020, 0, 1)): timestamps count from here. */
export const HLC_EPOCH_MS = 1577836800000;
/** Logical values per millisecond: 12 bits. */
export const HLC_LOGICAL_RANGE = 4096;
/** The bottom timestamp: "never written". Every timestamp Hlc hands out is greater. */
export const HLC_ZERO = 0;

/** Wall time (Unix ms) of a timestamp's physical part. */
export function hlcPhysicalMs(ts: number): number {
  return Math.floor(ts / HLC_LOGICAL_RANGE) + HLC_EPOCH_MS;
}

/** The logical counter of a timestamp, in [0, 4095]. */
export function hlcLogical(ts: number): number {
  return ts % HLC_LOGICAL_RANGE;
}

/** The timestamp of a wall time (Unix ms, not before HLC_EPOCH_MS; fractions dropped) with logical 0. */
export function hlcFromPhysicalMs(physicalMs: number): number {
  const ts = (Math.floor(physicalMs) - HLC_EPOCH_MS) * HLC_LOGICAL_RANGE;
  assertTimestamp(ts);
  return ts;
}

/** Throws unless ts is a timestamp: a non-negative integer below 2^53. */
export function assertTimestamp(ts: number): void {
  if (!Number.isSafeInteger(ts) || ts < HLC_ZERO) throw new Error(`HLC: not a timestamp: ${ts}`);
}

/**
 * Total order of write stamps: timestamp first, then origin id (string order),
 * so concurrent writes resolve the same way on every replica. Returns -1, 0, 1.
 */
export function compareStamp(tsA: number, originA: string, tsB: number, originB: string): number {
  if (tsA !== tsB) return tsA < tsB ? -1 : 1;
  if (originA === originB) return 0;
  return originA < originB ? -1 : 1;
}

/** One node's hybrid logical clock. */
export class Hlc {
  private lastTs = HLC_ZERO;

  /**
   * @param maxSkewMs how far ahead of our wall clock a remote timestamp's
   *   physical part may be for observe() to adopt it.
   */
  constructor(
    private readonly clock: Clock,
    private readonly maxSkewMs = 60_000,
  ) {
    if (!(maxSkewMs >= 0)) throw new Error(`HLC: maxSkewMs must be >= 0, got ${maxSkewMs}`);
  }

  /** The last timestamp handed out or observed (HLC_ZERO before any). */
  get last(): number {
    return this.lastTs;
  }

  /**
   * A local or send event: a timestamp strictly greater than every one returned
   * or observed before, even if the wall clock went back. No allocation: this is
   * on the write path. A wall clock before 2020 (a virtual clock starting at 0)
   * gives negative wall timestamps, so the clock degrades to a Lamport counter.
   */
  now(): number {
    const wallTs = (Math.floor(this.clock.nowMs()) - HLC_EPOCH_MS) * HLC_LOGICAL_RANGE;
    this.lastTs = wallTs > this.lastTs ? wallTs : this.lastTs + 1;
    if (this.lastTs > Number.MAX_SAFE_INTEGER) throw new Error('HLC: timestamp beyond 2^53');
    return this.lastTs;
  }

  /**
   * A receive event: afterwards now() is greater than `remoteTs`. A remote
   * physical time more than maxSkewMs ahead of our wall clock is not adopted
   * (one bad clock must not drag every node into the future): returns false
   * and the caller logs it. A malformed timestamp throws. A wall clock before
   * 2020 counts as 2020, so a Lamport-mode clock still follows its peers.
   */
  observe(remoteTs: number): boolean {
    assertTimestamp(remoteTs);
    const wallMs = Math.max(this.clock.nowMs(), HLC_EPOCH_MS);
    if (hlcPhysicalMs(remoteTs) - wallMs > this.maxSkewMs) return false;
    if (remoteTs > this.lastTs) this.lastTs = remoteTs;
    return true;
  }
}
