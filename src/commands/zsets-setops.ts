import type { Client } from '../server/client.js';
import type { SetValue } from '../store/set.js';
import { ZSetValue } from '../store/zset.js';
import { listpackLimits, scoredHeader, scoredItem, storeZset } from './zsets-common.js';
import { ERR, isArg, lookupRead, parseDouble, parseInteger } from './util.js';

/**
 * zunionInterDiffGenericCommand: ZUNION, ZINTER, ZDIFF, their STORE forms
 * and ZINTERCARD. Inputs are sorted sets or plain sets (every member with
 * score 1), weighted, aggregated with SUM, MIN or MAX.
 */

export type SetOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/** One input (zsetopsrc): null subject for a missing key. */
interface Source {
  subject: ZSetValue | SetValue | null;
  weight: number;
}

function sourceSize(s: Source): number {
  return s.subject === null ? 0 : s.subject.size;
}

/** Members and scores of a source in its own order (a set's members score 1). */
function* sourceItems(s: Source): IterableIterator<[string, number]> {
  if (s.subject instanceof ZSetValue) for (const n of s.subject) yield [n.key, n.score];
  else if (s.subject !== null) for (const m of s.subject) yield [m, 1];
}

/** The member's score in a source, or undefined (zuiFind). */
function sourceFind(s: Source, m: string): number | undefined {
  if (s.subject instanceof ZSetValue) return s.subject.score(m);
  return s.subject !== null && s.subject.has(m) ? 1 : undefined;
}

/** weight * score, with NaN (0 * inf) counted as 0. */
function weighted(score: number, weight: number): number {
  const v = score * weight;
  return Number.isNaN(v) ? 0 : v;
}

/** zunionInterAggregate. */
function aggregate(acc: number, v: number, how: Aggregate): number {
  if (how === 'min') return v < acc ? v : acc;
  if (how === 'max') return v > acc ? v : acc;
  const sum = acc + v;
  return Number.isNaN(sum) ? 0 : sum;
}

/** How the result leaves: a reply (WITHSCORES or not), a count (ZINTERCARD, LIMIT), or a key. */
export type SetOpOutput = { kind: 'reply' } | { kind: 'card' } | { kind: 'store'; dst: string };

interface SetOpArgs {
  sources: Source[];
  how: Aggregate;
  withscores: boolean;
  limit: number;
}

/** Key lookups (WRONGTYPE unless zset or set) then options, as Redis orders them; null after replying. */
function parseSetOp(c: Client, argv: string[], numkeysIdx: number, op: SetOp, out: SetOpOutput): SetOpArgs | null {
  const setnum = parseInteger(argv[numkeysIdx]!);
  if (setnum === null) return fail(c, ERR.notInteger);
  if (setnum < 1) return fail(c, `ERR at least 1 input key is needed for '${argv[0]!.toLowerCase()}' command`);
  if (setnum > argv.length - (numkeysIdx + 1)) return fail(c, ERR.syntax);
  const sources: Source[] = [];
  for (let i = 0; i < setnum; i++) {
    const e = lookupRead(c, argv[numkeysIdx + 1 + i]!);
    if (e !== undefined && e.type !== 'zset' && e.type !== 'set') return fail(c, ERR.wrongType);
    sources.push({ subject: e === undefined ? null : (e.value as ZSetValue | SetValue), weight: 1 });
  }
  const args: SetOpArgs = { sources, how: 'sum', withscores: false, limit: 0 };
  return parseSetOpOptions(c, argv, numkeysIdx + 1 + setnum, op, out, args) ? args : null;
}

