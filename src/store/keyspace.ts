import { Database, type CommandClock, type KeyspaceListener } from './database.js';

/**
 * The node's databases (SELECT 0..databases-1). In a cluster each shard owns
 * the keys of its slots; a single node is one shard holding everything.
 */
export class Keyspace {
  private readonly dbs: Database[];

  constructor(count: number, seed: number, clock: CommandClock, listener: KeyspaceListener) {
    if (!(count >= 1)) throw new Error('databases must be at least 1');
    this.dbs = [];
    for (let i = 0; i < count; i++) this.dbs.push(new Database(i, (seed + i * 0x9e3779b1) >>> 0, clock, listener));
  }

  get count(): number {
    return this.dbs.length;
  }

  /** Database by index; the caller validates the range. */
  db(index: number): Database {
    const db = this.dbs[index];
    if (db === undefined) throw new Error(`no database ${index}`);
    return db;
  }

  all(): readonly Database[] {
    return this.dbs;
  }

  /** Total keys across databases. */
  get totalKeys(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }

  /** lfu-log-factor and lfu-decay-time for every database (the server calls this when they change). */
  setLfuParams(logFactor: number, decayMinutes: number, enabled: boolean): void {
    for (const db of this.dbs) {
      db.lfuEnabled = enabled;
      db.lfuLogFactor = logFactor;
      db.lfuDecayMinutes = decayMinutes;
    }
  }

  /** SWAPDB: exchanges the contents of two databases (clients stay on their index). */
  swap(a: number, b: number): void {
    if (a === b) return;
    const dbA = this.db(a);
    const dbB = this.db(b);
    dbA.swapWith(dbB);
    if (dbA.crdt !== null) dbA.crdt.swapped(dbA, dbB);
  }
}
