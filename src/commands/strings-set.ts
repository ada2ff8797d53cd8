import type { Client } from '../server/client.js';
import type { Bytes } from '../store/entry.js';
import { readString, replyBytes } from './strings-common.js';
import { ERR, lookupWrite, parseInteger, prefetchKeys, readOfType } from './util.js';

/**
 * The SET family's shared core, as t_string.c's setGenericCommand and
 * parseExtendedStringArgumentsOrReply: one option parser for SET and GETEX,
 * one expire-time conversion, one set routine for SET, SETNX, SETEX,
 * PSETEX, GETSET, MSET and MSETNX.
 */

export const SET_NX = 1 << 0;
export const SET_XX = 1 << 1;
export const SET_GET = 1 << 2;
export const SET_KEEPTTL = 1 << 3;
export const SET_EX = 1 << 4;
export const SET_PX = 1 << 5;
export const SET_EXAT = 1 << 6;
export const SET_PXAT = 1 << 7;
export const SET_PERSIST = 1 << 8;
const EXPIRE_FLAGS = SET_EX | SET_PX | SET_EXAT | SET_PXAT;

/** An option keyword: its flag, the flags it cannot be combined with, where it is allowed. */
interface OptionRule {
  flag: number;
  conflicts: number;
  forSet: boolean;
  forGet: boolean;
}

function rule(flag: number, conflicts: number, forSet: boolean, forGet: boolean): OptionRule {
  return { flag, conflicts, forSet, forGet };
}

const TTL_CONFLICTS = SET_KEEPTTL | SET_PERSIST;
const OPTIONS = new Map<string, OptionRule>([
  ['NX', rule(SET_NX, SET_XX, true, false)],
  ['XX', rule(SET_XX, SET_NX, true, false)],
  ['GET', rule(SET_GET, 0, true, false)],
  ['KEEPTTL', rule(SET_KEEPTTL, SET_PERSIST | EXPIRE_FLAGS, true, false)],
  ['PERSIST', rule(SET_PERSIST, SET_KEEPTTL | EXPIRE_FLAGS, false, true)],
  ['EX', rule(SET_EX, TTL_CONFLICTS | (EXPIRE_FLAGS & ~SET_EX), true, true)],
  ['PX', rule(SET_PX, TTL_CONFLICTS | (EXPIRE_FLAGS & ~SET_PX), true, true)],
  ['EXAT', rule(SET_EXAT, TTL_CONFLICTS | (EXPIRE_FLAGS & ~SET_EXAT), true, true)],
  ['PXAT', rule(SET_PXAT, TTL_CONFLICTS | (EXPIRE_FLAGS & ~SET_PXAT), true, true)],
]);

/** Result of parseStringOptions, reused across calls (no allocation per command). */
export const parsedOptions = { flags: 0, expire: null as string | null };

/**
 * Parses SET's options (from argv[3]) or GETEX's (from argv[2]) into
 * parsedOptions; replies ERR syntax error and returns false on a bad one.
 */
export function parseStringOptions(c: Client, argv: readonly string[], forSet: boolean): boolean {
  let flags = 0;
  let expire: string | null = null;
  for (let j = forSet ? 3 : 2; j < argv.length; j++) {
    const r = OPTIONS.get(argv[j]!.toUpperCase());
    const allowed = r !== undefined && (forSet ? r.forSet : r.forGet) && (flags & r.conflicts) === 0;
    const needsValue = r !== undefined && (r.flag & EXPIRE_FLAGS) !== 0;
    if (!allowed || (needsValue && j === argv.length - 1)) {
      c.error(ERR.syntax);
      return false;
    }
    flags |= r.flag;
    if (needsValue) expire = argv[++j]!;
  }
  parsedOptions.flags = flags;
  parsedOptions.expire = expire;
  return true;
}

/** LLONG_MAX / 1000 and LLONG_MAX as the doubles Redis's overflow checks compare against. */
const MAX_EXPIRE_SECONDS = 9223372036854775;
const INT64_MAX = 9223372036854775807;

/**
 * getExpireMillisecondsOrReply: the absolute Unix ms an EX/PX/EXAT/PXAT
 * argument means, or -1 after replying an error.
 */
