import * as path from 'node:path';
import type { Disk } from '../../src/runtime/disk.js';
import type { Random } from '../../src/runtime/random.js';

/** A simulated disk larger than this is a leak in the node (an append-only log never compacted). */
export const DEFAULT_MAX_DISK_BYTES = 256 * 1024 * 1024;

/**
 * How a node's life ended, as far as its disk is concerned:
 * - process: the process died, the machine (its page cache) lived: nothing written is lost;
 * - machine: power loss: every byte not fsynced is gone, and so is every
 *   directory entry (new file, rename, unlink) not made durable by fsyncDir;
 * - torn: a machine crash during write-back: as machine, but the unsynced
 *   appends of a file partly reached the platter: some whole, then a prefix
 *   of the next one, possibly ending in garbage.
 */
export type CrashKind = 'process' | 'machine' | 'torn';

/** What crash() destroyed, for the run's fault counters. */
export interface CrashLoss {
  /** Unsynced bytes that did not survive. */
  bytesLost: number;
  /** Files whose unsynced tail was torn (a partial write survived). */
  tornWrites: number;
  /** Torn writes that survived with garbage at their end. */
  garbageWrites: number;
  /** Directory entries (creations, renames, unlinks) not made durable that were undone. */
  entriesUndone: number;
}

/** One file's contents, referenced by names (a rename moves the name, not the data) and by open handles. */
interface Inode {
  /** The file as the chunks appended to it, so appends stay O(chunk). */
  chunks: Buffer[];
  size: number;
  /** Bytes from the start that an fsync (or an atomic write, or truncate) made durable. */
  synced: number;
  /** End offset of each append after `synced`, in order: the unit a torn write-back cuts. */
  unsyncedEnds: number[];
}

/**
 * One machine's disk in memory, kept across a node's restarts. It tracks
 * what the OS has (every write, at once) apart from what is durable (what
 * fsync, fsyncDir and writeFileAtomic made so), and crash() turns the disk
 * into what survives a crash of the given kind. Randomness (where a torn
 * write ends, its garbage) comes only from the Random crash() is given.
 */
