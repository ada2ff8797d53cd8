import type { Random, StreamSocket, Timer, TimerHandle, Transport } from '../runtime/index.js';

/**
 * MIGRATE's outgoing side (cluster.c migrateGetSocket / migrateCommand's I/O):
 * a small cache of connections per host:port, the request written as RESP,
 * the single-line replies of AUTH / SELECT / RESTORE(-ASKING) read back, and
 * every failure mapped to Redis's error text. The command (commands/migrate.ts)
 * owns the keyspace side: what to send, and what to delete once acknowledged.
 */

/** Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL. */
export const MIGRATE_SOCKET_CACHE_ITEMS = 64;
export const MIGRATE_SOCKET_CACHE_TTL_MS = 10_000;

export const CONNECT_ERROR = 'IOERR error or timeout connecting to the client';
export const READ_ERROR = 'IOERR error or timeout reading to target instance';
export const WRITE_ERROR = 'IOERR error or timeout writing to target instance';
const TARGET_ERROR = 'ERR Target instance replied with error: ';

/** Redis writes the request in 64 KB pieces, each within the timeout. */
const WRITE_CHUNK_BYTES = 64 * 1024;
/** A reply line longer than this is not one of the short replies we expect: the target is broken. */
const MAX_REPLY_LINE_BYTES = 64 * 1024;
/** Text kept of a reply (Redis reads each into a 1 KB buffer): bounds memory for N queued replies. */
const MAX_REPLY_TEXT = 1024;
/** Node's timers take at most a signed 32-bit delay (larger ones fire at once). */
const MAX_TIMER_MS = 0x7fffffff;
const CRLF = Buffer.from('\r\n');

/** What the pool needs from the Runtime. */
export interface MigrateRuntime {
  transport: Transport;
  timer: Timer;
  random: Random;
}

/** A failed connect, read or write; timeouts are never retried (Redis's errno != ETIMEDOUT). */
export class MigrateIoError extends Error {
  constructor(
    readonly op: 'connect' | 'read' | 'write',
    readonly timedOut: boolean,
  ) {
    super(`migrate ${op} ${timedOut ? 'timed out' : 'failed'}`);
  }
}

/** One status (+), error (-) or integer (:) reply; text is the line without its type byte. */
export interface TargetReply {
  error: boolean;
  text: string;
}

/**
 * Incremental reader of single-line RESP replies (all AUTH, SELECT and
 * RESTORE answer). Only an incomplete line is buffered, capped; bulk and
 * aggregate replies are a protocol violation here.
 */
export class ReplyReader {
  private pending: Buffer | null = null;

  /** Appends complete replies to out; false on a violation (unknown type, line over the cap). */
  feed(chunk: Buffer, out: TargetReply[]): boolean {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    let pos = 0;
    for (let eol = buf.indexOf(CRLF, pos); eol >= 0; eol = buf.indexOf(CRLF, pos)) {
      const reply = parseLine(buf, pos, eol);
      if (reply === null) return false;
      out.push(reply);
      pos = eol + 2;
    }
    if (buf.length - pos > MAX_REPLY_LINE_BYTES) return false;
    // Copied: the transport may reuse the chunk's memory after this call.
    this.pending = pos === buf.length ? null : Buffer.from(buf.subarray(pos));
    return true;
  }
}

function parseLine(buf: Buffer, start: number, eol: number): TargetReply | null {
  if (eol - start > MAX_REPLY_LINE_BYTES) return null;
  const type = buf[start];
  if (type !== 0x2b && type !== 0x2d && type !== 0x3a) return null; // + - :
  const end = Math.min(eol, start + 1 + MAX_REPLY_TEXT);
  return { error: type === 0x2d, text: buf.latin1Slice(start + 1, end) };
}

interface Waiter {
  op: 'read' | 'write';
  timer: TimerHandle;
  done: (err: MigrateIoError | null) => void;
}

