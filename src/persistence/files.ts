import * as path from 'node:path';
import type { Logger } from '../log.js';
import type { Disk } from '../runtime/disk.js';
import { encodeRecord, PersistenceError, scanRecords } from './record.js';

/**
 * The files, in Redis 7's multi-part layout: `dir/appenddirname/` holds a
 * manifest naming one base (a snapshot) and one incremental log:
 *
 *   file appendonly.aof.3.base.snap seq 3 type b
 *   file appendonly.aof.3.incr.aof seq 3 type i
 *
 * A base and a SAVE/BGSAVE snapshot (`dir/dbfilename`) share one format:
 * a header record, key-state records, an end record with the key count.
 */

export const SNAPSHOT_MAGIC = 'strata-snapshot';
export const SNAPSHOT_VERSION = 1;

export interface Manifest {
  seq: number;
  base: string;
  incr: string;
}

export function manifestNames(appendfilename: string, seq: number): Manifest {
  return { seq, base: `${appendfilename}.${seq}.base.snap`, incr: `${appendfilename}.${seq}.incr.aof` };
}

export function formatManifest(m: Manifest): string {
  return `file ${m.base} seq ${m.seq} type b\nfile ${m.incr} seq ${m.seq} type i\n`;
}

export function parseManifest(text: string, file: string): Manifest {
  let base = '';
  let incr = '';
  let seq = 0;
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const m = /^file (\S+) seq (\d+) type ([bi])$/.exec(line.trim());
    if (m === null) throw new PersistenceError(`Invalid AOF manifest file format: ${file}: '${line}'`);
    if (m[3] === 'b') base = m[1]!;
    else incr = m[1]!;
    seq = Math.max(seq, Number(m[2]));
  }
  if (base === '' || incr === '') throw new PersistenceError(`AOF manifest ${file} must name one base and one incr file`);
  return { seq, base, incr };
}

export function snapshotHeader(): Buffer {
  return encodeRecord({ h: SNAPSHOT_MAGIC, v: SNAPSHOT_VERSION });
}

export function snapshotFooter(keys: number): Buffer {
  return encodeRecord({ end: keys });
}

/** A snapshot's key-state payloads; any defect refuses (it was renamed into place whole). */
export function readSnapshot(disk: Disk, file: string): unknown[] {
  const scan = scanRecords(disk.readFile(file));
  if (scan.defect !== null) throw new PersistenceError(`Bad file format reading ${file} at offset ${scan.validBytes}: ${scan.defect}`);
  const header = scan.payloads[0] as { h?: unknown; v?: unknown } | undefined;
  if (header?.h !== SNAPSHOT_MAGIC) throw new PersistenceError(`${file} is not a Strata snapshot (bad header)`);
  if (header.v !== SNAPSHOT_VERSION) throw new PersistenceError(`${file}: snapshot version ${String(header.v)} is not supported (this node reads ${SNAPSHOT_VERSION})`);
  const footer = scan.payloads[scan.payloads.length - 1] as { end?: unknown } | undefined;
  if (scan.payloads.length < 2 || typeof footer?.end !== 'number') throw new PersistenceError(`${file} is incomplete (no end record)`);
  return scan.payloads.slice(1, -1);
}

/**
 * The log's payloads. A defect after which no intact record follows is a
 * torn tail (a crash mid-append): cut off with a warning when
 * aof-load-truncated is yes. Anything else refuses to start.
 */
export function readLog(disk: Disk, file: string, truncateTorn: boolean, log: Logger): unknown[] {
  const data = disk.readFile(file);
  const scan = scanRecords(data);
  if (scan.defect === null) return scan.payloads;
  const where = `${file} at offset ${scan.validBytes} (${scan.defect})`;
  if (scan.intactAfter) {
    throw new PersistenceError(`Bad file format reading the append only file ${where}: intact records follow, so this is corruption, not a torn write. Refusing to start.`);
  }
  if (!truncateTorn) {
    throw new PersistenceError(`Unexpected end of file reading the append only file ${where}. Set aof-load-truncated yes to load the intact records and cut off the tail.`);
  }
  log.warn({ file, offset: scan.validBytes, cutBytes: data.length - scan.validBytes, defect: scan.defect }, '!!! Warning: short read while loading the AOF file !!! AOF loaded anyway because aof-load-truncated is enabled; truncating the torn tail');
  disk.truncate(file, scan.validBytes);
  return scan.payloads;
}

export function joinPath(dir: string, name: string): string {
  return path.join(dir, name);
}
