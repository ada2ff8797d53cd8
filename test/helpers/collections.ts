import { SeededRandom } from '../../src/runtime/random.js';

/** A draw in [0, bound) from a seeded generator, so property-test failures replay. */
export function seededRng(seed: number): (bound: number) => number {
  const r = new SeededRandom(seed);
  return (bound) => r.int(bound);
}

/** One SCAN-style step: visits what lies at `cursor`, returns the next cursor (0 at the end). */
export type ScanStep = (cursor: number, visit: (item: string) => void) => number;

/**
 * A full scan from cursor 0 in COUNT-like batches of up to three steps,
 * running `between` after every batch (where tests mutate the collection);
 * gives up after 100,000 batches so a cursor that never returns to 0 fails
 * the test's assertions instead of hanging it.
 */
export function fullScan(step: ScanStep, between: (batchIndex: number) => void): Set<string> {
  const seen = new Set<string>();
  let cursor = 0;
  let batchIndex = 0;
  do {
    let batch = 0;
    do {
      cursor = step(cursor, (item) => seen.add(item));
    } while (cursor !== 0 && ++batch < 3);
    between(batchIndex++);
  } while (cursor !== 0 && batchIndex < 100_000);
  return seen;
}
