import type { Dict, DictNode } from './dict.js';

/** A draw in [0, bound), from the injected Random. */
export type RandomInt = (bound: number) => number;

/**
 * A random node of a hashtable-encoded collection (dictGetFairRandomKey-like),
 * or undefined if the bucket sampler kept missing: on a sparse table the
 * caller then walks to a uniform index instead.
 */
export function sampleNode<N extends DictNode<N>>(dict: Dict<N>, rand: RandomInt): N | undefined {
  for (let tries = 0; tries < 8; tries++) {
    const n = dict.random(rand);
    if (n !== undefined) return n;
    // The sampler skips buckets a rehash already moved: help the rehash finish, then retry.
    dict.rehash(1024);
  }
  return undefined;
}

/**
 * `count` distinct items out of `size` (all of them when count >= size), in
 * random order: SRANDMEMBER's and HRANDFIELD's cases 3 and 4. Near the size,
 * drawing would keep hitting repeats, so a partial shuffle of a snapshot;
 * far from it, a snapshot would cost O(size), so draws until enough distinct.
 */
export function pickDistinct<T>(count: number, size: number, snapshot: () => T[], draw: () => T, rand: RandomInt): T[] {
  if (count >= size) return snapshot();
  if (count * 3 > size) {
    const all = snapshot();
    for (let i = 0; i < count; i++) {
      const j = i + rand(size - i);
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    all.length = count;
    return all;
  }
  const picked = new Set<T>();
  while (picked.size < count) picked.add(draw());
  return [...picked];
}
