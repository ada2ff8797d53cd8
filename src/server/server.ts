import { startCluster } from '../cluster/bootstrap.js';
import { releaseEntry } from '../commands/memory.js';
import { closeMigrateSockets } from '../commands/migrate.js';
import { hashLimitsOf } from '../commands/hashes-common.js';
import { maxIntsetEntriesOf } from '../commands/sets-common.js';
import { streamLimits } from '../commands/streams-common.js';
import { zsetLimitsOf } from '../commands/zsets-common.js';
import type { Cluster } from '../cluster/cluster.js';
import type { ClusterControl } from '../cluster/control.js';
import { routed, routeRequest } from '../cluster/routing.js';
import { arityOk, type CommandTable } from '../commands/table.js';
import { FLAG, type Command } from '../commands/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Listener, Runtime, StreamSocket, TimerHandle } from '../runtime/index.js';
import { parseBusAddress } from '../replication/peer.js';
import { Replicator } from '../replication/replicator.js';
import type { Database, KeyspaceListener } from '../store/database.js';
import type { Entry } from '../store/entry.js';
import type { BusAddress } from '../transport/bus.js';
import { Keyspace } from '../store/keyspace.js';
import { KeyPrefetch } from '../store/prefetch.js';
import type { Persistence } from '../persistence/persistence.js';
import { BlockingRegistry } from './blocking.js';
import { Client, ReplyMode } from './client.js';
import { ClientRegistry } from './clients.js';
import { formatMonitorLine } from './monitor.js';
import { Transactions } from './multi.js';
import { ERR_OOM, Evictor } from './evict.js';
import { KeyEvents } from './notify.js';
import { overLimit, parseOutputLimits, type LimitClass, type OutputLimit } from './output-limits.js';
import { PubSub } from './pubsub.js';
import { SlowLog } from './slowlog.js';
import { ServerStats } from './stats.js';
import { Tracking } from './tracking.js';

/** Redis's reply while it loads its dataset; here also while a node catches up with its peers. */
const ERR_LOADING = 'LOADING Redis is loading the dataset in memory';

/** Active expire: keys sampled per step and the share of expired keys that makes the cycle repeat. */
const EXPIRE_SAMPLES_PER_STEP = 20;
const EXPIRE_REPEAT_PERCENT = 10;
/** Share of each cron period the active expire cycle may use (Redis: 25%). */
const EXPIRE_CPU_PERCENT = 25;

export type PauseKind = 'write' | 'all';

/** Told of every key write and expiry: (db, key, keyspace event name). */
export type KeyWriteObserver = (db: Database, key: string, event: string) => void;

/**
 * A Strata node's request-serving core: listeners, clients, the command
 * table, the keyspace and the cron. Built from a Runtime so that the
 * simulator can run it on virtual time and a virtual network.
 */
export class Server implements KeyspaceListener {
  readonly keyspace: Keyspace;
  readonly clients = new ClientRegistry();
  readonly stats: ServerStats;
  readonly slowlog: SlowLog;
  readonly startedAtMs: number;
  readonly runId: string;
  /** Unix ms snapshot for the running command (expiry decisions are consistent within one command). */
  private cmdNowMs = 0;
  /**
   * One I/O batch reads the wall clock once; each command then reads only the
   * monotonic clock, which gives both its duration and the next command's time.
   */
  private batchWallMs = 0;
  private batchMonoMs = 0;
  private lastMonoMs = 0;
  /** client-query-buffer-limit, cached for the per-read check. */
  queryBufferLimit = 0;
  /** proto-max-bulk-len, cached for the per-argument check. */
  protoMaxBulkLen = 0;
  private listeners: Listener[] = [];
  private cronHandle: TimerHandle | null = null;
  /** CLIENT PAUSE state. */
  pauseKind: PauseKind | null = null;
  pauseEndMs = 0;
  private readonly pausedClients = new Set<Client>();
  /** DEBUG SET-ACTIVE-EXPIRE. */
  activeExpireEnabled = true;
  lastSaveSec: number;
  /** Listening port (actual, when 0 was asked). */
  port = 0;
  private shutdownHandler: ((reason: string) => void) | null = null;
  /** Replication ids (INFO replication master_replid/master_replid2; DEBUG CHANGE-REPL-ID). */
  replId = '';
  replId2 = '0000000000000000000000000000000000000000';
  /** Clients blocked on keys (BLPOP & co.), served after each command. */
  readonly blocking: BlockingRegistry;
  /** MULTI/EXEC and the WATCH registry. */
  readonly transactions: Transactions;
  /** Pub/sub subscriptions (channels, patterns, shard channels, KSUB) and delivery. */
  readonly pubsub = new PubSub();
  /** Keyspace notifications and KSUB events. */
  readonly keyEvents: KeyEvents;
  /** Client-side caching (CLIENT TRACKING) and its invalidation messages. */
  readonly tracking: Tracking;
  /** Reads batches of keys into the CPU cache ahead of the commands that use them (one command runs at a time). */
  readonly keyPrefetch = new KeyPrefetch();
  /** maxmemory (0: no limit, no eviction work at all) and the evictor. */
  private maxmemoryBytes = 0;
  private readonly evictor: Evictor;
  /** client-output-buffer-limit, parsed. */
  private outputLimits = new Map<LimitClass, OutputLimit>();
  /** Active-active replication with --peers; null on a stand-alone node. */
  replication: Replicator | null = null;
  /** Cluster mode (cluster-enabled yes); null otherwise. */
  cluster: ClusterControl | null = null;
  /** The log and snapshots (src/persistence/); createNode sets it. */
  persistence: Persistence | null = null;
  private clusterMode: Cluster | null = null;
  /**
   * Set while a script runs past busy-reply-threshold (src/scripting/): the
   * -BUSY error every command without allow_busy gets meanwhile.
   */
  busyError: string | null = null;
  /** The arguments of the command running now (a blocking command keeps them for SLOWLOG). */
  runningArgv: readonly string[] = [];
  /** Error replies already attributed to a command (Redis's prev_err_count): EXEC does not fail for its queued commands' errors. */
  private errorsCounted = 0;

