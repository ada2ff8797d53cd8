/**
 * The hybrid logical clock (src/crdt/hlc.ts): packing, monotonicity under a
 * wall clock that jumps both ways, the skew bound of observe(), and the
 * (ts, origin) order of write stamps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareStamp,
  Hlc,
  HLC_EPOCH_MS,
  HLC_LOGICAL_RANGE,
  HLC_ZERO,
  hlcFromPhysicalMs,
  hlcLogical,
  hlcPhysicalMs,
} from '../../src/crdt/hlc.js';
import type { Clock } from '../../src/runtime/clock.js';

/** A wall clock the test moves by hand, backwards too. */
function fakeClock(startMs: number): Clock & { ms: number } {
  return { ms: startMs, nowMs() { return this.ms; }, nowUs() { return this.ms * 1000; }, monotonicMs() { return this.ms; } };
}

/** The last millisecond whose timestamps stay below 2^53 (about 2089). */
const LAST_MS = HLC_EPOCH_MS + Math.floor(Number.MAX_SAFE_INTEGER / HLC_LOGICAL_RANGE) - 1;
const wallMs = fc.integer({ min: HLC_EPOCH_MS, max: LAST_MS });
const logical = fc.integer({ min: 0, max: HLC_LOGICAL_RANGE - 1 });
const START_MS = Date.UTC(2025, 0, 1);

describe('HLC packing', () => {
  it('the epoch is 2020-01-01 UTC and HLC_ZERO is its first timestamp', () => {
    expect(HLC_EPOCH_MS).toBe(Date.UTC(2020, 0, 1));
    expect(hlcFromPhysicalMs(HLC_EPOCH_MS)).toBe(HLC_ZERO);
  });

  it('physical and logical parts round-trip and pack in (physical, logical) order', () => {
    fc.assert(
      fc.property(wallMs, logical, wallMs, logical, (msA, logA, msB, logB) => {
        const a = hlcFromPhysicalMs(msA) + logA;
        const b = hlcFromPhysicalMs(msB) + logB;
        expect(Number.isSafeInteger(a)).toBe(true);
        expect([hlcPhysicalMs(a), hlcLogical(a)]).toEqual([msA, logA]);
        expect(Math.sign(a - b)).toBe(Math.sign(msA - msB) || Math.sign(logA - logB));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses wall times before the epoch or past 2^53, and drops fractions', () => {
    expect(() => hlcFromPhysicalMs(HLC_EPOCH_MS - 1)).toThrow();
    expect(() => hlcFromPhysicalMs(LAST_MS + 2)).toThrow();
    expect(hlcFromPhysicalMs(HLC_EPOCH_MS + 1.5)).toBe(HLC_LOGICAL_RANGE); // fractions of a ms are dropped, as now() does
  });
});

type ClockEvent = { jumpMs: number } | { remoteAheadMs: number; remoteLogical: number };

const clockEvents = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ jumpMs: fc.oneof(fc.constant(0), fc.integer({ min: -100_000, max: 100_000 })) }) },
    { weight: 1, arbitrary: fc.record({ remoteAheadMs: fc.integer({ min: -100_000, max: 100_000 }), remoteLogical: logical }) },
  ),
  { maxLength: 60 },
);

describe('Hlc', () => {
  it('now() strictly increases past every accepted remote, whatever the wall clock does', () => {
    fc.assert(
      fc.property(clockEvents, fc.integer({ min: 0, max: 60_000 }), (events, maxSkewMs) => {
        const clock = fakeClock(START_MS);
        const hlc = new Hlc(clock, maxSkewMs);
        let floor = HLC_ZERO; // every later now() must exceed this
        for (const event of events) {
          if ('jumpMs' in event) {
            clock.ms += event.jumpMs;
            const ts = hlc.now();
            expect(ts).toBeGreaterThan(floor);
            expect(ts).toBeGreaterThanOrEqual(hlcFromPhysicalMs(clock.ms)); // never behind the wall clock
            floor = ts;
            continue;
          }
          const remote = hlcFromPhysicalMs(clock.ms + event.remoteAheadMs) + event.remoteLogical;
          const accepted = hlc.observe(remote);
          expect(accepted).toBe(event.remoteAheadMs <= maxSkewMs);
          if (accepted) floor = Math.max(floor, remote);
          expect(hlc.last).toBe(floor);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a remote exactly maxSkewMs ahead and refuses one a millisecond further', () => {
    const hlc = new Hlc(fakeClock(START_MS), 1000);
    const atBound = hlcFromPhysicalMs(START_MS + 1000) + HLC_LOGICAL_RANGE - 1;
    expect(hlc.observe(atBound + 1)).toBe(false);
    expect(hlc.last).toBe(HLC_ZERO);
    expect(hlc.observe(atBound)).toBe(true);
    expect(hlc.now()).toBe(atBound + 1);
  });

  it('carries a full logical range into the physical part within one millisecond', () => {
    const clock = fakeClock(START_MS);
    const hlc = new Hlc(clock);
    const first = hlc.now();
    for (let i = 1; i < HLC_LOGICAL_RANGE; i++) hlc.now();
    const carried = hlc.now();
    expect([hlcPhysicalMs(first), hlcLogical(first)]).toEqual([START_MS, 0]);
    expect([hlcPhysicalMs(carried), hlcLogical(carried)]).toEqual([START_MS + 1, 0]);
    clock.ms += 1; // the wall clock catching up to the carried clock does not repeat a timestamp
    expect(hlc.now()).toBe(carried + 1);
  });

  it('a wall clock before 2020 degrades to a Lamport counter that still follows peers', () => {
    const clock = fakeClock(0);
    const hlc = new Hlc(clock);
    expect([hlc.now(), hlc.now()]).toEqual([1, 2]);
    expect(hlc.observe(100)).toBe(true);
    expect(hlc.now()).toBe(101);
    expect(hlc.observe(hlcFromPhysicalMs(START_MS))).toBe(false); // 2025 is beyond the skew bound of "2020"
  });

  it('refuses malformed remote timestamps and skew bounds', () => {
    const hlc = new Hlc(fakeClock(START_MS));
    for (const bad of [-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) expect(() => hlc.observe(bad)).toThrow();
    expect(() => new Hlc(fakeClock(START_MS), -1)).toThrow();
  });
});

describe('compareStamp', () => {
  const stamp = fc.tuple(fc.nat({ max: 3 }), fc.constantFrom('a', 'b', 'ab', 'B'));

  it('is a total order: timestamp first, then origin', () => {
    fc.assert(
      fc.property(stamp, stamp, stamp, ([tsA, oA], [tsB, oB], [tsC, oC]) => {
        const ab = compareStamp(tsA, oA, tsB, oB);
        expect(compareStamp(tsB, oB, tsA, oA) + ab).toBe(0);
        expect(ab === 0).toBe(tsA === tsB && oA === oB);
        if (tsA !== tsB) expect(ab).toBe(tsA < tsB ? -1 : 1);
        if (ab < 0 && compareStamp(tsB, oB, tsC, oC) < 0) expect(compareStamp(tsA, oA, tsC, oC)).toBe(-1);
      }),
      { numRuns: 500 },
    );
  });
});
