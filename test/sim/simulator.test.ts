import { describe, expect, it } from 'vitest';
import { drawParams, runSeed } from '../../sim/harness.js';
import regressions from '../../sim/regressions.json' with { type: 'json' };

/**
 * The simulator inside the test suite: a replay gives the identical run,
 * and every seed that once failed (sim/regressions.json) stays fixed. CI
 * also runs `npm run sim -- --seeds 200` (.ci/run).
 */
describe('simulator', () => {
  it('replays a seed bit for bit', async () => {
    const a = await runSeed(drawParams(42));
    const b = await runSeed(drawParams(42));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.failures).toEqual([]);
    expect(a.network.messagesSent).toBeGreaterThan(0);
  });

  it.each(regressions.seeds as number[])('seed %i (once failing) passes', async (seed) => {
    const result = await runSeed(drawParams(seed));
    expect(result.failures).toEqual([]);
  });
});
