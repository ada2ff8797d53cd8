import type { Client } from '../server/client.js';
import { keyAt, lookupNoTouch } from './keys-common.js';
import type { CommandSpec, Handler } from './types.js';
import { ERR, lookupWrite, parseInt64 } from './util.js';

/** Expiry commands (expire.c): one routine for the EXPIRE family, one for the TTL family. */

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;
const FLAG_BY_NAME: Record<string, number> = { NX: EXPIRE_NX, XX: EXPIRE_XX, GT: EXPIRE_GT, LT: EXPIRE_LT };

const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN = -(2n ** 63n);

/** parseExtendedExpireArgumentsOrReply: NX | XX | GT | LT from argv[3]; null after replying. */
function parseExpireFlags(c: Client, argv: string[]): number | null {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const f = FLAG_BY_NAME[argv[j]!.toUpperCase()];
    if (f === undefined) {
      c.error(`ERR Unsupported option ${argv[j]!}`);
      return null;
    }
    flags |= f;
  }
  if ((flags & EXPIRE_NX) !== 0 && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) !== 0) {
    c.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return null;
  }
  if ((flags & EXPIRE_GT) !== 0 && (flags & EXPIRE_LT) !== 0) {
    c.error('ERR GT and LT options at the same time are not compatible');
    return null;
  }
  return flags;
}

/**
 * The absolute expire time in ms for argv[2] in `unitMs` units, relative to
 * now or absolute, with Redis's int64 overflow checks; null after replying.
 */
function expireTimeArg(c: Client, name: string, arg: string, unitMs: 1 | 1000, relative: boolean): bigint | null {
  let when = parseInt64(arg);
  if (when === null) {
    c.error(ERR.notInteger);
    return null;
  }
  const invalid = `ERR invalid expire time in '${name}' command`;
  if (unitMs === 1000) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) {
      c.error(invalid);
      return null;
    }
    when *= 1000n;
  }
  const base = relative ? BigInt(c.server.nowMs()) : 0n;
  if (when > LLONG_MAX - base) {
    c.error(invalid);
    return null;
  }
  return when + base;
}

/** Whether the NX/XX/GT/LT conditions allow replacing `current` (-1: no TTL, i.e. infinite) by `when`. */
function conditionsAllow(flags: number, current: number, when: number): boolean {
  if ((flags & EXPIRE_NX) !== 0 && current !== -1) return false;
  if ((flags & EXPIRE_XX) !== 0 && current === -1) return false;
  if ((flags & EXPIRE_GT) !== 0 && (current === -1 || when <= current)) return false;
  if ((flags & EXPIRE_LT) !== 0 && current !== -1 && when >= current) return false;
  return true;
}

/** expireGenericCommand for EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT. */
function expireGeneric(name: string, unitMs: 1 | 1000, relative: boolean): Handler {
  return (c, argv) => {
    const flags = parseExpireFlags(c, argv);
    if (flags === null) return;
    const whenBig = expireTimeArg(c, name, argv[2]!, unitMs, relative);
    if (whenBig === null) return;
    const key = argv[1]!;
    const e = lookupWrite(c, key);
    if (e === undefined) return c.reply.int(0);
    const when = Number(whenBig);
    if (!conditionsAllow(flags, e.expireAt === 0 ? -1 : e.expireAt, when)) return c.reply.int(0);
    if (when <= c.server.nowMs()) {
      // checkAlreadyExpired: a time in the past deletes the key.
      c.db.delete(key);
      c.db.written(key, 'del');
    } else {
      c.db.setExpire(e, when);
      c.db.written(key, 'expire');
    }
    c.reply.int(1);
  };
}

/** ttlGenericCommand for TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 missing, -1 no TTL. */
function ttlGeneric(inMs: boolean, absolute: boolean): Handler {
  return (c, argv) => {
    const e = lookupNoTouch(c, argv[1]!);
    if (e === undefined) return c.reply.int(-2);
    if (e.expireAt === 0) return c.reply.int(-1);
    const ttl = Math.max(0, absolute ? e.expireAt : e.expireAt - c.server.nowMs());
    c.reply.int(inMs ? ttl : Math.floor((ttl + 500) / 1000));
  };
}

const EXPIRE_HISTORY = 'key {0} [NX | XX | GT | LT]';

function expireSpec(name: string, since: string, summary: string, argName: string, handler: Handler): CommandSpec {
  return {
    name, arity: -3, flags: ['write', 'fast'], keys: [keyAt(1, ['RW', 'UPDATE'])],
    group: 'generic', since, summary, complexity: 'O(1)',
    syntax: EXPIRE_HISTORY.replace('{0}', argName), handler,
  };
}

function ttlSpec(name: string, since: string, summary: string, handler: Handler, tips?: string[]): CommandSpec {
  return {
    name, arity: 2, flags: ['readonly', 'fast'], keys: [keyAt(1, ['RO', 'ACCESS'])],
    group: 'generic', since, summary, complexity: 'O(1)', syntax: 'key', ...(tips ? { tips } : {}), handler,
  };
}

export const expireCommands: CommandSpec[] = [
  expireSpec('expire', '1.0.0', 'Sets the expiration time of a key in seconds.', 'seconds', expireGeneric('expire', 1000, true)),
  expireSpec('pexpire', '2.6.0', 'Sets the expiration time of a key in milliseconds.', 'milliseconds', expireGeneric('pexpire', 1, true)),
  expireSpec('expireat', '1.2.0', 'Sets the expiration time of a key to a Unix timestamp.', 'unix-time-seconds', expireGeneric('expireat', 1000, false)),
  expireSpec('pexpireat', '2.6.0', 'Sets the expiration time of a key to a Unix milliseconds timestamp.', 'unix-time-milliseconds', expireGeneric('pexpireat', 1, false)),
  ttlSpec('ttl', '1.0.0', 'Returns the expiration time in seconds of a key.', ttlGeneric(false, false), ['nondeterministic_output']),
  ttlSpec('pttl', '2.6.0', 'Returns the expiration time in milliseconds of a key.', ttlGeneric(true, false), ['nondeterministic_output']),
  ttlSpec('expiretime', '7.0.0', 'Returns the expiration time of a key as a Unix timestamp.', ttlGeneric(false, true)),
  ttlSpec('pexpiretime', '7.0.0', 'Returns the expiration time of a key as a Unix milliseconds timestamp.', ttlGeneric(true, true)),
  {
    name: 'persist', arity: 2, flags: ['write', 'fast'], keys: [keyAt(1, ['RW', 'UPDATE'])],
    group: 'generic', since: '2.2.0', summary: 'Removes the expiration time of a key.', complexity: 'O(1)', syntax: 'key',
    handler(c, argv) {
      const e = lookupWrite(c, argv[1]!);
      if (e === undefined || !c.db.removeExpire(e)) return c.reply.int(0);
      c.db.written(argv[1]!, 'persist');
      c.reply.int(1);
    },
  },
];
