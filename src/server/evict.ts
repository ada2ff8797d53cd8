import { releaseEntry } from '../commands/memory.js';
import type { Database } from '../store/database.js';
import { idleSec, type Entry } from '../store/entry.js';
import type { Server } from './server.js';

/**
 * maxmemory (evict.c performEvictions): before a command runs, while the
 * node uses more than maxmemory, keys are evicted by maxmemory-policy from
 * samples of maxmemory-samples keys per database; each eviction deletes the
 * key as a write ("evicted" keyspace event, a tombstone for peers). Used
 * memory is the V8 heap as the last major GC measured it (heap-gauge.ts):
 * an evicted key's estimated size (MEMORY USAGE's) counts as freed until the
 * next one, and the cron forces a measurement when the heap as it is now
 * runs over the limit (staleCheck). A check evicts at most
 * MAX_EVICTIONS_PER_CHECK keys; short of the limit after that, the command
 * still runs (Redis's EVICT_RUNNING) and the next one goes on evicting. Only
 * when nothing can be evicted are commands refused with -OOM. With
 * maxmemory 0 nothing here runs.
 */

export const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** Keys evicted per check at most (Redis bounds one call by time; the next command continues). */
const MAX_EVICTIONS_PER_CHECK = 1000;
/** Forced heap measurements (a major GC: a pause) at most this often, and at most one pause's worth per MEASURE_PAUSE_SHARE of the time. */
const STALE_MEASURE_INTERVAL_MS = 1000;
const MEASURE_PAUSE_SHARE = 50;

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
  /** Monotonic ms before which no other measurement is forced (but the one before -OOM), and of the last one. */
  private nextMeasureMs = -Infinity;
  private lastMeasureMs = -Infinity;

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
    const process = s.runtime.process;
    let used = process.heapUsed();
    if (used <= maxmemory) return 'ok';
    const policy = s.config.get('maxmemory-policy');
    if (policy === 'noeviction') return 'fail';
    const [scope, kind] = policy.split('-') as [string, Policy];
    for (let n = 0; n < MAX_EVICTIONS_PER_CHECK && used > maxmemory; n++) {
      const victim = this.pick(kind, scope === 'volatile');
      // Nothing left to evict: the figure may still hold what was evicted before the last measurement.
      if (victim === null) return this.measureAgain(maxmemory, true) ? 'ok' : 'fail';
      // Freed at the next major GC; counted as freed now, or every check until then would evict again.
      used -= releaseEntry(process, victim.entry);
      this.evict(victim);
    }
    return used <= maxmemory ? 'ok' : 'running';
  }

  /**
   * From the cron: eviction goes on between commands (Redis's
   * evictionTimeProc), and since the used-memory figure grows only at major
   * GCs, data written since the last one is not in it: when the heap as it
   * is now (garbage included) is over the limit, measure again (measureAgain)
   * and evict if the data really is.
   */
  staleCheck(): void {
    const s = this.server;
    const maxmemory = s.config.int('maxmemory');
    if (maxmemory === 0 || s.config.get('maxmemory-policy') === 'noeviction') return;
    const process = s.runtime.process;
    if (process.heapUsed() > maxmemory) {
      this.enforce();
      return;
    }
    if (process.heapNow() > maxmemory && !this.measureAgain(maxmemory)) this.enforce();
  }

  /**
   * Measures the heap again (a forced major GC, at most every
   * STALE_MEASURE_INTERVAL_MS and, unless beforeOom, at most
   * 1/MEASURE_PAUSE_SHARE of the time); true when it is within maxmemory now.
   * Before refusing writes with -OOM the pause share does not apply: a big
   * heap's GC pause would otherwise keep every write refused for minutes.
   */
  private measureAgain(maxmemory: number, beforeOom = false): boolean {
    const s = this.server;
    const now = s.runtime.clock.monotonicMs();
    if (now < (beforeOom ? this.lastMeasureMs + STALE_MEASURE_INTERVAL_MS : this.nextMeasureMs)) return false;
    const pauseMs = s.runtime.process.measureHeap();
    this.lastMeasureMs = now;
    // A heap held just under the limit crosses it again at once: the pauses stay a small share of the time.
    this.nextMeasureMs = now + Math.max(STALE_MEASURE_INTERVAL_MS, MEASURE_PAUSE_SHARE * pauseMs);
    return pauseMs >= 0 && s.runtime.process.heapUsed() <= maxmemory;
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
