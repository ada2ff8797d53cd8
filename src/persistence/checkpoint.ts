import * as path from 'node:path';
import type { KeyCrdt } from '../replication/key-crdt.js';
import type { Disk } from '../runtime/disk.js';
import type { Database } from '../store/database.js';
import type { Entry } from '../store/entry.js';
import type { Keyspace } from '../store/keyspace.js';
import { snapshotFooter, snapshotHeader } from './files.js';
import { BackgroundFsync } from './background-fsync.js';
import { RecordBuilder } from './key-states.js';

/** Buckets a scan step visits in one tight loop (Dict.scanMany). */
const SCAN_STEPS = 128;

/**
 * Writes a snapshot of the keyspace into `target` without stopping clients:
 * step() visits a bounded number of keys per event-loop turn (a Dict scan
 * cursor per database), and every commit made meanwhile is appended to the
 * same file too (live()). The file is in time order, and each record holds
 * a key's state at the moment it was written, so replaying it gives the
 * keyspace as it was when the snapshot finished: exact, not merely fuzzy.
 * presync() fsyncs what is written so far off the serving thread; finish()
 * makes the rest durable and renames the file into place.
 */
export class Checkpoint {
  private readonly tmp: string;
  private handle: number;
  private readonly builder: RecordBuilder;
  private dbIndex = 0;
  private cursor = 0;
  /** Replicated: the emptied collections and tombstones of the current database, visited after its keys. */
  private extras: string[] | null = null;
  keys = 0;
  /** Entries of the scan step being recorded (reused). */
  private readonly batch: Entry[] = [];
  /** touchEntries' result, kept so the loads it makes are not optimized away. */
  warmth = 0;
  /** presync()'s fsync, which the handle must outlive. */
  private sync: BackgroundFsync | null = null;
  /** abort() came while it ran: done is not called. */
  private abandoned = false;

  constructor(
    private readonly disk: Disk,
    readonly target: string,
    private readonly keyspace: Keyspace,
    private readonly crdt: KeyCrdt | null,
  ) {
    this.tmp = `${target}.tmp`;
    disk.unlink(this.tmp);
    this.handle = disk.openAppend(this.tmp);
    disk.append(this.handle, snapshotHeader());
    this.builder = new RecordBuilder(crdt);
  }

  /** Records committed while the snapshot is being written. */
  live(data: Buffer): void {
    this.disk.append(this.handle, data);
  }

  /** Visits up to about maxKeys keys; true once every database was visited. */
  step(maxKeys: number): boolean {
    const stopAt = this.builder.keys + maxKeys;
    while (this.dbIndex < this.keyspace.count && this.builder.keys < stopAt) this.advance(stopAt);
    const records = this.builder.take();
    if (records !== null) this.disk.append(this.handle, records);
    this.keys = this.builder.keys;
    return this.dbIndex >= this.keyspace.count;
  }

  private advance(stopAt: number): void {
    const db = this.keyspace.db(this.dbIndex);
    if (this.extras === null) {
      this.scanEntries(db, stopAt);
      if (this.cursor === 0) this.extras = this.crdt === null ? [] : [...this.crdt.hidden[db.id]!.keys(), ...this.crdt.tombstones[db.id]!.keys()];
      return;
    }
    while (this.extras.length > 0 && this.builder.keys < stopAt) this.builder.add(db, this.extras.pop()!);
    if (this.extras.length > 0) return;
    this.extras = null;
    this.dbIndex++;
  }

  /**
   * Records the keys of the next scan buckets, up to stopAt. The entries are
   * gathered first and touched in a tight loop before they are encoded: the
   * scan reaches them in hash order, scattered over the heap, and loads that
   * do not depend on each other overlap their cache misses, where encoding
   * each entry as it is found waits for every miss in turn.
   */
  private scanEntries(db: Database, stopAt: number): void {
    const batch = this.batch;
    do this.cursor = db.scanMany(this.cursor, SCAN_STEPS, batch);
    while (this.cursor !== 0 && this.builder.keys + batch.length < stopAt);
    this.warmth = touchEntries(batch);
    for (const e of batch) this.builder.addEntry(db, e);
    batch.length = 0;
  }

  /**
   * Starts an fsync of everything written so far on the thread pool, so
   * that finish()'s own fsync, on the serving thread, has only what came
   * after it to write (a 5M-key snapshot's was a 70 ms stall). done runs
   * when it ended, unless abort() came meanwhile.
   */
  presync(done: (err: Error | null) => void, closeFailed: (err: unknown) => void): void {
    const sync = new BackgroundFsync(this.disk, this.handle, closeFailed);
    this.sync = sync;
    sync.start((err) => {
      if (!this.abandoned) done(err);
    });
  }

  /** Ends the file, makes it durable and renames it over `target`. */
  finish(): void {
    this.disk.append(this.handle, snapshotFooter(this.keys));
    this.disk.fsync(this.handle);
    this.disk.close(this.handle);
    this.disk.rename(this.tmp, this.target);
    this.disk.fsyncDir(path.dirname(path.resolve(this.target)));
  }

  /**
   * Gives up (appendonly turned off, a write error): the temp file goes.
   * During a presync its name goes now (a new job may reuse it before the
   * fsync returns) and the handle is closed when the fsync returns.
   */
  abort(): void {
    if (this.sync?.running === true) {
      this.abandoned = true;
      this.sync.close();
      this.disk.unlink(this.tmp);
      return;
    }
    try {
      this.disk.close(this.handle);
    } finally {
      this.disk.unlink(this.tmp);
    }
  }
}

/** Reads each entry's key and value headers (see scanEntries); returns a sum so the reads stay. */
function touchEntries(batch: readonly Entry[]): number {
  let sum = 0;
  for (let i = 0; i < batch.length; i++) {
    const e = batch[i]!;
    const v = e.value;
    sum += e.key.length + (typeof v === 'string' ? v.length : 0);
  }
  return sum;
}
