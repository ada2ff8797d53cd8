import type { Disk } from '../../src/runtime/disk.js';

/** A simulated disk larger than this is a leak in the node (an append-only log never compacted). */
export const DEFAULT_MAX_DISK_BYTES = 256 * 1024 * 1024;

/**
 * One machine's disk in memory. Keep it across a node's restarts to model a
 * process crash on a live machine. Every write is durable at once: losing
 * unsynced writes on a crash is not modelled yet.
 */
export class MemDisk implements Disk {
  /** Each file as the chunks appended to it, so appends stay O(chunk). */
  private readonly files = new Map<string, Buffer[]>();
  private readonly dirs = new Set<string>();
  private readonly handles = new Map<number, string>();
  private nextHandle = 3;
  private totalBytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_DISK_BYTES) {}

  exists(file: string): boolean {
    return this.files.has(file) || this.dirs.has(file);
  }
  readFile(file: string): Buffer {
    const chunks = this.chunksOf(file);
    if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks));
    return Buffer.from(chunks[0] ?? Buffer.alloc(0));
  }
  writeFileAtomic(file: string, data: Buffer | string): void {
    const bytes = Buffer.from(data);
    this.release(file);
    this.reserve(bytes.length);
    this.files.set(file, [bytes]);
  }
  openAppend(file: string): number {
    if (!this.files.has(file)) this.files.set(file, []);
    const handle = this.nextHandle++;
    this.handles.set(handle, file);
    return handle;
  }
  append(handle: number, data: Buffer): void {
    const file = this.fileOf(handle);
    this.reserve(data.length);
    this.chunksOf(file).push(Buffer.from(data));
  }
  fsync(handle: number): void {
    this.fileOf(handle);
  }
  close(handle: number): void {
    this.fileOf(handle);
    this.handles.delete(handle);
  }
  rename(from: string, to: string): void {
    const chunks = this.chunksOf(from);
    this.release(to);
    this.files.delete(from);
    this.files.set(to, chunks);
  }
  unlink(file: string): void {
    this.release(file);
  }
  mkdirp(dir: string): void {
    this.dirs.add(dir);
  }
  size(file: string): number {
    let bytes = 0;
    for (const chunk of this.chunksOf(file)) bytes += chunk.length;
    return bytes;
  }
  list(dir: string): string[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    return [...this.files.keys()].filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length));
  }
  truncate(file: string, bytes: number): void {
    const data = this.readFile(file).subarray(0, bytes);
    this.release(file);
    this.reserve(data.length);
    this.files.set(file, [Buffer.from(data)]);
  }
  fsyncDir(_dir: string): void {
    // Every write is durable at once here (see the class comment).
  }

  private chunksOf(file: string): Buffer[] {
    const chunks = this.files.get(file);
    if (chunks === undefined) throw fsError('ENOENT', `no such file or directory, '${file}'`);
    return chunks;
  }
  private fileOf(handle: number): string {
    const file = this.handles.get(handle);
    if (file === undefined) throw fsError('EBADF', `bad file descriptor ${handle}`);
    return file;
  }
  private reserve(bytes: number): void {
    if (this.totalBytes + bytes > this.maxBytes) {
      throw fsError('ENOSPC', `no space left on simulated disk (${this.maxBytes} bytes)`);
    }
    this.totalBytes += bytes;
  }
  /** Deletes a file if present, returning its bytes to the budget. */
  private release(file: string): void {
    if (!this.files.has(file)) return;
    this.totalBytes -= this.size(file);
    this.files.delete(file);
  }
}

/** An Error shaped like node's fs errors, so code that checks `code` behaves as in production. */
function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