/** One cached connection to a target (migrateCachedSocket). */
export class MigrateConn {
  /** The database the target has selected here; -1 when unknown (SELECT is sent next time). */
  lastDb = -1;
  closed = false;
  /** Set while cached and unused: closes the connection after MIGRATE_SOCKET_CACHE_TTL_MS. */
  idleTimer: TimerHandle | null = null;
  private readonly reader = new ReplyReader();
  private ready: TargetReply[] = [];
  private head = 0;
  /** Replies the running exchange still expects; more (or any while idle) breaks the connection. */
  private allowance = 0;
  private waiter: Waiter | null = null;

  constructor(
    readonly name: string,
    private readonly socket: StreamSocket,
    private readonly timer: Timer,
    private readonly onClosed: (conn: MigrateConn) => void,
  ) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => this.wake('write'));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
  }

  /** Starts an exchange that expects n replies. */
  expect(n: number): void {
    this.ready = [];
    this.head = 0;
    this.allowance = n;
  }

  /** Writes data in 64 KB pieces, waiting at most timeoutMs for each to drain. */
  async write(data: Buffer, timeoutMs: number): Promise<void> {
    for (let pos = 0; pos < data.length; pos += WRITE_CHUNK_BYTES) {
      if (this.closed) throw new MigrateIoError('write', false);
      if (!this.socket.write(data.subarray(pos, pos + WRITE_CHUNK_BYTES))) await this.park('write', timeoutMs);
    }
  }

  /** The next reply, waiting at most timeoutMs for it (connSyncReadLine). */
  async readReply(timeoutMs: number): Promise<TargetReply> {
    while (this.head === this.ready.length) {
      if (this.closed) throw new MigrateIoError('read', false);
      await this.park('read', timeoutMs);
    }
    return this.ready[this.head++]!;
  }

  /** Closes the connection; a waiting read or write fails. Idempotent. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelIdle();
    this.socket.destroy();
    const w = this.waiter;
    if (w !== null) this.settle(new MigrateIoError(w.op, false));
    this.onClosed(this);
  }

  cancelIdle(): void {
    if (this.idleTimer === null) return;
    this.timer.clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private onData(chunk: Buffer): void {
    const got: TargetReply[] = [];
    if (!this.reader.feed(chunk, got) || got.length > this.allowance) return this.destroy();
    this.allowance -= got.length;
    for (const r of got) this.ready.push(r);
    if (got.length > 0) this.wake('read');
  }

  private park(op: 'read' | 'write', timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.timer.setTimeout(() => this.settle(new MigrateIoError(op, true)), timeoutMs);
      this.waiter = { op, timer, done: (err) => (err === null ? resolve() : reject(err)) };
    });
  }

  private wake(op: 'read' | 'write'): void {
    if (this.waiter !== null && this.waiter.op === op) this.settle(null);
  }

  private settle(err: MigrateIoError | null): void {
    const w = this.waiter;
    if (w === null) return;
    this.waiter = null;
    this.timer.clearTimeout(w.timer);
    w.done(err);
  }
}

/**
 * The per-server connection cache (server.migrate_cached_sockets). Redis is
 * single-threaded, so one MIGRATE at a time uses a connection; here several
 * clients may migrate at once, so exchanges with one target are queued
 * (`exclusive`) instead of interleaving on its socket.
 */
export class MigratePool {
  private readonly conns = new Map<string, MigrateConn>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly runtime: MigrateRuntime) {}

  /** Cached connections (INFO migrate_cached_sockets). */
  get size(): number {
    return this.conns.size;
  }

  /** Runs fn after every earlier exchange with the same target has finished. */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(name) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return run;
  }

  /** The cached connection to host:port, or a new one (throws MigrateIoError 'connect'). */
  async acquire(host: string, port: string, timeoutMs: number): Promise<MigrateConn> {
    const name = `${host}:${port}`;
    const cached = this.conns.get(name);
    if (cached !== undefined && !cached.closed) {
      cached.cancelIdle();
      return cached;
    }
    const socket = await connectWithin(this.runtime, host, atoi(port), clampTimeout(timeoutMs));
    socket.setNoDelay?.(true);
    this.evictIfFull();
    const conn = new MigrateConn(name, socket, this.runtime.timer, (c) => this.forget(c));
    this.conns.set(name, conn);
    return conn;
  }

  /** The exchange is over and the connection healthy: keep it for MIGRATE_SOCKET_CACHE_TTL_MS. */
  release(conn: MigrateConn): void {
    if (conn.closed) return;
    conn.cancelIdle();
    conn.idleTimer = this.runtime.timer.setTimeout(() => conn.destroy(), MIGRATE_SOCKET_CACHE_TTL_MS);
    conn.idleTimer.unref?.();
  }

  /** Closes every cached connection (the server stops). */
  closeAll(): void {
    for (const conn of [...this.conns.values()]) conn.destroy();
  }

  private forget(conn: MigrateConn): void {
    if (this.conns.get(conn.name) === conn) this.conns.delete(conn.name);
  }

  /**
   * At the cap, closes a random idle connection, as Redis drops a random
   * one. Busy ones are never dropped under a running exchange, so with 64
   * concurrent exchanges to distinct targets the cache briefly holds more.
   */
  private evictIfFull(): void {
    if (this.conns.size < MIGRATE_SOCKET_CACHE_ITEMS) return;
    const idle = [...this.conns.values()].filter((c) => c.idleTimer !== null);
    if (idle.length > 0) idle[this.runtime.random.int(idle.length)]!.destroy();
  }
}

