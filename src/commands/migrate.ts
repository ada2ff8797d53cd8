import { MigratePool, runMigrate, type MigrateItem, type MigrateResult } from '../cluster/migrate.js';
import { ReplyMode, type Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import type { Database } from '../store/database.js';
import { createDumpPayload } from '../store/dump.js';
import type { Entry } from '../store/entry.js';
import { restoreKey } from './keys-dump.js';
import type { CommandSpec, KeySpec } from './types.js';
import { ERR, isArg, lookupRead, parseInteger } from './util.js';

/**
 * MIGRATE (cluster.c migrateCommand) and RESTORE-ASKING.
 *
 * Redis blocks the whole server while MIGRATE talks to the target; we only
 * hold the calling client (Client.beginWait): its later commands wait, every
 * other client keeps running. So the keys may change while we wait. Values
 * are therefore serialized (DUMP payloads) before waiting, and after the
 * target acknowledged a key it is deleted here only if the key still holds
 * the very Entry that was dumped AND no write to it was signalled meanwhile
 * (an in-place change such as RPUSH keeps the Entry). A key changed during
 * the wait thus stays here too (its newer value is not lost; the target has
 * the dumped one), the price of not stopping the world.
 */

const ERR_KEYS_NEEDS_EMPTY_KEY = 'ERR When using MIGRATE KEYS option, the key argument must be set to the empty string';
/** A command inside MULTI/EXEC (or a script) must reply at once; MIGRATE cannot. */
const ERR_CANNOT_WAIT = 'ERR MIGRATE is not supported inside MULTI/EXEC or scripts';

interface MigrateOptions {
  copy: boolean;
  replace: boolean;
  username: string | null;
  password: string | null;
  firstKey: number;
  numKeys: number;
}

/**
 * The options after `timeout`, as migrateCommand parses them. AUTH and
 * AUTH2 arguments are redacted in argv once read, so MONITOR and SLOWLOG
 * (which see argv after the handler) never show them (redactClientCommandArgument).
 */
function parseOptions(c: Client, argv: string[]): MigrateOptions | null {
  const o: MigrateOptions = { copy: false, replace: false, username: null, password: null, firstKey: 3, numKeys: 1 };
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const arg = argv[j]!;
    if (isArg(arg, 'COPY')) o.copy = true;
    else if (isArg(arg, 'REPLACE')) o.replace = true;
    else if (isArg(arg, 'AUTH') && more >= 1) o.password = redact(argv, ++j);
    else if (isArg(arg, 'AUTH2') && more >= 2) {
      o.username = redact(argv, ++j);
      o.password = redact(argv, ++j);
    } else if (isArg(arg, 'KEYS')) {
      if (argv[3] !== '') return fail(c, ERR_KEYS_NEEDS_EMPTY_KEY);
      o.firstKey = j + 1;
      o.numKeys = argv.length - j - 1;
      break; // all the remaining arguments are keys
    } else return fail(c, ERR.syntax);
  }
  return o;
}

function redact(argv: string[], i: number): string {
  const value = argv[i]!;
  argv[i] = '(redacted)';
  return value;
}

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

/** timeout (argv[5]) then destination-db (argv[4]), as Redis checks them; timeout <= 0 means 1000 ms. */
function parseNumbers(c: Client, argv: string[]): { timeoutMs: number; db: number } | null {
  const timeout = parseInteger(argv[5]!);
  if (timeout === null) return fail(c, ERR.notInteger);
  const db = parseInteger(argv[4]!);
  if (db === null) return fail(c, ERR.notInteger);
  return { timeoutMs: timeout <= 0 ? 1000 : timeout, db };
}

/** The keys that exist (lookupKeyRead), with their entries. */
function existingKeys(c: Client, argv: string[], o: MigrateOptions): Entry[] {
  const found: Entry[] = [];
  for (let j = 0; j < o.numKeys; j++) {
    const e = lookupRead(c, argv[o.firstKey + j]!);
    if (e !== undefined) found.push(e);
  }
  return found;
}

/** DUMP payloads of the entries, made now (before waiting); null after replying an error. */
function serialize(c: Client, entries: Entry[]): MigrateItem[] | null {
  const compress = c.server.config.bool('rdbcompression');
  const items: MigrateItem[] = [];
  for (const e of entries) {
    const payload = createDumpPayload(e.type, e.value, compress);
    if (payload === null) return fail(c, `ERR DUMP of ${e.type} values is not supported yet`);
    items.push({ key: e.key, payload, expireAt: e.expireAt });
  }
  return items;
}

function migrateCommand(c: Client, argv: string[]): void {
  const o = parseOptions(c, argv);
  if (o === null) return;
  const n = parseNumbers(c, argv);
  if (n === null) return;
  const entries = existingKeys(c, argv, o);
  // Nothing to move is no error: often a key just expired (Redis's +NOKEY).
  if (entries.length === 0) return c.reply.status('NOKEY');
  if (!c.server.blocking.mayBlock) return c.error(ERR_CANNOT_WAIT);
  const items = serialize(c, entries);
  if (items === null) return;
  const state = stateOf(c.server);
  const job = state.writes.track(c.db, entries);
  const silent = c.replyMode === ReplyMode.Off || c.replyMode === ReplyMode.Skip;
  c.beginWait();
  const request = {
    host: argv[1]!, port: argv[2]!, db: n.db, timeoutMs: n.timeoutMs, replace: o.replace,
    auth: o.password === null ? null : { username: o.username, password: o.password },
    restoreCommand: c.server.cluster !== null ? 'RESTORE-ASKING' : 'RESTORE',
    items, now: () => c.server.now(),
  };
  runMigrate(state.pool, request)
    .catch((err: unknown): MigrateResult => {
      // A bug, not an I/O failure (those are results): the client still gets its one reply.
      c.server.log.error({ err }, 'MIGRATE failed');
      return { acked: [], error: "ERR internal error running 'migrate' command" };
    })
    .then((result) => finish(c, job, o.copy, silent, result))
    .catch((err: unknown) => c.server.log.error({ err }, 'MIGRATE could not reply'));
}

