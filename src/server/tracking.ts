import { sub } from '../commands/help.js';
import { keyPositions } from '../commands/table.js';
import { FLAG, type Command, type CommandSpec } from '../commands/types.js';
import { ERR, isArg, parseInteger } from '../commands/util.js';
import type { Client } from './client.js';
import type { Server } from './server.js';

/**
 * Client-side caching (tracking.c). Default mode remembers which clients read
 * which keys (a table bounded by tracking-table-max-keys) and tells them once
 * when a key changes; BCAST mode tells subscribers of key prefixes about every
 * change, batched per event-loop turn. Invalidations are out-of-band pushes:
 * RESP3 `>2 invalidate [keys]`, or for a RESP2 client redirecting to a
 * subscribed connection a `__redis__:invalidate` pub/sub message.
 */

const CHANNEL = '__redis__:invalidate';

/** Scripts that only read track the keys they declare, not through their own read-only flag (server.c call()). */
const SCRIPT_RO = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

/** One client's tracking mode (CLIENT TRACKING ON ...); Client.tracking is null while tracking is off. */
export class ClientTracking {
  /** Client id receiving this client's invalidations; 0 = itself. */
  redirect = 0;
  bcast = false;
  optin = false;
  optout = false;
  noloop = false;
  /** CLIENT CACHING YES/NO was given: it applies to the next command or transaction only. */
  caching = false;
  /** The redirect client went away (flag 'R', "broken_redirect"). */
  brokenRedirect = false;
  /** BCAST prefixes; they stay until tracking is turned off, as Redis. */
  readonly prefixes = new Set<string>();
}

/** The options of one CLIENT TRACKING call. */
interface TrackingRequest {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** A tracked key: the ids of the clients that may cache it, and its slot in Tracking.order (random eviction). */
class TrackedKey {
  readonly ids = new Set<number>();
  constructor(public pos: number) {}
}

/** A BCAST prefix: its subscribers and the keys under it changed since the last broadcast (-> who changed them). */
class BcastPrefix {
  readonly clients = new Set<Client>();
  readonly keys = new Map<string, Client | null>();
}

/** An invalidation waiting to be sent: one key, or null for "everything" (flush). */
type Pending = string | null;

export class Tracking {
  /** key -> clients that read it (Redis keys the table by name only, across databases). */
  private readonly table = new Map<string, TrackedKey>();
  /** The table's keys in an array, so the size limit can evict random keys in O(1). */
  private readonly order: string[] = [];
  /** Sum of the clients over all tracked keys (INFO tracking_total_items). */
  private items = 0;
  private readonly prefixTable = new Map<string, BcastPrefix>();
  /** Clients with tracking on (INFO tracking_clients). */
  private clients = 0;
  /** The client whose top-level command is running (server.current_client); null between commands. */
  private current: Client | null = null;
  /** A command nested in current's (a script's call) read keys: current tracks its own command's keys. */
  private nestedRead = false;
  /** Invalidations held until the target's reply is out: its own command's, or a blocked client being served. */
  private readonly deferred = new Map<Client, Pending[]>();
  private tickScheduled = false;
  /** Consecutive size-limit rounds that could not get under the limit: each round tries harder. */
  private limitRounds = 0;
  private maxKeys: number;
  /** totalCommands when the last invalidate-all went out: FLUSHALL/SWAPDB tell it once, not per database. */
  private flushStamp = -1;

  constructor(private readonly server: Server) {
    this.maxKeys = server.config.int('tracking-table-max-keys');
    server.config.onChange((name) => {
      if (name === 'tracking-table-max-keys') this.maxKeys = server.config.int(name);
    });
    server.observeWrites((_db, key, event) => this.keyWritten(key, event));
    const off = (c: Client): void => this.disable(c);
    server.clients.onRemove(off);
    server.clients.onReset(off);
  }

  get clientCount(): number {
    return this.clients;
  }

  get totalItems(): number {
    return this.items;
  }

  get totalKeys(): number {
    return this.table.size;
  }

  get totalPrefixes(): number {
    return this.prefixTable.size;
  }

  // ---- enabling and disabling ------------------------------------------------

