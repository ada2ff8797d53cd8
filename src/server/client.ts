import { ParseStatus, RequestParser } from '../protocol/parser.js';
import { ReplyWriter } from '../protocol/reply.js';
import type { StreamSocket } from '../runtime/index.js';
import type { Database } from '../store/database.js';
import { PREFETCH_BATCH_KEYS, type KeyPrefetch } from '../store/prefetch.js';
import type { Transaction, WatchedKey } from './multi.js';
import type { ClientSubscriptions } from './pubsub.js';
import type { Server } from './server.js';
import type { ClientTracking } from './tracking.js';

/**
 * After a pipelined batch with nothing to prefetch (one key over and over),
 * this many batches run without peeking: the peek costs 5% of such a
 * pipeline, and a change of workload is noticed within a few hundred commands.
 */
const PREFETCH_BACKOFF_BATCHES = 8;

/** Input up to this size waits for the end of the I/O round (Server.inputLater); more runs at once. */
const DEFERRED_INPUT_MAX_BYTES = 16 * 1024;

/** Above this much unsent output we stop reading the client until the socket drains. */
const OUTPUT_HIGH_WATER_BYTES = 32 * 1024 * 1024;

export const enum ReplyMode {
  On,
  Off,
  /** Suppress the reply of the next command only. */
  Skip,
  /** Set by CLIENT REPLY SKIP: becomes Skip after the current command. */
  SkipNext,
}

/**
 * One client connection: its socket, request parser, reply buffer and the
 * per-client state commands read and change (db, protocol, name, auth...).
 */
export class Client {
  readonly parser: RequestParser;
  readonly reply = new ReplyWriter();
  db: Database;
  name = '';
  libName = '';
  libVersion = '';
  authenticated: boolean;
  user = 'default';
  readonly createdAtMs: number;
  /**
   * Initialized with a number: a field declared bare starts as undefined
   * (ES2022 class fields), and V8 then keeps it as a tagged field that boxes
   * a fresh heap number on every store, once per request here.
   */
  lastInteractionMs = 0;
  /** Full name of the last command run ("client|list"), for CLIENT LIST. */
  lastCommand = 'NULL';
  replyMode = ReplyMode.On;
  /** CLIENT NO-EVICT / NO-TOUCH. */
  noEvict = false;
  noTouch = false;
  /** Receiving MONITOR output. */
  monitor = false;
  /** Reply and then close (QUIT, protocol error, CLIENT KILL of self). */
  closeAfterReply = false;
  closed = false;
  /** Reading paused: by CLIENT PAUSE, output backpressure, or a blocking command. */
  private readPaused = false;
  /** Set while the server holds this client (CLIENT PAUSE); processing resumes via resume(). */
  paused = false;
  /** The command that found the server paused; it runs first on resume. */
  deferredCommand: string[] | null = null;
  /** Set while a command waits for I/O (MIGRATE): no further input runs until it ends with endWait(). */
  private waiting = false;
  /** Cluster: ASKING was sent (valid for the next command only), READONLY is on. */
  asking = false;
  readOnly = false;
  /** Bytes read / written (INFO stats, CLIENT LIST tot-net-*). */
  netInputBytes = 0;
  netOutputBytes = 0;
  commandsProcessed = 0;
  /** The open MULTI, or null (src/server/multi.ts). */
  multi: Transaction | null = null;
  /** Keys this client WATCHes, or null when none. */
  watching: WatchedKey[] | null = null;
  /** A watched key changed (CLIENT_DIRTY_CAS): the next EXEC replies null. */
  dirtyCas = false;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** What MONITOR shows instead of the address ("lua" for the scripting engine's client). */
  monitorLabel: string | null = null;

  constructor(
    readonly id: number,
    readonly socket: StreamSocket,
    readonly server: Server,
  ) {
    this.db = server.keyspace.db(0);
    this.authenticated = server.config.get('requirepass') === '';
    this.createdAtMs = server.now();
    this.lastInteractionMs = this.createdAtMs;
    this.parser = new RequestParser({
      maxBulkBytes: () => server.protoMaxBulkLen,
      requireAuth: () => !this.authenticated,
    });
    this.reply.onError = (message) => server.stats.countError(message);
    this.localAddress = `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`;
    this.remoteAddress = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => this.server.clients.remove(this));
    socket.on('close', () => this.server.clients.remove(this));
    socket.on('drain', () => this.onDrain());
  }

  get dbIndex(): number {
    return this.db.id;
  }

  /** Pub/sub subscriptions (src/server/pubsub.ts), null when none. */
  subs: ClientSubscriptions | null = null;
  /** Client-side caching mode (CLIENT TRACKING, src/server/tracking.ts), null while tracking is off. */
  tracking: ClientTracking | null = null;
  /** When unsent output went over the soft client-output-buffer-limit (0: it is under). */
  softLimitSinceMs = 0;

  /** Channels, patterns and shard channels this client is subscribed to. */
  get subscriptionCount(): number {
    return this.subs === null ? 0 : this.subs.total;
  }

  /** RESP2 clients with subscriptions may only run (P|S)SUBSCRIBE, UNSUBSCRIBE, PING, QUIT, RESET. */
  inSubscribedMode(): boolean {
    return this.subs !== null && this.reply.resp === 2;
  }

  /**
   * An out-of-band message (pub/sub, invalidation) was written: it goes out
   * now, even under CLIENT REPLY OFF, and a client that does not read is
   * closed at its output buffer limit instead of growing memory.
   */
  pushed(): void {
    this.flush();
    this.server.enforceOutputLimit(this);
  }

  get resp(): 2 | 3 {
    return this.reply.resp;
  }

