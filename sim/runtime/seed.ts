import { SeededRandom } from '../../src/runtime/random.js';

/**
 * Derives an independent 32-bit seed for one consumer (the network, a node's
 * Random, the fault plan) from the run's seed and a label. Each consumer draws
 * from its own stream, so adding draws in one place does not shift every other
 * stream, and a failing seed keeps replaying the same faults while node code changes.
 */
export function deriveSeed(seed: number, label: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  // FNV-1a over the label, then fold in both 32-bit halves of the seed.
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
  h = mix32((h ^ (seed >>> 0)) >>> 0);
  return mix32((h ^ high) >>> 0);
}

/** A generator for one labelled consumer of the run's seed. */
export function seededRandom(seed: number, label: string): SeededRandom {
  return new SeededRandom(deriveSeed(seed, label));
}

/** murmur3's 32-bit finaliser: every input bit flips about half the output bits. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
