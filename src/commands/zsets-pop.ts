import type { BlockedCommand } from '../server/blocking.js';
import type { Client } from '../server/client.js';
import type { ZNode, ZSetValue } from '../store/zset.js';
import { parseTimeout } from './lists-blocking.js';
import { deleteIfEmpty, readZset, replyNodes, scoredHeader, scoredItem, writeZset } from './zsets-common.js';
import { ERR, isArg, parseInt64, parseInteger } from './util.js';

/**
 * ZPOPMIN/ZPOPMAX, ZMPOP, their blocking forms BZPOPMIN/BZPOPMAX/BZMPOP
 * (one genericZpop and one blocking wrapper, as t_zset.c) and ZRANDMEMBER.
 */

export type Where = 'min' | 'max';

/** The reply shapes of genericZpopCommand. */
interface PopShape {
  /** Prefix the key (BZPOP*, ZMPOP, BZMPOP). */
  emitKey: boolean;
  /** [member, score] pairs in an array (RESP3 ZPOP with count; ZMPOP always). */
  nested: boolean;
  /** Null array rather than an empty one when nothing can be popped (ZMPOP). */
  nilWhenEmpty: boolean;
}

/** Pops up to count (>= 1) members of z at `where` and replies in `shape`; "zpopmin"/"zpopmax" then "del" if emptied. */
function popAndReply(c: Client, key: string, z: ZSetValue, where: Where, count: number, shape: PopShape): void {
  const n = Math.min(count, z.size);
  if (shape.emitKey && shape.nested) {
    c.reply.arrayHeader(2);
    c.reply.bulk(key);
    c.reply.arrayHeader(n);
  } else if (shape.emitKey) {
    c.reply.arrayHeader(2 * n + 1);
    c.reply.bulk(key);
  } else {
    c.reply.arrayHeader(shape.nested ? n : 2 * n);
  }
  for (let i = 0; i < n; i++) {
    const x = (where === 'min' ? z.first() : z.last())!;
    z.remove(x.key);
    if (shape.nested) c.reply.arrayHeader(2);
    c.reply.bulk(x.key);
    c.reply.double(x.score);
  }
  c.db.written(key, where === 'min' ? 'zpopmin' : 'zpopmax');
  deleteIfEmpty(c, key, z);
}

/** genericZpopCommand: the first existing key among keys (WRONGTYPE stops the search). */
function genericZpop(c: Client, keys: readonly string[], where: Where, count: number, shape: PopShape): void {
  for (const key of keys) {
    const z = writeZset(c, key);
    if (z === null) return;
    if (z === undefined) continue;
    if (count === 0) return c.reply.emptyArray();
    return popAndReply(c, key, z, where, count, shape);
  }
  if (shape.nilWhenEmpty) c.reply.nullArray();
  else c.reply.emptyArray();
}

/** ZPOPMIN / ZPOPMAX key [count] */
export function zpopHandler(where: Where) {
  return (c: Client, argv: string[]): void => {
    if (argv.length > 3) return c.error(ERR.syntax);
    let count = -1;
    if (argv.length === 3) {
      const n = parseInteger(argv[2]!);
      if (n === null) return c.error(ERR.notInteger);
      if (n < 0) return c.error(ERR.positive);
      count = n;
    }
    const shape = { emitKey: false, nested: c.reply.resp === 3 && count !== -1, nilWhenEmpty: false };
    genericZpop(c, [argv[1]!], where, count === -1 ? 1 : count, shape);
  };
}

/**
 * blockingGenericZpopCommand: pops at once from the first non-empty zset,
 * else blocks until one gets members; inside MULTI answers a null array.
 */
function blockingZpop(c: Client, keys: readonly string[], where: Where, count: number, shape: PopShape, deadline: number): void {
  for (const key of keys) {
    const z = writeZset(c, key);
    if (z === null) return;
    if (z !== undefined && z.size > 0) return popAndReply(c, key, z, where, count, shape);
  }
  const blocked: BlockedCommand = {
    serve(bc, key) {
      const e = bc.db.lookup(key);
      if (e === undefined || e.type !== 'zset') return false;
      popAndReply(bc, key, e.value as ZSetValue, where, count, shape);
      return true;
    },
    timeout: (bc) => bc.reply.nullArray(),
  };
  const registry = c.server.blocking;
  if (registry.mayBlock) registry.block(c, keys, deadline, blocked);
  else blocked.timeout(c);
}

/** BZPOPMIN / BZPOPMAX key [key ...] timeout */
export function bzpopHandler(where: Where) {
  return (c: Client, argv: string[]): void => {
    const deadline = parseTimeout(c, argv[argv.length - 1]!);
    if (deadline === null) return;
    blockingZpop(c, argv.slice(1, -1), where, 1, { emitKey: true, nested: false, nilWhenEmpty: false }, deadline);
  };
}