export function expireArgMs(c: Client, arg: string, flags: number, command: string): number {
  const n = parseInteger(arg);
  if (n === null) {
    c.error(ERR.notInteger);
    return -1;
  }
  const seconds = (flags & (SET_EX | SET_EXAT)) !== 0;
  let ms = seconds ? n * 1000 : n;
  if ((flags & (SET_EX | SET_PX)) !== 0) ms += c.server.nowMs();
  if (n <= 0 || (seconds && n > MAX_EXPIRE_SECONDS) || ms > INT64_MAX) {
    c.error(`ERR invalid expire time in '${command}' command`);
    return -1;
  }
  return ms;
}

/** What setGeneric replies when it sets the key or is stopped by NX/XX (unless GET replied). */
export const enum SetReply {
  /** +OK, or a null bulk when aborted (SET, SETEX, PSETEX). */
  OkOrNull,
  /** :1, or :0 when aborted (SETNX). */
  OneOrZero,
  /** Nothing: the caller replies once for many keys (MSET, MSETNX). */
  None,
}

/**
 * setGenericCommand. `flags` are SET_* bits; `expire` the EX/PX/EXAT/PXAT
 * argument (its unit taken from flags) or null; `command` names the command
 * in the invalid-expire error. With SET_GET the old value is the reply.
 */
export function setGeneric(
  c: Client,
  key: string,
  value: Bytes,
  flags: number,
  expire: string | null,
  command: string,
  reply: SetReply,
): void {
  const when = expire === null ? 0 : expireArgMs(c, expire, flags, command);
  if (when < 0) return;
  let found = false;
  if ((flags & SET_GET) !== 0) {
    const old = readString(c, key);
    if (old === null) return;
    if (old === undefined) c.reply.nullBulk();
    else replyBytes(c, old);
    found = old !== undefined;
  } else if ((flags & (SET_NX | SET_XX)) !== 0) {
    found = lookupWrite(c, key) !== undefined;
  }
  if (((flags & SET_NX) !== 0 && found) || ((flags & SET_XX) !== 0 && !found)) {
    if ((flags & SET_GET) === 0) replySet(c, reply, false);
    return;
  }
  const e = c.db.set(key, 'string', value, (flags & SET_KEEPTTL) !== 0);
  c.db.written(key, 'set');
  if (expire !== null) {
    c.db.setExpire(e, when);
    c.db.written(key, 'expire');
  }
  if ((flags & SET_GET) === 0) replySet(c, reply, true);
}

function replySet(c: Client, reply: SetReply, done: boolean): void {
  if (reply === SetReply.OkOrNull) {
    if (done) c.reply.ok();
    else c.reply.nullBulk();
  } else if (reply === SetReply.OneOrZero) {
    c.reply.int(done ? 1 : 0);
  }
}

/** MSET / MSETNX: pairs from argv[1]; with nx nothing is set if any key exists. */
export function msetGeneric(c: Client, argv: readonly string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    c.error(`ERR wrong number of arguments for '${nx ? 'msetnx' : 'mset'}' command`);
    return;
  }
  prefetchKeys(c, argv, 1, 2);
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (lookupWrite(c, argv[j]!) !== undefined) {
        c.reply.int(0);
        return;
      }
    }
  }
  for (let j = 1; j < argv.length; j += 2) setGeneric(c, argv[j]!, argv[j + 1]!, 0, null, '', SetReply.None);
  if (nx) c.reply.int(1);
  else c.reply.ok();
}

/** GETEX key [EX|PX|EXAT|PXAT time | PERSIST]. */
export function getexCommand(c: Client, argv: readonly string[]): void {
  if (!parseStringOptions(c, argv, false)) return;
  const { flags, expire } = parsedOptions;
  const key = argv[1]!;
  const e = readOfType(c, key, 'string');
  if (e === null) return;
  if (e === undefined) {
    c.reply.nullBulk();
    return;
  }
  const when = expire === null ? 0 : expireArgMs(c, expire, flags, 'getex');
  if (when < 0) return;
  replyBytes(c, e.value as Bytes);
  if ((flags & (SET_EXAT | SET_PXAT)) !== 0 && when <= c.server.nowMs()) {
    c.db.delete(key);
    c.db.written(key, 'del');
  } else if (expire !== null) {
    c.db.setExpire(e, when);
    c.db.written(key, 'expire');
  } else if ((flags & SET_PERSIST) !== 0 && c.db.removeExpire(e)) {
    c.db.written(key, 'persist');
  }
}
