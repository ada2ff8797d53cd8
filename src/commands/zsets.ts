import type { Client } from '../server/client.js';
import { formatDouble } from '../protocol/format.js';
import type { ZNode } from '../store/zset.js';
import { parseScanCursor, parseScanOptions, replyScan, scanSteps } from './keys-scan.js';
import type { CommandFlag, CommandSpec, Handler, KeyFlag, KeySpec } from './types.js';
import { ERR, globMatch, isArg } from './util.js';
import {
  type AddFlags,
  deleteIfEmpty,
  listpackLimits,
  newZset,
  readZset,
  replyScore,
  scoreArg,
  writeZset,
  zsetAdd,
} from './zsets-common.js';
import { bzmpopCommand, bzpopHandler, zmpopCommand, zpopHandler, zrandmemberCommand } from './zsets-pop.js';
import { zcountGeneric, zrangeGeneric, zremrangeGeneric } from './zsets-range.js';
import { zsetOpGeneric } from './zsets-setops.js';

/** The sorted set group (t_zset.c): thin handlers over zsets-common, -range, -setops and -pop. */

/** Parses ZADD's flags from argv[2]; returns the index of the first score, or null after replying. */
function parseZaddFlags(c: Client, argv: string[], f: AddFlags): { scoreIdx: number; ch: boolean } | null {
  let j = 2;
  let ch = false;
  for (; j < argv.length; j++) {
    // Flags are letters; a score never starts with one but "inf" / "+inf" / "nan": those fall through.
    const first = argv[j]!.charCodeAt(0) | 0x20;
    if (first < 0x61 || first > 0x7a) break;
    const a = argv[j]!.toUpperCase();
    if (a === 'NX') f.nx = true;
    else if (a === 'XX') f.xx = true;
    else if (a === 'GT') f.gt = true;
    else if (a === 'LT') f.lt = true;
    else if (a === 'CH') ch = true;
    else if (a === 'INCR') f.incr = true;
    else break;
  }
  const elements = argv.length - j;
  let error: string | null = null;
  if (elements === 0 || elements % 2 !== 0) error = ERR.syntax;
  else if (f.nx && f.xx) error = 'ERR XX and NX options at the same time are not compatible';
  else if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) error = 'ERR GT, LT, and/or NX options at the same time are not compatible';
  else if (f.incr && elements > 2) error = 'ERR INCR option supports a single increment-element pair';
  if (error !== null) {
    c.error(error);
    return null;
  }
  return { scoreIdx: j, ch };
}

/** zaddGenericCommand: ZADD, and ZINCRBY (INCR preset). */
function zaddGeneric(c: Client, argv: string[], f: AddFlags): void {
  const parsed = parseZaddFlags(c, argv, f);
  if (parsed === null) return;
  const { scoreIdx, ch } = parsed;
  const scores: number[] = [];
  for (let j = scoreIdx; j < argv.length; j += 2) {
    const s = scoreArg(c, argv[j]!);
    if (s === null) return;
    scores.push(s);
  }
  const key = argv[1]!;
  let z = writeZset(c, key);
  if (z === null) return;
  if (z === undefined) {
    if (f.xx) return f.incr ? c.reply.nullBulk() : c.reply.int(0);
    z = newZset(c, 1, argv[scoreIdx + 1]!.length);
    c.db.add(key, 'zset', z);
  }
  const lim = listpackLimits(c);
  const out = { score: 0 };
  let added = 0;
  let updated = 0;
  let processed = 0;
  let nan = false;
  for (let i = 0; i < scores.length; i++) {
    const r = zsetAdd(z, argv[scoreIdx + 2 * i + 1]!, scores[i]!, f, lim, out);
    if (r === 'nan') {
      nan = true;
      break;
    }
    if (r === 'added') added++;
    else if (r === 'updated') updated++;
    if (r !== 'nop') processed++;
  }
  if (nan) c.error('ERR resulting score is not a number (NaN)');
  else if (f.incr && processed > 0) c.reply.double(out.score);
  else if (f.incr) c.reply.nullBulk();
  else c.reply.int(ch ? added + updated : added);
  if (added + updated > 0) c.db.written(key, f.incr ? 'zincr' : 'zadd');
}

export const zaddCommand: Handler = (c, argv) => zaddGeneric(c, argv, { nx: false, xx: false, gt: false, lt: false, incr: false });
const zincrbyCommand: Handler = (c, argv) => zaddGeneric(c, argv, { nx: false, xx: false, gt: false, lt: false, incr: true });

function zremCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const z = writeZset(c, key);
  if (z === null) return;
  if (z === undefined) return c.reply.int(0);
  let deleted = 0;
  for (let j = 2; j < argv.length && z.size > 0; j++) if (z.remove(argv[j]!)) deleted++;
  if (deleted > 0) {
    c.db.written(key, 'zrem');
    deleteIfEmpty(c, key, z);
  }
  c.reply.int(deleted);
}

function zcardCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z !== null) c.reply.int(z === undefined ? 0 : z.size);
}

function zscoreCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z !== null) replyScore(c, z?.score(argv[2]!));
}

function zmscoreCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  c.reply.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) replyScore(c, z?.score(argv[j]!));
}

/** ZRANK / ZREVRANK key member */
function zrankHandler(reverse: boolean): Handler {
  return (c, argv) => {
    const z = readZset(c, argv[1]!);
    if (z === null) return;
    const rank = z === undefined ? null : z.rank(argv[2]!, reverse);
    if (rank === null) c.reply.nullBulk();
    else c.reply.int(rank);
  };
}

/** ZSCAN key cursor [MATCH pattern] [COUNT count]: member, score pairs (scores as %.17g text). */
function zscanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]!);
  if (cursor === null) return;
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  if (z === undefined) return replyScan(c, 0, []);
  const opts = parseScanOptions(c, argv, 3, false);
  if (opts === null) return;
  const found: ZNode[] = [];
  const next = scanSteps<ZNode>((cur, visit) => z.scan(cur, visit), cursor, opts.count, found);
  const items: string[] = [];
  const pattern = opts.pattern;
  for (const n of found) if (pattern === null || globMatch(pattern, n.key)) items.push(n.key, formatDouble(n.score));
  replyScan(c, next, items);
}

const h = {
  zrange: ((c, argv) => zrangeGeneric(c, argv, 1, null, null, null)) as Handler,
  zrangestore: ((c, argv) => zrangeGeneric(c, argv, 2, argv[1]!, null, null)) as Handler,
  zrevrange: ((c, argv) => zrangeGeneric(c, argv, 1, null, 'rank', true)) as Handler,
  zrangebyscore: ((c, argv) => zrangeGeneric(c, argv, 1, null, 'score', false)) as Handler,
  zrevrangebyscore: ((c, argv) => zrangeGeneric(c, argv, 1, null, 'score', true)) as Handler,
  zrangebylex: ((c, argv) => zrangeGeneric(c, argv, 1, null, 'lex', false)) as Handler,
  zrevrangebylex: ((c, argv) => zrangeGeneric(c, argv, 1, null, 'lex', true)) as Handler,
  zcount: ((c, argv) => zcountGeneric(c, argv, 'score')) as Handler,
  zlexcount: ((c, argv) => zcountGeneric(c, argv, 'lex')) as Handler,
  zremrangebyrank: ((c, argv) => zremrangeGeneric(c, argv, 'rank')) as Handler,
  zremrangebyscore: ((c, argv) => zremrangeGeneric(c, argv, 'score')) as Handler,
  zremrangebylex: ((c, argv) => zremrangeGeneric(c, argv, 'lex')) as Handler,
  zunion: ((c, argv) => zsetOpGeneric(c, argv, 1, 'union', { kind: 'reply' })) as Handler,
  zinter: ((c, argv) => zsetOpGeneric(c, argv, 1, 'inter', { kind: 'reply' })) as Handler,
  zdiff: ((c, argv) => zsetOpGeneric(c, argv, 1, 'diff', { kind: 'reply' })) as Handler,
  zunionstore: ((c, argv) => zsetOpGeneric(c, argv, 2, 'union', { kind: 'store', dst: argv[1]! })) as Handler,
  zinterstore: ((c, argv) => zsetOpGeneric(c, argv, 2, 'inter', { kind: 'store', dst: argv[1]! })) as Handler,
  zdiffstore: ((c, argv) => zsetOpGeneric(c, argv, 2, 'diff', { kind: 'store', dst: argv[1]! })) as Handler,
  zintercard: ((c, argv) => zsetOpGeneric(c, argv, 1, 'inter', { kind: 'card' })) as Handler,
};

// ---- command table ----

function keyAt(index: number, ...flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first: index, last: index, step: 1, flags };
}

function keynum(keynumIndex: number, ...flags: KeyFlag[]): KeySpec {
  return { kind: 'keynum', keynumIndex, firstKey: keynumIndex + 1, step: 1, flags };
}

/** One sorted-set spec. */
function spec(
  name: string, arity: number, flags: CommandFlag[], keys: KeySpec[], since: string, syntax: string,
  summary: string, complexity: string, handler: Handler, extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, keys, group: 'sorted-set', since, summary, complexity, syntax, handler, ...extra };
}

