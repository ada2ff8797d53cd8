/**
 * DUMP payloads exactly as Redis builds them (cluster.c createDumpPayload):
 *
 *   RDB type byte + RDB value body | 2-byte RDB version (LE) | CRC64 (LE) of all before
 *
 * so a payload dumped by Redis restores here and vice versa.
 */
import { crc64Bytes } from './crc64.js';
import type { TypeName } from './entry.js';
import { isRdbObjectType, RDB_VERSION, RdbFormatError, RdbReader, RdbWriter } from './rdb.js';
import { codecFor, RDB_LOADERS, type LoadedValue } from './values.js';

const FOOTER_BYTES = 10;

/** Serializes a value; null if its type has no codec yet. */
export function createDumpPayload(type: TypeName, value: unknown, compress: boolean): Buffer | null {
  const codec = codecFor(type);
  if (codec === undefined) return null;
  const w = new RdbWriter();
  codec.save(w, value, compress);
  w.byte(RDB_VERSION & 0xff);
  w.byte((RDB_VERSION >> 8) & 0xff);
  w.bytes(crc64Bytes(w.toBuffer()));
  return Buffer.from(w.toBuffer());
}

/** verifyDumpPayload: footer present, RDB version not newer than ours, checksum matches. */
export function verifyDumpPayload(p: Buffer): boolean {
  if (p.length < FOOTER_BYTES) return false;
  const footer = p.length - FOOTER_BYTES;
  const version = p[footer]! | (p[footer + 1]! << 8);
  if (version > RDB_VERSION) return false;
  return crc64Bytes(p, 0, p.length - 8).equals(p.subarray(p.length - 8));
}

/** Decodes a verified payload's value; null when the data is malformed or of an unsupported type. */
export function loadDumpPayload(p: Buffer): LoadedValue | null {
  const r = new RdbReader(p, 0, p.length - FOOTER_BYTES);
  try {
    const type = r.byte();
    if (!isRdbObjectType(type)) return null;
    const loader = RDB_LOADERS[type];
    return loader === undefined ? null : loader(r);
  } catch (err) {
    if (err instanceof RdbFormatError) return null;
    throw err;
  }
}