/** Deletes what the target acknowledged (unless COPY), replies, and lets the client go on. */
function finish(c: Client, job: Job, copy: boolean, silent: boolean, result: MigrateResult): void {
  stateOf(c.server).writes.untrack(job);
  try {
    c.server.runAsCommand(() => {
      if (!copy) deleteAcked(job, result.acked);
      if (c.closed) return;
      if (result.error === null) c.reply.ok();
      else c.error(result.error);
      // CLIENT REPLY OFF/SKIP was in effect when MIGRATE ran.
      if (silent) c.reply.discard();
    });
  } finally {
    c.endWait();
  }
}

/** Deletes each acknowledged key still unchanged since it was dumped, signalled as DEL does. */
function deleteAcked(job: Job, acked: MigrateItem[]): void {
  const db = job.db;
  for (const item of acked) {
    const dumped = job.entries.get(item.key);
    if (dumped === undefined || job.changed.has(item.key) || db.entryAt(item.key) !== dumped) continue;
    db.delete(item.key);
    db.written(item.key, 'del');
  }
}

// ---- per-server state: the connection cache and the writes seen while waiting ----

/** One waiting MIGRATE: the dumped entries by key, and the keys written since. */
interface Job {
  db: Database;
  entries: Map<string, Entry>;
  changed: Set<string>;
}

/** Notes writes to the keys of waiting MIGRATEs (one observer per server, idle when none wait). */
class WriteTracker {
  private readonly jobs = new Set<Job>();

  constructor(server: Server) {
    server.observeWrites((db, key) => {
      if (this.jobs.size !== 0) this.written(db, key);
    });
  }

  track(db: Database, entries: Entry[]): Job {
    const job: Job = { db, entries: new Map(entries.map((e) => [e.key, e])), changed: new Set() };
    this.jobs.add(job);
    return job;
  }

  untrack(job: Job): void {
    this.jobs.delete(job);
  }

  /** key '' is a whole-database change (FLUSHDB, SWAPDB): every key of the job changed. */
  private written(db: Database, key: string): void {
    for (const job of this.jobs) {
      if (job.db !== db) continue;
      if (key === '') for (const k of job.entries.keys()) job.changed.add(k);
      else if (job.entries.has(key)) job.changed.add(key);
    }
  }
}

interface MigrateState {
  pool: MigratePool;
  writes: WriteTracker;
}

const states = new WeakMap<Server, MigrateState>();

function stateOf(server: Server): MigrateState {
  let s = states.get(server);
  if (s === undefined) {
    s = { pool: new MigratePool(server.runtime), writes: new WriteTracker(server) };
    states.set(server, s);
  }
  return s;
}

/** INFO's migrate_cached_sockets. */
export function migrateCachedSockets(server: Server): number {
  return states.get(server)?.pool.size ?? 0;
}

/** Closes the cached MIGRATE connections (for Server.stop). */
export function closeMigrateSockets(server: Server): void {
  states.get(server)?.pool.closeAll();
}

// ---- command table ----

/**
 * Where MIGRATE's keys are (migrateGetKeys): argv[3], or with KEYS (found
 * after skipping the AUTH / AUTH2 arguments) everything after it, and then
 * only if argv[3] is empty. Returns the index of KEYS, or -1.
 */
function keysKeyword(argv: readonly string[]): number {
  for (let i = 6; i < argv.length; i++) {
    if (isArg(argv[i]!, 'KEYS')) return i;
    if (isArg(argv[i]!, 'AUTH')) i += 1;
    else if (isArg(argv[i]!, 'AUTH2')) i += 2;
  }
  return -1;
}

/**
 * Both specs are searches rather than a fixed range because in the KEYS form
 * argv[3] is "" and must not count as a key (slot routing, ACL checks,
 * COMMAND GETKEYS), as Redis's getkeys function decides.
 */
const MIGRATE_KEYS: KeySpec[] = [
  {
    kind: 'custom', flags: ['RW', 'ACCESS', 'DELETE'],
    find: (argv) => (argv.length > 3 && keysKeyword(argv) < 0 ? [3] : []),
  },
  {
    kind: 'custom', flags: ['RW', 'ACCESS', 'DELETE', 'INCOMPLETE'],
    find: (argv) => {
      const k = keysKeyword(argv);
      if (k < 0 || argv[3] !== '') return [];
      return Array.from({ length: argv.length - k - 1 }, (_, i) => k + 1 + i);
    },
  },
];

const RESTORE_COMPLEXITY =
  'O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).';

export const migrateCommands: CommandSpec[] = [
  {
    name: 'migrate', arity: -6, flags: ['write'], acl: ['dangerous'], keys: MIGRATE_KEYS,
    group: 'generic', since: '2.6.0', summary: 'Atomically transfer a key from a Redis instance to another one.',
    complexity: 'This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.',
    syntax: 'host port <key | ""> destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]',
    tips: ['nondeterministic_output'], handler: migrateCommand,
  },
  {
    name: 'restore-asking', arity: -4, flags: ['write', 'denyoom', 'asking'], acl: ['keyspace', 'dangerous'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['OW', 'UPDATE'] }],
    group: 'server', since: '3.0.0', summary: 'An internal command for migrating keys in a cluster',
    complexity: RESTORE_COMPLEXITY, docFlags: ['syscmd'],
    syntax: 'key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]',
    handler: restoreKey,
  },
];