function parseSetOpOptions(c: Client, argv: string[], j: number, op: SetOp, out: SetOpOutput, args: SetOpArgs): boolean {
  const weighable = op !== 'diff' && out.kind !== 'card';
  const n = args.sources.length;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const a = argv[j]!;
    if (weighable && remaining >= n + 1 && isArg(a, 'WEIGHTS')) {
      for (let i = 0; i < n; i++) {
        const w = parseDouble(argv[j + 1 + i]!);
        if (w === null) return fail(c, 'ERR weight value is not a float', false);
        args.sources[i]!.weight = w;
      }
      j += n + 1;
    } else if (weighable && remaining >= 2 && isArg(a, 'AGGREGATE')) {
      const how = argv[j + 1]!.toLowerCase();
      if (how !== 'sum' && how !== 'min' && how !== 'max') return fail(c, ERR.syntax, false);
      args.how = how;
      j += 2;
    } else if (out.kind === 'reply' && isArg(a, 'WITHSCORES')) {
      args.withscores = true;
      j++;
    } else if (out.kind === 'card' && remaining >= 2 && isArg(a, 'LIMIT')) {
      const limit = parseInteger(argv[j + 1]!);
      if (limit === null || limit < 0) return fail(c, "ERR LIMIT can't be negative", false);
      args.limit = limit;
      j += 2;
    } else {
      return fail(c, ERR.syntax, false);
    }
  }
  return true;
}

/** Replies an error; returns `result` (null or false) for the caller to hand back. */
function fail<T extends null | false = null>(c: Client, message: string, result: T = null as T): T {
  c.error(message);
  return result;
}

/**
 * The intersection: members of the smallest input found in all others,
 * inserted into dst, or only counted (dst null) up to `limit` when > 0.
 */
function inter(dst: ZSetValue | null, srcs: Source[], how: Aggregate, limit: number): number {
  const first = srcs[0]!;
  let count = 0;
  for (const [m, s] of sourceItems(first)) {
    let score = weighted(s, first.weight);
    let j = 1;
    for (; j < srcs.length; j++) {
      const v = srcs[j]!.subject === first.subject ? s : sourceFind(srcs[j]!, m);
      if (v === undefined) break;
      score = aggregate(score, v * srcs[j]!.weight, how);
    }
    if (j < srcs.length) continue;
    count++;
    if (dst !== null) dst.insert(m, score);
    else if (limit > 0 && count >= limit) break;
  }
  return count;
}

function unionInto(dst: ZSetValue, srcs: Source[], how: Aggregate): void {
  const acc = new Map<string, number>();
  for (const src of srcs) {
    for (const [m, s] of sourceItems(src)) {
      const v = weighted(s, src.weight);
      const prev = acc.get(m);
      acc.set(m, prev === undefined ? v : aggregate(prev, v, how));
    }
  }
  for (const [m, score] of acc) dst.insert(m, score);
}

/** The first input minus every other (weights do not apply). */
function diffInto(dst: ZSetValue, srcs: Source[]): void {
  const first = srcs[0]!;
  const others = srcs.slice(1).filter((s) => s.subject !== null && s.subject !== first.subject);
  if (srcs.slice(1).some((s) => s.subject !== null && s.subject === first.subject)) return;
  for (const [m, s] of sourceItems(first)) {
    if (!others.some((o) => sourceFind(o, m) !== undefined)) dst.insert(m, s);
  }
}

const STORE_EVENTS: Record<SetOp, string> = { union: 'zunionstore', inter: 'zinterstore', diff: 'zdiffstore' };

/** The generic: numkeys at argv[numkeysIdx], keys after it, then options. */
export function zsetOpGeneric(c: Client, argv: string[], numkeysIdx: number, op: SetOp, out: SetOpOutput): void {
  const args = parseSetOp(c, argv, numkeysIdx, op, out);
  if (args === null) return;
  const srcs = args.sources;
  if (op !== 'diff') srcs.sort((a, b) => sourceSize(a) - sourceSize(b));
  const dst = new ZSetValue(c.server.runtime.random.int(0x7fffffff), 'skiplist');
  if (out.kind === 'card') return c.reply.int(inter(null, srcs, args.how, args.limit));
  if (op === 'inter') inter(dst, srcs, args.how, 0);
  else if (op === 'union') unionInto(dst, srcs, args.how);
  else diffInto(dst, srcs);
  if (out.kind === 'store') {
    const lim = listpackLimits(c);
    dst.toListpackIfFits(lim.maxEntries, lim.maxValue);
    return storeZset(c, out.dst, dst, STORE_EVENTS[op]);
  }
  scoredHeader(c, dst.size, args.withscores);
  for (const n of dst) scoredItem(c, n.key, n.score, args.withscores);
}
