/**
 * Import of a Redis RDB file (versions 1..10, i.e. up to Redis 7.0): the
 * file-level framing of rdb.c's rdbLoadRio (magic, opcodes, the trailing
 * CRC64). Values are decoded by the same per-type loaders RESTORE uses
 * (store/values.ts RDB_LOADERS), so every encoding DUMP/RESTORE knows is
 * known here too.
 *
 * Two phases keep an import all-or-nothing: decodeRdb reads and verifies the
 * whole file into memory and throws RdbImportError on any defect; only then
 * does applyRdb write the keys, each through the normal write path
 * (Database add + written(key, 'restore'), exactly as RESTORE REPLACE), so
 * that replication stamps CRDT metadata and ships them to peers.
 */
import type { Logger } from '../log.js';
import type { Disk } from '../runtime/disk.js';
import { crc64Bytes } from '../store/crc64.js';
import type { Database } from '../store/database.js';
import { accessSec, type Entry, type TypeName } from '../store/entry.js';
import type { Keyspace } from '../store/keyspace.js';
import { isRdbObjectType, RDB_OPCODE, RDB_TYPE, RDB_VERSION, RdbFormatError, RdbReader } from '../store/rdb.js';
import { RDB_LOADERS } from '../store/values.js';

/** A file Strata refuses to import; the message is the one Redis logs for the same defect where it has one. */
export class RdbImportError extends Error {}

/** One key read from the file, with the per-key opcodes that preceded it. */
export interface ImportedKey {
  db: number;
  key: string;
  type: TypeName;
  value: unknown;
  /** Absolute unix ms; 0 = no TTL. */
  expireAt: number;
  /** RDB_OPCODE_FREQ (LFU counter), -1 when absent. */
  freq: number;
  /** RDB_OPCODE_IDLE (LRU idle seconds), -1 when absent. */
  idleSec: number;
}

export interface RdbContents {
  version: number;
  keys: ImportedKey[];
  /** AUX fields (redis-ver, ctime, ...), for the log. */
  aux: Map<string, string>;
  /** Function libraries skipped (FUNCTION2): Strata does not import functions. */
  functionsSkipped: number;
  /** True when the file was saved with rdbchecksum no (a zero checksum). */
  checksumDisabled: boolean;
}

const MAGIC = 'REDIS';
const HEADER_BYTES = 9;
/** Redis writes a CRC64 after the EOF opcode since RDB version 5. */
const CHECKSUM_SINCE = 5;
/** RDB_TYPE_MODULE_PRE_GA: module values of Redis 4.0 release candidates. */
const RDB_TYPE_MODULE_PRE_GA = 6;
/** moduleTypeNameByID's alphabet: a module id packs a 9-character name (6 bits each) over a 10-bit version. */
const MODULE_NAME_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Reads and decodes `file` through the injected Disk; throws RdbImportError. */
export function readRdbFile(disk: Disk, file: string, dbCount: number): RdbContents {
  if (!disk.exists(file)) throw new RdbImportError(`Fatal error loading the DB: No such file or directory (${file})`);
  let data: Buffer;
  try {
    data = disk.readFile(file);
  } catch (err) {
    throw new RdbImportError(`Fatal error loading the DB: ${(err as Error).message}`);
  }
  return decodeRdb(data, dbCount);
}

/** Decodes a whole RDB file held in memory; throws RdbImportError, never a partial result. */
export function decodeRdb(data: Buffer, dbCount: number): RdbContents {
  const version = readHeader(data);
  const contents: RdbContents = { version, keys: [], aux: new Map(), functionsSkipped: 0, checksumDisabled: false };
  const trailerChecked = verifyTrailer(data, version, contents);
  const r = new RdbReader(data, HEADER_BYTES);
  try {
    const eofAt = readBody(r, contents, dbCount);
    if (version >= CHECKSUM_SINCE) verifyChecksumAt(data, eofAt, r, trailerChecked, contents);
  } catch (err) {
    // Loaders may also trip over damaged data with a plain Error (a bad stream id, a Buffer range).
    if (err instanceof RdbImportError || !(err instanceof Error)) throw err;
    throw formatFailure(r, err);
  }
  return contents;
}

/** "REDIS" then four ASCII digits; versions newer than Redis 7.0's are refused as Redis 7.0 does. */
function readHeader(data: Buffer): number {
  if (data.length < HEADER_BYTES || data.latin1Slice(0, 5) !== MAGIC) {
    throw new RdbImportError('Wrong signature trying to load DB from file');
  }
  const digits = data.latin1Slice(5, HEADER_BYTES);
  const version = /^\d{4}$/.test(digits) ? Number(digits) : 0;
  if (version < 1 || version > RDB_VERSION) throw new RdbImportError(`Can't handle RDB format version ${digits}`);
  return version;
}

