import * as fs from 'node:fs';
import * as path from 'node:path';

/** File I/O used by persistence and config rewriting. The simulator injects faults here. */
export interface Disk {
  exists(file: string): boolean;
  readFile(file: string): Buffer;
  /** Writes a whole file atomically: temp file, fsync, rename, fsync of the directory. */
  writeFileAtomic(file: string, data: Buffer | string): void;
  /** Opens a file for appending; returns a handle. */
  openAppend(file: string): number;
  append(handle: number, data: Buffer): void;
  fsync(handle: number): void;
  /**
   * fsync off the serving thread (Redis's bio thread for appendfsync
   * everysec): done runs once the data is durable, or with the error. It
   * may run before this returns (a simulated disk). The handle must stay
   * open until done ran.
   */
  fsyncInBackground(handle: number, done: (err: Error | null) => void): void;
  close(handle: number): void;
  rename(from: string, to: string): void;
  unlink(file: string): void;
  mkdirp(dir: string): void;
  size(file: string): number;
  /** Names of the entries in dir (not recursive). */
  list(dir: string): string[];
  /** Cuts file to `bytes` (a torn log tail) and makes that durable. */
  truncate(file: string, bytes: number): void;
  /** Makes renames and new files in dir durable. */
  fsyncDir(dir: string): void;
}

export class RealDisk implements Disk {
  exists(file: string): boolean {
    return fs.existsSync(file);
  }
  readFile(file: string): Buffer {
    return fs.readFileSync(file);
  }
  writeFileAtomic(file: string, data: Buffer | string): void {
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    this.fsyncDir(path.dirname(path.resolve(file)));
  }
  openAppend(file: string): number {
    return fs.openSync(file, 'a');
  }
  append(handle: number, data: Buffer): void {
    let off = 0;
    while (off < data.length) off += fs.writeSync(handle, data, off);
  }
  fsync(handle: number): void {
    fs.fsyncSync(handle);
  }
  fsyncInBackground(handle: number, done: (err: Error | null) => void): void {
    // libuv's thread pool: the event loop goes on serving meanwhile.
    fs.fsync(handle, (err) => done(err));
  }
  close(handle: number): void {
    fs.closeSync(handle);
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  unlink(file: string): void {
    fs.rmSync(file, { force: true });
  }
  mkdirp(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  }
  size(file: string): number {
    return fs.statSync(file).size;
  }
  list(dir: string): string[] {
    return fs.readdirSync(dir);
  }
  truncate(file: string, bytes: number): void {
    const fd = fs.openSync(file, 'r+');
    try {
      fs.ftruncateSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  fsyncDir(dir: string): void {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
