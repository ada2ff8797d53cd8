import type { TimerHandle } from '../runtime/index.js';
import type { Database } from '../store/database.js';
import type { Client } from './client.js';
import type { Server } from './server.js';

/**
 * Clients blocked on keys (Redis's blocked.c for BLOCKED_LIST): a FIFO of
 * blocked clients per (db, key), a "ready keys" list filled from the write
 * path (every keyWritten of a key someone waits on), and the serving loop
 * (handleClientsBlockedOnKeys) the server runs after each command, plus a
 * fallback on the next tick for writes that arrive outside a command
 * (replication, timers).
 *
 * What a blocked command does when served or timed out is the command's
 * business: it registers a BlockedCommand with two callbacks.
 */

/** The command side of a blocked client. */
export interface BlockedCommand {
  /**
   * Serves the client from `key`, a non-empty list of its db: pops, replies,
   * writes keyspace events. Returns false to stay blocked.
   */
  serve(c: Client, key: string): boolean;
  /** Replies as for a timeout (a null of the command's shape). */
  timeout(c: Client): void;
  /**
   * The key was written and no longer exists (DEL, expiry, a merge): true
   * after replying, to end the wait (XREADGROUP's -UNBLOCKED). Without it
   * the client keeps waiting.
   */
  keyGone?(c: Client, key: string): boolean;
}

/** Why a blocked client was unblocked from outside (CLIENT UNBLOCK). */
export type UnblockReason = 'timeout' | 'error';

const ERR_UNBLOCKED = 'UNBLOCKED client unblocked via CLIENT UNBLOCK';
/** setTimeout's largest delay; longer timeouts re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Blocked {
  client: Client;
  db: Database;
  keys: readonly string[];
  cmd: BlockedCommand;
  /** The blocking command as sent: SLOWLOG shows it when the client is served (as Redis, not what it became). */
  argv: readonly string[];
  /** Unix ms deadline; 0 = forever. */
  deadlineMs: number;
  timer: TimerHandle | null;
}

export class BlockingRegistry {
  /** db -> key -> blocked clients in the order they blocked (Sets keep insertion order). */
  private readonly byKey = new Map<Database, Map<string, Set<Blocked>>>();
  private readonly byClient = new Map<Client, Blocked>();
  /** Keys written while clients wait on them, in write order; `readySeen` dedupes. */
  private ready: [Database, string][] = [];
  private readonly readySeen = new Map<Database, Set<string>>();
  private fallbackScheduled = false;
  private serving = false;
  /** > 0 while commands must not block (inside MULTI/EXEC, scripts). */
  private nonBlockingDepth = 0;

  constructor(private readonly server: Server) {
    server.observeWrites((db, key) => this.keyWritten(db, key));
    server.clients.onRemove((c) => this.remove(c));
  }

  /** Number of blocked clients (INFO clients blocked_clients). */
  get blockedCount(): number {
    return this.byClient.size;
  }

  /** Blocked clients with a timeout (INFO clients clients_in_timeout_table). */
  get timeoutCount(): number {
    let n = 0;
    for (const b of this.byClient.values()) if (b.deadlineMs > 0) n++;
    return n;
  }

  /** True when some written key has clients waiting on it. */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  isBlocked(c: Client): boolean {
    return this.byClient.has(c);
  }

  /** False inside runNonBlocking: blocking commands then answer as on timeout. */
  get mayBlock(): boolean {
    return this.nonBlockingDepth === 0;
  }

  /**
   * Runs fn with blocking denied (CLIENT_DENY_BLOCKING): what EXEC and
   * scripts use so that BLPOP & co. behave like their non-blocking forms.
   */
  runNonBlocking<T>(fn: () => T): T {
    this.nonBlockingDepth++;
    try {
      return fn();
    } finally {
      this.nonBlockingDepth--;
    }
  }

  /**
   * Blocks c on keys of its current db until served, timed out (deadline in
   * Unix ms, 0 = never) or unblocked. The client stops processing input.
   */
  block(c: Client, keys: readonly string[], deadlineMs: number, cmd: BlockedCommand): void {
    const b: Blocked = { client: c, db: c.db, keys, cmd, argv: this.server.runningArgv, deadlineMs, timer: null };
    this.byClient.set(c, b);
    let perDb = this.byKey.get(c.db);
    if (perDb === undefined) this.byKey.set(c.db, (perDb = new Map()));
    for (const key of keys) {
      let set = perDb.get(key);
      if (set === undefined) perDb.set(key, (set = new Set()));
      set.add(b);
    }
    c.paused = true;
    if (deadlineMs > 0) this.arm(b);
  }

