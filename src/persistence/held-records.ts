/**
 * Under appendfsync everysec and no, records are appended to the log at most
 * HOLD_MS after they were committed, or once HOLD_BYTES of them gathered,
 * instead of once per client batch. A batch at P=1 holds a few keys, and its
 * append (a write(2) to the file system) cost as much server CPU as building
 * its records: appendonly everysec cost a SET at P=1 ~1.5 us on top of ~6.5,
 * half of it that syscall. The price is a window of HOLD_MS in which a
 * process crash (not only a machine crash) loses acknowledged writes; these
 * modes promise about a second under a machine crash, and a process crash
 * now loses at most HOLD_MS of it. appendfsync always is not held: its
 * records are written and fsynced before the replies.
 */
export const HOLD_MS = 2;
/** Past this many held bytes the records are appended at once (bounds the buffer). */
export const HOLD_BYTES = 64 * 1024;

/** The held buffer shrinks back to this after holding more (one large value). */
const KEEP_BYTES = 2 * HOLD_BYTES;

/**
 * Committed records not yet appended, in commit order, copied into one
 * reused buffer (a commit's records are a view of the builder's buffer,
 * RecordBuilder.take).
 */
export class HeldRecords {
  private buf = Buffer.allocUnsafe(KEEP_BYTES);
  bytes = 0;
  /** The newest write the held records contain (the log's written point once they are appended). */
  hlc = 0;

  /** Holds a copy of data; true when the held records should be appended now (HOLD_BYTES reached). */
  add(data: Buffer, hlc: number): boolean {
    this.copyIn(data);
    if (hlc > this.hlc) this.hlc = hlc;
    return this.bytes >= HOLD_BYTES;
  }

  /**
   * The held records followed by `after`, as one buffer, and forgets them:
   * `after` itself when nothing is held, else a view of the held buffer,
   * valid until the next add (the caller appends it at once).
   */
  takeWith(after: Buffer): Buffer {
    if (this.bytes === 0) return after;
    this.copyIn(after);
    const all = this.buf.subarray(0, this.bytes);
    this.bytes = 0;
    this.hlc = 0;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(KEEP_BYTES);
    return all;
  }

  clear(): void {
    this.bytes = 0;
    this.hlc = 0;
  }

  private copyIn(data: Buffer): void {
    const need = this.bytes + data.length;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.bytes);
      this.buf = grown;
    }
    data.copy(this.buf, this.bytes);
    this.bytes = need;
  }
}