  /** used_memory before any data: what a FLUSHALL of every key gives back, at most (keys.ts flush). */
  readonly emptyHeapBytes: number;

  constructor(
    readonly runtime: Runtime,
    readonly config: Config,
    readonly log: Logger,
    readonly commands: CommandTable,
  ) {
    this.emptyHeapBytes = runtime.process.heapUsed();
    const seed = runtime.random.int(0x7fffffff);
    this.keyspace = new Keyspace(config.int('databases'), seed, this, this);
    this.stats = new ServerStats(commands.all.length);
    this.slowlog = new SlowLog();
    this.slowlog.bind(config);
    this.startedAtMs = runtime.clock.nowMs();
    this.lastSaveSec = Math.floor(this.startedAtMs / 1000);
    this.runId = runtime.random.bytes(20).toString('hex');
    this.changeReplicationId();
    this.blocking = new BlockingRegistry(this);
    this.transactions = new Transactions(this);
    this.keyEvents = new KeyEvents(config, this.pubsub);
    this.evictor = new Evictor(this);
    this.maxmemoryBytes = config.int('maxmemory');
    this.tracking = new Tracking(this);
    const dropSubscriptions = (c: Client): void => this.pubsub.removeClient(c);
    this.clients.onReset(dropSubscriptions);
    this.clients.onRemove(dropSubscriptions);
    this.outputLimits = parseOutputLimits(config.get('client-output-buffer-limit')) as Map<LimitClass, OutputLimit>;
    this.cmdNowMs = this.startedAtMs;
    this.queryBufferLimit = config.int('client-query-buffer-limit');
    this.protoMaxBulkLen = config.int('proto-max-bulk-len');
    const applyLfu = (): void =>
      this.keyspace.setLfuParams(config.int('lfu-log-factor'), config.int('lfu-decay-time'), config.get('maxmemory-policy').endsWith('-lfu'));
    applyLfu();
    config.onChange((name) => {
      if (name === 'hz') this.scheduleCron();
      if (name === 'client-query-buffer-limit') this.queryBufferLimit = config.int(name);
      if (name === 'proto-max-bulk-len') this.protoMaxBulkLen = config.int(name);
      if (name === 'maxmemory' || name === 'maxmemory-policy') this.applyMaxmemory();
      if (name === 'client-output-buffer-limit') this.outputLimits = parseOutputLimits(config.get(name)) as Map<LimitClass, OutputLimit>;
      if (name === 'lfu-log-factor' || name === 'lfu-decay-time' || name === 'maxmemory-policy') applyLfu();
    });
  }

  // ---- CommandClock ----------------------------------------------------

  /** Unix ms as seen by the running command. */
  nowMs(): number {
    return this.cmdNowMs;
  }

  /** Sets the command clock back to `ms`: EXEC runs every queued command at its own start time. */
  holdNowMs(ms: number): void {
    this.cmdNowMs = ms;
  }

