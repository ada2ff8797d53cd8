/**
 * FUNCTION DUMP / RESTORE payloads in Redis 7.0's format: per library the
 * RDB FUNCTION2 opcode and its code as an RDB string, then the DUMP footer
 * (RDB version, CRC64), so payloads move between Strata and Redis.
 */
import { crc64Bytes } from '../store/crc64.js';
import { verifyDumpPayload } from '../store/dump.js';
import { RDB_OPCODE, RDB_VERSION, RdbFormatError, RdbReader, RdbWriter } from '../store/rdb.js';

const FOOTER_BYTES = 10;

export function dumpLibraries(codes: Iterable<string>): Buffer {
  const w = new RdbWriter();
  for (const code of codes) {
    w.byte(RDB_OPCODE.FUNCTION2);
    w.string(code, true);
  }
  w.byte(RDB_VERSION & 0xff);
  w.byte((RDB_VERSION >> 8) & 0xff);
  w.bytes(crc64Bytes(w.toBuffer()));
  return Buffer.from(w.toBuffer());
}

/** The library codes of a payload, or Redis's error text. */
export function readLibraries(payload: Buffer): string[] | string {
  if (!verifyDumpPayload(payload)) return 'ERR payload version or checksum are wrong';
  const r = new RdbReader(payload, 0, payload.length - FOOTER_BYTES);
  const codes: string[] = [];
  try {
    while (r.remaining > 0) {
      if (r.byte() !== RDB_OPCODE.FUNCTION2) return 'ERR given type is not a function';
      codes.push(r.text());
    }
  } catch (err) {
    if (err instanceof RdbFormatError) return 'ERR failed loading the given functions payload';
    throw err;
  }
  return codes;
}
