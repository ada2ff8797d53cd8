/**
 * Redis's LFU counter (evict.c): an 8-bit logarithmic access counter that
 * starts at 5, grows with probability 1/((counter-5)*log_factor+1) per
 * access and decays by one per `decay-time` minutes without access.
 * Decay is measured from Entry.accessedSec, which is exactly when Redis
 * updates its LFU access time.
 */
export const LFU_INIT_VAL = 5;
const MINUTE_SEC = 60;

/** LFUDecrAndReturn: the counter after decay since lastAccessSec (both on Entry.accessedSec's scale). */
export function lfuDecayed(counter: number, lastAccessSec: number, nowSec: number, decayMinutes: number): number {
  if (decayMinutes <= 0) return counter;
  const elapsed = Math.floor(nowSec / MINUTE_SEC) - Math.floor(lastAccessSec / MINUTE_SEC);
  if (elapsed <= 0) return counter;
  const periods = Math.floor(elapsed / decayMinutes);
  return periods > counter ? 0 : counter - periods;
}

/** LFULogIncr: r is a uniform draw in [0, 1). */
export function lfuIncremented(counter: number, logFactor: number, r: number): number {
  if (counter >= 255) return 255;
  const base = Math.max(0, counter - LFU_INIT_VAL);
  return r < 1 / (base * logFactor + 1) ? counter + 1 : counter;
}