/**
 * Checks the checksum up front when the file looks complete (EOF opcode
 * just before the last 8 bytes): a flipped byte anywhere is then reported
 * as what it is, a checksum mismatch, rather than as whatever parse error
 * the damaged byte happens to cause. Returns whether it checked.
 */
function verifyTrailer(data: Buffer, version: number, contents: RdbContents): boolean {
  const at = data.length - 8;
  if (version < CHECKSUM_SINCE || at <= HEADER_BYTES || data[at - 1] !== RDB_OPCODE.EOF) return false;
  checkCrc(data, at, contents);
  return true;
}

/** After the EOF opcode (at eofAt): the 8 checksum bytes must be there, and match unless already checked. */
function verifyChecksumAt(data: Buffer, eofAt: number, r: RdbReader, trailerChecked: boolean, contents: RdbContents): void {
  r.bytes(8);
  if (trailerChecked && eofAt + 1 === data.length - 8) return;
  checkCrc(data, eofAt + 1, contents);
}

/** The CRC64 of data[0, at) against the 8 bytes stored at `at`; all zeros means rdbchecksum was off. */
function checkCrc(data: Buffer, at: number, contents: RdbContents): void {
  const stored = data.subarray(at, at + 8);
  if (stored.every((b) => b === 0)) {
    contents.checksumDisabled = true;
    return;
  }
  const computed = crc64Bytes(data, 0, at);
  if (computed.equals(stored)) return;
  const hex = (b: Buffer): string => b.readBigUInt64LE(0).toString(16);
  throw new RdbImportError(`Wrong RDB checksum expected: (${hex(computed)}) got (${hex(stored)}). Aborting now.`);
}

/** A format error as Redis words it: a short read, or corruption at an offset. */
function formatFailure(r: RdbReader, err: Error): RdbImportError {
  if (err instanceof RdbFormatError && err.message === 'unexpected end of RDB data') {
    return new RdbImportError(`Short read or OOM loading DB. Unrecoverable error, aborting now. (offset ${r.pos})`);
  }
  return new RdbImportError(`Internal error in RDB reading offset ${r.pos}: ${err.message}`);
}

/** Per-key opcodes seen since the last key (rdbLoadRio's expiretime, lfu_freq, lru_idle). */
interface Pending {
  db: number;
  expireAt: number;
  freq: number;
  idleSec: number;
}

/** The opcode loop; returns the offset of the EOF opcode. */
function readBody(r: RdbReader, contents: RdbContents, dbCount: number): number {
  const p: Pending = { db: 0, expireAt: 0, freq: -1, idleSec: -1 };
  const seen = new Set<string>();
  for (;;) {
    const at = r.pos;
    const op = r.byte();
    if (op === RDB_OPCODE.EOF) return at;
    if (readOpcode(r, op, p, contents, dbCount)) continue;
    const k = readKey(r, op, p);
    const id = `${k.db}\u0000${k.key}`;
    if (seen.has(id)) throw new RdbImportError(`RDB has duplicated key '${k.key}' in DB ${k.db}`);
    seen.add(id);
    contents.keys.push(k);
    p.expireAt = 0;
    p.freq = -1;
    p.idleSec = -1;
  }
}

/** Handles a non-key opcode; false when `op` is an object type (a key follows). */
function readOpcode(r: RdbReader, op: number, p: Pending, contents: RdbContents, dbCount: number): boolean {
  switch (op) {
    case RDB_OPCODE.EXPIRETIME:
      p.expireAt = r.bytes(4).readInt32LE(0) * 1000;
      return true;
    case RDB_OPCODE.EXPIRETIME_MS:
      p.expireAt = r.millisecondTime();
      return true;
    case RDB_OPCODE.FREQ:
      p.freq = r.byte();
      return true;
    case RDB_OPCODE.IDLE:
      p.idleSec = r.length();
      return true;
    case RDB_OPCODE.SELECTDB:
      p.db = r.length();
      if (p.db >= dbCount) {
        throw new RdbImportError(`FATAL: Data file was created with a Redis server configured to handle more than ${dbCount} databases. Exiting`);
      }
      return true;
    case RDB_OPCODE.RESIZEDB:
      r.length(); // sizes are only a hint for Redis's dict preallocation
      r.length();
      return true;
    case RDB_OPCODE.AUX:
      contents.aux.set(r.text(), r.text());
      return true;
    default:
      return readModuleOrFunction(r, op, contents);
  }
}

/** Function and module opcodes: functions are skipped (counted, logged by the caller), module data refused. */
function readModuleOrFunction(r: RdbReader, op: number, contents: RdbContents): boolean {
  switch (op) {
    case RDB_OPCODE.FUNCTION2:
      r.string(); // the library's source code
      contents.functionsSkipped++;
      return true;
    case RDB_OPCODE.FUNCTION:
      throw new RdbImportError('Pre-release function format not supported.');
    case RDB_OPCODE.MODULE_AUX:
      throw new RdbImportError(`The RDB file contains AUX module data I can't load: no matching module '${moduleName(r)}'`);
    default:
      return false;
  }
}

