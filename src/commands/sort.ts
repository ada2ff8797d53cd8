import type { Client } from '../server/client.js';
import { bytesToString } from '../store/entry.js';
import type { HashValue } from '../store/hash.js';
import { QuickList } from '../store/list.js';
import type { SetValue } from '../store/set.js';
import type { ZSetValue } from '../store/zset.js';
import { refusedInCluster } from './keys-common.js';
import type { CommandSpec, KeySpec } from './types.js';
import { ERR, intArg, isArg, lookupRead } from './util.js';

/**
 * SORT and SORT_RO (sort.c): parse the SQL-like options, load the source
 * (list, set or sorted set), weigh each element (itself, or a BY pattern
 * looked up in string keys / hash fields), sort, then reply or STORE the
 * result, with GET patterns applied per element.
 */

const ERR_NOT_DOUBLE = "ERR One or more scores can't be converted into double";

/** What SORT was asked to do. */
interface SortArgs {
  desc: boolean;
  alpha: boolean;
  /** BY pattern containing '*', or null (sort by the element itself). */
  by: string | null;
  /** BY <pattern without '*'>: keep the source order. */
  dontSort: boolean;
  limitStart: number;
  limitCount: number;
  gets: string[];
  store: string | null;
}

/** One element of the sort vector: the element, its numeric weight, or its ALPHA BY value (null: missing). */
interface SortItem {
  obj: string;
  score: number;
  cmp: string | null;
}

/**
 * Options that make SORT read keys named by the data (BY with '*', GET):
 * refused in cluster mode (and, later, without full ACL key access).
 * Replies and returns true when refused.
 */
function patternRefused(c: Client, option: 'BY' | 'GET'): boolean {
  return refusedInCluster(c, `ERR ${option} option of SORT denied in Cluster mode.`);
}

