import { FLAG, type Command } from '../commands/types.js';
import type { Database } from '../store/database.js';
import { ReplyMode, type Client } from './client.js';
import type { Server } from './server.js';

/**
 * MULTI/EXEC and WATCH (multi.c). A client in MULTI holds a Transaction
 * (Client.multi); the Server queues its commands instead of running them.
 * WATCH registers (db, key) -> watchers here; every key write reaches this
 * registry through Server.observeWrites and marks the watchers dirty
 * (Client.dirtyCas), which makes their next EXEC reply null.
 */

export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';
const ERR_NO_MULTI = 'ERR Command not allowed inside a transaction';

/** The commands a client in MULTI runs instead of queueing (processCommand's list). */
const RUN_IN_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

interface Queued {
  cmd: Command;
  argv: string[];
}

/** An open MULTI: its queued commands and whether queueing failed (CLIENT_DIRTY_EXEC). */
export class Transaction {
  readonly queued: Queued[] = [];
  /** A command was rejected while queueing: EXEC replies EXECABORT. */
  aborted = false;
  /** Union of the queued commands' flag bits (EXEC pauses like a write when one is). */
  flagBits = 0;
}

/** One client's watch on one key of one database (watchedKey). */
export class WatchedKey {
  constructor(
    readonly client: Client,
    readonly db: Database,
    readonly key: string,
    /** The key was logically expired when watched: its deletion by expiry is no change. */
    public expired: boolean,
    /** The key was in the table (live or not yet deleted). Unchanged while the watch stands. */
    public existed: boolean,
  ) {}
}

/** Per server: the WATCH registry and the EXEC runner. */
export class Transactions {
  /** Per database id: key -> the watches on it. */
  private readonly byDb: Map<string, WatchedKey[]>[] = [];
  /** Watches registered in all databases (0 makes every write a single check). */
  private watchCount = 0;

  constructor(private readonly server: Server) {
    server.observeWrites((db, key, event) => {
      if (this.watchCount !== 0) this.touched(db, key, event);
    });
    server.clients.onReset((c) => this.discard(c));
    server.clients.onRemove((c) => this.discard(c));
  }

  /** Watches registered over all clients and databases. */
  get watchedKeyCount(): number {
    return this.watchCount;
  }

  /**
   * Called by Server.call for a client in MULTI: queues the command (or
   * refuses a no_multi one) and replies. False for the commands that run
   * even in MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
   */
  queue(c: Client, cmd: Command, argv: string[]): boolean {
    const tx = c.multi!;
    if (RUN_IN_MULTI.has(cmd.fullName)) return false;
    if ((cmd.flagBits & FLAG.no_multi) !== 0) {
      this.server.reject(c, cmd, ERR_NO_MULTI);
      return true;
    }
    // An aborted transaction keeps nothing (queueMultiCommand), yet still answers QUEUED.
    if (!tx.aborted && !c.dirtyCas) {
      tx.queued.push({ cmd, argv });
      tx.flagBits |= cmd.flagBits;
    }
    c.reply.status('QUEUED');
    this.server.afterReply(c);
    return true;
  }

  /** discardTransaction: leaves MULTI, clears the dirty flag and every watch. */
  discard(c: Client): void {
    c.multi = null;
    c.dirtyCas = false;
    this.unwatchAll(c);
  }

  /** EXEC: replies EXECABORT, null (a watched key changed) or the array of the queued commands' replies. */
  exec(c: Client, tx: Transaction): void {
    if (this.watchedKeyExpired(c)) c.dirtyCas = true;
    if (tx.aborted || c.dirtyCas) {
      if (tx.aborted) c.error(EXECABORT);
      else c.reply.nullArray();
      this.discard(c);
      return;
    }
    this.unwatchAll(c);
    // CLIENT REPLY SKIP/OFF applies to EXEC's reply as a whole, not to each queued command.
    const mode = c.replyMode;
    c.replyMode = ReplyMode.On;
    c.reply.arrayHeader(tx.queued.length);
    this.server.blocking.runNonBlocking(() => this.server.atomically(() => this.runQueued(c, tx)));
    if (c.replyMode === ReplyMode.On) c.replyMode = mode;
    this.discard(c);
  }

