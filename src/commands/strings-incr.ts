import { formatHumanDouble } from '../protocol/format.js';
import type { Client } from '../server/client.js';
import { bytesText } from '../store/bytes.js';
import type { Bytes } from '../store/entry.js';
import { storeString } from './strings-common.js';
import { ERR, parseDouble, parseInt64, parseInteger, writeOfType } from './util.js';

/**
 * The INCR family (incrDecrCommand) and INCRBYFLOAT. Integers are int64
 * exact: plain numbers while they are small (the hot path), BigInt beyond.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An int64 from text (string2ll grammar): a number when short enough to be exact, else a bigint. */
export function int64Of(s: string): number | bigint | null {
  return s.length < 16 ? parseInteger(s) : parseInt64(s);
}

/** a + b within int64, or null on overflow. */
export function addInt64(a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  return sum < INT64_MIN || sum > INT64_MAX ? null : sum;
}

/** The integer a string value holds, or null (longer than any int64 text counts as not an integer). */
function storedInt64(v: Bytes): number | bigint | null {
  return v.length > 20 ? null : int64Of(typeof v === 'string' ? v : bytesText(v));
}

/** incrDecrCommand: adds `incr` to the integer at key (0 when missing), keeping its TTL. */
export function incrGeneric(c: Client, key: string, incr: number | bigint): void {
  const e = writeOfType(c, key, 'string');
  if (e === null) return;
  let value: number | bigint | null = 0;
  if (e !== undefined) {
    value = storedInt64(e.value as Bytes);
    if (value === null) {
      c.error(ERR.notInteger);
      return;
    }
  }
  const next = addInt64(value, incr);
  if (next === null) {
    c.error(ERR.overflow);
    return;
  }
  const prev = e === undefined ? undefined : (e.value as Bytes);
  storeString(c, key, e, String(next));
  c.db.incremented(key, prev, incr, 0);
  c.db.written(key, 'incrby');
  c.reply.int(next);
}

/** INCRBY/DECRBY: parses the increment (negated for DECRBY) and runs incrGeneric. */
export function incrByCommand(c: Client, argv: readonly string[], negate: boolean): void {
  const incr = int64Of(argv[2]!);
  if (incr === null) {
    c.error(ERR.notInteger);
    return;
  }
  if (!negate) {
    incrGeneric(c, argv[1]!, incr);
  } else if (incr === INT64_MIN) {
    c.error('ERR decrement would overflow');
  } else {
    incrGeneric(c, argv[1]!, -incr);
  }
}

/** Longest text Redis parses as a long double (MAX_LONG_DOUBLE_CHARS). */
const MAX_FLOAT_CHARS = 5 * 1024;

/** INCRBYFLOAT key increment. */
export function incrbyfloatCommand(c: Client, key: string, arg: string): void {
  const e = writeOfType(c, key, 'string');
  if (e === null) return;
  const stored = e === undefined ? '0' : (e.value as Bytes);
  const value = stored.length >= MAX_FLOAT_CHARS ? null : parseDouble(bytesText(stored));
  const incr = value === null ? null : parseDouble(arg);
  if (value === null || incr === null) {
    c.error(ERR.notFloat);
    return;
  }
  const sum = value + incr;
  if (!Number.isFinite(sum)) {
    c.error('ERR increment would produce NaN or Infinity');
    return;
  }
  const local = formatHumanDouble(sum);
  storeString(c, key, e, local);
  const agreed = c.db.incremented(key, e === undefined ? undefined : stored, 0, incr);
  if (agreed !== null) storeString(c, key, c.db.keys.get(key), agreed);
  const text = agreed ?? local;
  c.db.written(key, 'incrbyfloat');
  c.reply.bulk(text);
}
