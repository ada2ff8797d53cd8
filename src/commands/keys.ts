import type { Client } from '../server/client.js';
import type { Database } from '../store/database.js';
import { codecFor } from '../store/values.js';
import { dumpCommands } from './keys-dump.js';
import { objectCommands } from './keys-object.js';
import { DEFAULT_SAMPLES, entryBytes, releaseEntry } from './memory.js';
import { scanCommands } from './keys-scan.js';
import {
  allKeys, dbArg, dbAt, ERR_SAME_OBJECT, int32Arg, keyAt, lookupNoTouch, refusedInCluster,
} from './keys-common.js';
import type { CommandSpec } from './types.js';
import { ERR, globMatch, isArg, lookupRead, lookupWrite } from './util.js';

/** Generic keyspace commands (db.c): existence, deletion, renaming, moving, copying, flushing. */

/**
 * DEL and UNLINK (delGenericCommand): expire-if-due, then delete. Freeing
 * is the GC's job either way; used_memory drops at once by the key's
 * estimated size, as Redis's does (lazily freed or not).
 */
function deleteKeys(c: Client, argv: string[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    if (c.db.lookup(key) === undefined) continue;
    const e = c.db.delete(key)!;
    releaseEntry(c.server.runtime.process, e);
    c.db.written(key, 'del');
    n++;
  }
  c.reply.int(n);
}

/** RENAME and RENAMENX (renameGenericCommand). */
function renameKey(c: Client, argv: string[], nx: boolean): void {
  const src = argv[1]!;
  const dst = argv[2]!;
  const e = lookupWrite(c, src);
  if (e === undefined) return c.error(ERR.noSuchKey);
  if (src === dst) return nx ? c.reply.int(0) : c.reply.ok();
  // lookupKeyWrite of dst for RENAME too: an expired destination is expired ("expired") before it is replaced.
  if (lookupWrite(c, dst) !== undefined && nx) return c.reply.int(0);
  c.db.transfer(e, c.db, dst);
  // dbAdd of the destination: Redis's "new" event comes first (Database.transfer re-links the entry without add()).
  c.server.keyEvents.created(c.db, dst);
  c.db.written(src, 'rename_from');
  c.db.written(dst, 'rename_to');
  if (nx) c.reply.int(1);
  else c.reply.ok();
}

function moveKey(c: Client, argv: string[]): void {
  if (refusedInCluster(c, 'ERR MOVE is not allowed in cluster mode')) return;
  const key = argv[1]!;
  const dst = dbArg(c, argv[2]!);
  if (dst === null) return;
  if (dst === c.db) return c.error(ERR_SAME_OBJECT);
  const e = lookupWrite(c, key);
  if (e === undefined || dst.lookup(key) !== undefined) return c.reply.int(0);
  const src = c.db;
  src.transfer(e, dst, key);
  c.server.keyEvents.created(dst, key); // dbAdd in the target database: "new", as RENAME
  src.written(key, 'move_from');
  dst.written(key, 'move_to');
  c.reply.int(1);
}

function copyKey(c: Client, argv: string[]): void {
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    if (isArg(argv[j]!, 'REPLACE')) {
      replace = true;
    } else if (isArg(argv[j]!, 'DB') && j + 1 < argv.length) {
      const db = dbArg(c, argv[++j]!);
      if (db === null) return;
      dst = db;
    } else {
      return c.error(ERR.syntax);
    }
  }
  if ((c.db.id !== 0 || dst.id !== 0) && refusedInCluster(c, 'ERR Copying to another database is not allowed in cluster mode')) return;
  const key = argv[1]!;
  const newKey = argv[2]!;
  if (dst === c.db && key === newKey) return c.error(ERR_SAME_OBJECT);
  const e = lookupRead(c, key);
  if (e === undefined) return c.reply.int(0);
  const exists = dst.lookup(newKey) !== undefined;
  if (exists && !replace) return c.reply.int(0);
  const codec = codecFor(e.type);
  if (codec === undefined) return c.error('ERR unknown type object');
  if (exists) dst.delete(newKey);
  dst.addWithExpire(newKey, e.type, codec.dup(e.value), e.expireAt);
  dst.written(newKey, 'copy_to');
  c.reply.int(1);
}

/** getFlushCommandFlags: FLUSHDB/FLUSHALL [ASYNC | SYNC]; false after replying a syntax error. */
function flushArgsOk(c: Client, argv: string[]): boolean {
  if (argv.length === 1 || (argv.length === 2 && (isArg(argv[1]!, 'SYNC') || isArg(argv[1]!, 'ASYNC')))) return true;
  c.error(ERR.syntax);
  return false;
}