  /** Expired keys are kept (not deleted on access) while writes are paused, as Redis does. */
  get expiryPaused(): boolean {
    return this.pauseKind !== null;
  }

  /** Fresh wall-clock ms. */
  now(): number {
    return this.runtime.clock.nowMs();
  }

  // ---- KeyspaceListener ------------------------------------------------

  /** Observers of every key write (keyspace notifications, KSUB, tracking, replication). */
  private readonly writeObservers: KeyWriteObserver[] = [];

  observeWrites(observer: KeyWriteObserver): void {
    this.writeObservers.push(observer);
  }

  keyWritten(db: Database, key: string, event: string): void {
    const r = this.replication;
    if (r !== null) r.crdt.written(db, key, event);
    this.stats.dirty++;
    for (const o of this.writeObservers) o(db, key, event);
    this.keyEvents.emit(db, key, event);
  }

  /** A peer's write was merged into db: the same observers as a local write, no new CRDT operation. */
  remoteWrite(db: Database, key: string, event: string): void {
    this.stats.dirty++;
    for (const o of this.writeObservers) o(db, key, event);
    this.keyEvents.emit(db, key, event);
  }

  /** ReplicaHost: how far this node's state survives a crash (src/persistence/persistence.ts). */
  durableHlc(): number {
    return this.persistence?.durableHlc ?? Infinity;
  }

  deliverPublished(channel: string, message: string, shard: boolean): void {
    if (shard) this.pubsub.publishShard(channel, message);
    else this.pubsub.publish(channel, message);
  }

  /**
   * PUBLISH/SPUBLISH: delivered here, then forwarded: to every cluster node
   * (SPUBLISH: this shard's nodes) or to every peer of the active-active
   * group. Returns the receivers on this node, as Redis counts them.
   */
  publish(channel: string, message: string, shard: boolean): number {
    const receivers = shard ? this.pubsub.publishShard(channel, message) : this.pubsub.publish(channel, message);
    if (this.cluster !== null) this.cluster.publish(channel, message, shard);
    else if (this.replication !== null) this.replication.publish(channel, message, shard);
    return receivers;
  }

  /** Runs fn (EXEC's commands, a script) as one unit: peers apply its writes together or not at all. */
  atomically(fn: () => void): void {
    this.beginAtomic();
    try {
      fn();
    } finally {
      this.endAtomic();
    }
  }

  /** The open form of atomically(), for a script that runs across event-loop turns (busy). */
  beginAtomic(): void {
    this.replication?.beginUnit();
  }

  endAtomic(): void {
    this.replication?.endUnit();
  }

  keyCreated(db: Database, key: string): void {
    this.keyEvents.created(db, key);
  }

  /** Runs fn (merging replicated states) as a command runs: fresh command clock, blocked clients served after. */
  runAsCommand(fn: () => void): void {
    this.beginBatch();
    fn();
    if (this.blocking.hasReady) this.blocking.serveReady();
  }

  keyExpired(db: Database, key: string, e: Entry): void {
    // As for DEL: used_memory drops at once, or volatile-* eviction would go on evicting live keys until the next major GC.
    releaseEntry(this.runtime.process, e);
    const r = this.replication;
    if (r !== null) r.crdt.expired(db, key);
    this.stats.expiredKeys++;
    this.stats.dirty++;
    for (const o of this.writeObservers) o(db, key, 'expired');
    this.keyEvents.emit(db, key, 'expired');
  }

  /** A fresh random replication id (changeReplicationId); the old one is forgotten. */
  changeReplicationId(): void {
    this.replId = this.runtime.random.bytes(20).toString('hex');
    this.replId2 = '0000000000000000000000000000000000000000';
  }

  // ---- lifecycle -------------------------------------------------------

  async start(): Promise<void> {
    const port = this.config.int('port');
    const hosts = this.config.get('bind').split(/\s+/).filter(Boolean).map((h) => h.replace(/^-/, ''));
    for (const host of hosts.length ? hosts : ['127.0.0.1']) {
      const listenHost = host === '*' ? '0.0.0.0' : host === '::*' ? '::' : host;
      const l = await this.runtime.transport.listen(
        { host: listenHost, port: this.port || port, backlog: this.config.int('tcp-backlog') },
        (socket) => this.accept(socket),
      );
      this.port = l.port;
      this.listeners.push(l);
    }
    this.scheduleCron();
    if (this.config.bool('cluster-enabled')) this.clusterMode = await startCluster(this, hosts[0] ?? '127.0.0.1');
    else await this.startReplication(hosts[0] ?? '127.0.0.1');
    this.log.info({ port: this.port }, 'Ready to accept connections tcp');
  }

