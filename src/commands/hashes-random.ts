import type { Client } from '../server/client.js';
import type { HashValue } from '../store/hash.js';
import { fieldsHeader, readHash, replyFieldItems } from './hashes-common.js';
import { randomFor } from './sets-common.js';
import { ERR, isArg, parseInt64 } from './util.js';

/** HRANDFIELD key [count [WITHVALUES]] (hrandfieldCommand, hrandfieldWithCountCommand). */

const LONG_MAX = 2n ** 63n - 1n;
const ERR_COUNT_RANGE = `ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`;
/** Draws per batch of a repeated-draw reply (HRANDFIELD_RANDOM_SAMPLE_LIMIT). */
const SAMPLE_LIMIT = 1000;
/**
 * A count near LONG_MAX cannot be served: Redis stops once output limits
 * mark the client CLOSE_ASAP; here the client is closed past this much
 * pending output instead of exhausting memory.
 */
const REPLY_GUARD_BYTES = 256 * 1024 * 1024;

export function hrandfieldCommand(c: Client, argv: string[]): void {
  if (argv.length >= 3) return hrandfieldWithCount(c, argv);
  const h = readHash(c, argv[1]!);
  if (h === undefined) c.reply.nullBulk();
  else if (h !== null) c.reply.bulk(h.random(randomFor(c))!.key);
}

/** Parses count and WITHVALUES (count first, in [-LONG_MAX, LONG_MAX], halved with values), then replies. */
function hrandfieldWithCount(c: Client, argv: string[]): void {
  const n = parseInt64(argv[2]!);
  if (n === null) return c.error(ERR.notInteger);
  if (n < -LONG_MAX) return c.error(ERR_COUNT_RANGE);
  if (argv.length > 4 || (argv.length === 4 && !isArg(argv[3]!, 'WITHVALUES'))) return c.error(ERR.syntax);
  const withValues = argv.length === 4;
  if (withValues && (n < -LONG_MAX / 2n || n > LONG_MAX / 2n)) return c.error('ERR value is out of range');
  const h = readHash(c, argv[1]!);
  if (h === null) return;
  if (h === undefined || n === 0n) return c.reply.emptyArray();
  if (n < 0n || n === 1n) return replyRepeated(c, h, n < 0n ? -n : n, withValues);
  const fields = h.randomDistinct(n >= BigInt(h.size) ? h.size : Number(n), randomFor(c));
  fieldsHeader(c, fields.length, withValues);
  replyFieldItems(c, fields, withValues);
}

/** CASE 1: `count` independent draws, in batches, closing the client if the reply outgrows any sane buffer. */
function replyRepeated(c: Client, h: HashValue, count: bigint, withValues: boolean): void {
  fieldsHeader(c, count, withValues);
  const rand = randomFor(c);
  for (let left = count; left > 0n; ) {
    const batch = left > BigInt(SAMPLE_LIMIT) ? SAMPLE_LIMIT : Number(left);
    left -= BigInt(batch);
    replyFieldItems(c, h.randomWithRepetition(batch, rand), withValues);
    if (c.reply.pendingBytes > REPLY_GUARD_BYTES) return c.close();
  }
}
