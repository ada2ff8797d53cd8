import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';

/**
 * On-disk framing shared by the log, the base and snapshot files:
 *
 *   [u32 LE payload length][u32 LE CRC32 (zlib's, Node >= 20.15) of the payload][msgpackr payload]
 *
 * Plain MessagePack (no records or references), so every record decodes on
 * its own and a truncated file loses only its last record.
 */

const HEADER_BYTES = 8;
/** A length above this is garbage, not a record (the bus bounds one message to 64 MiB; a record holds fewer keys). */
const MAX_RECORD_BYTES = 512 * 1024 * 1024;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, structuredClone: false, moreTypes: false, variableMapSize: true, copyBuffers: true });

/** A file Strata refuses to load; the message names the file and the offset. */
export class PersistenceError extends Error {}

export function encodeRecord(payload: unknown): Buffer {
  const body = packr.encode(payload);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, HEADER_BYTES);
  return out;
}

export interface ScanResult {
  payloads: unknown[];
  /** Bytes of intact records from the start. */
  validBytes: number;
  /** Why reading stopped before the end of the data; null when every byte was read. */
  defect: string | null;
  /** True when an intact record follows the defect: corruption in the middle, not a torn tail. */
  intactAfter: boolean;
}

/** Reads the records of one file's data, stopping at the first defect. */
export function scanRecords(data: Buffer): ScanResult {
  const payloads: unknown[] = [];
  let at = 0;
  while (at < data.length) {
    const [payload, defect] = recordAt(data, at);
    if (defect !== null) return { payloads, validBytes: at, defect, intactAfter: intactRecordAfter(data, at + 1) };
    payloads.push(payload);
    at += HEADER_BYTES + data.readUInt32LE(at);
  }
  return { payloads, validBytes: at, defect: null, intactAfter: false };
}

/** The decoded record at offset `at`, or why there is none. */
function recordAt(data: Buffer, at: number): [unknown, string | null] {
  if (data.length - at < HEADER_BYTES) return [null, 'incomplete record header'];
  const len = data.readUInt32LE(at);
  if (len === 0 || len > MAX_RECORD_BYTES) return [null, `bad record length ${len}`];
  if (at + HEADER_BYTES + len > data.length) return [null, 'incomplete record'];
  const body = data.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len);
  if (crc32(body) !== data.readUInt32LE(at + 4)) return [null, 'checksum mismatch'];
  try {
    return [packr.decode(body), null];
  } catch {
    return [null, 'undecodable record'];
  }
}

/**
 * Whether a complete, checksummed record starts anywhere after `from`. Only
 * runs on a defect; a random length rarely fits the remaining bytes, so the
 * search is close to linear in practice.
 */
function intactRecordAfter(data: Buffer, from: number): boolean {
  for (let at = from; at + HEADER_BYTES < data.length; at++) {
    const len = data.readUInt32LE(at);
    if (len === 0 || at + HEADER_BYTES + len > data.length) continue;
    if (crc32(data.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len)) === data.readUInt32LE(at + 4)) return true;
  }
  return false;
}
