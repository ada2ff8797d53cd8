import type { Client } from '../server/client.js';
import { End, pop, push, QuickList } from '../store/list.js';
import { ERR, isArg, lookupWrite, readOfType, writeOfType } from './util.js';

/**
 * What the list commands share (t_list.c's helpers): typed lookups, the one
 * push routine, the one pop routine with its housekeeping, range replies,
 * LEFT/RIGHT parsing.
 */

/** A list for reading: the list, undefined when missing, null after WRONGTYPE. */
export function readList(c: Client, key: string): QuickList | undefined | null {
  const e = readOfType(c, key, 'list');
  return e === null ? null : (e?.value as QuickList | undefined);
}

/** A list for writing; same contract as readList. */
export function writeList(c: Client, key: string): QuickList | undefined | null {
  const e = writeOfType(c, key, 'list');
  return e === null ? null : (e?.value as QuickList | undefined);
}

/** The list at key if it is one (no reply, no stats): what blocked-client serving looks at. */
export function listAt(c: Client, key: string): QuickList | undefined {
  const e = lookupWrite(c, key);
  return e !== undefined && e.type === 'list' ? (e.value as QuickList) : undefined;
}

/** Keyspace event of a push / pop at one end. */
export const pushEvent = (end: End): string => (end === End.Head ? 'lpush' : 'rpush');
export const popEvent = (end: End): string => (end === End.Head ? 'lpop' : 'rpop');

/**
 * Pushes values onto `key`'s list (created when missing, unless onlyIfExists)
 * and signals the write; returns the new length, 0 when onlyIfExists found
 * no list, or null after WRONGTYPE.
 */
export function pushValues(c: Client, key: string, values: readonly string[], end: End, onlyIfExists: boolean): number | null {
  let list = writeList(c, key);
  if (list === null) return null;
  if (list === undefined) {
    if (onlyIfExists) return 0;
    list = new QuickList();
    c.db.add(key, 'list', list);
  }
  for (const v of values) push(list, v, end);
  c.db.written(key, pushEvent(end));
  return list.length;
}

/**
 * After elements were removed from key's list: the event (lpop, rpop,
 * lrem, ltrim...) and, when the list is now empty, the key's deletion and
 * "del" (listElementsRemoved).
 */
export function listRemoved(c: Client, key: string, list: QuickList, event: string): void {
  c.db.written(key, event);
  if (list.length === 0) {
    c.db.delete(key);
    c.db.written(key, 'del');
  }
}

/** Pops up to n elements from one end and replies with them as an array (in pop order). */
export function popAndReply(c: Client, key: string, list: QuickList, end: End, n: number): void {
  const count = Math.min(n, list.length);
  c.reply.arrayHeader(count);
  for (let i = 0; i < count; i++) c.reply.bulk(pop(list, end)!);
  listRemoved(c, key, list, popEvent(end));
}

/** [key, [elements...]]: the reply of LMPOP / BLMPOP. */
export function popWithKeyAndReply(c: Client, key: string, list: QuickList, end: End, n: number): void {
  c.reply.arrayHeader(2);
  c.reply.bulk(key);
  popAndReply(c, key, list, end, n);
}

/** [key, element]: the reply of BLPOP / BRPOP. */
export function popOneWithKeyAndReply(c: Client, key: string, list: QuickList, end: End): void {
  c.reply.arrayHeader(2);
  c.reply.bulk(key);
  c.reply.bulk(pop(list, end)!);
  listRemoved(c, key, list, popEvent(end));
}

/**
 * Normalizes a [start, stop] range as LRANGE/LTRIM do: negative indexes
 * count from the end; returns [start, stop] inside the list, or null when
 * the range is empty.
 */
export function clampRange(start: number, stop: number, length: number): [number, number] | null {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return null;
  return [start, Math.min(stop, length - 1)];
}

/** Replies with elements start..stop (inclusive, within range): one copy per chunk, the elements are stored as bulk strings. */
export function replyRange(c: Client, list: QuickList, start: number, stop: number): void {
  const n = stop - start + 1;
  const reply = c.reply;
  reply.arrayHeader(n);
  list.encodedRange(start, n, (bulks) => reply.encoded(bulks));
}

/** LEFT | RIGHT (case-insensitive), or null after replying a syntax error. */
export function parseEnd(c: Client, arg: string): End | null {
  if (isArg(arg, 'LEFT')) return End.Head;
  if (isArg(arg, 'RIGHT')) return End.Tail;
  c.error(ERR.syntax);
  return null;
}

/**
 * LMOVE's core (lmoveGenericCommand): pops from src, pushes onto dst,
 * replies with the element (null when src is missing). Returns false only
 * when nothing was moved.
 */
export function moveElement(c: Client, src: string, dst: string, from: End, to: End): boolean {
  const list = writeList(c, src);
  if (list === null) return false;
  if (list === undefined || list.length === 0) {
    c.reply.nullBulk();
    return false;
  }
  if (writeList(c, dst) === null) return false;
  const v = pop(list, from)!;
  pushValues(c, dst, [v], to, false);
  c.reply.bulk(v);
  listRemoved(c, src, list, popEvent(from));
  return true;
}