/** A long >= 1 (getRangeLongFromObjectOrReply with a message, also for non-integers); null after replying. */
function positiveLong(c: Client, s: string, message: string): number | null {
  const v = parseInt64(s);
  if (v === null || v < 1n) {
    c.error(message);
    return null;
  }
  return Number(v);
}

/** zmpopGenericCommand: numkeys at argv[at], keys, MIN|MAX, [COUNT count]; blocking when a deadline is given. */
function zmpopGeneric(c: Client, argv: string[], at: number, deadline: number | null): void {
  const numkeys = positiveLong(c, argv[at]!, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return;
  const whereIdx = at + numkeys + 1;
  if (whereIdx >= argv.length) return c.error(ERR.syntax);
  const whereArg = argv[whereIdx]!;
  if (!isArg(whereArg, 'MIN') && !isArg(whereArg, 'MAX')) return c.error(ERR.syntax);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count !== -1 || !isArg(argv[j]!, 'COUNT') || j + 1 >= argv.length) return c.error(ERR.syntax);
    const n = positiveLong(c, argv[++j]!, 'ERR count should be greater than 0');
    if (n === null) return;
    count = n;
  }
  const where: Where = isArg(whereArg, 'MIN') ? 'min' : 'max';
  const keys = argv.slice(at + 1, whereIdx);
  const shape = { emitKey: true, nested: true, nilWhenEmpty: true };
  if (deadline === null) genericZpop(c, keys, where, count === -1 ? 1 : count, shape);
  else blockingZpop(c, keys, where, count === -1 ? 1 : count, shape, deadline);
}

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
export function zmpopCommand(c: Client, argv: string[]): void {
  zmpopGeneric(c, argv, 1, null);
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
export function bzmpopCommand(c: Client, argv: string[]): void {
  const deadline = parseTimeout(c, argv[1]!);
  if (deadline !== null) zmpopGeneric(c, argv, 2, deadline);
}

// ---- ZRANDMEMBER ----

const LONG_MAX = 2n ** 63n - 1n;
const ERR_COUNT_RANGE = `ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`;
/** A huge negative count is cut off (the client closed) past this much pending output, as Redis's output limits would. */
const REPLY_GUARD_BYTES = 256 * 1024 * 1024;

/** ZRANDMEMBER key [count [WITHSCORES]] */
export function zrandmemberCommand(c: Client, argv: string[]): void {
  if (argv.length < 3) {
    const z = readZset(c, argv[1]!);
    if (z === undefined) c.reply.nullBulk();
    else if (z !== null) c.reply.bulk(z.random(randomFor(c))!.key);
    return;
  }
  const l = parseInt64(argv[2]!);
  if (l === null) return c.error(ERR.notInteger);
  if (l < -LONG_MAX) return c.error(ERR_COUNT_RANGE);
  if (argv.length > 4 || (argv.length === 4 && !isArg(argv[3]!, 'WITHSCORES'))) return c.error(ERR.syntax);
  const withscores = argv.length === 4;
  if (withscores && (l < -LONG_MAX / 2n || l > LONG_MAX / 2n)) return c.error('ERR value is out of range');
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  if (z === undefined || l === 0n) return c.reply.emptyArray();
  if (l < 0n || l === 1n) return randomWithRepeats(c, z, l < 0n ? -l : l, withscores);
  replyNodes(c, randomDistinct(z, l >= BigInt(z.size) ? z.size : Number(l), randomFor(c)), withscores);
}

function randomFor(c: Client): (bound: number) => number {
  const random = c.server.runtime.random;
  return (bound) => random.int(bound);
}

/** CASE 1: count draws with repetition, in random order. */
function randomWithRepeats(c: Client, z: ZSetValue, count: bigint, withscores: boolean): void {
  const rand = randomFor(c);
  scoredHeader(c, Number(count), withscores);
  for (let i = 0n; i < count; i++) {
    const x = z.random(rand)!;
    scoredItem(c, x.key, x.score, withscores);
    if ((i & 1023n) === 0n && c.reply.pendingBytes > REPLY_GUARD_BYTES) return c.close();
  }
}

/** count distinct members: all of them in order, a partial shuffle of ranks, or distinct draws (CASES 2-4). */
function randomDistinct(z: ZSetValue, count: number, rand: (bound: number) => number): ZNode[] {
  const size = z.size;
  if (count >= size) return [...z];
  if (count * 3 > size) {
    const ranks = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + rand(size - i);
      [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
    }
    return ranks.slice(0, count).map((r) => z.at(r)!);
  }
  const picked = new Set<number>();
  while (picked.size < count) picked.add(rand(size));
  return [...picked].map((r) => z.at(r)!);
}