  /** CLIENT UNBLOCK: replies as a timeout or with -UNBLOCKED; false if c was not blocked. */
  unblock(c: Client, reason: UnblockReason): boolean {
    const b = this.byClient.get(c);
    if (b === undefined) return false;
    if (reason === 'error') c.error(ERR_UNBLOCKED);
    else b.cmd.timeout(c);
    this.finish(b);
    return true;
  }

  /** Serves clients blocked on ready keys until none is left (handleClientsBlockedOnKeys). */
  serveReady(): void {
    if (this.serving) return;
    this.serving = true;
    try {
      while (this.ready.length > 0) {
        const batch = this.ready;
        this.ready = [];
        this.readySeen.clear();
        for (const [db, key] of batch) this.serveKey(db, key);
      }
    } finally {
      this.serving = false;
    }
  }

  private serveKey(db: Database, key: string): void {
    const waiting = this.byKey.get(db)?.get(key);
    if (waiting === undefined) return;
    for (const b of [...waiting]) {
      if (!this.byClient.has(b.client)) continue;
      // Each blocked command's serve() checks the type it waits for (list, zset, stream).
      const errors = this.server.stats.totalErrorReplies;
      const startedMs = this.server.runtime.clock.monotonicMs();
      const gone = db.lookup(key) === undefined;
      if (gone ? b.cmd.keyGone?.(b.client, key) === true : b.cmd.serve(b.client, key)) {
        if (this.server.stats.totalErrorReplies !== errors) this.countFailed(b.client);
        const servedUs = Math.round((this.server.runtime.clock.monotonicMs() - startedMs) * 1000);
        this.server.slowlog.maybeAdd(this.server, b.client, b.argv, servedUs);
        this.finish(b);
      }
    }
  }

  /** As Redis's updateStatsOnUnblock: an error served to a blocked client is a failed call of its command. */
  private countFailed(c: Client): void {
    const cmd = this.server.commands.lookupTop(c.lastCommand);
    if (cmd !== undefined) this.server.stats.commands[cmd.id]!.failedCalls++;
  }

  /** The write path: a key someone waits on was written (or a whole db changed: key ''). */
  private keyWritten(db: Database, key: string): void {
    if (this.byClient.size === 0) return;
    const perDb = this.byKey.get(db);
    if (perDb === undefined) return;
    if (key === '') {
      for (const k of perDb.keys()) this.markReady(db, k);
    } else if (perDb.has(key)) {
      this.markReady(db, key);
    }
  }

  private markReady(db: Database, key: string): void {
    let seen = this.readySeen.get(db);
    if (seen === undefined) this.readySeen.set(db, (seen = new Set()));
    if (seen.has(key)) return;
    seen.add(key);
    this.ready.push([db, key]);
    if (!this.fallbackScheduled) {
      this.fallbackScheduled = true;
      this.server.runtime.timer.setImmediate(() => {
        this.fallbackScheduled = false;
        this.serveReady();
      });
    }
  }

  /** Unblocks b after its reply was written: sends it and resumes the client's input on the next tick. */
  private finish(b: Blocked): void {
    this.detach(b);
    const c = b.client;
    c.flush();
    this.server.runtime.timer.setImmediate(() => {
      if (!c.closed && !this.byClient.has(c)) c.resume();
    });
  }

  /** A disconnected client leaves every queue. */
  private remove(c: Client): void {
    const b = this.byClient.get(c);
    if (b !== undefined) this.detach(b);
  }

  private detach(b: Blocked): void {
    this.byClient.delete(b.client);
    if (b.timer !== null) this.server.runtime.timer.clearTimeout(b.timer);
    b.timer = null;
    const perDb = this.byKey.get(b.db);
    if (perDb === undefined) return;
    for (const key of b.keys) {
      const set = perDb.get(key);
      if (set === undefined) continue;
      set.delete(b);
      if (set.size === 0) perDb.delete(key);
    }
    if (perDb.size === 0) this.byKey.delete(b.db);
  }

  /** Schedules the timeout on the injected timer (re-armed past setTimeout's range). */
  private arm(b: Blocked): void {
    const delay = Math.max(0, b.deadlineMs - this.server.now());
    b.timer = this.server.runtime.timer.setTimeout(() => {
      b.timer = null;
      if (this.byClient.get(b.client) !== b) return;
      if (this.server.now() < b.deadlineMs) return this.arm(b);
      b.cmd.timeout(b.client);
      this.finish(b);
    }, Math.min(delay, MAX_TIMER_MS));
  }
}