export class MemDisk implements Disk {
  /** The names as the OS sees them now. */
  private readonly files = new Map<string, Inode>();
  /** The names as they are on the platter: what a machine crash leaves. */
  private readonly durable = new Map<string, Inode>();
  private readonly dirs = new Set<string>();
  private readonly handles = new Map<number, Inode>();
  private nextHandle = 3;
  private totalBytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_DISK_BYTES) {}

  exists(file: string): boolean {
    return this.files.has(file) || this.dirs.has(file);
  }
  readFile(file: string): Buffer {
    const inode = this.inodeOf(file);
    if (inode.chunks.length > 1) inode.chunks.splice(0, inode.chunks.length, Buffer.concat(inode.chunks));
    return Buffer.from(inode.chunks[0] ?? Buffer.alloc(0));
  }
  /** Temp file, fsync, rename, fsync of the directory: durable (with every entry of its directory) once it returns. */
  writeFileAtomic(file: string, data: Buffer | string): void {
    const bytes = Buffer.from(data);
    this.release(file);
    this.reserve(bytes.length);
    this.files.set(file, { chunks: [bytes], size: bytes.length, synced: bytes.length, unsyncedEnds: [] });
    this.fsyncDir(path.dirname(file));
  }
  openAppend(file: string): number {
    let inode = this.files.get(file);
    if (inode === undefined) this.files.set(file, (inode = { chunks: [], size: 0, synced: 0, unsyncedEnds: [] }));
    const handle = this.nextHandle++;
    this.handles.set(handle, inode);
    return handle;
  }
  append(handle: number, data: Buffer): void {
    const inode = this.handleOf(handle);
    if (data.length === 0) return;
    this.reserve(data.length);
    inode.chunks.push(Buffer.from(data));
    inode.size += data.length;
    inode.unsyncedEnds.push(inode.size);
  }
  fsync(handle: number): void {
    const inode = this.handleOf(handle);
    inode.synced = inode.size;
    inode.unsyncedEnds = [];
  }
  /** Synchronous here: done runs before this returns (deterministic; a crash cannot fall inside it). */
  fsyncInBackground(handle: number, done: (err: Error | null) => void): void {
    let error: Error | null = null;
    try {
      this.fsync(handle);
    } catch (err) {
      error = err as Error;
    }
    done(error);
  }
  close(handle: number): void {
    this.handleOf(handle);
    this.handles.delete(handle);
  }
  rename(from: string, to: string): void {
    const inode = this.inodeOf(from);
    if (from === to) return;
    this.release(to);
    this.files.delete(from);
    this.files.set(to, inode);
  }
  unlink(file: string): void {
    this.release(file);
  }
  mkdirp(dir: string): void {
    // Directories themselves are taken as durable: the node creates them once, before any data.
    this.dirs.add(dir);
  }
  size(file: string): number {
    return this.inodeOf(file).size;
  }
  list(dir: string): string[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    return [...this.files.keys()].filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length));
  }
  /** Cuts the file and makes that durable (RealDisk fsyncs the file). */
  truncate(file: string, bytes: number): void {
    const inode = this.inodeOf(file);
    const data = this.readFile(file).subarray(0, bytes);
    this.totalBytes -= inode.size - data.length;
    inode.chunks = [Buffer.from(data)];
    inode.size = data.length;
    inode.synced = data.length;
    inode.unsyncedEnds = [];
  }
  /** The directory's entries as they are now become the durable ones. */
  fsyncDir(dir: string): void {
    const key = path.resolve(dir);
    for (const name of [...this.durable.keys()]) {
      if (path.dirname(path.resolve(name)) === key && !this.files.has(name)) this.durable.delete(name);
    }
    for (const [name, inode] of this.files) {
      if (path.dirname(path.resolve(name)) === key) this.durable.set(name, inode);
    }
  }

  /**
   * The node's process died (its handles close). For a machine crash the
   * disk becomes what was durable; `random` decides how a torn write ends.
   */
  crash(kind: CrashKind, random: Random): CrashLoss {
    const loss: CrashLoss = { bytesLost: 0, tornWrites: 0, garbageWrites: 0, entriesUndone: 0 };
    this.handles.clear();
    if (kind === 'process') return loss;
    for (const [name, inode] of this.files) if (this.durable.get(name) !== inode) loss.entriesUndone++;
    for (const name of this.durable.keys()) if (!this.files.has(name)) loss.entriesUndone++;
    this.files.clear();
    const seen = new Set<Inode>();
    for (const [name, inode] of this.durable) {
      this.files.set(name, inode);
      if (seen.has(inode)) continue;
      seen.add(inode);
      const keep = kind === 'torn' && inode.unsyncedEnds.length > 0 ? this.tear(inode, random, loss) : inode.synced;
      loss.bytesLost += inode.size - keep;
      this.cut(inode, keep);
    }
    this.totalBytes = 0;
    for (const inode of seen) this.totalBytes += inode.size;
    return loss;
  }

  /**
   * A torn write-back: the first k unsynced appends survive whole, then a
   * prefix of the next one, its last bytes possibly garbage. Returns the
   * surviving length (the garbage is written into the inode here).
   */
  private tear(inode: Inode, random: Random, loss: CrashLoss): number {
    const ends = inode.unsyncedEnds;
    const k = random.int(ends.length);
    const start = k === 0 ? inode.synced : ends[k - 1]!;
    const length = ends[k]! - start;
    if (length < 2) return start;
    const prefix = 1 + random.int(length - 1);
    loss.tornWrites++;
    if (random.next() < 0.5) {
      loss.garbageWrites++;
      const data = this.flatten(inode);
      const garbageFrom = start + prefix - Math.min(prefix, 1 + random.int(16));
      for (let i = garbageFrom; i < start + prefix; i++) data[i] = random.int(256);
    }
    return start + prefix;
  }

  private flatten(inode: Inode): Buffer {
    if (inode.chunks.length !== 1) inode.chunks = [Buffer.concat(inode.chunks)];
    return inode.chunks[0] ?? Buffer.alloc(0);
  }

  /** Everything after `bytes` is gone; what is left is durable (it is what the platter holds). */
  private cut(inode: Inode, bytes: number): void {
    if (bytes < inode.size) inode.chunks = [Buffer.from(this.flatten(inode).subarray(0, bytes))];
    inode.size = bytes;
    inode.synced = bytes;
    inode.unsyncedEnds = [];
  }

  private inodeOf(file: string): Inode {
    const inode = this.files.get(file);
    if (inode === undefined) throw fsError('ENOENT', `no such file or directory, '${file}'`);
    return inode;
  }
  private handleOf(handle: number): Inode {
    const inode = this.handles.get(handle);
    if (inode === undefined) throw fsError('EBADF', `bad file descriptor ${handle}`);
    return inode;
  }
  private reserve(bytes: number): void {
    if (this.totalBytes + bytes > this.maxBytes) {
      throw fsError('ENOSPC', `no space left on simulated disk (${this.maxBytes} bytes)`);
    }
    this.totalBytes += bytes;
  }
  /** Removes a name if present; its bytes return to the budget (an inode still open or durable is not tracked further). */
  private release(file: string): void {
    const inode = this.files.get(file);
    if (inode === undefined) return;
    this.totalBytes -= inode.size;
    this.files.delete(file);
  }
}

/** An Error shaped like node's fs errors, so code that checks `code` behaves as in production. */
function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
