import { Derived, type Config } from '../config.js';
import type { Client } from '../server/client.js';
import { difference, intersect, union, SetValue } from '../store/set.js';
import { ERR, lookupRead, readOfType, writeOfType } from './util.js';

/**
 * What the set commands share (t_set.c's helpers): typed lookups, creating
 * and storing sets, and the generic SINTER / SUNION / SDIFF of
 * sinterGenericCommand and sunionDiffGenericCommand.
 */

/** set-max-intset-entries, read at each write as Redis does. */
export function maxIntsetEntries(c: Client): number {
  return maxIntsetEntriesOf(c.server.config);
}

const MAX_INTSET_ENTRIES = new Derived((config) => config.int('set-max-intset-entries'));

export function maxIntsetEntriesOf(config: Config): number {
  return MAX_INTSET_ENTRIES.of(config);
}

/** A fresh, per-set hash seed from the injected Random. */
export function setSeed(c: Client): number {
  return c.server.runtime.random.int(0x7fffffff);
}

/** A uniform draw in [0, bound) from the injected Random. */
export function randomFor(c: Client): (bound: number) => number {
  const random = c.server.runtime.random;
  return (bound) => random.int(bound);
}

/** lookupKeyRead + checkType(OBJ_SET): the set, undefined when missing, null after WRONGTYPE. */
export function readSet(c: Client, key: string): SetValue | undefined | null {
  const e = readOfType(c, key, 'set');
  return e === undefined || e === null ? e : (e.value as SetValue);
}

/** lookupKeyWrite + checkType(OBJ_SET); same contract as readSet. */
export function writeSet(c: Client, key: string): SetValue | undefined | null {
  const e = writeOfType(c, key, 'set');
  return e === undefined || e === null ? e : (e.value as SetValue);
}

/** The set at key for writing, created (and added to the db) when missing; null after WRONGTYPE. */
export function setForWrite(c: Client, key: string): SetValue | null {
  const s = writeSet(c, key);
  if (s !== undefined) return s;
  const created = new SetValue(setSeed(c));
  c.db.add(key, 'set', created);
  return created;
}

/** Deletes a set left empty by a removal, with the "del" event Redis sends after the command's own. */
export function deleteIfEmpty(c: Client, key: string, s: SetValue): boolean {
  if (s.size !== 0) return false;
  c.db.delete(key);
  c.db.written(key, 'del');
  return true;
}

/**
 * Every key as a set or null when missing (an empty set), checking all
 * types first; null after replying WRONGTYPE.
 */
export function readSets(c: Client, keys: readonly string[]): (SetValue | null)[] | null {
  const sets: (SetValue | null)[] = [];
  for (const key of keys) {
    const e = lookupRead(c, key);
    if (e === undefined) {
      sets.push(null);
      continue;
    }
    if (e.type !== 'set') {
      c.error(ERR.wrongType);
      return null;
    }
    sets.push(e.value as SetValue);
  }
  return sets;
}

/** A set reply (RESP3 "~", an array in RESP2) of members. */
export function replyMembers(c: Client, members: readonly string[]): void {
  c.reply.setHeader(members.length);
  for (const m of members) c.reply.bulk(m);
}

/**
 * The STORE forms' epilogue (setKey or dbDelete): a non-empty result
 * replaces dst (dropping its TTL) with `event`, an empty one deletes dst
 * ("del", only if it existed). Replies with the result's size.
 */
export function storeResult(c: Client, dst: string, result: SetValue, event: string): void {
  if (result.size > 0) {
    c.db.set(dst, 'set', result);
    c.db.written(dst, event);
  } else if (c.db.delete(dst) !== undefined) {
    c.db.written(dst, 'del');
  }
  c.reply.int(result.size);
}

/** How SINTER's generic replies: members, a count (SINTERCARD), or stored in a key. */
export type InterOutput = { kind: 'reply' } | { kind: 'card'; limit: number } | { kind: 'store'; dst: string };

/** sinterGenericCommand: SINTER, SMEMBERS, SINTERCARD, SINTERSTORE. */
export function sinterGeneric(c: Client, keys: readonly string[], out: InterOutput): void {
  const sets = readSets(c, keys);
  if (sets === null) return;
  const present = sets.filter((s): s is SetValue => s !== null);
  const limit = out.kind === 'card' ? out.limit : 0;
  const members = present.length < sets.length ? [] : intersect(present, limit);
  if (out.kind === 'card') c.reply.int(members.length);
  else if (out.kind === 'store') storeResult(c, out.dst, SetValue.of(setSeed(c), members, maxIntsetEntries(c)), 'sinterstore');
  else replyMembers(c, members);
}

/** sunionDiffGenericCommand: SUNION, SDIFF and their STORE forms (dst null = reply). */
export function sunionDiffGeneric(c: Client, keys: readonly string[], dst: string | null, op: 'union' | 'diff'): void {
  const sets = readSets(c, keys);
  if (sets === null) return;
  const combine = op === 'union' ? union : difference;
  const result = combine(sets, setSeed(c), maxIntsetEntries(c));
  if (dst === null) replyMembers(c, result.members());
  else storeResult(c, dst, result, op === 'union' ? 'sunionstore' : 'sdiffstore');
}
