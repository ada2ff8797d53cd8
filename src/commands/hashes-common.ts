import { listpackLimitsOf, type Config } from '../config.js';
import type { Client } from '../server/client.js';
import { HashValue, type HashField, type HashLimits } from '../store/hash.js';
import { readOfType, writeOfType } from './util.js';

/** What the hash commands share (t_hash.c's helpers): typed lookups, creation, limits, replies. */

/** hash-max-listpack-entries / hash-max-listpack-value, read at each write as Redis does. */
export function hashLimits(c: Client): HashLimits {
  return hashLimitsOf(c.server.config);
}

/** The same for code without a client (replication merges, the server's container limits). */
export function hashLimitsOf(config: Config): HashLimits {
  return listpackLimitsOf(config, 'hash');
}

/** lookupKeyRead + checkType(OBJ_HASH): the hash, undefined when missing, null after WRONGTYPE. */
export function readHash(c: Client, key: string): HashValue | undefined | null {
  const e = readOfType(c, key, 'hash');
  return e === undefined || e === null ? e : (e.value as HashValue);
}

/** lookupKeyWrite + checkType(OBJ_HASH); same contract as readHash. */
export function writeHash(c: Client, key: string): HashValue | undefined | null {
  const e = writeOfType(c, key, 'hash');
  return e === undefined || e === null ? e : (e.value as HashValue);
}

/** hashTypeLookupWriteOrCreate: the hash at key, created (and added to the db) when missing; null after WRONGTYPE. */
export function hashForWrite(c: Client, key: string): HashValue | null {
  const h = writeHash(c, key);
  if (h !== undefined) return h;
  const created = new HashValue(c.server.runtime.random.int(0x7fffffff));
  c.db.add(key, 'hash', created);
  return created;
}

/** The array header of `count` HRANDFIELD items: flat field/value pairs in RESP2, [f, v] pairs in RESP3. */
export function fieldsHeader(c: Client, count: number | bigint, withValues: boolean): void {
  const flat = withValues && c.resp === 2;
  c.reply.arrayHeader(Number(flat ? BigInt(count) * 2n : count));
}

/** The items under fieldsHeader: each field, and with values its value (nested in RESP3). */
export function replyFieldItems(c: Client, fields: Iterable<HashField>, withValues: boolean): void {
  const nested = withValues && c.resp >= 3;
  for (const n of fields) {
    if (nested) c.reply.arrayHeader(2);
    c.reply.bulk(n.key);
    if (withValues) c.reply.bulk(n.value);
  }
}
