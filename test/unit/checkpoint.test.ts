import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/persistence/checkpoint.js';
import type { KeyspaceListener } from '../../src/store/database.js';
import { Keyspace } from '../../src/store/keyspace.js';
import { MemDisk } from '../../sim/runtime/index.js';

/** A MemDisk whose background fsyncs wait until the test lets them return, as a real thread pool's do. */
class SlowSyncDisk extends MemDisk {
  readonly pending: (() => void)[] = [];
  closed: number[] = [];
  override fsyncInBackground(handle: number, done: (err: Error | null) => void): void {
    this.pending.push(() => super.fsyncInBackground(handle, done));
  }
  override close(handle: number): void {
    this.closed.push(handle);
    super.close(handle);
  }
}

const listener: KeyspaceListener = { keyWritten: () => undefined, keyExpired: () => undefined, keyCreated: () => undefined };

const fail = (err: unknown): never => {
  throw err;
};

function keyspaceWith(keys: number): Keyspace {
  const ks = new Keyspace(1, 1, { nowMs: () => 1_700_000_000_000, expiryPaused: false }, listener);
  for (let i = 0; i < keys; i++) ks.db(0).add(`k${i}`, 'string', `v${i}`);
  return ks;
}

describe('Checkpoint presync', () => {
  it('finishes into place after the background fsync returns', () => {
    const disk = new SlowSyncDisk();
    disk.mkdirp('/d');
    const cp = new Checkpoint(disk, '/d/dump.rdb', keyspaceWith(1000), null);
    while (!cp.step(250));
    let result: Error | null | undefined;
    cp.presync((err) => (result = err), fail);
    expect(result).toBeUndefined();
    cp.live(Buffer.alloc(0));
    disk.pending.shift()!();
    expect(result).toBeNull();
    cp.finish();
    expect(disk.list('/d')).toEqual(['dump.rdb']);
  });

  it('an abort during the fsync removes the file at once and closes the handle only when the fsync returns', () => {
    const disk = new SlowSyncDisk();
    disk.mkdirp('/d');
    const cp = new Checkpoint(disk, '/d/dump.rdb', keyspaceWith(100), null);
    while (!cp.step(250));
    let called = false;
    cp.presync(() => (called = true), fail);
    cp.abort();
    expect(disk.list('/d')).toEqual([]);
    expect(disk.closed).toEqual([]);
    // A new snapshot may take the temp name before the old fsync returns: it must be left alone.
    const next = new Checkpoint(disk, '/d/dump.rdb', keyspaceWith(10), null);
    disk.pending.shift()!();
    expect(called).toBe(false);
    expect(disk.closed.length).toBe(1);
    while (!next.step(250));
    next.finish();
    expect(disk.list('/d')).toEqual(['dump.rdb']);
  });

  it('an fsync refused before it starts ends as a failed one, and the file can still be dropped', () => {
    const disk = new SlowSyncDisk();
    disk.fsyncInBackground = (): void => {
      throw new Error('EBADF');
    };
    disk.mkdirp('/d');
    const cp = new Checkpoint(disk, '/d/dump.rdb', keyspaceWith(10), null);
    while (!cp.step(250));
    let result: Error | null | undefined;
    cp.presync((err) => (result = err), fail);
    expect(result?.message).toBe('EBADF');
    cp.abort();
    expect(disk.closed.length).toBe(1);
    expect(disk.list('/d')).toEqual([]);
  });
});
