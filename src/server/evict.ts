import { entryBytes } from '../commands/memory.js';
import type { Database } from '../store/database.js';
import { idleSec, type Entry } from '../store/entry.js';
import type { Server } from './server.js';

/**
 * maxmemory (evict.c performEvictions): before a command runs, while the
 * node uses more than maxmemory, keys are evicted by maxmemory-policy from
 * samples of maxmemory-samples keys per database; each eviction deletes the
 * key as a write ("evicted" keyspace event, a tombstone for peers). Used
 * memory is the V8 heap, which only shrinks at the next major garbage
 * collection: until then the estimated size of each evicted key (MEMORY
 * USAGE's estimate) is subtracted instead. A check evicts at most
 * MAX_EVICTIONS_PER_CHECK keys; short of the limit after that, the command
 * still runs (Redis's EVICT_RUNNING) and the next one goes on evicting. Only
 * when nothing can be evicted are commands refused with -OOM. With
 * maxmemory 0 nothing here runs.
 */

export const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** Keys evicted per check at most (Redis bounds one call by time; the next command continues). */
const MAX_EVICTIONS_PER_CHECK = 1000;

type Policy = 'lru' | 'lfu' | 'random' | 'ttl';

interface Candidate {
  db: Database;
  entry: Entry;
  /** Higher evicts first (idle time, inverse frequency, nearness of expiry). */
  score: number;
}

/** What one eviction check ends in (evict.c's EVICT_OK / EVICT_RUNNING / EVICT_FAIL). */
export type EvictResult = 'ok' | 'running' | 'fail';

export class Evictor {
  /**
   * Estimated bytes evicted since the heap gauge last measured (heapEpoch):
   * the heap shrinks only at the next major collection, so without this
   * every command until then would see the old figure and evict again.
   */
  private evictedBytes = 0;
  private evictedEpoch = -1;

  constructor(private readonly server: Server) {}

  /**
   * performEvictions: 'ok' when memory is (now) within maxmemory; 'running'
   * when keys were evicted but the per-check bound stopped short (the next
   * command goes on, as Redis's time-bounded loop does; no OOM for it);
   * 'fail' when nothing could be evicted: only then is a command refused.
   */
  enforce(): EvictResult {
    const s = this.server;
    const maxmemory = s.config.int('maxmemory');
    if (maxmemory === 0) return 'ok';
    const epoch = s.runtime.process.heapEpoch();
    if (epoch !== this.evictedEpoch) {
      this.evictedEpoch = epoch;
      this.evictedBytes = 0;
    }
    // Now, not as of the last major collection: writes since then count at once (their garbage too, till the next one).
    let used = s.runtime.process.heapNow() - this.evictedBytes;
    if (used <= maxmemory) return 'ok';
    const policy = s.config.get('maxmemory-policy');
    if (policy === 'noeviction') return 'fail';
    const [scope, kind] = policy.split('-') as [string, Policy];
    for (let n = 0; n < MAX_EVICTIONS_PER_CHECK && used > maxmemory; n++) {
      const victim = this.pick(kind, scope === 'volatile');
      if (victim === null) return 'fail';
      const bytes = entryBytes(victim.entry.key, victim.entry.value, 5);
      used -= bytes;
      this.evictedBytes += bytes;
      this.evict(victim);
    }
    return used <= maxmemory ? 'ok' : 'running';
  }

  /** The best candidate over a sample of every database (Redis's eviction pool, without keeping it between calls). */
  private pick(kind: Policy, withTtlOnly: boolean): Candidate | null {
    const s = this.server;
    const samples = s.config.int('maxmemory-samples');
    const rand = (bound: number): number => s.runtime.random.int(bound);
    let best: Candidate | null = null;
    for (const db of s.keyspace.all()) {
      if (db.size === 0) continue;
      for (const entry of db.sampleEntries(samples, rand, withTtlOnly)) {
        const score = this.score(db, entry, kind);
        if (best === null || score > best.score) best = { db, entry, score };
      }
    }
    return best;
  }

  private score(db: Database, e: Entry, kind: Policy): number {
    const now = this.server.nowMs();
    switch (kind) {
      case 'lru':
        return idleSec(e, now);
      case 'lfu':
        return 255 - db.frequency(e);
      case 'ttl':
        return -e.expireAt;
      case 'random':
        return this.server.runtime.random.int(1 << 30);
    }
  }

  private evict(c: Candidate): void {
    const key = c.entry.key;
    c.db.delete(key);
    this.server.stats.evictedKeys++;
    c.db.written(key, 'evicted');
  }
}
