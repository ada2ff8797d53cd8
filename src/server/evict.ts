import { entryBytes } from '../commands/memory.js';
import type { Database } from '../store/database.js';
import { idleSec, type Entry } from '../store/entry.js';
import type { Server } from './server.js';

/**
 * maxmemory (evict.c performEvictions): before a command runs, while the
 * node uses more than maxmemory, keys are evicted by maxmemory-policy from
 * samples of maxmemory-samples keys per database; each eviction deletes the
 * key as a write ("evicted" keyspace event, a tombstone for peers). Used
 * memory is the V8 heap, which only shrinks at the next garbage collection:
 * within one check the estimated size of each evicted key (MEMORY USAGE's
 * estimate) is subtracted instead. With maxmemory 0 nothing here runs.
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

export class Evictor {
  constructor(private readonly server: Server) {}

  /** performEvictions: true when memory is (now) within maxmemory, false when it could not get there (OOM). */
  enforce(): boolean {
    const s = this.server;
    const maxmemory = s.config.int('maxmemory');
    if (maxmemory === 0) return true;
    let used = s.runtime.process.heapUsed();
    if (used <= maxmemory) return true;
    const policy = s.config.get('maxmemory-policy');
    if (policy === 'noeviction') return false;
    const [scope, kind] = policy.split('-') as [string, Policy];
    for (let n = 0; n < MAX_EVICTIONS_PER_CHECK && used > maxmemory; n++) {
      const victim = this.pick(kind, scope === 'volatile');
      if (victim === null) return false;
      used -= entryBytes(victim.entry.key, victim.entry.value, 5);
      this.evict(victim);
    }
    return used <= maxmemory;
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