/** The port as C's atoi reads it (garbage is 0, which fails to connect). */
function atoi(s: string): number {
  const n = Number.parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

export function clampTimeout(ms: number): number {
  return Math.min(Math.max(ms, 1), MAX_TIMER_MS);
}

/** transport.connect bounded by timeoutMs (connBlockingConnect). A late socket is closed. */
function connectWithin(rt: MigrateRuntime, host: string, port: number, timeoutMs: number): Promise<StreamSocket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = rt.timer.setTimeout(() => {
      settled = true;
      reject(new MigrateIoError('connect', true));
    }, timeoutMs);
    const fail = (): void => {
      if (settled) return;
      settled = true;
      rt.timer.clearTimeout(timer);
      reject(new MigrateIoError('connect', false));
    };
    if (host === '') return fail();
    rt.transport.connect({ host, port }).then((socket) => {
      if (settled) return socket.destroy();
      settled = true;
      rt.timer.clearTimeout(timer);
      resolve(socket);
    }, fail);
  });
}

// ---- the exchange ---------------------------------------------------------

/** One key to move: its DUMP payload, serialized before any waiting, and its expire time. */
export interface MigrateItem {
  key: string;
  payload: Buffer;
  /** Unix ms, 0 without a TTL. */
  expireAt: number;
}

export interface MigrateRequest {
  host: string;
  /** The port argument as given: with host it names the cached connection, as in Redis. */
  port: string;
  db: number;
  timeoutMs: number;
  auth: { username: string | null; password: string } | null;
  /** RESTORE, or RESTORE-ASKING in cluster mode. */
  restoreCommand: string;
  replace: boolean;
  items: MigrateItem[];
  /** Fresh wall-clock ms: remaining TTLs are computed when the request is written. */
  now: () => number;
}

export interface MigrateResult {
  /** Items the target restored (and for which AUTH and SELECT succeeded). */
  acked: MigrateItem[];
  /** The error reply for the client, or null for +OK. Acked items stay acked even then. */
  error: string | null;
}

/** Runs MIGRATE's exchange with the target, retrying once as Redis does. Never rejects on I/O errors. */
export function runMigrate(pool: MigratePool, req: MigrateRequest): Promise<MigrateResult> {
  return pool.exclusive(`${req.host}:${req.port}`, () => attempt(pool, req, true));
}

async function attempt(pool: MigratePool, req: MigrateRequest, mayRetry: boolean): Promise<MigrateResult> {
  let conn: MigrateConn;
  try {
    conn = await pool.acquire(req.host, req.port, req.timeoutMs);
  } catch (err) {
    ioError(err);
    return { acked: [], error: CONNECT_ERROR };
  }
  const plan = planRequest(req, conn.lastDb);
  conn.expect(plan.replyCount);
  const timeout = clampTimeout(req.timeoutMs);
  try {
    await conn.write(plan.bytes, timeout);
  } catch (err) {
    conn.destroy();
    // A cached connection the target closed meanwhile is common: reconnect once.
    if (mayRetry && !ioError(err).timedOut) return attempt(pool, req, false);
    return { acked: [], error: WRITE_ERROR };
  }
  const replies = await readReplies(conn, plan, timeout);
  return conclude(pool, conn, req, replies, mayRetry);
}

