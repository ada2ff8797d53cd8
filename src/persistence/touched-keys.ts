import type { Database } from '../store/database.js';

/** Up to this many keys, a repeat is found by comparing with each listed key; past it, by a set. */
const LINEAR_MAX = 16;

/**
 * The keys written since the last commit, each once, in first-write order.
 * A commit of a client batch usually holds a few keys: they are compared one
 * by one (a repeat of the last key first). Only a larger batch builds sets:
 * a Set per database, regrown from empty after every commit, was a quarter
 * of what appendonly cost a SET at P=1. Each listed key becomes a record of
 * its whole value, so a repeat must never be listed twice (a script
 * alternating writes to two big hashes would write them thousands of times).
 */
export class TouchedKeys {
  private dbs: Database[] = [];
  private keys: string[] = [];
  /** Listed keys per database, once the list outgrew LINEAR_MAX (null before). */
  private seen: Map<Database, Set<string>> | null = null;

  get size(): number {
    return this.keys.length;
  }

  add(db: Database, key: string): void {
    if (this.listed(db, key)) return;
    this.dbs.push(db);
    this.keys.push(key);
    if (this.seen !== null) this.remember(db, key);
    else if (this.keys.length > LINEAR_MAX) {
      this.seen = new Map();
      for (let i = 0; i < this.keys.length; i++) this.remember(this.dbs[i]!, this.keys[i]!);
    }
  }

  forEach(fn: (db: Database, key: string) => void): void {
    for (let i = 0; i < this.keys.length; i++) fn(this.dbs[i]!, this.keys[i]!);
  }

  clear(): void {
    this.dbs.length = 0;
    this.keys.length = 0;
    this.seen = null;
  }

  private listed(db: Database, key: string): boolean {
    if (this.seen !== null) return this.seen.get(db)?.has(key) === true;
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] === key && this.dbs[i] === db) return true;
    return false;
  }

  private remember(db: Database, key: string): void {
    let set = this.seen!.get(db);
    if (set === undefined) this.seen!.set(db, (set = new Set()));
    set.add(key);
  }
}
