import type { Client } from '../server/client.js';
import type { LexRange, ScoreRange, ZNode, ZSetValue } from '../store/zset.js';
import {
  deleteIfEmpty,
  ERR_LEX_RANGE,
  ERR_SCORE_RANGE,
  listpackLimits,
  newZset,
  parseLexRange,
  parseScoreRange,
  PLAIN_ADD,
  readZset,
  scoredHeader,
  scoredItem,
  storeZset,
  writeZset,
  zsetAdd,
} from './zsets-common.js';
import { ERR, isArg, parseInteger } from './util.js';

/**
 * Every ranged sorted set command over one generic, as Redis's
 * zrangeGenericCommand: a range by rank, score or lex is resolved to an
 * interval of ranks (O(log n)), then walked forward or in reverse with
 * LIMIT's offset and count, into a reply or a destination key. ZCOUNT,
 * ZLEXCOUNT and ZREMRANGEBY* resolve the same intervals.
 */

export type RangeKind = 'rank' | 'score' | 'lex';

export type RangeSpec =
  | { kind: 'rank'; start: number; end: number }
  | { kind: 'score'; range: ScoreRange }
  | { kind: 'lex'; range: LexRange };

/** Parses min/max (or start/stop) of a range kind; null after replying the kind's error. */
export function parseRange(c: Client, kind: RangeKind, min: string, max: string): RangeSpec | null {
  if (kind === 'rank') {
    const start = parseInteger(min);
    const end = start === null ? null : parseInteger(max);
    if (start === null || end === null) return fail(c, ERR.notInteger);
    return { kind, start, end };
  }
  if (kind === 'score') {
    const range = parseScoreRange(min, max);
    return range === null ? fail(c, ERR_SCORE_RANGE) : { kind, range };
  }
  const range = parseLexRange(min, max);
  return range === null ? fail(c, ERR_LEX_RANGE) : { kind, range };
}

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

/**
 * The inclusive interval [lo, hi] of 0-based ranks the range covers, or
 * null when empty. A rank range read in reverse counts from the highest.
 */
export function resolveRanks(z: ZSetValue, spec: RangeSpec, reverse = false): [number, number] | null {
  if (spec.kind === 'rank') {
    const len = z.size;
    let start = spec.start < 0 ? len + spec.start : spec.start;
    let end = spec.end < 0 ? len + spec.end : spec.end;
    if (start < 0) start = 0;
    if (start > end || start >= len) return null;
    if (end >= len) end = len - 1;
    return reverse ? [len - 1 - end, len - 1 - start] : [start, end];
  }
  return spec.kind === 'score' ? z.scoreRanks(spec.range) : z.lexRanks(spec.range);
}

/** What to take of a resolved interval: direction, LIMIT offset and count (count < 0: all). */
export interface Walk {
  reverse: boolean;
  offset: number;
  count: number;
}

/**
 * Visits the nodes of [lo, hi] in order (or reverse), skipping `offset`
 * (a negative offset selects nothing, as Redis's loop runs off the end)
 * and stopping after `count`: how many there are, and the nodes.
 */
export function walkRanks(z: ZSetValue, ranks: [number, number] | null, w: Walk): { n: number; nodes: () => Iterable<ZNode> } {
  if (ranks === null || w.offset < 0) return { n: 0, nodes: () => [] };
  const [lo, hi] = ranks;
  const avail = Math.max(0, hi - lo + 1 - w.offset);
  const n = w.count < 0 ? avail : Math.min(avail, w.count);
  const from = w.reverse ? hi - w.offset : lo + w.offset;
  return { n, nodes: () => z.range(from, n, w.reverse) };
}

/** The parsed options of a ZRANGE-family call. */
interface RangeRequest {
  kind: RangeKind;
  walk: Walk;
  withscores: boolean;
  minIdx: number;
  maxIdx: number;
}

/**
 * Step 1 of zrangeGenericCommand: options after key/min/max. `kind` and
 * `reverse` are fixed by legacy commands (null = chosen by BYSCORE/BYLEX/REV).
 */