  /** With --peers: joins the active-active group on the bus port (port + 10000 unless bus-port is set). */
  private async startReplication(bindHost: string): Promise<void> {
    const peers = peerBusAddresses(this.config.get('peers'));
    if (peers.length === 0) return;
    const busPort = this.config.int('bus-port') || this.port + 10000;
    const host = bindHost === '*' || bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost;
    const listen = { host, port: busPort };
    this.replication = this.createReplicator(listen, `${host}:${busPort}`, peers);
    await this.replication.start();
    this.replication.startPeerSync(this.config.int('peer-sync-timeout-ms'));
    this.log.info({ busPort, peers: peers.length }, 'Replication bus listening');
  }

  /**
   * The replicator of this node: `listen` null when the cluster bus carries
   * its messages; `name` is how peers know this node.
   */
  createReplicator(listen: BusAddress | null, name: string, peers: BusAddress[]): Replicator {
    const r = new Replicator(this, this.runtime, this.runtime.createBus(this.log), this.log, {
      selfId: this.runId,
      listen,
      name,
      peers,
      localAddress: this.config.get('bind-source-addr'),
      deltaLogEntries: this.config.int('delta-log-entries'),
      heartbeatMs: 100,
      antiEntropyMs: this.config.int('anti-entropy-interval-ms'),
    });
    const config = this.config;
    r.crdt.containers.limits = {
      get hash() {
        return hashLimitsOf(config);
      },
      get intsetMax() {
        return maxIntsetEntriesOf(config);
      },
      get zset() {
        return zsetLimitsOf(config);
      },
      get stream() {
        return streamLimits(config);
      },
    };
    return r;
  }

  async stop(): Promise<void> {
    if (this.cronHandle) this.runtime.timer.clearInterval(this.cronHandle);
    this.cronHandle = null;
    this.persistence?.stop();
    for (const c of [...this.clients.all()]) c.close();
    closeMigrateSockets(this);
    await this.clusterMode?.stop();
    await this.replication?.stop();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners = [];
  }

  /** Registers what SHUTDOWN (the command) does: the process owner stops and exits, logging why. */
  onShutdown(handler: (reason: string) => void): void {
    this.shutdownHandler = handler;
  }

  /** Set once a shutdown went ahead: later requests (a second SHUTDOWN, a signal) change nothing. */
  private shuttingDown = false;

  /**
   * prepareForShutdown, then the stop: the final snapshot of `mode`
   * (Persistence.saveBeforeShutdown), then the handler. False when the node
   * cannot stop: no handler, or the snapshot failed and `force` is not set
   * (SHUTDOWN then replies an error and a signal leaves the node running, as
   * Redis does).
   */
  requestShutdown(mode: 'default' | 'save' | 'nosave', force: boolean, reason = 'SHUTDOWN command'): boolean {
    if (this.shuttingDown) return true;
    if (!this.shutdownHandler) return false;
    const saved = this.persistence?.saveBeforeShutdown(mode) ?? true;
    if (!saved && !force) return false;
    this.shuttingDown = true;
    this.shutdownHandler(reason);
    return true;
  }

  /** Serves a connected socket (the listeners call this; the simulator too, with an in-process socket). */
  accept(socket: StreamSocket): void {
    this.stats.totalConnections++;
    if (this.clients.size >= this.config.int('maxclients')) {
      this.stats.rejectedConnections++;
      socket.write('-ERR max number of clients reached\r\n');
      socket.end();
      return;
    }
    if (this.protectedModeRefuses(socket.remoteAddress)) {
      socket.write(PROTECTED_MODE_DENIED);
      socket.end();
      return;
    }
    socket.setNoDelay?.(true);
    const c = new Client(this.clients.allocateId(), socket, this);
    this.clients.add(c);
  }

  /** protected-mode: without a password, only loopback clients are served (Redis 7.0's clientAcceptHandler). */
  private protectedModeRefuses(remote: string | undefined): boolean {
    if (!this.config.bool('protected-mode') || this.config.get('requirepass') !== '') return false;
    if (remote === undefined || remote === '') return false;
    return !isLoopback(remote);
  }

  // ---- command dispatch -----------------------------------------------

