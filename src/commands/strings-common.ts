import type { Client } from '../server/client.js';
import type { Bytes, Entry } from '../store/entry.js';
import { ERR, lookupRead } from './util.js';

/**
 * What string and bitmap commands share: reading a string key, replying
 * with (part of) a value, storing a new value, the proto-max-bulk-len check.
 */

/**
 * The reply writer references Buffers of this size or more instead of copying
 * them; a value we may later mutate in place is copied before it is queued.
 */
const REPLY_REFERENCE_BYTES = 16 * 1024;

/** Bulk reply of a string value (text, or a mutable Buffer copied when large). */
export function replyBytes(c: Client, v: Bytes): void {
  c.reply.bulk(typeof v === 'string' || v.length < REPLY_REFERENCE_BYTES ? v : Buffer.from(v));
}

/** Bulk reply of bytes [start, end) of a value. */
export function replyRange(c: Client, v: Bytes, start: number, end: number): void {
  replyBytes(c, typeof v === 'string' ? v.slice(start, end) : v.subarray(start, end));
}

/**
 * lookupKeyRead + checkType for strings: the value, undefined when the key is
 * missing, or null after replying WRONGTYPE.
 */
export function readString(c: Client, key: string): Bytes | undefined | null {
  const e = lookupRead(c, key);
  if (e === undefined) return undefined;
  if (e.type !== 'string') {
    c.error(ERR.wrongType);
    return null;
  }
  return e.value as Bytes;
}

/**
 * Stores a string value for a key looked up for writing: a new key is added,
 * an existing entry gets the new value and keeps its TTL (dbOverwrite).
 * The caller then calls c.db.written().
 */
export function storeString(c: Client, key: string, e: Entry | undefined, v: Bytes): void {
  if (e === undefined) c.db.add(key, 'string', v);
  else e.value = v;
}

/** checkStringLength: false (after replying) if size + append exceeds proto-max-bulk-len. */
export function stringLengthOk(c: Client, size: number, append: number): boolean {
  if (size + append <= c.server.config.int('proto-max-bulk-len')) return true;
  c.error(ERR.stringTooLong);
  return false;
}
