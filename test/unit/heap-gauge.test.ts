import { describe, expect, it } from 'vitest';
import { HeapGauge } from '../../src/runtime/heap-gauge.js';

const MB = 1024 * 1024;
/** What the test's own allocations and a GC's noise may move the figure by. */
const SLACK = MB / 2;

describe('HeapGauge', () => {
  it('counts released memory as freed until a measurement that started after it', () => {
    const gauge = new HeapGauge();
    expect(gauge.measure()).toBeGreaterThanOrEqual(0);
    const measured = gauge.bytes();
    expect(measured).toBeGreaterThan(6 * MB);
    gauge.released(4 * MB);
    gauge.released(-5); // ignored
    expect(gauge.bytes()).toBeLessThan(measured - 4 * MB + SLACK);
    // The next GC started after the credit: what it freed is in the figure now, the credit is gone
    // (a second full GC may still find some garbage, well under the credit).
    gauge.measure();
    expect(gauge.bytes()).toBeGreaterThan(measured - 2 * MB);
    gauge.released(4 * MB);
    expect(gauge.bytes()).toBeLessThan(measured - 4 * MB + SLACK);
  });
});
