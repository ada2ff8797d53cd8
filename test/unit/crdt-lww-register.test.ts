/**
 * The LWW register's own semantics (src/crdt/lww-register.ts); the lattice
 * laws are in crdt-laws.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Hlc, HLC_EPOCH_MS } from '../../src/crdt/hlc.js';
import { lwwCreate, lwwMergeInto, lwwSet } from '../../src/crdt/lww-register.js';
import type { Clock } from '../../src/runtime/clock.js';

const wallClock = (ms: number): Clock => ({ nowMs: () => ms, nowUs: () => ms * 1000, monotonicMs: () => ms });

describe('LWW register', () => {
  it('the greater stamp wins in either merge order; equal timestamps go to the greater origin', () => {
    const early = lwwSet(lwwCreate<string>(), 'early', 10, 'b');
    const late = lwwSet(lwwCreate<string>(), 'late', 11, 'a');
    const tie = lwwSet(lwwCreate<string>(), 'tie', 11, 'c');
    expect(lwwMergeInto(lwwMergeInto(lwwCreate(), early), late).value).toBe('late');
    expect(lwwMergeInto(lwwMergeInto(lwwCreate(), late), early).value).toBe('late');
    expect(lwwMergeInto(lwwMergeInto(lwwCreate(), tie), late).value).toBe('tie');
  });

  it('a write made after observing another wins over it, even from a clock that is behind', () => {
    const ahead = new Hlc(wallClock(HLC_EPOCH_MS + 50_000));
    const behind = new Hlc(wallClock(HLC_EPOCH_MS + 10_000));
    const reg = lwwCreate<string>();
    const first = lwwSet(reg, 'first', ahead.now(), 'ahead');
    expect(behind.observe(first.ts)).toBe(true);
    lwwSet(reg, 'second', behind.now(), 'behind');
    expect(reg).toEqual({ value: 'second', ts: first.ts + 1, origin: 'behind' });
  });

  it('a write with a lower stamp loses but still returns its delta', () => {
    const reg = lwwCreate<number>();
    lwwSet(reg, 1, 100, 'a');
    expect(lwwSet(reg, 2, 50, 'a')).toEqual({ value: 2, ts: 50, origin: 'a' });
    expect(reg.value).toBe(1);
  });

  it('refuses a write without a timestamp or origin', () => {
    expect(() => lwwSet(lwwCreate(), 'v', 0, 'a')).toThrow();
    expect(() => lwwSet(lwwCreate(), 'v', 1.5, 'a')).toThrow();
    expect(() => lwwSet(lwwCreate(), 'v', 1, '')).toThrow();
  });
});