  /** enableTracking: options were validated; prefixes add to the client's existing ones. */
  enable(c: Client, o: TrackingRequest): void {
    let t = c.tracking;
    if (t === null) {
      t = c.tracking = new ClientTracking();
      this.clients++;
    }
    t.redirect = o.redirect;
    t.brokenRedirect = false;
    t.bcast = o.bcast;
    t.optin = o.optin;
    t.optout = o.optout;
    t.noloop = o.noloop;
    if (!o.bcast) return;
    if (o.prefixes.length === 0) this.subscribePrefix(c, t, '');
    for (const p of o.prefixes) this.subscribePrefix(c, t, p);
  }

  private subscribePrefix(c: Client, t: ClientTracking, prefix: string): void {
    let bs = this.prefixTable.get(prefix);
    if (bs === undefined) this.prefixTable.set(prefix, (bs = new BcastPrefix()));
    bs.clients.add(c);
    t.prefixes.add(prefix);
  }

  /** disableTracking (CLIENT TRACKING OFF, RESET, disconnect). Its ids stay in the table until those keys change, as Redis. */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null) return;
    for (const prefix of t.prefixes) {
      const bs = this.prefixTable.get(prefix)!;
      bs.clients.delete(c);
      if (bs.clients.size === 0) this.prefixTable.delete(prefix);
    }
    c.tracking = null;
    this.clients--;
    this.deferred.delete(c);
  }

  // ---- the command path --------------------------------------------------------

  /** A top-level command starts (Server.call); returns the client to restore in leave() (nested calls: CLIENT UNPAUSE). */
  enter(c: Client): Client | null {
    const outer = this.current;
    this.current = c;
    return outer;
  }

  /**
   * The top-level command and what it unblocked are done: keys a script of
   * it read are remembered, CLIENT CACHING expires (unless in MULTI or the
   * command was CLIENT ...), and its own invalidations follow its reply.
   */
  leave(c: Client, cmd: Command, argv: readonly string[], outer: Client | null): void {
    const t = c.tracking;
    if (this.nestedRead) {
      this.nestedRead = false;
      if (t !== null) this.remember(c, t, cmd, argv);
    }
    this.current = outer;
    if (t !== null && c.multi === null && !cmd.fullName.startsWith('client|')) t.caching = false;
    if (this.deferred.size !== 0) this.sendDeferred(c);
  }

  /** Server.execute ran a read-only command (trackingRememberKeys); only called while some client tracks. */
  readDone(c: Client, cmd: Command, argv: readonly string[]): void {
    if (this.current !== null && c !== this.current) {
      // A script's call: Redis then tracks the keys the script declares, for its caller.
      if (this.current.tracking !== null) this.nestedRead = true;
      return;
    }
    const t = c.tracking;
    if (t !== null && !SCRIPT_RO.has(cmd.fullName)) this.remember(c, t, cmd, argv);
  }

  private remember(c: Client, t: ClientTracking, cmd: Command, argv: readonly string[]): void {
    if (t.bcast || (t.optin && !t.caching) || (t.optout && t.caching)) return;
    // Shard channels are keys for routing only.
    if ((cmd.flagBits & FLAG.pubsub) !== 0) return;
    for (const pos of keyPositions(cmd, argv)) this.addItem(argv[pos]!, c.id);
  }

  private addItem(key: string, id: number): void {
    let k = this.table.get(key);
    if (k === undefined) {
      k = new TrackedKey(this.order.length);
      this.table.set(key, k);
      this.order.push(key);
    }
    if (k.ids.has(id)) return;
    k.ids.add(id);
    this.items++;
  }

  private removeKey(key: string, k: TrackedKey): void {
    const last = this.order.pop()!;
    if (last !== key) {
      this.order[k.pos] = last;
      this.table.get(last)!.pos = k.pos;
    }
    this.table.delete(key);
    this.items -= k.ids.size;
  }

  // ---- invalidation ------------------------------------------------------------

  /** Every write (local, expiry, replicated): one key, or '' for a whole database (flush, swap). */
  private keyWritten(key: string, event: string): void {
    if (key === '') return this.invalidateAll();
    if (this.table.size === 0 && this.prefixTable.size === 0) return;
    // Expiry and eviction have no client behind them: NOLOOP BCAST clients hear of them too.
    const modifier = event === 'expired' || event === 'evicted' ? null : this.current;
    this.invalidateKey(key, modifier, true);
  }

  /** trackingInvalidateKey: tells every client that read key (once: it is forgotten) and queues it for BCAST. */
  private invalidateKey(key: string, modifier: Client | null, bcast: boolean): void {
    if (bcast && this.prefixTable.size > 0) this.queueBroadcast(key, modifier);
    const k = this.table.get(key);
    if (k === undefined) return;
    for (const id of k.ids) {
      const target = this.server.clients.get(id);
      const t = target?.tracking;
      // Keys read before switching to BCAST are not reported in BCAST mode.
      if (target === undefined || t == null || t.bcast) continue;
      if (t.noloop && target === this.current) continue;
      this.sendOrDefer(target, key);
    }
    this.removeKey(key, k);
  }

  /** trackingInvalidateKeysOnFlush: a null to every tracking client, and the table starts over. */
  private invalidateAll(): void {
    const stamp = this.server.stats.totalCommands;
    if (this.current !== null && stamp === this.flushStamp) return;
    this.flushStamp = this.current !== null ? stamp : -1;
    if (this.clientCount > 0) {
      for (const c of [...this.server.clients.all()]) if (c.tracking !== null) this.sendOrDefer(c, null);
    }
    this.table.clear();
    this.order.length = 0;
    this.items = 0;
  }

  /**
   * The running command's own invalidations go out after its reply (and
   * after a whole EXEC's), as do a blocked client's while it is being
   * served; everything else is sent at once.
   */
  private sendOrDefer(target: Client, key: Pending): void {
    const mine = target === this.current;
    if (!mine && !this.server.blocking.isBlocked(target)) return this.send(target, key === null ? null : [key]);
    let list = this.deferred.get(target);
    if (list === undefined) this.deferred.set(target, (list = []));
    list.push(key);
    if (!mine) this.scheduleTick();
  }

  private sendDeferred(c: Client): void {
    const list = this.deferred.get(c);
    if (list === undefined) return;
    this.deferred.delete(c);
    for (const key of list) if (c.tracking !== null) this.send(c, key === null ? null : [key]);
  }

  /**
   * sendTrackingMessage: to the client itself (RESP3) or its redirect
   * target (RESP3, or RESP2 in pub/sub mode); a vanished redirect target
   * marks the redirection broken and tells a RESP3 client so.
   */
  private send(c: Client, keys: readonly string[] | null): void {
    const t = c.tracking!;
    let to = c;
    if (t.redirect !== 0) {
      const redir = this.server.clients.get(t.redirect);
      if (redir === undefined) return this.redirectBroken(c, t);
      to = redir;
    }
    if (to.closed) return;
    const r = to.reply;
    if (to.resp === 3) {
      r.pushHeader(2);
      r.bulk('invalidate');
    } else if (to !== c && to.subs !== null) {
      r.pushHeader(3);
      r.bulk('message');
      r.bulk(CHANNEL);
    } else {
      // A RESP2 connection cannot take pushes between its replies.
      return;
    }
    if (keys === null) r.nullArray();
    else r.bulkArray(keys);
    to.pushed();
  }

  private redirectBroken(c: Client, t: ClientTracking): void {
    t.brokenRedirect = true;
    if (c.resp !== 3 || c.closed) return;
    c.reply.pushHeader(2);
    c.reply.bulk('tracking-redir-broken');
    c.reply.int(t.redirect);
    c.pushed();
  }

  // ---- BCAST -------------------------------------------------------------------

  /** trackingRememberKeyToBroadcast: the key goes out to its prefixes' subscribers at the end of this turn. */
  private queueBroadcast(key: string, modifier: Client | null): void {
    for (const [prefix, bs] of this.prefixTable) {
      if (!key.startsWith(prefix)) continue;
      bs.keys.set(key, modifier);
      this.scheduleTick();
    }
  }

  /** Redis's beforeSleep: once per event-loop turn, held invalidations and BCAST batches go out. */
  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    this.server.runtime.timer.setImmediate(() => this.tick());
  }

  private tick(): void {
    this.tickScheduled = false;
    for (const c of [...this.deferred.keys()]) this.sendDeferred(c);
    this.broadcast();
  }

  /** trackingBroadcastInvalidationMessages: per prefix (in order) one array of its changed keys, sorted as Redis's radix tree. */
  private broadcast(): void {
    const prefixes = [...this.prefixTable.keys()].sort();
    for (const prefix of prefixes) {
      const bs = this.prefixTable.get(prefix)!;
      if (bs.keys.size === 0) continue;
      const all = [...bs.keys.keys()].sort();
      for (const c of [...bs.clients]) {
        if (c.tracking === null) continue;
        const keys = c.tracking.noloop ? all.filter((k) => bs.keys.get(k) !== c) : all;
        if (keys.length > 0) this.send(c, keys);
      }
      bs.keys.clear();
    }
  }

  // ---- table size limit ----------------------------------------------------------

  /**
   * trackingLimitUsedSlots (before each command and from cron): over
   * tracking-table-max-keys, random keys are invalidated, with more effort
   * each time a round could not get under the limit.
   */
  limitKeys(): void {
    if (this.clientCount === 0 || this.maxKeys === 0) return;
    if (this.table.size <= this.maxKeys) {
      this.limitRounds = 0;
      return;
    }
    const random = this.server.runtime.random;
    for (let effort = 100 * (this.limitRounds + 1); effort > 0 && this.order.length > 0; effort--) {
      this.invalidateKey(this.order[random.int(this.order.length)]!, null, false);
      if (this.table.size <= this.maxKeys) {
        this.limitRounds = 0;
        return;
      }
    }
    this.limitRounds++;
  }
}

