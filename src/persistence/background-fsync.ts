import type { Disk } from '../runtime/disk.js';

/**
 * One fsync of a file on libuv's thread pool (Disk.fsyncInBackground), as
 * Redis's bio thread: the log's periodic fsync and a finished snapshot's
 * presync. The handle must stay open until the fsync returns, so close()
 * waits for it; a failure of that late close goes to closeFailed, since no
 * caller is left to throw to. An fsync refused before it started ends as
 * a failed one (otherwise its owner would wait for it forever).
 *
 * Made, stored by its owner, then started: on the simulated disk the fsync
 * returns inside start().
 */
export class BackgroundFsync {
  /** True from start() until the fsync returned. */
  running = false;
  private closeAfter = false;

  constructor(
    private readonly disk: Disk,
    readonly handle: number,
    private readonly closeFailed: (err: unknown) => void,
  ) {}

  start(done: (err: Error | null) => void): void {
    this.running = true;
    try {
      this.disk.fsyncInBackground(this.handle, (err) => this.ended(err, done));
    } catch (err) {
      this.ended(err as Error, done);
    }
  }

  /** Closes the handle now, or once the running fsync returned. */
  close(): void {
    if (this.running) this.closeAfter = true;
    else this.disk.close(this.handle);
  }

  private ended(err: Error | null, done: (err: Error | null) => void): void {
    this.running = false;
    if (this.closeAfter) {
      try {
        this.disk.close(this.handle);
      } catch (closeErr) {
        this.closeFailed(closeErr);
      }
    }
    done(err);
  }
}
