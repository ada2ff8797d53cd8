import type { Client } from '../server/client.js';
import type { Database } from '../store/database.js';
import type { Entry } from '../store/entry.js';
import type { KeyFlag, KeySpec } from './types.js';
import { countedLookup, ERR, parseInteger } from './util.js';

/** Shared pieces of the generic keyspace and expire commands (db.c, expire.c). */

export const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
const ERR_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';

/** One key at argv[index] (legacy first=last=index, step 1). */
export function keyAt(index: number, flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first: index, last: index, step: 1, flags };
}

/** Every argument from argv[1] on is a key (DEL, EXISTS, TOUCH...). */
export function allKeys(flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first: 1, last: -1, step: 1, flags };
}

/**
 * getIntFromObjectOrReply: an argument that must be a C int. `message`
 * replaces both errors (not an integer / out of int range) when given.
 */
export function int32Arg(c: Client, s: string, message?: string): number | null {
  const n = parseInteger(s);
  if (n === null || n < -2147483648 || n > 2147483647) {
    c.error(message ?? (n === null ? ERR.notInteger : ERR_INT_RANGE));
    return null;
  }
  return n;
}

/** selectDb's range check: the database at index, or null after replying. */
export function dbAt(c: Client, index: number): Database | null {
  if (index < 0 || index >= c.server.keyspace.count) {
    c.error(ERR.dbIndex);
    return null;
  }
  return c.server.keyspace.db(index);
}

/** A database-index argument (MOVE, COPY DB): parse + range check. */
export function dbArg(c: Client, s: string): Database | null {
  const index = int32Arg(c, s);
  return index === null ? null : dbAt(c, index);
}

/** True (after replying) when the node runs in cluster mode, where `message` forbids the command. */
export function refusedInCluster(c: Client, message: string): boolean {
  if (!c.server.config.bool('cluster-enabled')) return false;
  c.error(message);
  return true;
}

/**
 * lookupKeyReadWithFlags(LOOKUP_NOTOUCH): expires the key if due, counts
 * the keyspace hit or miss, leaves the access time alone (EXISTS, TYPE,
 * TTL...).
 */
export function lookupNoTouch(c: Client, key: string): Entry | undefined {
  return countedLookup(c, key, c.db.lookup(key));
}

/** True when maxmemory-policy is an LFU one (OBJECT FREQ/IDLETIME, RESTORE FREQ/IDLETIME). */
export function lfuPolicy(c: Client): boolean {
  return c.server.config.get('maxmemory-policy').endsWith('-lfu');
}