/**
 * Both modes drop the tables whole (Database.clear) and let the garbage
 * collector reclaim them, so even SYNC never stalls on a big database.
 */
function flush(c: Client, argv: string[], all: boolean): void {
  if (!flushArgsOk(c, argv)) return;
  const dbs = all ? c.server.keyspace.all() : [c.db];
  releaseFlushed(c, dbs);
  for (const db of dbs) {
    db.clear();
    db.writtenAll('flushdb');
  }
  c.reply.ok();
}

/**
 * used_memory drops at once by the flushed databases' estimated size (a
 * sample of their keys' MEMORY USAGE, at most the heap above what an empty
 * node uses), as Redis's does; the garbage collector frees it later. A
 * replicated database keeps a tombstone per key, so it gives nothing back yet.
 */
function releaseFlushed(c: Client, dbs: readonly Database[]): void {
  const rand = (bound: number): number => c.server.runtime.random.int(bound);
  let bytes = 0;
  for (const db of dbs) {
    if (db.crdt !== null || db.size === 0) continue;
    const sample = db.sampleEntries(FLUSH_SAMPLE_KEYS, rand, false);
    let sampled = 0;
    for (const e of sample) sampled += entryBytes(e.key, e.value, DEFAULT_SAMPLES);
    if (sample.length > 0) bytes += (sampled / sample.length) * db.size;
  }
  const process = c.server.runtime.process;
  const data = process.heapUsed() - c.server.emptyHeapBytes;
  if (bytes > 0 && data > 0) process.released(Math.min(bytes, data));
}

/** Keys whose sizes estimate a flushed database's. */
const FLUSH_SAMPLE_KEYS = 32;

function swapDbs(c: Client, argv: string[]): void {
  if (refusedInCluster(c, 'ERR SWAPDB is not allowed in cluster mode')) return;
  const a = int32Arg(c, argv[1]!, 'ERR invalid first DB index');
  if (a === null) return;
  const b = int32Arg(c, argv[2]!, 'ERR invalid second DB index');
  if (b === null) return;
  const dbA = dbAt(c, a);
  if (dbA === null) return;
  const dbB = dbAt(c, b);
  if (dbB === null) return;
  c.server.keyspace.swap(a, b);
  if (a !== b) {
    dbA.writtenAll('swapdb');
    dbB.writtenAll('swapdb');
  }
  c.reply.ok();
}

/** KEYS: every live key matching the glob (expired ones are skipped, not deleted, as Redis). */
function keysMatching(c: Client, argv: string[]): void {
  const pattern = argv[1]!;
  const all = pattern === '*';
  const out: string[] = [];
  for (const e of c.db.entries()) {
    if ((all || globMatch(pattern, e.key)) && !c.db.isExpired(e)) out.push(e.key);
  }
  c.reply.bulkArray(out);
}

function countKeys(c: Client, argv: string[], lookup: typeof lookupRead): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookup(c, argv[i]!) !== undefined) n++;
  c.reply.int(n);
}

const MULTI_SHARD_SUM = ['request_policy:multi_shard', 'response_policy:agg_sum'];