/** sortCommandGeneric's option loop; null after replying an error. */
function parseSortArgs(c: Client, argv: readonly string[], readonly: boolean): SortArgs | null {
  const a: SortArgs = { desc: false, alpha: false, by: null, dontSort: false, limitStart: 0, limitCount: -1, gets: [], store: null };
  for (let j = 2; j < argv.length; j++) {
    const arg = argv[j]!;
    const left = argv.length - j - 1;
    if (isArg(arg, 'ASC')) a.desc = false;
    else if (isArg(arg, 'DESC')) a.desc = true;
    else if (isArg(arg, 'ALPHA')) a.alpha = true;
    else if (isArg(arg, 'LIMIT') && left >= 2) {
      const start = intArg(c, argv[j + 1]!);
      if (start === null) return null;
      const count = intArg(c, argv[j + 2]!);
      if (count === null) return null;
      a.limitStart = start;
      a.limitCount = count;
      j += 2;
    } else if (!readonly && isArg(arg, 'STORE') && left >= 1) {
      a.store = argv[++j]!;
    } else if (isArg(arg, 'BY') && left >= 1) {
      const pattern = argv[++j]!;
      a.by = pattern;
      // A constant pattern turns sorting off for good (even if a later BY has a '*').
      if (!pattern.includes('*')) a.dontSort = true;
      else if (patternRefused(c, 'BY')) return null;
    } else if (isArg(arg, 'GET') && left >= 1) {
      if (patternRefused(c, 'GET')) return null;
      a.gets.push(argv[++j]!);
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  if (a.dontSort) a.by = null;
  return a;
}

/** The value to sort: a missing key sorts as an empty list. */
type SortSource = { type: 'list'; value: QuickList } | { type: 'set'; value: SetValue } | { type: 'zset'; value: ZSetValue };

/** lookupKeyRead of the key to sort; null after replying WRONGTYPE. */
function openSource(c: Client, key: string): SortSource | null {
  const e = lookupRead(c, key);
  if (e === undefined) return { type: 'list', value: new QuickList() };
  if (e.type === 'list' || e.type === 'set' || e.type === 'zset') return { type: e.type, value: e.value } as SortSource;
  c.error(ERR.wrongType);
  return null;
}

function sourceLength(src: SortSource): number {
  return src.type === 'list' ? src.value.length : src.value.size;
}

/** LIMIT offset count clamped to the source as Redis does: [start, end], inclusive (end < start: empty). */
function limitRange(len: number, offset: number, count: number): [number, number] {
  let start = Math.min(Math.max(offset, 0), len);
  const n = Math.min(Math.max(count, -1), len);
  let end = n < 0 ? len - 1 : start + n - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;
  return [start, end];
}

/** Elements start..end of a list or sorted set in native order (reversed for DESC). */
function nativeRange(src: SortSource, start: number, end: number, desc: boolean): string[] {
  const out: string[] = [];
  if (end < start) return out;
  const len = sourceLength(src);
  const first = desc ? len - start - 1 : start;
  if (src.type === 'list') {
    const cur = src.value.cursor(first, desc);
    for (let i = start; i <= end; i++) out.push(cur.next()!);
  } else if (src.type === 'zset') {
    // range() starts at an ascending rank and walks towards the head when reversed.
    for (const node of src.value.range(first, end - start + 1, desc)) out.push(node.key);
  }
  return out;
}

/** Every element of the source, in its iteration order. */
function allElements(src: SortSource): string[] {
  if (src.type === 'list') return src.value.toArray();
  if (src.type === 'set') return src.value.members();
  const out: string[] = [];
  for (const node of src.value.range(0, src.value.size)) out.push(node.key);
  return out;
}

/**
 * Loads the sort vector. A list or sorted set that is not sorted is read
 * directly in the LIMIT range; the returned [start, end] is then relative
 * to the vector.
 */
function loadVector(src: SortSource, a: SortArgs): { items: SortItem[]; start: number; end: number } {
  let [start, end] = limitRange(sourceLength(src), a.limitStart, a.limitCount);
  let objs: string[];
  if (a.dontSort && src.type !== 'set') {
    objs = nativeRange(src, start, end, a.desc);
    if (end >= start) [start, end] = [0, end - start];
  } else {
    objs = allElements(src);
  }
  return { items: objs.map((obj) => ({ obj, score: 0, cmp: null })), start, end };
}

/**
 * lookupKeyByPattern: "#" is the element itself; otherwise the first '*'
 * is replaced by the element and the key read as a string, or, with
 * "->field" after the '*', as a hash field. Null when missing, of another
 * type, or when the pattern has no '*'.
 */
function lookupByPattern(c: Client, pattern: string, subst: string): string | null {
  if (pattern === '#') return subst;
  const star = pattern.indexOf('*');
  if (star < 0) return null;
  const arrow = pattern.indexOf('->', star + 1);
  const hasField = arrow >= 0 && arrow + 2 < pattern.length;
  const keyEnd = hasField ? arrow : pattern.length;
  const key = pattern.slice(0, star) + subst + pattern.slice(star + 1, keyEnd);
  const e = lookupRead(c, key);
  if (e === undefined) return null;
  if (hasField) return e.type === 'hash' ? ((e.value as HashValue).get(pattern.slice(arrow + 2)) ?? null) : null;
  return e.type === 'string' ? bytesToString(e.value as string | Buffer) : null;
}

/** Fills each item's weight; returns false when a numeric weight is not a double. */
function weigh(c: Client, items: SortItem[], a: SortArgs): boolean {
  let ok = true;
  for (const item of items) {
    const value = a.by === null ? item.obj : lookupByPattern(c, a.by, item.obj);
    if (value === null) continue;
    if (a.alpha) {
      if (a.by !== null) item.cmp = value;
      continue;
    }
    const score = strtod(value);
    if (score === null) ok = false;
    else item.score = score;
  }
  return ok;
}

/** Byte order (memcmp, then length): compareStringObjects. */
function compareBytes(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** strcoll in the C locale: strcmp, which stops at the first NUL byte (collateStringObjects). */
function compareCollate(x: string, y: string): number {
  return compareBytes(cString(x), cString(y));
}

function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/**
 * sortCompare: numeric weights with ties broken by the elements' bytes;
 * ALPHA by the BY values (missing ones first, ties left in place) or by
 * the elements. Without STORE, ALPHA compares as strcoll does.
 */
function comparator(a: SortArgs): (x: SortItem, y: SortItem) => number {
  const text = a.store !== null ? compareBytes : compareCollate;
  let cmp: (x: SortItem, y: SortItem) => number;
  if (!a.alpha) {
    cmp = (x, y) => (x.score > y.score ? 1 : x.score < y.score ? -1 : compareBytes(x.obj, y.obj));
  } else if (a.by !== null) {
    cmp = (x, y) => {
      if (x.cmp === null || y.cmp === null) return x.cmp === y.cmp ? 0 : x.cmp === null ? -1 : 1;
      return text(x.cmp, y.cmp);
    };
  } else {
    cmp = (x, y) => text(x.obj, y.obj);
  }
  return a.desc ? (x, y) => -cmp(x, y) : cmp;
}

const DEC_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?$/;
const INF_NAN_RE = /^([+-]?)(inf|infinity|nan)$/i;
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * A weight as sortCommandGeneric reads it with strtod: leading blanks,
 * decimal or hex floats, inf; the text must end there (strtod stops at a
 * NUL byte). Null for trailing garbage, NaN or out of range (ERANGE).
 */
function strtod(s: string): number | null {
  const t = cString(s).replace(/^[ \t\n\v\f\r]+/, '');
  if (t.length === 0) return cString(s).length === 0 ? 0 : null; // strtod("") is 0 and consumes it all
  const special = INF_NAN_RE.exec(t);
  if (special !== null) return special[2]!.toLowerCase() === 'nan' ? null : special[1] === '-' ? -Infinity : Infinity;
  let v: number;
  let nonZero: boolean;
  if (DEC_RE.test(t)) {
    v = Number(t);
    nonZero = /[1-9]/.test(t.replace(/[eE].*$/, ''));
  } else {
    const hex = HEX_RE.exec(t);
    if (hex === null || hex[2]!.length + hex[3]!.length === 0) return null;
    v = hexValue(hex[2]!, hex[3]!, Number(hex[4] ?? '0')) * (hex[1] === '-' ? -1 : 1);
    nonZero = /[1-9a-fA-F]/.test(hex[2]! + hex[3]!);
  }
  if (!Number.isFinite(v)) return null;
  if (nonZero && Math.abs(v) < MIN_NORMAL) return null;
  return v;
}

/** 0x<int>.<frac>p<exp> as a double. */
function hexValue(int: string, frac: string, exp: number): number {
  let m = 0;
  for (const d of int + frac) m = m * 16 + parseInt(d, 16);
  let e = exp - 4 * frac.length;
  // Scale in steps so that 2^e never overflows on its own.
  while (e > 1000) {
    m *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    m /= 2 ** 1000;
    e += 1000;
  }
  return m * 2 ** e;
}

/** The values SORT outputs for items start..end: the elements, or each GET pattern's value per element. */
function outputValues(c: Client, items: SortItem[], start: number, end: number, gets: readonly string[]): (string | null)[] {
  const out: (string | null)[] = [];
  for (let j = start; j <= end; j++) {
    const obj = items[j]!.obj;
    if (gets.length === 0) out.push(obj);
    for (const g of gets) out.push(lookupByPattern(c, g, obj));
  }
  return out;
}

/** STORE: the result replaces dst as a list ("sortstore"); an empty result deletes dst ("del"). */
function storeList(c: Client, dst: string, values: readonly (string | null)[]): void {
  if (values.length > 0) {
    c.db.set(dst, 'list', QuickList.from(values.map((v) => v ?? '')));
    c.db.written(dst, 'sortstore');
  } else if (c.db.delete(dst) !== undefined) {
    c.db.written(dst, 'del');
  }
  c.reply.int(values.length);
}

/**
 * CLIENT_SCRIPT: whether the command runs inside EVAL / FCALL. Strata has
 * no scripting yet; the scripting module will answer this.
 */
function runningInScript(_c: Client): boolean {
  return false;
}

/** sortCommandGeneric: SORT (readonly false) and SORT_RO. */
function sortGeneric(c: Client, argv: readonly string[], readonly: boolean): void {
  const a = parseSortArgs(c, argv, readonly);
  if (a === null) return;
  const src = openSource(c, argv[1]!);
  if (src === null) return;
  // A set has no native order: its output must not depend on it when it is
  // stored (replicated) or seen by a script, so it is sorted ALPHA anyway.
  if (a.dontSort && src.type === 'set' && (a.store !== null || runningInScript(c))) {
    a.dontSort = false;
    a.alpha = true;
  }
  if (src.type === 'zset') src.value.toSkiplist();
  const { items, start, end } = loadVector(src, a);
  if (!a.dontSort) {
    const ok = weigh(c, items, a);
    items.sort(comparator(a));
    if (!ok) return c.error(ERR_NOT_DOUBLE);
  }
  const values = outputValues(c, items, start, end, a.gets);
  if (a.store !== null) return storeList(c, a.store, values);
  c.reply.arrayHeader(values.length);
  for (const v of values) {
    if (v === null) c.reply.nullBulk();
    else c.reply.bulk(v);
  }
}

/**
 * sortGetKeys: the STORE destination, skipping the arguments of LIMIT,
 * GET and BY; the last STORE wins.
 */
function storeKeyPosition(argv: readonly string[]): number[] {
  let pos = -1;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (isArg(arg, 'LIMIT')) i += 2;
    else if (isArg(arg, 'GET') || isArg(arg, 'BY')) i += 1;
    else if (isArg(arg, 'STORE') && i + 1 < argv.length) pos = i + 1;
  }
  return pos < 0 ? [] : [pos];
}

const SORT_KEY: KeySpec = { kind: 'range', first: 1, last: 1, step: 1, flags: ['RO', 'ACCESS'] };
/** BY / GET keys derive from the data: declared, never found from argv. */
const PATTERN_KEYS: KeySpec = { kind: 'custom', find: () => [], flags: ['RO', 'ACCESS'] };
const STORE_KEY: KeySpec = { kind: 'custom', find: storeKeyPosition, flags: ['OW', 'UPDATE'] };

const COMPLEXITY =
  'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).';
const SYNTAX = 'key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]';
const ACL = ['set', 'sortedset', 'list', 'dangerous'];

export const sortCommands: CommandSpec[] = [
  {
    name: 'sort', arity: -2, flags: ['write', 'denyoom'], keys: [SORT_KEY, PATTERN_KEYS, STORE_KEY], acl: ACL,
    group: 'generic', since: '1.0.0', summary: 'Sort the elements in a list, set or sorted set', complexity: COMPLEXITY,
    syntax: `${SYNTAX} [STORE destination]`, handler: (c, argv) => sortGeneric(c, argv, false),
  },
  {
    name: 'sort_ro', arity: -2, flags: ['readonly'], keys: [SORT_KEY, PATTERN_KEYS], acl: ACL,
    group: 'generic', since: '7.0.0', summary: 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.',
    complexity: COMPLEXITY, syntax: SYNTAX, handler: (c, argv) => sortGeneric(c, argv, true),
  },
];