  /** Looks up, checks and runs one command (processCommand + call). */
  call(c: Client, argv: string[]): void {
    // With CLIENT REPLY OFF/SKIP this command's reply is dropped: send earlier ones first.
    if (c.replyMode !== ReplyMode.On) c.flush();
    const cmd = this.resolve(c, argv);
    if (cmd === null) return;
    if (this.cluster !== null && this.redirected(c, cmd, argv)) return;
    if (this.busyError !== null && (cmd.flagBits & FLAG.allow_busy) === 0) {
      this.rejectBusy(c, cmd);
      return;
    }
    if (this.replication !== null && this.replication.loading && (cmd.flagBits & FLAG.loading) === 0) {
      this.reject(c, cmd, ERR_LOADING);
      return;
    }
    if (c.subs !== null && c.inSubscribedMode() && !SUBSCRIBED_MODE_COMMANDS.has(cmd.fullName)) {
      this.reject(c, cmd, `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
      return;
    }
    if (this.maxmemoryBytes !== 0 && !this.memoryAllows(c, cmd)) {
      this.reject(c, cmd, ERR_OOM);
      return;
    }
    if ((cmd.flagBits & FLAG.write) !== 0 || (c.multi !== null && cmd.fullName === 'exec' && (c.multi.flagBits & FLAG.write) !== 0)) {
      const refusal = this.persistence?.writeRefusal ?? null;
      if (refusal !== null) {
        this.reject(c, cmd, refusal);
        return;
      }
    }
    if (this.pauseKind !== null && this.shouldPause(c, cmd)) {
      c.paused = true;
      c.deferredCommand = argv;
      this.pausedClients.add(c);
      return;
    }
    this.tracking.limitKeys();
    if (c.multi !== null && this.transactions.queue(c, cmd, argv)) return;
    const outer = this.tracking.enter(c);
    this.execute(c, cmd, argv);
    if (this.blocking.hasReady) this.blocking.serveReady();
    this.tracking.leave(c, cmd, argv, outer);
  }

  /** The last name resolve() looked up and its command: the parser hands the same string object for a repeated name. */
  private lastName = '';
  private lastTop: Command | undefined = undefined;

  /** Finds the command and applies the checks that reject it before running; null if rejected. */
  private resolve(c: Client, argv: string[]): Command | null {
    const name = argv[0]!;
    let cmd = name === this.lastName ? this.lastTop : this.commands.lookupTop(name);
    this.lastName = name;
    this.lastTop = cmd;
    if (cmd === undefined) {
      this.reject(c, null, `ERR unknown command '${truncate(name, 128)}', with args beginning with: ${describeArgs(argv)}`);
      return null;
    }
    if (cmd.subcommands !== null && argv.length >= 2) {
      const sub = cmd.subcommands.get(argv[1]!.toLowerCase());
      if (sub === undefined) {
        this.reject(c, null, `ERR unknown subcommand '${truncate(argv[1]!, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
        return null;
      }
      cmd = sub;
    }
    if (!arityOk(cmd.arity, argv.length)) {
      this.reject(c, cmd, `ERR wrong number of arguments for '${cmd.fullName}' command`);
      return null;
    }
    if (!c.authenticated && (cmd.flagBits & FLAG.no_auth) === 0) {
      this.reject(c, cmd, 'NOAUTH Authentication required.');
      return null;
    }
    return cmd;
  }

  /**
   * Cluster routing: a command whose keys this node does not serve gets
   * -MOVED/-ASK/-CROSSSLOT/-TRYAGAIN/-CLUSTERDOWN (a rejected EXEC ends its
   * transaction; a rejected queued command makes EXEC abort).
   */
  private redirected(c: Client, cmd: Command, argv: string[]): boolean {
    const asking = c.asking;
    if (cmd.fullName !== 'asking') c.asking = false;
    if (!routed(cmd)) return false;
    const error = routeRequest(this.cluster!, c, cmd, argv, asking);
    if (error === null) return false;
    if (cmd.fullName === 'exec' && c.multi !== null) this.transactions.discard(c);
    this.reject(c, cmd, error);
    return true;
  }

  /** A busy script refuses the command; a refused EXEC also ends its transaction (execCommandAbort). */
  private rejectBusy(c: Client, cmd: Command): void {
    if (cmd.fullName === 'exec' && c.multi !== null) {
      this.transactions.discard(c);
      this.reject(c, cmd, `EXECABORT Transaction discarded because of: ${this.busyError!}`);
      return;
    }
    this.reject(c, cmd, this.busyError!);
  }

  /** rejectCommand: counts the rejection, replies the error and flags an open MULTI (EXEC will abort). */
  reject(c: Client, cmd: Command | null, message: string): void {
    if (cmd) this.stats.commands[cmd.id]!.rejectedCalls++;
    if (c.multi !== null) c.multi.aborted = true;
    c.error(message);
    this.afterReply(c);
  }