// ---- CLIENT TRACKING | CACHING | GETREDIR | TRACKINGINFO --------------------------

const SWITCH_MODE = 'before disabling tracking for this client, and then re-enabling it with a different mode.';

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

/** The options after ON|OFF; null after replying an error. */
function parseTrackingOptions(c: Client, argv: readonly string[]): TrackingRequest | null {
  const o: TrackingRequest = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  for (let j = 3; j < argv.length; j++) {
    const arg = argv[j]!;
    const more = j < argv.length - 1;
    if (isArg(arg, 'REDIRECT') && more) {
      if (o.redirect !== 0) return fail(c, 'ERR A client can only redirect to a single other client');
      const id = parseInteger(argv[++j]!);
      if (id === null) return fail(c, ERR.notInteger);
      // The target must exist now; that it may go away later is what broken_redirect reports.
      if (c.server.clients.get(id) === undefined) return fail(c, 'ERR The client ID you want redirect to does not exist');
      o.redirect = id;
    } else if (isArg(arg, 'BCAST')) o.bcast = true;
    else if (isArg(arg, 'OPTIN')) o.optin = true;
    else if (isArg(arg, 'OPTOUT')) o.optout = true;
    else if (isArg(arg, 'NOLOOP')) o.noloop = true;
    else if (isArg(arg, 'PREFIX') && more) o.prefixes.push(argv[++j]!);
    else return fail(c, ERR.syntax);
  }
  return o;
}

