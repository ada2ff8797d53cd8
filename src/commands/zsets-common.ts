import { listpackLimitsOf, type Config, type ListpackLimits } from '../config.js';
import type { Client } from '../server/client.js';
import { type LexBound, type LexRange, type ScoreRange, ZSetValue, type ZNode } from '../store/zset.js';
import { ERR, parseDouble, readOfType, writeOfType } from './util.js';

/**
 * What the sorted set commands share (t_zset.c's helpers): typed lookups,
 * creation with Redis's encoding choice, zsetAdd with its NX/XX/GT/LT/INCR
 * rules, range parsing, scored replies and the STORE epilogue.
 */

export const ERR_SCORE_RANGE = 'ERR min or max is not a float';
export const ERR_LEX_RANGE = 'ERR min or max not valid string range item';

/** zset-max-listpack-entries / -value, read at each write as Redis does. */
export function listpackLimits(c: Client): ZsetLimits {
  return zsetLimitsOf(c.server.config);
}

/** The same for code without a client (replication merges). */
export function zsetLimitsOf(config: Config): ZsetLimits {
  return listpackLimitsOf(config, 'zset');
}

/** A sorted set's listpack limits: most members, longest member. */
export type ZsetLimits = ListpackLimits;

/**
 * A new, empty sorted set for `sizeHint` members of which the longest has
 * `lenHint` bytes (zsetTypeCreate): "listpack" when that fits the limits.
 */
export function newZset(c: Client, sizeHint: number, lenHint: number): ZSetValue {
  const lim = listpackLimits(c);
  const small = lim.maxEntries > 0 && sizeHint <= lim.maxEntries && lenHint <= lim.maxValue;
  return new ZSetValue(c.server.runtime.random.int(0x7fffffff), small ? 'listpack' : 'skiplist');
}

/** lookupKeyRead + checkType(OBJ_ZSET): the zset, undefined when missing, null after WRONGTYPE. */
export function readZset(c: Client, key: string): ZSetValue | undefined | null {
  const e = readOfType(c, key, 'zset');
  return e === undefined || e === null ? e : (e.value as ZSetValue);
}

/** lookupKeyWrite + checkType(OBJ_ZSET); same contract as readZset. */
export function writeZset(c: Client, key: string): ZSetValue | undefined | null {
  const e = writeOfType(c, key, 'zset');
  return e === undefined || e === null ? e : (e.value as ZSetValue);
}

/** Deletes a zset left empty by a removal, with the "del" event Redis sends after the command's own. */
export function deleteIfEmpty(c: Client, key: string, z: ZSetValue): void {
  if (z.size !== 0) return;
  c.db.delete(key);
  c.db.written(key, 'del');
}

/** zsetAdd's input flags. */
export interface AddFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
  incr: boolean;
}

export const PLAIN_ADD: AddFlags = { nx: false, xx: false, gt: false, lt: false, incr: false };

/** zsetAdd's outcome ('same': processed, score unchanged; 'nan': INCR made NaN). */
export type AddOutcome = 'added' | 'updated' | 'same' | 'nop' | 'nan';

/**
 * zsetAdd: adds or updates one member under the flags, converting the
 * reported encoding to "skiplist" when a listpack would grow too large.
 * `out.score` receives the member's score unless the outcome is 'nop' or 'nan'.
 */
export function zsetAdd(
  z: ZSetValue, member: string, score: number, f: AddFlags, lim: ZsetLimits, out: { score: number },
): AddOutcome {
  const node = z.node(member);
  if (node === undefined) {
    if (f.xx) return 'nop';
    if (z.encoding === 'listpack' && (z.size + 1 > lim.maxEntries || member.length > lim.maxValue)) z.toSkiplist();
    z.insert(member, score);
    out.score = score;
    return 'added';
  }
  if (f.nx) return 'nop';
  if (f.incr) {
    score += node.score;
    if (Number.isNaN(score)) return 'nan';
  }
  if ((f.lt && score >= node.score) || (f.gt && score <= node.score)) return 'nop';
  out.score = score;
  if (score === node.score) return 'same';
  z.setScore(node, score);
  return 'updated';
}

/** strtod over the whole text as zslParseRange accepts it ("" is 0); null when invalid or NaN. */
function rangeDouble(s: string): number | null {
  if (s.length === 0) return 0;
  return parseDouble(s);
}

/** zslParseRange: "(" makes an end exclusive; null when either end is not a float. */
export function parseScoreRange(minArg: string, maxArg: string): ScoreRange | null {
  const minex = minArg.charCodeAt(0) === 40;
  const maxex = maxArg.charCodeAt(0) === 40;
  const min = rangeDouble(minex ? minArg.slice(1) : minArg);
  const max = rangeDouble(maxex ? maxArg.slice(1) : maxArg);
  if (min === null || max === null) return null;
  return { min, max, minex, maxex };
}

/** zslParseLexRangeItem: "-", "+", "[value" or "(value"; null otherwise. */
function parseLexBound(s: string): LexBound | null {
  const first = s[0];
  if (first === '+' || first === '-') return s.length === 1 ? { inf: first === '+' ? 1 : -1, value: '', ex: true } : null;
  if (first === '(' || first === '[') return { inf: 0, value: s.slice(1), ex: first === '(' };
  return null;
}

export function parseLexRange(minArg: string, maxArg: string): LexRange | null {
  const min = parseLexBound(minArg);
  const max = parseLexBound(maxArg);
  return min === null || max === null ? null : { min, max };
}

/** The score of a member for replies: RESP3 double, RESP2 bulk string. */
export function replyScore(c: Client, score: number | undefined): void {
  if (score === undefined) c.reply.nullBulk();
  else c.reply.double(score);
}

/**
 * The header of a reply of n members, with scores when `withscores`: a flat
 * array in RESP2, an array of [member, score] pairs in RESP3.
 */
export function scoredHeader(c: Client, n: number, withscores: boolean): void {
  c.reply.arrayHeader(withscores && c.reply.resp === 2 ? 2 * n : n);
}

/** One member of a scored reply begun with scoredHeader. */
export function scoredItem(c: Client, member: string, score: number, withscores: boolean): void {
  if (!withscores) return c.reply.bulk(member);
  if (c.reply.resp === 3) c.reply.arrayHeader(2);
  c.reply.bulk(member);
  c.reply.double(score);
}

/** A whole scored reply of nodes. */
export function replyNodes(c: Client, nodes: readonly ZNode[], withscores: boolean): void {
  scoredHeader(c, nodes.length, withscores);
  for (const n of nodes) scoredItem(c, n.key, n.score, withscores);
}

/**
 * The STORE forms' epilogue (setKey or dbDelete): a non-empty result
 * replaces dst (dropping its TTL) with `event`, an empty one deletes dst
 * ("del", only if it existed). Replies with the result's size.
 */
export function storeZset(c: Client, dst: string, result: ZSetValue, event: string): void {
  if (result.size > 0) {
    c.db.set(dst, 'zset', result);
    c.db.written(dst, event);
  } else if (c.db.delete(dst) !== undefined) {
    c.db.written(dst, 'del');
  }
  c.reply.int(result.size);
}

/** Parses a float argument of a sorted set command; null after replying. */
export function scoreArg(c: Client, s: string, error: string = ERR.notFloat): number | null {
  const v = parseDouble(s);
  if (v === null) c.error(error);
  return v;
}