  /**
   * Clients whose replies wait for the end of this round of I/O callbacks.
   * Replies go out in one burst after every readable client was served (as
   * Redis's handleClientsWithPendingWrites): a benchmark or application
   * waiting on many connections is woken once per burst, not once per
   * connection, which on loopback costs more than the commands themselves.
   */
  private readonly flushQueue: Client[] = [];
  private flushScheduled = false;
  /**
   * Clients whose input of this round of I/O callbacks has not run yet. It
   * runs at the end of the round, before the replies go out: first the
   * keys of every such client's next command are read into the CPU cache
   * together (KeyPrefetch), then the commands run in arrival order. On a
   * large keyspace each lookup is a chain of memory misses; 50 clients'
   * chains in flight at once cost little more than one.
   */
  private readonly inputQueue: Client[] = [];

  flushLater(c: Client): void {
    if (c.flushQueued) return;
    c.flushQueued = true;
    this.flushQueue.push(c);
    this.scheduleRound();
  }

  /** Client.onData: c's input runs at the end of this round of I/O (see inputQueue). */
  inputLater(c: Client): void {
    if (!c.inputQueued) {
      c.inputQueued = true;
      this.inputQueue.push(c);
    }
    this.scheduleRound();
  }

  /** Ends this I/O round after the current turn (a socket that wrote its replies at once: Client.processInput). */
  endRoundLater(): void {
    this.scheduleRound();
  }

  private scheduleRound(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.runtime.timer.setImmediate(this.flushRound);
  }

  /** The end of an I/O round: queued input runs, then every queued client's replies go out. */
  private readonly flushRound = (): void => {
    this.runQueuedInput();
    if (this.replication !== null) this.replication.captureRound();
    this.flushScheduled = false;
    const queue = this.flushQueue;
    for (let i = 0; i < queue.length; i++) {
      const c = queue[i]!;
      c.flushQueued = false;
      c.flush();
    }
    queue.length = 0;
  };

  private runQueuedInput(): void {
    const queue = this.inputQueue;
    if (queue.length === 0) return;
    const batch = this.keyPrefetch;
    for (let i = 0; i < queue.length; i++) queue[i]!.prefetchNext(batch, 1);
    batch.run();
    for (let i = 0; i < queue.length; i++) {
      const c = queue[i]!;
      c.inputQueued = false;
      c.processInput();
    }
    queue.length = 0;
  }

  /** Starts an I/O batch: samples the wall clock for the commands that follow. */
  beginBatch(): void {
    const clock = this.runtime.clock;
    this.batchWallMs = Math.floor(clock.nowMs());
    this.batchMonoMs = clock.monotonicMs();
    this.lastMonoMs = this.batchMonoMs;
    this.cmdNowMs = this.batchWallMs;
  }

  /** Runs a resolved command and records its statistics, slowlog entry and MONITOR feed. */
  execute(c: Client, cmd: Command, argv: string[]): void {
    this.errorsCounted = this.stats.totalErrorReplies;
    const started = this.lastMonoMs;
    this.runningArgv = argv;
    try {
      cmd.handler!(c, argv);
    } catch (err) {
      this.handlerFailed(c, cmd, err);
    }
    if ((cmd.flagBits & FLAG.readonly) !== 0 && this.tracking.clientCount > 0) this.tracking.readDone(c, cmd, argv);
    // After the command, as Redis: MULTI's commands show before EXEC.
    if (this.clients.monitors.size > 0 && (cmd.flagBits & (FLAG.skip_monitor | FLAG.admin)) === 0) this.feedMonitors(c, argv);
    const ended = this.runtime.clock.monotonicMs();
    this.lastMonoMs = ended;
    // Whole milliseconds, as Redis's mstime(): TTLs and expire times are integers in replies and on the bus.
    this.cmdNowMs = Math.floor(this.batchWallMs + (ended - this.batchMonoMs));
    const durationUs = Math.round((ended - started) * 1000);
    const st = this.stats.commands[cmd.id]!;
    st.calls++;
    st.usec += durationUs;
    if (this.stats.totalErrorReplies !== this.errorsCounted) st.failedCalls++;
    this.errorsCounted = this.stats.totalErrorReplies;
    this.stats.totalCommands++;
    c.commandsProcessed++;
    c.lastCommand = cmd.fullName;
    // A command that blocked is logged when it is served (BlockingRegistry), as Redis does.
    if ((cmd.flagBits & FLAG.skip_slowlog) === 0 && !c.paused) this.slowlog.maybeAdd(this, c, argv, durationUs);
    this.afterReply(c);
  }