/** A key and its value of object type `type`. */
function readKey(r: RdbReader, type: number, p: Pending): ImportedKey {
  if (!isRdbObjectType(type)) throw new RdbImportError(`Unknown RDB encoding type ${type} (offset ${r.pos - 1})`);
  const key = r.text();
  if (type === RDB_TYPE.MODULE_2 || type === RDB_TYPE_MODULE_PRE_GA) {
    throw new RdbImportError(`The RDB file contains module data I can't load: no matching module type '${moduleName(r)}' (key '${key}')`);
  }
  const loader = RDB_LOADERS[type];
  if (loader === undefined) throw new RdbImportError(`Unsupported RDB encoding type ${type} (key '${key}')`);
  const { type: typeName, value } = loader(r);
  return { db: p.db, key, type: typeName, value, expireAt: p.expireAt, freq: p.freq, idleSec: p.idleSec };
}

/** moduleTypeNameByID: the module id is a 64-bit length, too wide for RdbReader.length. */
function moduleName(r: RdbReader): string {
  let id: bigint;
  if (r.buf[r.pos] === 0x81) {
    r.byte();
    id = r.bytes(8).readBigUInt64BE(0);
  } else {
    id = BigInt(r.length());
  }
  let name = '';
  for (let j = 0; j < 9; j++) name = MODULE_NAME_CHARSET[Number((id >> BigInt(10 + j * 6)) & 63n)]! + name;
  return name;
}

// ---- applying the keys -------------------------------------------------

/** What applyRdb writes into: the server (or a test double). */
export interface ImportTarget {
  readonly keyspace: Keyspace;
  /** The running command's unix ms (expiry decisions). */
  nowMs(): number;
}

export interface ImportStats {
  loaded: number;
  /** Keys whose TTL had already passed: skipped, as Redis's loader skips them on a primary. */
  expired: number;
}

/**
 * Writes the decoded keys: a key of the file replaces a key of the same name
 * (RESTORE REPLACE semantics), each is a 'restore' write, so peers receive
 * it and CRDT metadata exists.
 */
export function applyRdb(target: ImportTarget, contents: RdbContents): ImportStats {
  const now = target.nowMs();
  const stats: ImportStats = { loaded: 0, expired: 0 };
  for (const k of contents.keys) {
    if (k.expireAt !== 0 && k.expireAt <= now) {
      stats.expired++;
      continue;
    }
    const db = target.keyspace.db(k.db);
    db.delete(k.key);
    const e = db.addWithExpire(k.key, k.type, k.value, k.expireAt);
    applyAccessHints(db, e, k, now);
    db.written(k.key, 'restore');
    stats.loaded++;
  }
  return stats;
}

/** objectSetLRUOrLFU, as RESTORE's IDLETIME/FREQ: FREQ counts under an LFU policy, IDLE under any other. */
function applyAccessHints(db: Database, e: Entry, k: ImportedKey, now: number): void {
  if (db.lfuEnabled) {
    if (k.freq >= 0) e.lfu = k.freq;
  } else if (k.idleSec >= 0) {
    e.accessedSec = accessSec(now - k.idleSec * 1000);
  }
}

/** Logs what an import did, and the warnings Redis's loader would print. */
export function logImport(log: Logger, file: string, contents: RdbContents, stats: ImportStats): void {
  if (contents.checksumDisabled) log.warn({ file }, 'RDB file was saved with checksum disabled: no check performed.');
  if (contents.functionsSkipped > 0) {
    log.warn({ file, libraries: contents.functionsSkipped }, 'RDB file contains function libraries: not imported (Strata does not import functions)');
  }
  const redisVer = contents.aux.get('redis-ver');
  log.info({ file, rdbVersion: contents.version, redisVer, ...stats }, 'RDB file imported');
}

/** A node an import runs on: its keyspace, disk and log. */
export interface ImportHost extends ImportTarget {
  readonly runtime: { readonly disk: Disk };
  readonly log: Logger;
}

/** Writes already-decoded keys into the node and logs the outcome. */
export function applyAndLog(host: ImportHost, file: string, contents: RdbContents): ImportStats {
  const stats = applyRdb(host, contents);
  logImport(host.log, file, contents, stats);
  return stats;
}

/** The command form: reads, verifies, then writes; throws RdbImportError with nothing written. */
export function importRdbFile(host: ImportHost, file: string): ImportStats {
  return applyAndLog(host, file, readRdbFile(host.runtime.disk, file, host.keyspace.count));
}
