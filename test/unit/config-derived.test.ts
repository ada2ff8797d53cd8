import { describe, expect, it } from 'vitest';
import { Config, Derived, listpackLimitsOf } from '../../src/config.js';

describe('Derived config values', () => {
  it('computes once, then again after any option changes', () => {
    const config = new Config();
    let computed = 0;
    const derived = new Derived((c) => {
      computed++;
      return { entries: c.int('hash-max-listpack-entries') };
    });
    const limits = (): { entries: number } => derived.of(config);
    const first = limits();
    expect(limits()).toBe(first);
    expect(computed).toBe(1);
    expect(config.set('hash-max-listpack-entries', '7')).toBeNull();
    expect(limits()).toEqual({ entries: 7 });
    expect(computed).toBe(2);
    // A failed set changes nothing, and the value stays cached.
    expect(config.set('hash-max-listpack-entries', 'nope')).not.toBeNull();
    expect(limits().entries).toBe(7);
    expect(computed).toBe(2);
  });

  it('one Derived serves several configs (nodes of one simulator), each its own value', () => {
    const a = new Config();
    const b = new Config();
    const derived = new Derived((c) => c.int('set-max-intset-entries'));
    expect(b.set('set-max-intset-entries', '9')).toBeNull();
    expect(derived.of(a)).toBe(512);
    expect(derived.of(b)).toBe(9);
    expect(derived.of(a)).toBe(512);
    expect(a.set('set-max-intset-entries', '3')).toBeNull();
    expect(derived.of(b)).toBe(9);
    expect(derived.of(a)).toBe(3);
  });

  it('listpack limits are per type and follow CONFIG SET', () => {
    const config = new Config();
    expect(listpackLimitsOf(config, 'hash')).toEqual({ maxEntries: 128, maxValue: 64 });
    expect(listpackLimitsOf(config, 'zset')).toEqual({ maxEntries: 128, maxValue: 64 });
    expect(config.set('zset-max-listpack-value', '10')).toBeNull();
    expect(listpackLimitsOf(config, 'zset')).toEqual({ maxEntries: 128, maxValue: 10 });
    expect(listpackLimitsOf(config, 'hash')).toEqual({ maxEntries: 128, maxValue: 64 });
    expect(listpackLimitsOf(config, 'hash')).toBe(listpackLimitsOf(config, 'hash'));
  });
});