function parseRangeOptions(c: Client, argv: string[], at: number, store: boolean, kind: RangeKind | null, reverse: boolean | null): RangeRequest | null {
  let withscores = false;
  let offset = 0;
  let count = -1;
  for (let j = at + 3; j < argv.length; j++) {
    const a = argv[j]!;
    if (!store && isArg(a, 'WITHSCORES')) withscores = true;
    else if (isArg(a, 'LIMIT') && argv.length - j - 1 >= 2) {
      const o = parseInteger(argv[j + 1]!);
      const l = o === null ? null : parseInteger(argv[j + 2]!);
      if (o === null || l === null) return fail(c, ERR.notInteger);
      [offset, count] = [o, l];
      j += 2;
    } else if (reverse === null && isArg(a, 'REV')) reverse = true;
    else if (kind === null && isArg(a, 'BYLEX')) kind = 'lex';
    else if (kind === null && isArg(a, 'BYSCORE')) kind = 'score';
    else return fail(c, ERR.syntax);
  }
  kind ??= 'rank';
  reverse ??= false;
  if (count !== -1 && kind === 'rank') return fail(c, 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  if (withscores && kind === 'lex') return fail(c, 'ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  const swap = reverse && kind !== 'rank';
  return { kind, walk: { reverse, offset, count }, withscores, minIdx: at + (swap ? 2 : 1), maxIdx: at + (swap ? 1 : 2) };
}

/**
 * zrangeGenericCommand: argv[at] is the source key, then min/max, then
 * options. With dst, stores the result (ZRANGESTORE) instead of replying.
 */
export function zrangeGeneric(c: Client, argv: string[], at: number, dst: string | null, kind: RangeKind | null, reverse: boolean | null): void {
  const req = parseRangeOptions(c, argv, at, dst !== null, kind, reverse);
  if (req === null) return;
  const spec = parseRange(c, req.kind, argv[req.minIdx]!, argv[req.maxIdx]!);
  if (spec === null) return;
  const z = readZset(c, argv[at]!);
  if (z === null) return;
  const picked = z === undefined ? { n: 0, nodes: () => [] } : walkRanks(z, resolveRanks(z, spec, req.walk.reverse), req.walk);
  if (dst !== null) return storeRange(c, dst, picked.n, picked.nodes());
  scoredHeader(c, picked.n, req.withscores);
  for (const x of picked.nodes()) scoredItem(c, x.key, x.score, req.withscores);
}

/** ZRANGESTORE's result handler: a new zset sized as zrangeResultBeginStore chooses, stored in dst. */
function storeRange(c: Client, dst: string, n: number, nodes: Iterable<ZNode>): void {
  const lim = listpackLimits(c);
  const out = newZset(c, n, 0);
  const scratch = { score: 0 };
  for (const x of nodes) zsetAdd(out, x.key, x.score, PLAIN_ADD, lim, scratch);
  storeZset(c, dst, out, 'zrangestore');
}

/** ZCOUNT / ZLEXCOUNT key min max: the size of the resolved interval. */
export function zcountGeneric(c: Client, argv: string[], kind: 'score' | 'lex'): void {
  const spec = parseRange(c, kind, argv[2]!, argv[3]!);
  if (spec === null) return;
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  const ranks = z === undefined ? null : resolveRanks(z, spec);
  c.reply.int(ranks === null ? 0 : ranks[1] - ranks[0] + 1);
}

const REM_EVENTS: Record<RangeKind, string> = { rank: 'zremrangebyrank', score: 'zremrangebyscore', lex: 'zremrangebylex' };

/** zremrangeGenericCommand: ZREMRANGEBYRANK / BYSCORE / BYLEX key min max. */
export function zremrangeGeneric(c: Client, argv: string[], kind: RangeKind): void {
  const spec = parseRange(c, kind, argv[2]!, argv[3]!);
  if (spec === null) return;
  const key = argv[1]!;
  const z = writeZset(c, key);
  if (z === null) return;
  const ranks = z === undefined ? null : resolveRanks(z, spec);
  if (z === undefined || ranks === null) return c.reply.int(0);
  const removed = z.removeRangeByRank(ranks[0], ranks[1]);
  c.db.written(key, REM_EVENTS[kind]);
  deleteIfEmpty(c, key, z);
  c.reply.int(removed);
}