  /**
   * A handler threw: a bug, never a client's fault. The client gets an error
   * instead of the whole node (every other client's connection) dying with
   * the exception unwinding out of the socket callback.
   */
  private handlerFailed(c: Client, cmd: Command, err: unknown): void {
    this.log.error({ err, command: cmd.fullName, client: c.remoteAddress }, 'command handler threw');
    c.error(`ERR internal error running '${cmd.fullName}' command`);
  }

  /** CLIENT REPLY OFF/SKIP bookkeeping after each command's reply. */
  afterReply(c: Client): void {
    if (c.replyMode === ReplyMode.On) return;
    if (c.replyMode === ReplyMode.SkipNext) {
      c.replyMode = ReplyMode.Skip;
      return;
    }
    c.reply.discard();
    if (c.replyMode === ReplyMode.Skip) c.replyMode = ReplyMode.On;
  }

  /** Writes a MONITOR line for c's command (scripts feed their EVAL/FCALL before running it, as Redis). */
  feedMonitors(c: Client, argv: string[]): void {
    const line = formatMonitorLine(this.runtime.clock.nowUs(), c.dbIndex, c.monitorLabel ?? c.remoteAddress, argv);
    for (const m of this.clients.monitors) {
      if (m === c) continue;
      m.reply.status(line);
      m.flush();
    }
  }

  /**
   * checkClientOutputBufferLimits: a client over its class's hard limit, or
   * over the soft limit for longer than soft-seconds, is closed (its unsent
   * output dropped) so that one slow reader cannot grow the node's memory.
   */
  enforceOutputLimit(c: Client): void {
    if (c.closed) return;
    const limit = this.outputLimits.get(c.subs !== null ? 'pubsub' : 'normal');
    if (limit === undefined || (limit.hardBytes === 0 && limit.softBytes === 0)) return;
    const since = overLimit(limit, c.outputBytes, c.softLimitSinceMs, this.nowMs());
    if (since !== -1) {
      c.softLimitSinceMs = since;
      return;
    }
    this.stats.clientsClosedForOutput++;
    this.log.warn({ client: c.remoteAddress, bytes: c.outputBytes }, 'Client closed for overcoming of output buffer limits.');
    c.close();
  }

  /**
   * Before a command under maxmemory: evict; a command that may grow memory
   * (denyoom, or an EXEC that queued one) is refused when eviction cannot
   * bring memory under the limit.
   */
  private memoryAllows(c: Client, cmd: Command): boolean {
    if (this.evictor.enforce() !== 'fail') return true;
    const bits = cmd.fullName === 'exec' && c.multi !== null ? cmd.flagBits | c.multi.flagBits : cmd.flagBits;
    return (bits & FLAG.denyoom) === 0;
  }

  /** CONFIG SET maxmemory / maxmemory-policy: evict now rather than at the next command. */
  private applyMaxmemory(): void {
    this.maxmemoryBytes = this.config.int('maxmemory');
    if (this.maxmemoryBytes !== 0) this.runAsCommand(() => this.evictor.enforce());
  }

  // ---- CLIENT PAUSE ---------------------------------------------------

  private shouldPause(c: Client, cmd: Command): boolean {
    if (this.now() >= this.pauseEndMs) {
      this.unpause();
      return false;
    }
    if (this.pauseKind === 'all') return true;
    // WRITE pauses writes and commands that may write (EVAL, PUBLISH in a cluster...), and an EXEC that queued one.
    const bits = c.multi !== null && cmd.fullName === 'exec' ? cmd.flagBits | c.multi.flagBits : cmd.flagBits;
    return (bits & (FLAG.write | FLAG.may_replicate)) !== 0;
  }

  pause(kind: PauseKind, untilMs: number): void {
    // A new pause never weakens one in effect (Redis keeps the stricter/later).
    if (this.pauseKind === 'all' && kind === 'write' && this.pauseEndMs > untilMs) return;
    this.pauseKind = kind;
    this.pauseEndMs = Math.max(untilMs, this.pauseKind === kind ? untilMs : this.pauseEndMs);
  }

  unpause(): void {
    this.pauseKind = null;
    this.pauseEndMs = 0;
    const held = [...this.pausedClients];
    this.pausedClients.clear();
    for (const c of held) c.resume();
  }

  // ---- cron -------------------------------------------------------------

