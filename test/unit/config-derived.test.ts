import { describe, expect, it } from 'vitest';
import { Config, listpackLimitsOf } from '../../src/config.js';

describe('Config.derived', () => {
  it('computes once, then again after any option changes', () => {
    const config = new Config();
    let computed = 0;
    const limits = (): { entries: number } =>
      config.derived('test-limits', (c) => {
        computed++;
        return { entries: c.int('hash-max-listpack-entries') };
      });
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
