import type { Client } from '../server/client.js';
import { End } from '../store/list.js';
import { blockingPop, parseTimeout } from './lists-blocking.js';
import {
  clampRange,
  listRemoved,
  parseEnd,
  popAndReply,
  popWithKeyAndReply,
  readList,
  replyRange,
  writeList,
} from './lists-common.js';
import { ERR, intArg, isArg, parseInteger } from './util.js';

/** The list commands with options or index arithmetic: POP with count, LMPOP, LPOS, LINSERT, LSET, LTRIM, LREM, LRANGE. */

/** LPOP / RPOP key [count] (popGenericCommand). */
export function popHandler(end: End) {
  return (c: Client, argv: string[]): void => {
    if (argv.length > 3) return c.error(`ERR wrong number of arguments for '${argv[0]!.toLowerCase()}' command`);
    const hasCount = argv.length === 3;
    let count = 1;
    if (hasCount) {
      const n = parseInteger(argv[2]!);
      if (n === null || n < 0) return c.error(ERR.positive);
      count = n;
    }
    const key = argv[1]!;
    const list = writeList(c, key);
    if (list === null) return;
    if (list === undefined) return hasCount ? c.reply.nullArray() : c.reply.nullBulk();
    if (!hasCount) {
      const v = end === End.Head ? list.popHead()! : list.popTail()!;
      c.reply.bulk(v);
      listRemoved(c, key, list, end === End.Head ? 'lpop' : 'rpop');
    } else if (count === 0) {
      c.reply.emptyArray();
    } else {
      popAndReply(c, key, list, end, count);
    }
  };
}

interface MpopArgs {
  keys: string[];
  end: End;
  count: number;
}

/** numkeys key [key ...] LEFT|RIGHT [COUNT count] starting at argv[at] (lmpopGenericCommand's parsing). */
function parseMpop(c: Client, argv: string[], at: number): MpopArgs | null {
  const numkeys = parseInteger(argv[at]!);
  if (numkeys === null || numkeys < 1) {
    c.error('ERR numkeys should be greater than 0');
    return null;
  }
  const whereAt = at + numkeys + 1;
  if (whereAt >= argv.length) {
    c.error(ERR.syntax);
    return null;
  }
  const end = parseEnd(c, argv[whereAt]!);
  if (end === null) return null;
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && isArg(argv[j]!, 'COUNT') && j + 1 < argv.length) {
      const n = parseInteger(argv[++j]!);
      if (n === null || n < 1) {
        c.error('ERR count should be greater than 0');
        return null;
      }
      count = n;
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return { keys: argv.slice(at + 1, whereAt), end, count: count === -1 ? 1 : count };
}

/** LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
export function lmpopCommand(c: Client, argv: string[]): void {
  const args = parseMpop(c, argv, 1);
  if (args === null) return;
  for (const key of args.keys) {
    const list = writeList(c, key);
    if (list === null) return;
    if (list !== undefined && list.length > 0) return popWithKeyAndReply(c, key, list, args.end, args.count);
  }
  c.reply.nullArray();
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
export function blmpopCommand(c: Client, argv: string[]): void {
  const args = parseMpop(c, argv, 2);
  if (args === null) return;
  const deadline = parseTimeout(c, argv[1]!);
  if (deadline !== null) blockingPop(c, args.keys, { end: args.end, count: args.count }, deadline);
}

/** LRANGE key start stop */
export function lrangeCommand(c: Client, argv: string[]): void {
  const start = intArg(c, argv[2]!);
  if (start === null) return;
  const stop = intArg(c, argv[3]!);
  if (stop === null) return;
  const list = readList(c, argv[1]!);
  if (list === null) return;
  const range = list === undefined ? null : clampRange(start, stop, list.length);
  if (range === null) c.reply.emptyArray();
  else replyRange(c, list!, range[0], range[1]);
}

/** LTRIM key start stop */
export function ltrimCommand(c: Client, argv: string[]): void {
  const start = intArg(c, argv[2]!);
  if (start === null) return;
  const stop = intArg(c, argv[3]!);
  if (stop === null) return;
  const key = argv[1]!;
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.reply.ok();
  const range = clampRange(start, stop, list.length);
  if (range === null) {
    list.clear();
  } else {
    list.removeRange(range[1] + 1, list.length - range[1] - 1);
    list.removeRange(0, range[0]);
  }
  listRemoved(c, key, list, 'ltrim');
  c.reply.ok();
}

/** A 0-based index from LINDEX/LSET's possibly negative one; -1 when out of range. */
function absoluteIndex(index: number, length: number): number {
  const i = index < 0 ? length + index : index;
  return i >= 0 && i < length ? i : -1;
}

/** LINDEX key index */
export function lindexCommand(c: Client, argv: string[]): void {
  const index = intArg(c, argv[2]!);
  if (index === null) return;
  const list = readList(c, argv[1]!);
  if (list === null) return;
  const i = list === undefined ? -1 : absoluteIndex(index, list.length);
  if (i < 0) c.reply.nullBulk();
  else c.reply.bulk(list!.get(i)!);
}

/** LSET key index element */
export function lsetCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.error(ERR.noSuchKey);
  const index = intArg(c, argv[2]!);
  if (index === null) return;
  const i = absoluteIndex(index, list.length);
  if (i < 0) return c.error(ERR.outOfRange);
  list.set(i, argv[3]!);
  c.db.written(key, 'lset');
  c.reply.ok();
}

/** LINSERT key BEFORE|AFTER pivot element */
export function linsertCommand(c: Client, argv: string[]): void {
  const after = isArg(argv[2]!, 'AFTER');
  if (!after && !isArg(argv[2]!, 'BEFORE')) return c.error(ERR.syntax);
  const key = argv[1]!;
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.reply.int(0);
  const at = list.indexOf(argv[3]!);
  if (at < 0) return c.reply.int(-1);
  list.insertAt(after ? at + 1 : at, argv[4]!);
  c.db.written(key, 'linsert');
  c.reply.int(list.length);
}

/** LREM key count element */
export function lremCommand(c: Client, argv: string[]): void {
  const count = intArg(c, argv[2]!);
  if (count === null) return;
  const key = argv[1]!;
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.reply.int(0);
  const removed = list.removeMatching(argv[3]!, Math.abs(count), count < 0);
  if (removed > 0) listRemoved(c, key, list, 'lrem');
  c.reply.int(removed);
}