  /** Writes an error reply (counted in INFO errorstats). */
  error(message: string): void {
    this.reply.error(message);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.netInputBytes += chunk.length;
    this.server.stats.netInputBytes += chunk.length;
    this.parser.feed(chunk);
    if (this.parser.pendingBytes > this.server.queryBufferLimit) {
      this.server.log.warn({ client: this.remoteAddress }, 'closing client that reached max query buffer length');
      this.close();
      return;
    }
    // A socket whose replies wait for the end of the I/O round lets its input
    // wait too (Server.inputLater); large input runs at once instead of
    // being copied and re-concatenated while it waits.
    const later = this.socket.deferWrites === true && this.parser.pendingBytes <= DEFERRED_INPUT_MAX_BYTES;
    if (later) this.server.inputLater(this);
    else this.processInput();
    // The transport may reuse the chunk's memory for the next read.
    this.parser.own();
  }

  /** Queued in the server's input round (Server.inputLater). */
  inputQueued = false;

  /**
   * Adds the keys (and members) of the next commands in the input, up to
   * maxCommands, to batch; returns how many commands it looked at
   * (Server.runQueuedInput, prefetchPipeline).
   */
  prefetchNext(batch: KeyPrefetch, maxCommands: number): number {
    if (this.closed || this.paused || this.waiting) return 0;
    batch.use(this.db);
    return this.parser.peekKeys(batch, maxCommands);
  }

  /** Runs every complete command in the input buffer, then flushes the replies. */
  processInput(): void {
    this.server.beginBatch();
    this.lastInteractionMs = this.server.nowMs();
    /** Commands after the current one that the last prefetchPipeline() covered. */
    let prefetched = 0;
    while (!this.closed && !this.paused && !this.waiting && !this.closeAfterReply) {
      const status = this.parser.next();
      // Looks past the command just parsed: nothing there when the client does not pipeline.
      if (status === ParseStatus.Command && prefetched-- === 0) prefetched = this.prefetchPipeline();
      if (status === ParseStatus.NeedMore) break;
      if (status === ParseStatus.Error) {
        this.error(`ERR ${this.parser.error}`);
        this.server.log.debug({ client: this.remoteAddress, error: this.parser.error }, 'protocol error');
        this.closeAfterReply = true;
        break;
      }
      this.server.call(this, this.parser.command);
    }
    if (this.socket.deferWrites === true) this.server.flushLater(this);
    else {
      this.flush();
      // The I/O round still ends after this turn, as it does for deferred sockets: its writes are
      // captured for replication then (Server.flushRound), so the simulator's one-command rounds
      // batch as production's do.
      this.server.endRoundLater();
    }
  }

  /**
   * With more commands buffered after the one about to run (a pipeline),
   * reads their keys into the CPU cache together (KeyPrefetch); returns how
   * many commands that covered.
   */
  private prefetchPipeline(): number {
    if (this.prefetchSkips > 0) {
      this.prefetchSkips--;
      return PREFETCH_BATCH_KEYS;
    }
    const batch = this.server.keyPrefetch;
    const seen = this.prefetchNext(batch, PREFETCH_BATCH_KEYS);
    if (seen > 0 && !batch.run()) this.prefetchSkips = PREFETCH_BACKOFF_BATCHES;
    return seen;
  }

  /** Batches of pipelined commands left to run without peeking (after a batch that had nothing to prefetch). */
  private prefetchSkips = 0;

  /** Queued for the server's end-of-I/O flush (Server.flushLater). */
  flushQueued = false;

  /** Sends buffered replies; honours CLIENT REPLY OFF/SKIP and closes after QUIT. */
  flush(): void {
    if (this.closed) return;
    // The batch's writes reach the log (and the disk under appendfsync always) before its replies.
    this.server.persistence?.beforeReply();
    const sent = this.send();
    if (sent > 0) {
      this.netOutputBytes += sent;
      this.server.stats.netOutputBytes += sent;
    }
    if (this.closeAfterReply) {
      this.closed = true;
      // Close fully, not half: a client still sending must see the connection drop (as Redis's close()).
      this.socket.end();
      this.socket.destroySoon?.();
      this.server.clients.remove(this);
      return;
    }
    if (!this.readPaused && this.socket.writableLength > OUTPUT_HIGH_WATER_BYTES) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  /** Hands the pending replies to the socket; returns the bytes written. */
  private send(): number {
    const socket = this.socket;
    if (socket.writeBorrowed !== undefined) return this.reply.sendTo(socket as Required<Pick<StreamSocket, 'writeBorrowed'>>);
    const out = this.reply.take();
    if (out === null) return 0;
    socket.write(out);
    return out.length;
  }

  private onDrain(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.socket.resume();
    this.processInput();
  }

  /**
   * The running command continues asynchronously (MIGRATE talks to another
   * node): the client's further input waits. The command must write its one
   * reply and then call endWait().
   */
  beginWait(): void {
    this.waiting = true;
  }

  /** The waiting command replied: send it and run whatever input arrived meanwhile. */
  endWait(): void {
    if (!this.waiting) return;
    this.waiting = false;
    if (this.closed) return;
    this.processInput();
  }

  /** Resumes a client held by CLIENT PAUSE. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const argv = this.deferredCommand;
    this.deferredCommand = null;
    if (argv !== null) this.server.call(this, argv);
    this.processInput();
  }

  /** Closes the connection now, dropping unsent output. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.server.clients.remove(this);
  }

  /** Bytes of the query buffer (CLIENT LIST qbuf). */
  get queryBufferBytes(): number {
    return this.parser.pendingBytes;
  }

  /** Bytes of pending output (CLIENT LIST omem). */
  get outputBytes(): number {
    return this.socket.writableLength + this.reply.pendingBytes;
  }
}
