import type { Client } from '../server/client.js';
import { deleteIfEmpty, randomFor, readSet, replyMembers, writeSet } from './sets-common.js';
import { ERR, parseInt64, parseInteger } from './util.js';

/** SRANDMEMBER and SPOP (srandmemberCommand, spopCommand and their <count> forms). */

const LONG_MAX = 2n ** 63n - 1n;
/**
 * A count near LONG_MAX cannot be served: Redis stops when output limits
 * mark the client CLOSE_ASAP; here the client is closed past this much
 * pending output instead of exhausting memory.
 */
const REPLY_GUARD_BYTES = 256 * 1024 * 1024;
const ERR_COUNT_RANGE = `ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`;

/** SRANDMEMBER key [count] */
export function srandmemberCommand(c: Client, argv: string[]): void {
  if (argv.length === 3) return srandmemberWithCount(c, argv);
  if (argv.length > 3) return c.error(ERR.syntax);
  const s = readSet(c, argv[1]!);
  if (s === undefined) c.reply.nullBulk();
  else if (s !== null) c.reply.bulk(s.random(randomFor(c))!);
}

/**
 * A negative count draws with repetition (|count| replies, random order),
 * a positive one distinct members (at most the whole set). The count is
 * checked before the key, in [-LONG_MAX, LONG_MAX].
 */
function srandmemberWithCount(c: Client, argv: string[]): void {
  const n = parseInt64(argv[2]!);
  if (n === null) return c.error(ERR.notInteger);
  if (n < -LONG_MAX) return c.error(ERR_COUNT_RANGE);
  const s = readSet(c, argv[1]!);
  if (s === null) return;
  if (s === undefined || n === 0n) return c.reply.arrayHeader(0);
  const rand = randomFor(c);
  if (n < 0n || n === 1n) {
    const count = n < 0n ? -n : n;
    c.reply.arrayHeader(Number(count));
    for (let i = 0n; i < count; i++) {
      c.reply.bulk(s.random(rand)!);
      if ((i & 1023n) === 0n && c.reply.pendingBytes > REPLY_GUARD_BYTES) return c.close();
    }
    return;
  }
  const picked = s.randomDistinct(n >= BigInt(s.size) ? s.size : Number(n), rand);
  c.reply.arrayHeader(picked.length);
  for (const m of picked) c.reply.bulk(m);
}

/** SPOP key [count] */
export function spopCommand(c: Client, argv: string[]): void {
  if (argv.length === 3) return spopWithCount(c, argv);
  if (argv.length > 3) return c.error(ERR.syntax);
  const key = argv[1]!;
  const s = writeSet(c, key);
  if (s === undefined) return c.reply.nullBulk();
  if (s === null) return;
  const m = s.random(randomFor(c))!;
  s.remove(m);
  c.db.written(key, 'spop');
  deleteIfEmpty(c, key, s);
  c.reply.bulk(m);
}

/** SPOP key count: a set reply of up to count distinct members, removed from the set. */
function spopWithCount(c: Client, argv: string[]): void {
  const count = parseInteger(argv[2]!);
  if (count === null) return c.error(ERR.notInteger);
  if (count < 0) return c.error(ERR.positive);
  const key = argv[1]!;
  const s = writeSet(c, key);
  if (s === null) return;
  if (s === undefined || count === 0) return c.reply.setHeader(0);
  const popped = s.randomDistinct(count, randomFor(c));
  for (const m of popped) s.remove(m);
  c.db.written(key, 'spop');
  deleteIfEmpty(c, key, s);
  replyMembers(c, popped);
}