/** The checks of CLIENT TRACKING ON, in Redis's order; the error text or null. */
function trackingOnError(t: ClientTracking | null, o: TrackingRequest): string | null {
  if (!o.bcast && o.prefixes.length > 0) return 'ERR PREFIX option requires BCAST mode to be enabled';
  if (t !== null && t.bcast !== o.bcast) return `ERR You can't switch BCAST mode on/off ${SWITCH_MODE}`;
  if (o.bcast && (o.optin || o.optout)) return 'ERR OPTIN and OPTOUT are not compatible with BCAST';
  if (o.optin && o.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if (t !== null && ((o.optin && t.optout) || (o.optout && t.optin))) return `ERR You can't switch OPTIN/OPTOUT mode ${SWITCH_MODE}`;
  return o.bcast ? prefixCollision(t, o.prefixes) : null;
}

const OVERLAP = 'Prefixes for a single client must not overlap.';

/** checkPrefixCollisionsOrReply: one prefix may not start another, among the new ones or against the client's. */
function prefixCollision(t: ClientTracking | null, prefixes: readonly string[]): string | null {
  const existing = t === null ? [] : [...t.prefixes].sort();
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    const old = existing.find((e) => overlaps(e, p));
    if (old !== undefined) return `ERR Prefix '${p}' overlaps with an existing prefix '${old}'. ${OVERLAP}`;
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlaps(p, prefixes[j]!)) return `ERR Prefix '${p}' overlaps with another provided prefix '${prefixes[j]}'. ${OVERLAP}`;
    }
  }
  return null;
}