  /** Runs the queued commands through Server.execute (stats, slowlog, MONITOR) at one frozen time. */
  private runQueued(c: Client, tx: Transaction): void {
    const s = this.server;
    const now = s.nowMs();
    for (const q of tx.queued) {
      s.holdNowMs(now);
      s.execute(c, q.cmd, q.argv);
    }
  }

  // ---- WATCH -------------------------------------------------------------

  /** watchForKey: watches key in the client's current database (once). */
  watch(c: Client, key: string): void {
    const db = c.db;
    const mine = (c.watching ??= []);
    for (const wk of mine) if (wk.db === db && wk.key === key) return;
    const e = db.keys.get(key);
    const wk = new WatchedKey(c, db, key, e !== undefined && db.isExpired(e), e !== undefined);
    mine.push(wk);
    const perDb = (this.byDb[db.id] ??= new Map());
    const list = perDb.get(key);
    if (list === undefined) perDb.set(key, [wk]);
    else list.push(wk);
    this.watchCount++;
  }

  /** unwatchAllKeys: drops every watch of c (the dirty flag is the caller's business). */
  unwatchAll(c: Client): void {
    const mine = c.watching;
    if (mine === null) return;
    c.watching = null;
    for (const wk of mine) {
      const perDb = this.byDb[wk.db.id]!;
      const list = perDb.get(wk.key)!;
      list.splice(list.indexOf(wk), 1);
      if (list.length === 0) perDb.delete(wk.key);
      this.watchCount--;
    }
  }

  /** isWatchedKeyExpired: a key that was live when watched is now past its TTL (not yet deleted). */
  private watchedKeyExpired(c: Client): boolean {
    if (c.watching === null) return false;
    for (const wk of c.watching) {
      if (wk.expired) continue;
      const e = wk.db.keys.get(wk.key);
      if (e !== undefined && wk.db.isExpired(e)) return true;
    }
    return false;
  }

  /** A write or an expiry reached the keyspace: invalidate the watches it concerns. */
  private touched(db: Database, key: string, event: string): void {
    const perDb = this.byDb[db.id];
    if (perDb === undefined || perDb.size === 0) return;
    if (key === '' && (event === 'flushdb' || event === 'swapdb')) this.touchAll(db, perDb, event === 'swapdb');
    else this.touchKey(db, perDb.get(key));
  }

  /**
   * touchWatchedKey. A watch on a key that was already expired survives the
   * deletion of that key (by expiry or DEL): logically nothing changed.
   */
  private touchKey(db: Database, list: WatchedKey[] | undefined): void {
    if (list === undefined) return;
    const e = db.keys.get(list[0]!.key);
    for (const wk of [...list]) {
      if (wk.expired) {
        if (e === undefined) {
          wk.expired = wk.existed = false;
          continue;
        }
        if (db.isExpired(e)) continue;
      }
      this.dirty(wk.client);
    }
  }

  /**
   * touchAllWatchedKeysInDb, told after the change: FLUSHDB/FLUSHALL emptied
   * db, SWAPDB gave it another db's contents. A watch is touched when its key
   * existed before or exists now, except where a stale key stays stale or
   * is just gone.
   */
  private touchAll(db: Database, perDb: Map<string, WatchedKey[]>, swapped: boolean): void {
    const touched = new Set<Client>();
    for (const [key, list] of perDb) {
      const e = swapped ? db.keys.get(key) : undefined;
      const staleNow = e !== undefined && db.isExpired(e);
      for (const wk of list) {
        if (!wk.existed && e === undefined) continue;
        if (wk.expired ? e !== undefined && !staleNow : wk.existed || !staleNow) {
          touched.add(wk.client);
          continue;
        }
        // Stale replaced by stale or by nothing; nothing replaced by stale: still logically absent.
        wk.expired = staleNow;
        wk.existed = e !== undefined;
      }
    }
    for (const c of touched) this.dirty(c);
  }

  private dirty(c: Client): void {
    c.dirtyCas = true;
    this.unwatchAll(c);
  }
}