/** Rethrows anything that is not an I/O failure (a bug must not turn into IOERR). */
function ioError(err: unknown): MigrateIoError {
  if (err instanceof MigrateIoError) return err;
  throw err;
}

interface Plan {
  bytes: Buffer;
  auth: boolean;
  select: boolean;
  /** The items sent: those that had not expired when the request was built. */
  items: MigrateItem[];
  replyCount: number;
}

/** AUTH if asked, SELECT if the connection has another db selected, then one RESTORE per live item. */
function planRequest(req: MigrateRequest, lastDb: number): Plan {
  const parts: Buffer[] = [];
  if (req.auth !== null) {
    const { username, password } = req.auth;
    command(parts, username === null ? ['AUTH', password] : ['AUTH', username, password]);
  }
  const select = lastDb !== req.db;
  if (select) command(parts, ['SELECT', String(req.db)]);
  const now = req.now();
  const items: MigrateItem[] = [];
  for (const item of req.items) {
    let ttl = 0;
    if (item.expireAt !== 0) {
      ttl = item.expireAt - now;
      if (ttl < 0) continue; // expired meanwhile: neither sent nor deleted here
      if (ttl < 1) ttl = 1;
    }
    items.push(item);
    const args = [req.restoreCommand, item.key, String(ttl), item.payload];
    command(parts, req.replace ? [...args, 'REPLACE'] : args);
  }
  const replyCount = items.length + (req.auth !== null ? 1 : 0) + (select ? 1 : 0);
  return { bytes: Buffer.concat(parts), auth: req.auth !== null, select, items, replyCount };
}

/** Appends one RESP multibulk command; strings are latin1 (one byte per char, as arguments are stored). */
function command(parts: Buffer[], args: (string | Buffer)[]): void {
  parts.push(Buffer.from(`*${args.length}\r\n`, 'latin1'));
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, CRLF);
  }
}

interface Replies {
  acked: MigrateItem[];
  /** The first error the target replied (AUTH's, else SELECT's, else a RESTORE's). */
  targetError: string | null;
  io: MigrateIoError | null;
  /** RESTORE replies received. */
  received: number;
}

/** Reads the replies in order; an AUTH or SELECT error fails every item, as in Redis. */
async function readReplies(conn: MigrateConn, plan: Plan, timeoutMs: number): Promise<Replies> {
  const out: Replies = { acked: [], targetError: null, io: null, received: 0 };
  let early: TargetReply | null = null;
  try {
    const auth = plan.auth ? await conn.readReply(timeoutMs) : null;
    const select = plan.select ? await conn.readReply(timeoutMs) : null;
    early = auth?.error ? auth : select?.error ? select : null;
  } catch (err) {
    out.io = ioError(err);
    return out;
  }
  for (const item of plan.items) {
    let reply: TargetReply;
    try {
      reply = await conn.readReply(timeoutMs);
    } catch (err) {
      out.io = ioError(err);
      break;
    }
    out.received++;
    const failed = early ?? (reply.error ? reply : null);
    if (failed === null) out.acked.push(item);
    else if (out.targetError === null) {
      conn.lastDb = -1; // the target's selected db is no longer known
      out.targetError = failed.text;
    }
  }
  return out;
}

/** Maps the replies to the result; retries once when nothing was processed and no timeout occurred. */
function conclude(
  pool: MigratePool, conn: MigrateConn, req: MigrateRequest, r: Replies, mayRetry: boolean,
): MigrateResult | Promise<MigrateResult> {
  if (r.io !== null) conn.destroy();
  if (r.targetError !== null) {
    pool.release(conn);
    return { acked: r.acked, error: TARGET_ERROR + r.targetError };
  }
  if (r.io !== null) {
    if (r.received === 0 && mayRetry && !r.io.timedOut) return attempt(pool, req, false);
    return { acked: r.acked, error: READ_ERROR };
  }
  conn.lastDb = req.db;
  pool.release(conn);
  return { acked: r.acked, error: null };
}