const RO = keyAt(1, 'RO', 'ACCESS');
const RW_DELETE = keyAt(1, 'RW', 'DELETE');
const POP_KEY = keyAt(1, 'RW', 'ACCESS', 'DELETE');
const STORE_KEYS = [keyAt(1, 'OW', 'UPDATE'), keynum(2, 'RO', 'ACCESS')];
const DEPRECATED = (by: string): Partial<CommandSpec> => ({ docFlags: ['deprecated'], deprecatedSince: '6.2.0', replacedBy: by });
const RANGE_C = 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).';
const REM_C = 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.';
const INTER_C = 'O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.';
const UNION_C = 'O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.';
const DIFF_C = 'O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.';
const POP_C = 'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.';
const MPOP_C = 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.';
const BPOP_C = 'O(log(N)) with N being the number of elements in the sorted set.';
const LOGN = 'O(log(N))';
const OPS = 'numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]';

export const zsetCommands: CommandSpec[] = [
  spec('zadd', -4, ['write', 'denyoom', 'fast'], [keyAt(1, 'RW', 'UPDATE')], '1.2.0',
    'key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]',
    'Add one or more members to a sorted set, or update its score if it already exists',
    'O(log(N)) for each item added, where N is the number of elements in the sorted set.', zaddCommand),
  spec('zincrby', 4, ['write', 'denyoom', 'fast'], [keyAt(1, 'RW', 'ACCESS', 'UPDATE')], '1.2.0', 'key increment member',
    'Increment the score of a member in a sorted set', 'O(log(N)) where N is the number of elements in the sorted set.', zincrbyCommand),
  spec('zrem', -3, ['write', 'fast'], [RW_DELETE], '1.2.0', 'key member [member ...]', 'Remove one or more members from a sorted set',
    'O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.', zremCommand),
  spec('zcard', 2, ['readonly', 'fast'], [keyAt(1, 'RO')], '1.2.0', 'key', 'Get the number of members in a sorted set', 'O(1)', zcardCommand),
  spec('zscore', 3, ['readonly', 'fast'], [RO], '1.2.0', 'key member',
    'Get the score associated with the given member in a sorted set', 'O(1)', zscoreCommand),
  spec('zmscore', -3, ['readonly', 'fast'], [RO], '6.2.0', 'key member [member ...]',
    'Get the score associated with the given members in a sorted set', 'O(N) where N is the number of members being requested.', zmscoreCommand),
  spec('zcount', 4, ['readonly', 'fast'], [RO], '2.0.0', 'key min max',
    'Count the members in a sorted set with scores within the given values', 'O(log(N)) with N being the number of elements in the sorted set.', h.zcount),
  spec('zlexcount', 4, ['readonly', 'fast'], [RO], '2.8.9', 'key min max',
    'Count the number of members in a sorted set between a given lexicographical range', 'O(log(N)) with N being the number of elements in the sorted set.', h.zlexcount),
  spec('zrange', -4, ['readonly'], [RO], '1.2.0', 'key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]',
    'Return a range of members in a sorted set',
    'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.', h.zrange),
  spec('zrangestore', -5, ['write', 'denyoom'], [keyAt(1, 'OW', 'UPDATE'), keyAt(2, 'RO', 'ACCESS')], '6.2.0',
    'dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]', 'Store a range of members from sorted set into another key',
    'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.', h.zrangestore),
  spec('zrevrange', -4, ['readonly'], [RO], '1.2.0', 'key start stop [WITHSCORES]',
    'Return a range of members in a sorted set, by index, with scores ordered from high to low',
    'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.', h.zrevrange, DEPRECATED('`ZRANGE` with the `REV` argument')),
  spec('zrangebyscore', -4, ['readonly'], [RO], '1.0.5', 'key min max [WITHSCORES] [LIMIT offset count]',
    'Return a range of members in a sorted set, by score', RANGE_C, h.zrangebyscore, DEPRECATED('`ZRANGE` with the `BYSCORE` argument')),
  spec('zrevrangebyscore', -4, ['readonly'], [RO], '2.2.0', 'key max min [WITHSCORES] [LIMIT offset count]',
    'Return a range of members in a sorted set, by score, with scores ordered from high to low', RANGE_C, h.zrevrangebyscore,
    DEPRECATED('`ZRANGE` with the `REV` and `BYSCORE` arguments')),
  spec('zrangebylex', -4, ['readonly'], [RO], '2.8.9', 'key min max [LIMIT offset count]',
    'Return a range of members in a sorted set, by lexicographical range', RANGE_C, h.zrangebylex, DEPRECATED('`ZRANGE` with the `BYLEX` argument')),
  spec('zrevrangebylex', -4, ['readonly'], [RO], '2.8.9', 'key max min [LIMIT offset count]',
    'Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.', RANGE_C, h.zrevrangebylex,
    DEPRECATED('`ZRANGE` with the `REV` and `BYLEX` arguments')),
  spec('zrank', 3, ['readonly', 'fast'], [RO], '2.0.0', 'key member', 'Determine the index of a member in a sorted set', LOGN, zrankHandler(false)),
  spec('zrevrank', 3, ['readonly', 'fast'], [RO], '2.0.0', 'key member',
    'Determine the index of a member in a sorted set, with scores ordered from high to low', LOGN, zrankHandler(true)),
  spec('zremrangebyrank', 4, ['write'], [RW_DELETE], '2.0.0', 'key start stop',
    'Remove all members in a sorted set within the given indexes', REM_C, h.zremrangebyrank),
  spec('zremrangebyscore', 4, ['write'], [RW_DELETE], '1.2.0', 'key min max',
    'Remove all members in a sorted set within the given scores', REM_C, h.zremrangebyscore),
  spec('zremrangebylex', 4, ['write'], [RW_DELETE], '2.8.9', 'key min max',
    'Remove all members in a sorted set between the given lexicographical range', REM_C, h.zremrangebylex),
  spec('zunion', -3, ['readonly'], [keynum(1, 'RO', 'ACCESS')], '6.2.0', `${OPS} [WITHSCORES]`, 'Add multiple sorted sets', UNION_C, h.zunion),
  spec('zinter', -3, ['readonly'], [keynum(1, 'RO', 'ACCESS')], '6.2.0', `${OPS} [WITHSCORES]`, 'Intersect multiple sorted sets', INTER_C, h.zinter),
  spec('zdiff', -3, ['readonly'], [keynum(1, 'RO', 'ACCESS')], '6.2.0', 'numkeys key [key ...] [WITHSCORES]', 'Subtract multiple sorted sets', DIFF_C, h.zdiff),
  spec('zunionstore', -4, ['write', 'denyoom'], STORE_KEYS, '2.0.0', `destination ${OPS}`,
    'Add multiple sorted sets and store the resulting sorted set in a new key', UNION_C, h.zunionstore),
  spec('zinterstore', -4, ['write', 'denyoom'], STORE_KEYS, '2.0.0', `destination ${OPS}`,
    'Intersect multiple sorted sets and store the resulting sorted set in a new key', INTER_C, h.zinterstore),
  spec('zdiffstore', -4, ['write', 'denyoom'], STORE_KEYS, '6.2.0', 'destination numkeys key [key ...]',
    'Subtract multiple sorted sets and store the resulting sorted set in a new key', DIFF_C, h.zdiffstore),
  spec('zintercard', -3, ['readonly'], [keynum(1, 'RO', 'ACCESS')], '7.0.0', 'numkeys key [key ...] [LIMIT limit]',
    'Intersect multiple sorted sets and return the cardinality of the result',
    'O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.', h.zintercard),
  spec('zrandmember', -2, ['readonly'], [RO], '6.2.0', 'key [count [WITHSCORES]]', 'Get one or multiple random elements from a sorted set',
    'O(N) where N is the number of elements returned', zrandmemberCommand, { tips: ['nondeterministic_output'] }),
  spec('zpopmin', -2, ['write', 'fast'], [POP_KEY], '5.0.0', 'key [count]',
    'Remove and return members with the lowest scores in a sorted set', POP_C, zpopHandler('min')),
  spec('zpopmax', -2, ['write', 'fast'], [POP_KEY], '5.0.0', 'key [count]',
    'Remove and return members with the highest scores in a sorted set', POP_C, zpopHandler('max')),
  spec('zmpop', -4, ['write'], [keynum(1, 'RW', 'ACCESS', 'DELETE')], '7.0.0', 'numkeys key [key ...] MIN | MAX [COUNT count]',
    'Remove and return members with scores in a sorted set', MPOP_C, zmpopCommand),
  spec('bzpopmin', -3, ['write', 'noscript', 'fast', 'blocking'], [{ kind: 'range', first: 1, last: -2, step: 1, flags: ['RW', 'ACCESS', 'DELETE'] }],
    '5.0.0', 'key [key ...] timeout',
    'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available', BPOP_C, bzpopHandler('min')),
  spec('bzpopmax', -3, ['write', 'noscript', 'fast', 'blocking'], [{ kind: 'range', first: 1, last: -2, step: 1, flags: ['RW', 'ACCESS', 'DELETE'] }],
    '5.0.0', 'key [key ...] timeout',
    'Remove and return the member with the highest score from one or more sorted sets, or block until one is available', BPOP_C, bzpopHandler('max')),
  spec('bzmpop', -5, ['write', 'blocking'], [keynum(2, 'RW', 'ACCESS', 'DELETE')], '7.0.0', 'timeout numkeys key [key ...] MIN | MAX [COUNT count]',
    'Remove and return members with scores in a sorted set or block until one is available', MPOP_C, bzmpopCommand),
  spec('zscan', -3, ['readonly'], [RO], '2.8.0', 'key cursor [MATCH pattern] [COUNT count]',
    'Incrementally iterate sorted sets elements and associated scores',
    'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    zscanCommand, { tips: ['nondeterministic_output'] }),
];