function overlaps(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP] */
function clientTracking(c: Client, argv: string[]): void {
  const o = parseTrackingOptions(c, argv);
  if (o === null) return;
  const tracking = c.server.tracking;
  if (isArg(argv[2]!, 'ON')) {
    const error = trackingOnError(c.tracking, o);
    if (error !== null) return c.error(error);
    tracking.enable(c, o);
  } else if (isArg(argv[2]!, 'OFF')) {
    tracking.disable(c);
  } else {
    return c.error(ERR.syntax);
  }
  c.reply.ok();
}

/** CLIENT CACHING YES|NO: the next command (or transaction) is tracked (OPTIN) or not (OPTOUT). */
function clientCaching(c: Client, argv: string[]): void {
  const t = c.tracking;
  if (t === null) {
    return c.error('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  }
  const opt = argv[2]!;
  if (isArg(opt, 'YES')) {
    if (!t.optin) return c.error('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  } else if (isArg(opt, 'NO')) {
    if (!t.optout) return c.error('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  } else {
    return c.error(ERR.syntax);
  }
  t.caching = true;
  c.reply.ok();
}

/** The flags CLIENT TRACKINGINFO lists, in Redis's order. */
function trackingFlags(t: ClientTracking | null): string[] {
  if (t === null) return ['off'];
  const flags = ['on'];
  if (t.bcast) flags.push('bcast');
  if (t.optin) flags.push('optin');
  if (t.optin && t.caching) flags.push('caching-yes');
  if (t.optout) flags.push('optout');
  if (t.optout && t.caching) flags.push('caching-no');
  if (t.noloop) flags.push('noloop');
  if (t.brokenRedirect) flags.push('broken_redirect');
  return flags;
}

/** CLIENT TRACKINGINFO: {flags, redirect, prefixes}. */
function clientTrackingInfo(c: Client): void {
  const t = c.tracking;
  const r = c.reply;
  r.mapHeader(3);
  r.bulk('flags');
  const flags = trackingFlags(t);
  r.setHeader(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk('redirect');
  r.int(t === null ? -1 : t.redirect);
  r.bulk('prefixes');
  r.bulkArray(t === null ? [] : [...t.prefixes].sort());
}

const CONN: CommandSpec['flags'] = ['noscript', 'loading', 'stale'];
const meta = (since: string, summary: string, syntax?: string) => ({
  since, summary, group: 'connection' as const, complexity: 'O(1)', ...(syntax === undefined ? {} : { syntax }),
});

/** The tracking subcommands of CLIENT (src/commands/client.ts lists them). */
export const trackingSubcommands: CommandSpec[] = [
  sub('tracking', -3, CONN, {
    ...meta('6.0.0', 'Controls server-assisted client-side caching for the connection.',
      'ON | OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]'),
    complexity: 'O(1). Some options may introduce additional complexity.',
  }, clientTracking),
  sub('caching', 3, CONN, meta('6.0.0', 'Instructs the server whether to track the keys in the next request.', 'YES | NO'), clientCaching),
  sub('getredir', 2, CONN, meta('6.0.0', "Returns the client ID to which the connection's tracking notifications are redirected."), (c) =>
    c.reply.int(c.tracking === null ? -1 : c.tracking.redirect)),
  sub('trackinginfo', 2, CONN, meta('6.2.0', 'Returns information about server-assisted client-side caching for the connection.'), clientTrackingInfo),
];