const coreCommands: CommandSpec[] = [
  {
    name: 'del', arity: -2, flags: ['write'], keys: [allKeys(['RM', 'DELETE'])],
    group: 'generic', since: '1.0.0', summary: 'Deletes one or more keys.',
    complexity: 'O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).',
    syntax: 'key [key ...]', tips: MULTI_SHARD_SUM, handler: deleteKeys,
  },
  {
    name: 'unlink', arity: -2, flags: ['write', 'fast'], keys: [allKeys(['RM', 'DELETE'])],
    group: 'generic', since: '4.0.0', summary: 'Asynchronously deletes one or more keys.',
    complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.',
    syntax: 'key [key ...]', tips: MULTI_SHARD_SUM, handler: deleteKeys,
  },
  {
    name: 'exists', arity: -2, flags: ['readonly', 'fast'], keys: [allKeys(['RO'])],
    group: 'generic', since: '1.0.0', summary: 'Determines whether one or more keys exist.',
    complexity: 'O(N) where N is the number of keys to check.', syntax: 'key [key ...]', tips: MULTI_SHARD_SUM,
    handler: (c, argv) => countKeys(c, argv, lookupNoTouch),
  },
  {
    name: 'touch', arity: -2, flags: ['readonly', 'fast'], keys: [allKeys(['RO'])],
    group: 'generic', since: '3.2.1',
    summary: 'Returns the number of existing keys out of those specified after updating the time they were last accessed.',
    complexity: 'O(N) where N is the number of keys that will be touched.', syntax: 'key [key ...]', tips: MULTI_SHARD_SUM,
    handler: (c, argv) => countKeys(c, argv, lookupRead),
  },
  {
    name: 'type', arity: 2, flags: ['readonly', 'fast'], keys: [keyAt(1, ['RO'])],
    group: 'generic', since: '1.0.0', summary: 'Determines the type of value stored at a key.',
    complexity: 'O(1)', syntax: 'key',
    handler: (c, argv) => c.reply.status(lookupNoTouch(c, argv[1]!)?.type ?? 'none'),
  },
  {
    name: 'rename', arity: 3, flags: ['write'], keys: [keyAt(1, ['RW', 'ACCESS', 'DELETE']), keyAt(2, ['OW', 'UPDATE'])],
    group: 'generic', since: '1.0.0', summary: 'Renames a key and overwrites the destination.',
    complexity: 'O(1)', syntax: 'key newkey', handler: (c, argv) => renameKey(c, argv, false),
  },
  {
    name: 'renamenx', arity: 3, flags: ['write', 'fast'], keys: [keyAt(1, ['RW', 'ACCESS', 'DELETE']), keyAt(2, ['OW', 'INSERT'])],
    group: 'generic', since: '1.0.0', summary: "Renames a key only when the target key name doesn't exist.",
    complexity: 'O(1)', syntax: 'key newkey', handler: (c, argv) => renameKey(c, argv, true),
  },
  {
    name: 'move', arity: 3, flags: ['write', 'fast'], keys: [keyAt(1, ['RW', 'ACCESS', 'UPDATE'])],
    group: 'generic', since: '1.0.0', summary: 'Moves a key to another database.',
    complexity: 'O(1)', syntax: 'key db', handler: moveKey,
  },
  {
    name: 'copy', arity: -3, flags: ['write', 'denyoom'], keys: [keyAt(1, ['RO', 'ACCESS']), keyAt(2, ['OW', 'UPDATE'])],
    group: 'generic', since: '6.2.0', summary: 'Copies the value of a key to a new key.',
    complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.',
    syntax: 'source destination [DB destination-db] [REPLACE]', handler: copyKey,
  },
  {
    name: 'swapdb', arity: 3, flags: ['write', 'fast'], acl: ['dangerous'],
    group: 'generic', since: '4.0.0', summary: 'Swaps two Redis databases.',
    complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.',
    syntax: 'index1 index2', handler: swapDbs,
  },
  {
    name: 'flushdb', arity: -1, flags: ['write'], acl: ['keyspace', 'dangerous'],
    group: 'server', since: '1.0.0', summary: 'Remove all keys from the current database.',
    complexity: 'O(N) where N is the number of keys in the selected database', syntax: '[ASYNC | SYNC]',
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
    handler: (c, argv) => flush(c, argv, false),
  },
  {
    name: 'flushall', arity: -1, flags: ['write'], acl: ['keyspace', 'dangerous'],
    group: 'server', since: '1.0.0', summary: 'Removes all keys from all databases.',
    complexity: 'O(N) where N is the total number of keys in all databases', syntax: '[ASYNC | SYNC]',
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
    handler: (c, argv) => flush(c, argv, true),
  },
  {
    name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], acl: ['keyspace'],
    group: 'server', since: '1.0.0', summary: 'Returns the number of keys in the database.',
    complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:agg_sum'],
    handler: (c) => c.reply.int(c.db.size),
  },
  {
    name: 'keys', arity: 2, flags: ['readonly'], acl: ['dangerous'],
    group: 'generic', since: '1.0.0', summary: 'Returns all key names that match a pattern.',
    complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.',
    syntax: 'pattern', tips: ['request_policy:all_shards', 'nondeterministic_output_order'], handler: keysMatching,
  },
  {
    name: 'randomkey', arity: 1, flags: ['readonly'],
    group: 'generic', since: '1.0.0', summary: 'Returns a random key name from the database.',
    complexity: 'O(1)', tips: ['request_policy:all_shards', 'nondeterministic_output'],
    handler(c) {
      const key = c.db.randomKey((n) => c.server.runtime.random.int(n));
      if (key === null) c.reply.nullBulk();
      else c.reply.bulk(key);
    },
  },
];

/** Every generic keyspace command (expiry lives in expire.ts). */
export const keyCommands: CommandSpec[] = [...coreCommands, ...scanCommands, ...dumpCommands, ...objectCommands];