  private scheduleCron(): void {
    if (this.listeners.length === 0 && this.cronHandle === null && this.port === 0) return;
    if (this.cronHandle) this.runtime.timer.clearInterval(this.cronHandle);
    const hz = Math.min(500, Math.max(1, this.config.int('hz')));
    this.cronHandle = this.runtime.timer.setInterval(() => this.cron(1000 / hz), 1000 / hz);
    this.cronHandle.unref?.();
  }

  /** serverCron: active expiry, client timeouts, pause expiry, metrics. */
  cron(periodMs: number): void {
    this.beginBatch();
    const now = this.cmdNowMs;
    this.stats.sampleOps(now);
    if (this.pauseKind !== null && now >= this.pauseEndMs) this.unpause();
    // No key expires under a running script: it must see the keyspace as of its start.
    if (this.activeExpireEnabled && this.busyError === null) this.activeExpireCycle(periodMs);
    if (this.config.bool('activerehashing')) this.activeRehash();
    // Not under a running script nor while writes are paused (Redis pauses eviction with them).
    if (this.maxmemoryBytes !== 0 && this.busyError === null && this.pauseKind === null) this.runAsCommand(() => this.evictor.staleCheck());
    this.closeIdleClients(now);
    this.tracking.limitKeys();
  }

  /**
   * activeExpireCycle: per database, sample keys with a TTL and delete the
   * expired ones, repeating while many of the samples were expired, within a
   * CPU budget per cron period so a mass expiry never stalls clients.
   */
  activeExpireCycle(periodMs: number): void {
    const clock = this.runtime.clock;
    const effort = this.config.int('active-expire-effort');
    const budgetMs = (periodMs * (EXPIRE_CPU_PERCENT + 2 * (effort - 1))) / 100;
    const start = clock.monotonicMs();
    const rand = (n: number): number => this.runtime.random.int(n);
    const samples = EXPIRE_SAMPLES_PER_STEP + 5 * (effort - 1);
    for (const db of this.keyspace.all()) {
      for (;;) {
        const [sampled, expired] = db.activeExpireStep(samples, rand);
        if (sampled === 0 || expired * 100 < sampled * EXPIRE_REPEAT_PERCENT) break;
        if (clock.monotonicMs() - start > budgetMs) {
          this.stats.expiredTimeCapReached++;
          return;
        }
      }
    }
  }

  /**
   * incrementallyRehash: a table left mid-rehash by writes that stopped holds
   * both its old and its new bucket array, and its samples skew; each cron
   * tick moves buckets for up to ACTIVE_REHASH_MS, as Redis does with
   * activerehashing yes.
   */
  private activeRehash(): void {
    const clock = this.runtime.clock;
    const start = clock.monotonicMs();
    for (const db of this.keyspace.all()) {
      while (db.rehash(ACTIVE_REHASH_BUCKETS)) if (clock.monotonicMs() - start >= ACTIVE_REHASH_MS) return;
    }
  }

  private closeIdleClients(now: number): void {
    const timeoutSec = this.config.int('timeout');
    if (timeoutSec <= 0) return;
    for (const c of [...this.clients.all()]) {
      if (c.monitor || c.paused) continue;
      if (now - c.lastInteractionMs > timeoutSec * 1000) c.close();
    }
  }
}

/** Buckets moved between two looks at the clock, and the time one cron tick may spend rehashing. */
const ACTIVE_REHASH_BUCKETS = 100;
const ACTIVE_REHASH_MS = 1;

/** What a RESP2 client with subscriptions may still run (KSUB/KUNSUB are subscriptions too). */
const SUBSCRIBED_MODE_COMMANDS = new Set([
  'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'ksub', 'kunsub', 'ping', 'quit', 'reset',
]);

const PROTECTED_MODE_DENIED =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
  "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
  '4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a.startsWith('127.') || a === '::1';
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}

/** "'a' 'b' " as Redis lists the first arguments of an unknown command (128 chars at most). */
function describeArgs(argv: string[]): string {
  let out = '';
  for (let i = 1; i < argv.length && out.length < 128; i++) {
    out += `'${argv[i]!.slice(0, 128 - out.length)}' `;
  }
  return out;
}

/** The bus addresses of the peers option: "host:port" means bus port+10000, "host:port@bus" names it. */
export function peerBusAddresses(option: string): BusAddress[] {
  const out: BusAddress[] = [];
  for (const item of option.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [client, bus] = item.split('@') as [string, string | undefined];
    const a = parseBusAddress(client);
    if (a === null) continue;
    out.push(bus === undefined ? { host: a.host, port: a.port + 10000 } : { host: a.host, port: Number(bus) });
  }
  return out;
}
