import type { Client } from '../server/client.js';
import type { Entry } from '../store/entry.js';
import type { CommandSpec } from './types.js';
import { ERR, globMatch, isArg, parseInteger } from './util.js';

/**
 * SCAN (scanGenericCommand): the cursor and option parsing are exported for
 * HSCAN/SSCAN/ZSCAN, which walk a collection's own Dict the same way.
 */

const ULONG_MAX = 2n ** 64n - 1n;
const CURSOR_RE = /^[+-]?\d*$/;

/**
 * parseScanCursorOrReply: strtoul's grammar (optional sign, decimal digits,
 * negative values wrap, "" is 0; no spaces, no overflow). Returns the low
 * 32 bits, all a table here ever uses, or null after "ERR invalid cursor".
 */
export function parseScanCursor(c: Client, s: string): number | null {
  const digits = s.replace(/^[+-]/, '');
  if (!CURSOR_RE.test(s) || (digits.length === 0 && s.length > 0)) {
    c.error('ERR invalid cursor');
    return null;
  }
  let v = digits.length === 0 ? 0n : BigInt(digits);
  if (v > ULONG_MAX) {
    c.error('ERR invalid cursor');
    return null;
  }
  if (s.charCodeAt(0) === 45) v = (ULONG_MAX + 1n - v) & ULONG_MAX;
  return Number(v & 0xffffffffn);
}

export interface ScanOptions {
  count: number;
  /** null when absent or "*" (matches everything). */
  pattern: string | null;
  /** SCAN ... TYPE (only for the keyspace). */
  type: string | null;
}

/** Parses COUNT/MATCH (and TYPE when allowed) from argv[start]; null after replying. */
export function parseScanOptions(c: Client, argv: readonly string[], start: number, allowType: boolean): ScanOptions | null {
  const opts: ScanOptions = { count: 10, pattern: null, type: null };
  for (let i = start; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const hasValue = i + 1 < argv.length;
    if (isArg(opt, 'COUNT') && hasValue) {
      const n = parseInteger(argv[i + 1]!);
      if (n === null) return fail(c, ERR.notInteger);
      if (n < 1) return fail(c, ERR.syntax);
      opts.count = n;
    } else if (isArg(opt, 'MATCH') && hasValue) {
      const p = argv[i + 1]!;
      opts.pattern = p === '*' ? null : p;
    } else if (isArg(opt, 'TYPE') && allowType && hasValue) {
      opts.type = argv[i + 1]!;
    } else {
      return fail(c, ERR.syntax);
    }
  }
  return opts;
}

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

/** The reply: [next cursor as a bulk string, [items...]]. */
export function replyScan(c: Client, cursor: number, items: readonly string[]): void {
  c.reply.arrayHeader(2);
  c.reply.bulk(String(cursor));
  c.reply.bulkArray(items);
}

/**
 * Visits Dict buckets from cursor until `count` items were collected, the
 * walk ends, or count*10 steps passed (a sparse table must not stall).
 */
export function scanSteps<T>(scan: (cursor: number, visit: (n: T) => void) => number, cursor: number, count: number, out: T[]): number {
  let maxSteps = count * 10;
  do {
    cursor = scan(cursor, (n) => out.push(n));
  } while (cursor !== 0 && maxSteps-- > 0 && out.length < count);
  return cursor;
}

function scanKeyspace(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[1]!);
  if (cursor === null) return;
  const opts = parseScanOptions(c, argv, 2, true);
  if (opts === null) return;
  const found: Entry[] = [];
  const db = c.db;
  const next = scanSteps<Entry>((cur, visit) => db.scan(cur, visit), cursor, opts.count, found);
  const keys: string[] = [];
  for (const e of found) {
    if (opts.pattern !== null && !globMatch(opts.pattern, e.key)) continue;
    if (db.isExpired(e)) {
      db.lookup(e.key); // deletes it where this node may (expireIfNeeded)
      continue;
    }
    if (opts.type !== null && e.type !== opts.type.toLowerCase()) continue;
    keys.push(e.key);
  }
  replyScan(c, next, keys);
}

export const scanCommands: CommandSpec[] = [
  {
    name: 'scan', arity: -2, flags: ['readonly'],
    group: 'generic', since: '2.8.0', summary: 'Iterates over the key names in the database.',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    syntax: 'cursor [MATCH pattern] [COUNT count] [TYPE type]',
    tips: ['nondeterministic_output', 'request_policy:special'],
    handler: scanKeyspace,
  },
];
