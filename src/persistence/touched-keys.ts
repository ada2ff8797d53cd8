import type { Database } from '../store/database.js';

/** Entries kept before duplicates are squeezed out (a script writing two keys in turn millions of times). */
const COMPACT_AT = 65_536;

/**
 * The keys written since the last commit, in first-write order. A write
 * repeating the previous key is skipped at once; other repeats are kept
 * until the list grows past COMPACT_AT, then dropped in one pass. A Set per
 * database did the same with a hash insert per write and a table that
 * regrew from empty after every commit (clear() shrinks it): a quarter of
 * what appendonly cost a SET at P=1.
 */
export class TouchedKeys {
  private dbs: Database[] = [];
  private keys: string[] = [];
  private compactAt = COMPACT_AT;

  get size(): number {
    return this.keys.length;
  }

  add(db: Database, key: string): void {
    const n = this.keys.length;
    if (n > 0 && this.keys[n - 1] === key && this.dbs[n - 1] === db) return;
    this.dbs.push(db);
    this.keys.push(key);
    if (n + 1 >= this.compactAt) this.compact();
  }

  forEach(fn: (db: Database, key: string) => void): void {
    for (let i = 0; i < this.keys.length; i++) fn(this.dbs[i]!, this.keys[i]!);
  }

  clear(): void {
    this.dbs.length = 0;
    this.keys.length = 0;
    this.compactAt = COMPACT_AT;
  }

  /** Keeps the first write of each key; grows the bound when the keys are all distinct. */
  private compact(): void {
    const seen = new Map<Database, Set<string>>();
    let kept = 0;
    for (let i = 0; i < this.keys.length; i++) {
      const db = this.dbs[i]!;
      const key = this.keys[i]!;
      let set = seen.get(db);
      if (set === undefined) seen.set(db, (set = new Set()));
      if (set.has(key)) continue;
      set.add(key);
      this.dbs[kept] = db;
      this.keys[kept++] = key;
    }
    this.dbs.length = kept;
    this.keys.length = kept;
    // Mostly distinct keys: the next pass waits until the list doubled, so adds stay amortised O(1).
    this.compactAt = Math.max(COMPACT_AT, kept * 2);
  }
}
