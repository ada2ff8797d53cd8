import type { KeyCrdt } from '../replication/key-crdt.js';
import type { TimerHandle } from '../runtime/index.js';
import type { Server } from '../server/server.js';
import type { Database } from '../store/database.js';
import { Checkpoint } from './checkpoint.js';
import { applyAndLog, readRdbFile, type RdbContents } from './rdb-import.js';
import { formatManifest, joinPath, manifestNames, parseManifest, readLog, readSnapshot, type Manifest } from './files.js';
import { applyRecord, RecordBuilder, type LoadCounts } from './key-states.js';
import { TouchedKeys } from './touched-keys.js';
import { BackgroundFsync } from './background-fsync.js';
import { HeldRecords, HOLD_MS } from './held-records.js';
import { PersistenceError } from './record.js';

/**
 * Keys a background snapshot or rewrite visits per event-loop turn: small
 * enough that clients barely notice. GET P=1 on 5M keys during BGSAVE: p99
 * 4.96 ms at 2000 keys a turn, 1.6 ms at 500, 0.91 ms at 250 (the snapshot
 * took 7, 7 and 8 s).
 */
const KEYS_PER_STEP = 250;
const EMPTY = Buffer.alloc(0);

/**
 * Under appendfsync no the log is still fsynced this often: peers collect a
 * removal only once every replica has it on disk (durableHlc), and without
 * any fsync that point would never move. 30 s is Linux's own write-back age
 * for dirty pages (dirty_expire_centisecs), so the disk sees no more than it
 * would anyway.
 */
export const DURABILITY_SYNC_MS = 30_000;
const MISCONF_RDB =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
/** How often the persistence cron runs (everysec fsync, save points, auto rewrite). */
const TICK_MS = 100;
/** Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait this long. */
const BGSAVE_RETRY_DELAY_SEC = 5;

export { PersistenceError };

/** The open incremental log. */
/** What read() found on disk: Strata's own records (snapshot/log) or a Redis RDB file to import. */
interface LoadedFiles {
  payloads: unknown[];
  manifest: Manifest | null;
  rdb: RdbContents | null;
}

/** A file Redis wrote starts with its RDB magic, never with one of Strata's length-prefixed records. */
function isRedisRdb(bytes: Buffer): boolean {
  return bytes.length >= 5 && bytes.toString('latin1', 0, 5) === 'REDIS';
}

interface AofFile {
  manifest: Manifest;
  handle: number;
  bytes: number;
  baseBytes: number;
}

type JobKind = 'save' | 'rewrite';

interface Job {
  kind: JobKind;
  checkpoint: Checkpoint;
  startedMs: number;
}

/**
 * The node's durability: a log of key states (not commands) and snapshots.
 * Every write reaches touched() (Server.observeWrites); before the replies
 * of that batch leave (beforeReply, from Client.flush) the current state of
 * each touched key is appended as records and, under appendfsync always,
 * fsynced once for the batch. Writes outside a client batch (active expiry,
 * replication merges) are committed on the next event-loop turn.
 */
export class Persistence {
  private readonly pending = new TouchedKeys();
  private readonly pendingDbs = new Set<Database>();
  private hasPending = false;
  private builder: RecordBuilder | null = null;
  private commitArmed = false;
  /** True while a log is open or a snapshot is being written: only then are writes collected. */
  private collecting = false;
  private loaded = false;
  private aof: AofFile | null = null;
  private job: Job | null = null;
  private scheduled: JobKind | null = null;
  private unsynced = false;
  /** Records a failed append could not write (retried first by the next write or cron tick) and why it failed. */
  private unwritten: Buffer | null = null;
  /** Committed records waiting for their append (everysec, no) and the timer that appends them. */
  private readonly held = new HeldRecords();
  private holdTimer: TimerHandle | null = null;
  /** The cron's fsync running off the serving thread (Disk.fsyncInBackground), or null. */
  private backgroundSync: BackgroundFsync | null = null;
  private writeError: string | null = null;
  /** Why the last fsync of the log failed; cleared only by an fsync that succeeds. */
  private fsyncError: string | null = null;
  /**
   * An fsync of this log failed: the kernel may have dropped pages it never
   * wrote, so a later fsync that succeeds proves nothing about them. The
   * durability point stays where it was until a rewrite puts a fresh,
   * fsynced base down.
   */
  private fsyncFailedSinceBase = false;
  /** The incremental log holds a torn record that could not be cut off: nothing more is appended to it before a rewrite replaces it. */
  private logTorn = false;
  /** Unix seconds of the last failed rewrite (retries wait BGSAVE_RETRY_DELAY_SEC, as failed saves do). */
  private lastRewriteFailSec = 0;
  /** Monotonic ms of the last fsync of the log by the cron (everysec, and no's durability sync). */
  private lastFsyncMs = 0;
  /** HLC of the last commit appended to the log (what the next fsync makes durable). */
  private writtenHlc = 0;
  /** HLC up to which the log is fsynced. */
  private aofDurableHlc = 0;
  /** HLC of the state the snapshot file holds (Infinity: there is none, a restart would start empty). */
  private snapshotDurableHlc = Infinity;
  private tick: TimerHandle | null = null;
  private dirtyAtLastSave = 0;
  readonly info = {
    rdbSaves: 0, rdbLastBgsaveOk: true, rdbLastBgsaveTimeSec: -1, lastBgsaveFailSec: 0,
    aofRewrites: 0, aofLastRewriteOk: true, aofLastRewriteTimeSec: -1,
    loadedKeys: 0, expiredOnLoad: 0,
  };

  constructor(private readonly server: Server) {
    server.observeWrites((db, key) => this.touched(db, key));
    server.config.onChange((name) => {
      if (name === 'appendonly') this.appendonlyChanged();
    });
  }

  private get crdt(): KeyCrdt | null {
    return this.server.replication?.crdt ?? null;
  }
  private get disk() {
    return this.server.runtime.disk;
  }
  private get aofDir(): string {
    return joinPath(this.server.config.get('dir'), this.server.config.get('appenddirname'));
  }
  private get manifestFile(): string {
    return joinPath(this.aofDir, `${this.server.config.get('appendfilename')}.manifest`);
  }
  private get snapshotFile(): string {
    return joinPath(this.server.config.get('dir'), this.server.config.get('dbfilename'));
  }

  // ---- collecting and committing writes -----------------------------------

  private touched(db: Database, key: string): void {
    if (!this.collecting) return;
    if (key === '') this.pendingDbs.add(db);
    else if (!this.commitBuilder().addNow(db, key)) this.pending.add(db, key);
    this.hasPending = true;
    // A write outside a client batch (expiry, a replication merge) is committed on the next turn.
    if (!this.commitArmed) {
      this.commitArmed = true;
      this.server.runtime.timer.setImmediate(() => {
        this.commitArmed = false;
        this.commit();
      });
    }
  }

  /**
   * The HLC up to which this node's state would come back after a crash:
   * the log's last fsync, or without a log the last snapshot; Infinity when
   * nothing is on disk (a restart starts empty and takes all from peers).
   * Peers wait for it before collecting removals this node has confirmed:
   * otherwise a node whose unsynced tail was lost could bring back an
   * element every peer has already forgotten was removed.
   */
  get durableHlc(): number {
    return this.aof !== null ? this.aofDurableHlc : this.snapshotDurableHlc;
  }

  private hlcLast(): number {
    return this.server.replication?.hlc.last ?? 0;
  }

  /** Client.flush: the batch's writes reach the log (and the disk, under always) before its replies. */
  beforeReply(): void {
    if (this.hasPending) this.commit();
  }

  /** Appends the current state of every touched key. */
  commit(): void {
    if (!this.hasPending || !this.loaded) return;
    // Every write applied so far is in this commit.
    const hlc = this.hlcLast();
    const b = this.commitBuilder();
    try {
      // Whole-database events first: a key written after a FLUSHDB in the same batch must follow its reset.
      // The reset comes with every key the database holds now, so records made at the writes before it are superseded.
      for (const db of this.pendingDbs) b.addDatabase(db);
      this.pending.forEach((db, key) => b.add(db, key));
    } catch (err) {
      // A key's record is written only once its value encoded, so what the
      // builder holds is whole records: they go out (those made at the
      // writes among them), and the listed keys stay pending for the next commit.
      const made = b.take();
      if (made !== null) this.write(made, hlc);
      throw err;
    }
    this.pendingDbs.clear();
    this.pending.clear();
    this.hasPending = false;
    const records = b.take();
    if (records !== null) this.write(records, hlc);
  }

  /** The builder commits reuse (its buffer stays warm); a new one when replication started or stopped. */
  private commitBuilder(): RecordBuilder {
    const crdt = this.crdt;
    if (this.builder !== null && this.builder.crdt === crdt) return this.builder;
    // Replication started or stopped: records the old builder made at their writes still go out.
    const left = this.builder?.take() ?? null;
    this.builder = new RecordBuilder(crdt);
    if (left !== null) this.write(left, this.hlcLast());
    return this.builder;
  }

  /**
   * hlc: the newest write the data holds (0: nothing new, a retry of held
   * records). Under everysec and no the records are held a moment
   * (held-records.ts); under always they are appended now, after any held.
   */
  private write(data: Buffer, hlc: number): void {
    if (data.length > 0) this.feedJob(data);
    if (this.aof === null) return;
    if (data.length > 0 && this.server.config.get('appendfsync') !== 'always') {
      if (this.held.add(data, hlc)) this.appendPending();
      else if (this.holdTimer === null) this.holdTimer = this.server.runtime.timer.setTimeout(this.appendHeldLater, HOLD_MS);
      return;
    }
    const newest = Math.max(hlc, this.held.hlc);
    this.append(this.held.takeWith(data), newest);
  }

  private readonly appendHeldLater = (): void => {
    this.holdTimer = null;
    this.appendPending();
  };

  /** Appends data to the log, after what a failed append left; under always fsyncs it, and throws when it fails. */
  private append(data: Buffer, hlc: number): void {
    const aof = this.aof!;
    // Records a failed append left behind go first: dropping them would leave a hole in the log.
    const out = this.unwritten === null ? data : Buffer.concat([this.unwritten, data]);
    if (out.length === 0) return;
    if (this.logTorn) {
      // Appending after a torn record would make the log unloadable: hold everything for the new log.
      this.unwritten = Buffer.from(out);
      return;
    }
    const goodIncrBytes = aof.bytes - aof.baseBytes;
    try {
      this.disk.append(aof.handle, out);
      aof.bytes += out.length;
      this.writtenHlc = Math.max(this.writtenHlc, hlc);
      if (this.server.config.get('appendfsync') === 'always') this.synced(aof);
      else this.unsynced = true;
      this.unwritten = null;
      this.writeError = null;
    } catch (err) {
      // A copy: out may be a view of a buffer that is written again (RecordBuilder.take).
      this.unwritten = Buffer.from(out);
      this.writeError = (err as Error).message;
      this.server.log.error({ err }, 'Error writing to the AOF file');
      this.cutFailedAppend(aof, goodIncrBytes);
      // Under always an acknowledged write must be on disk: like Redis, stop rather than reply.
      if (this.server.config.get('appendfsync') === 'always') throw err;
    }
  }

  /**
   * Why write commands are refused now, or null (writeCommandsDeniedByDiskError):
   * the last background save failed while save points are set and
   * stop-writes-on-bgsave-error is on (until a save succeeds), or the log
   * cannot be written (until a retry, each cron tick, succeeds).
   */
  get writeRefusal(): string | null {
    const config = this.server.config;
    if (!this.info.rdbLastBgsaveOk && config.bool('stop-writes-on-bgsave-error') && this.savePointsSet) return MISCONF_RDB;
    // Only while the log is on (Redis: aof_state != AOF_OFF); closeAof forgets its errors.
    const error = this.aof === null ? null : (this.writeError ?? this.fsyncError);
    return error === null ? null : `MISCONF Errors writing to the AOF file: ${error}`;
  }

  private get savePointsSet(): boolean {
    return this.server.config.get('save').trim() !== '';
  }

  /**
   * Before the node stops (SHUTDOWN, SIGTERM): a final snapshot when save
   * points are set or SAVE was asked, unless NOSAVE, as Redis's
   * prepareForShutdown. A background job in progress is dropped first.
   * Returns false when the snapshot could not be written (the shutdown is
   * then refused unless forced).
   */
  saveBeforeShutdown(mode: 'default' | 'save' | 'nosave'): boolean {
    if (mode === 'nosave' || (mode === 'default' && !this.savePointsSet)) return true;
    // Still starting: the keyspace is not loaded, and saving it would replace the files with nothing.
    if (!this.loaded) return true;
    this.abortJob();
    try {
      this.server.log.info('Saving the final RDB snapshot before exiting.');
      this.saveNow();
      return true;
    } catch (err) {
      this.server.log.error({ err }, 'Error trying to save the DB, can\'t exit.');
      this.saved(false);
      return false;
    }
  }

  // ---- startup ---------------------------------------------------------------

  /** Reads and verifies what the node will load, before it listens; throws PersistenceError. */
  read(): LoadedFiles {
    const disk = this.disk;
    if (this.server.config.bool('appendonly') && disk.exists(this.manifestFile)) {
      const m = parseManifest(disk.readFile(this.manifestFile).toString('utf8'), this.manifestFile);
      const base = readSnapshot(disk, joinPath(this.aofDir, m.base));
      const incrFile = joinPath(this.aofDir, m.incr);
      const incr = disk.exists(incrFile) ? readLog(disk, incrFile, this.server.config.bool('aof-load-truncated'), this.server.log) : [];
      return { payloads: base.concat(incr), manifest: m, rdb: null };
    }
    // Without a log (or before its first base), a snapshot is loaded, as Redis loads dump.rdb;
    // one that Redis wrote (a node started where Redis ran) is imported as --import-rdb would.
    if (!disk.exists(this.snapshotFile)) return { payloads: [], manifest: null, rdb: null };
    if (isRedisRdb(disk.readFile(this.snapshotFile))) {
      return { payloads: [], manifest: null, rdb: readRdbFile(disk, this.snapshotFile, this.server.keyspace.count) };
    }
    return { payloads: readSnapshot(disk, this.snapshotFile), manifest: null, rdb: null };
  }

  /** Applies what read() returned (after replication exists, so keys get their CRDT state back), then opens the log. */
  load(contents: LoadedFiles): void {
    const counts: LoadCounts = { loaded: 0, expired: 0, foreign: false, maxTs: 0 };
    if (contents.rdb !== null) counts.loaded += applyAndLog(this.server, this.snapshotFile, contents.rdb).loaded;
    const now = this.server.nowMs();
    for (const p of contents.payloads) applyRecord(this.server.keyspace, this.crdt, p, now, counts);
    if (counts.maxTs > 0) this.server.replication?.hlc.observe(counts.maxTs);
    // What was loaded is on disk; a snapshot file this node did not load holds an unknown older state.
    const atLoad = this.hlcLast();
    const snapshotExists = this.disk.exists(this.snapshotFile);
    this.aofDurableHlc = atLoad;
    this.lastFsyncMs = this.server.runtime.clock.monotonicMs();
    this.snapshotDurableHlc = !snapshotExists ? Infinity : contents.manifest === null ? atLoad : 0;
    this.info.loadedKeys = counts.loaded;
    this.info.expiredOnLoad = counts.expired;
    this.loaded = true;
    this.dirtyAtLastSave = this.server.stats.dirty;
    if (this.server.config.bool('appendonly')) {
      if (contents.manifest !== null) this.openAof(contents.manifest);
      // No base yet, or records of the other kind (a node that gained or lost its peers): rewrite from memory.
      if (contents.manifest === null || counts.foreign) this.rewriteNow();
    }
    this.collecting = this.aof !== null;
    this.startTick();
    this.server.log.info({ keys: counts.loaded, expired: counts.expired }, 'DB loaded from disk');
  }

  private startTick(): void {
    if (this.tick !== null) return;
    this.tick = this.server.runtime.timer.setInterval(() => this.cron(), TICK_MS);
    this.tick.unref?.();
  }

  stop(): void {
    if (this.tick !== null) this.server.runtime.timer.clearInterval(this.tick);
    this.tick = null;
    this.commit();
    // Held records, and those a failed append kept, get a last try; the node stops either way.
    this.appendPending();
    if (this.unwritten !== null) this.server.log.error({ bytes: this.unwritten.length }, 'AOF records could not be written before shutdown');
    if (this.aof !== null) this.disk.fsync(this.aof.handle);
  }

  private openAof(m: Manifest): void {
    const handle = this.disk.openAppend(joinPath(this.aofDir, m.incr));
    // What was loaded counts as durable (load()): after a process crash the
    // log's tail may still be only in the OS's cache, and a machine crash
    // before our first fsync would lose writes the crashed process had
    // acknowledged (the simulator's seed 2125 under appendfsync no).
    this.disk.fsync(handle);
    const base = joinPath(this.aofDir, m.base);
    const incr = joinPath(this.aofDir, m.incr);
    this.aof = { manifest: m, handle, bytes: this.disk.size(base) + this.disk.size(incr), baseBytes: this.disk.size(base) };
  }

  // ---- snapshots and rewrites -----------------------------------------------

  /** SAVE: a snapshot written now, synchronously. */
  saveNow(): void {
    const cp = new Checkpoint(this.disk, this.snapshotFile, this.server.keyspace, this.crdt);
    this.runToEnd(cp);
    this.saved(true);
  }

  /** A rewrite done synchronously (startup without a manifest). */
  private rewriteNow(): void {
    this.commit();
    const cp = this.rewriteCheckpoint();
    this.runToEnd(cp);
    this.switchAof(cp);
  }

  private runToEnd(cp: Checkpoint): void {
    try {
      while (!cp.step(Number.MAX_SAFE_INTEGER));
      cp.finish();
    } catch (err) {
      cp.abort();
      throw err;
    }
  }

  private rewriteCheckpoint(): Checkpoint {
    this.disk.mkdirp(this.aofDir);
    const seq = (this.aof?.manifest.seq ?? this.manifestSeq()) + 1;
    return new Checkpoint(this.disk, joinPath(this.aofDir, manifestNames(this.server.config.get('appendfilename'), seq).base), this.server.keyspace, this.crdt);
  }

  /** The seq of a manifest left on disk (appendonly turned on again): new files must not reuse its names. */
  private manifestSeq(): number {
    if (!this.disk.exists(this.manifestFile)) return 0;
    try {
      return parseManifest(this.disk.readFile(this.manifestFile).toString('utf8'), this.manifestFile).seq;
    } catch {
      return 0;
    }
  }

  /** BGSAVE / BGREWRITEAOF: null when started, else why not (Redis's reply). */
  startJob(kind: JobKind): string | null {
    if (this.job !== null) return this.job.kind === kind ? 'already' : 'busy';
    this.commit();
    let checkpoint: Checkpoint;
    try {
      checkpoint = kind === 'save' ? new Checkpoint(this.disk, this.snapshotFile, this.server.keyspace, this.crdt) : this.rewriteCheckpoint();
    } catch (err) {
      // As a Redis child that cannot create its file: the job started, and failed.
      this.server.log.error({ err, kind }, 'Background save/rewrite failed');
      this.recordJobEnd(kind, false, 0);
      return null;
    }
    this.job = { kind, checkpoint, startedMs: this.server.now() };
    this.collecting = true;
    this.server.runtime.timer.setImmediate(() => this.stepJob());
    return null;
  }

  /** Runs `kind` once the current job ends (BGSAVE SCHEDULE, BGREWRITEAOF during a BGSAVE). */
  schedule(kind: JobKind): void {
    this.scheduled = kind;
  }

  get jobKind(): JobKind | null {
    return this.job?.kind ?? null;
  }

  get rewriteScheduled(): boolean {
    return this.scheduled === 'rewrite';
  }

  private stepJob(): void {
    const job = this.job;
    if (job === null) return;
    try {
      if (!job.checkpoint.step(KEYS_PER_STEP)) {
        this.server.runtime.timer.setImmediate(() => this.stepJob());
        return;
      }
      // Every key is written: the bulk goes to the disk off the serving thread
      // first (commits keep feeding the file meanwhile), then finish() syncs the rest.
      job.checkpoint.presync((err) => this.jobWritten(job, err), this.closeFailed);
    } catch (err) {
      this.failJob(job, err);
    }
  }

  /** The running job's file was fsynced up to its last key (presync): it ends now. */
  private jobWritten(job: Job, err: Error | null): void {
    if (this.job !== job) return;
    try {
      if (err !== null) throw err;
      this.commit();
      job.checkpoint.finish();
      if (job.kind === 'rewrite') this.switchAof(job.checkpoint);
      this.jobEnded(job, true);
    } catch (e) {
      this.failJob(job, e);
    }
  }

  /** The running job hit an error: its file goes, and INFO records the failure. */
  private failJob(job: Job, err: unknown): void {
    this.server.log.error({ err, kind: job.kind }, 'Background save/rewrite failed');
    this.abortJob();
    this.recordJobEnd(job.kind, false, Math.round((this.server.now() - job.startedMs) / 1000));
  }

  /** Drops the running job and its unfinished file (never throws: it runs on shutdown and error paths). */
  private abortJob(): void {
    const job = this.job;
    if (job === null) return;
    this.job = null;
    this.collecting = this.aof !== null;
    try {
      job.checkpoint.abort();
    } catch (err) {
      this.server.log.error({ err, kind: job.kind }, 'Could not remove an unfinished save/rewrite file');
    }
  }

  /** A commit's records also go to the running job (what changed after it read those keys); a failure fails the job, not the commit. */
  private feedJob(data: Buffer): void {
    const job = this.job;
    if (job === null) return;
    try {
      job.checkpoint.live(data);
    } catch (err) {
      this.failJob(job, err);
    }
  }

  private jobEnded(job: Job, ok: boolean): void {
    this.job = null;
    this.collecting = this.aof !== null;
    this.recordJobEnd(job.kind, ok, Math.round((this.server.now() - job.startedMs) / 1000));
    this.server.log.info({ kind: job.kind, ok, keys: job.checkpoint.keys }, ok ? 'Background saving terminated with success' : 'Background saving error');
  }

  /** INFO persistence's record of a finished BGSAVE or rewrite. */
  private recordJobEnd(kind: JobKind, ok: boolean, sec: number): void {
    if (kind === 'save') {
      this.saved(ok);
      this.info.rdbLastBgsaveTimeSec = sec;
    } else {
      this.info.aofLastRewriteOk = ok;
      this.info.aofLastRewriteTimeSec = sec;
      if (ok) this.info.aofRewrites++;
      else this.lastRewriteFailSec = Math.floor(this.server.now() / 1000);
    }
  }

  private saved(ok: boolean): void {
    this.info.rdbLastBgsaveOk = ok;
    if (!ok) {
      this.info.lastBgsaveFailSec = Math.floor(this.server.now() / 1000);
      return;
    }
    this.info.rdbSaves++;
    this.snapshotDurableHlc = this.hlcLast();
    this.dirtyAtLastSave = this.server.stats.dirty;
    this.server.lastSaveSec = Math.floor(this.server.now() / 1000);
  }

  /**
   * The new base is complete: a new empty incremental log takes over and the
   * manifest switches to both at once; the old files go. A crash before the
   * manifest is renamed leaves the old base + log, which still hold everything.
   */
  private switchAof(cp: Checkpoint): void {
    const old = this.aof;
    const seq = (old?.manifest.seq ?? this.manifestSeq()) + 1;
    const m = manifestNames(this.server.config.get('appendfilename'), seq);
    const handle = this.disk.openAppend(joinPath(this.aofDir, m.incr));
    this.disk.fsync(handle);
    this.disk.fsyncDir(this.aofDir);
    this.disk.writeFileAtomic(this.manifestFile, formatManifest(m));
    const baseBytes = this.disk.size(cp.target);
    this.aof = { manifest: m, handle, bytes: baseBytes, baseBytes };
    // The new base holds every write committed until now, fsynced: records a failed
    // append held are older than it (appended after it they would undo newer states).
    this.aofDurableHlc = Math.max(this.aofDurableHlc, this.hlcLast());
    this.forgetLogErrors();
    // BGREWRITEAOF with appendonly no writes the files but does not log.
    if (!this.server.config.bool('appendonly')) this.closeAof();
    this.collecting = this.aof !== null || this.job !== null;
    if (old === null) return;
    this.closeHandle(old.handle);
    this.disk.unlink(joinPath(this.aofDir, old.manifest.base));
    this.disk.unlink(joinPath(this.aofDir, old.manifest.incr));
  }

  /** CONFIG SET appendonly: yes starts a rewrite that creates the base (as Redis); no closes the log. */
  private appendonlyChanged(): void {
    if (!this.loaded) return;
    const on = this.server.config.bool('appendonly');
    if (on && this.aof === null && this.job?.kind !== 'rewrite') {
      if (this.startJob('rewrite') !== null) this.schedule('rewrite');
    }
    if (on) return;
    if (this.job?.kind === 'rewrite') this.abortJob();
    this.commit();
    this.closeAof();
    this.collecting = this.job !== null;
  }

  private closeAof(): void {
    const aof = this.aof;
    if (aof === null) return;
    this.appendPending();
    this.aof = null;
    this.forgetLogErrors();
    try {
      this.disk.fsync(aof.handle);
    } catch (err) {
      this.server.log.error({ err }, 'Error syncing the AOF file before closing it');
    }
    this.closeHandle(aof.handle);
  }

  /** A new log (or none): what a failed append held and why the old one failed no longer apply. */
  private forgetLogErrors(): void {
    this.unwritten = null;
    this.held.clear();
    if (this.holdTimer !== null) this.server.runtime.timer.clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.writeError = null;
    this.fsyncError = null;
    this.fsyncFailedSinceBase = false;
    this.logTorn = false;
  }

  /** fsyncs the log: everything written so far is durable (unless an fsync of this log failed before). */
  private synced(aof: AofFile): void {
    this.disk.fsync(aof.handle);
    this.unsynced = false;
    if (!this.fsyncFailedSinceBase) this.aofDurableHlc = Math.max(this.aofDurableHlc, this.writtenHlc);
  }

  /**
   * A failed append may have left part of its records in the log: cut the
   * log back to its last good size (as Redis after a short write), so the
   * retry of the held records does not follow a torn one and the node can
   * still load its log.
   */
  private cutFailedAppend(aof: AofFile, goodIncrBytes: number): void {
    try {
      this.disk.truncate(joinPath(this.aofDir, aof.manifest.incr), goodIncrBytes);
      aof.bytes = aof.baseBytes + goodIncrBytes;
    } catch (err) {
      // The log may end in a torn record: append nothing more to it; a rewrite replaces it.
      this.server.log.error({ err }, 'Could not cut a failed append from the AOF file; rewriting the log');
      this.logTorn = true;
    }
  }

  /**
   * everysec: one fsync a second. no: one every DURABILITY_SYNC_MS, only so
   * that the durability point peers wait for (durableHlc) keeps moving.
   * An idle log is durable up to now.
   */
  private syncForDurability(mono: number): void {
    const aof = this.aof;
    // One background fsync at a time (Redis postpones its next one the same way).
    if (aof === null || this.unwritten !== null || this.backgroundSync !== null) return;
    if (!this.unsynced) {
      if (!this.hasPending && this.held.bytes === 0 && !this.fsyncFailedSinceBase) this.aofDurableHlc = Math.max(this.aofDurableHlc, this.hlcLast());
      return;
    }
    const mode = this.server.config.get('appendfsync');
    const periodMs = mode === 'everysec' ? 1000 : mode === 'no' ? DURABILITY_SYNC_MS : 0;
    if (periodMs === 0 || mono - this.lastFsyncMs < periodMs) return;
    this.lastFsyncMs = mono;
    // Off the serving thread, as Redis's bio thread: an fsync under a write load blocked it ~10 ms a second.
    const sync = new BackgroundFsync(this.disk, aof.handle, this.closeFailed);
    const upTo = this.writtenHlc;
    this.unsynced = false;
    this.backgroundSync = sync;
    sync.start((err) => this.backgroundSynced(sync, upTo, err));
  }

  /** The cron's background fsync ended: what was written before it started is durable, or writes are refused. */
  private backgroundSynced(sync: BackgroundFsync, upTo: number, err: Error | null): void {
    if (this.backgroundSync === sync) this.backgroundSync = null;
    // The log was switched or closed meanwhile: its successor's durability does not rest on this fsync.
    if (this.aof === null || this.aof.handle !== sync.handle) return;
    if (err !== null) {
      // As Redis's failed background fsync: writes are refused (-MISCONF) until a later fsync succeeds.
      this.fsyncError = err.message;
      this.fsyncFailedSinceBase = true;
      this.unsynced = true;
      this.server.log.error({ err }, 'Error syncing the AOF file');
      return;
    }
    // The durability point now waits for a fresh base (fsyncFailedSinceBase): the cron gets one.
    this.fsyncError = null;
    if (!this.fsyncFailedSinceBase) this.aofDurableHlc = Math.max(this.aofDurableHlc, upTo);
  }

  /** Closes a log handle, after the background fsync on it if one runs. */
  private closeHandle(handle: number): void {
    if (this.backgroundSync?.handle === handle) this.backgroundSync.close();
    else this.disk.close(handle);
  }

  /** A file handle closed after its background fsync returned could not be closed. */
  private readonly closeFailed = (err: unknown): void => {
    this.server.log.error({ err }, 'Error closing a file after its background fsync');
  };

  /**
   * Appends the held records after those a failed append kept (which get
   * another try); never throws (under always write() does).
   */
  private appendPending(): void {
    if (this.holdTimer !== null) this.server.runtime.timer.clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.unwritten === null && this.held.bytes === 0) return;
    try {
      this.write(EMPTY, 0);
    } catch {
      // Logged by write(); the records stay held and writes stay refused.
    }
  }

  // ---- cron ------------------------------------------------------------------

  private cron(): void {
    const now = this.server.now();
    // The everysec window is measured on the monotonic clock: a wall-clock jump must not stretch it.
    const mono = this.server.runtime.clock.monotonicMs();
    this.appendPending();
    this.syncForDurability(mono);
    if (this.job !== null) return;
    // A rewrite that must lay down a fresh base is tried until one succeeds, as a failed save is.
    if (this.scheduled === null && this.needsFreshBase() && Math.floor(now / 1000) - this.lastRewriteFailSec >= BGSAVE_RETRY_DELAY_SEC) {
      this.scheduled = 'rewrite';
    }
    if (this.scheduled !== null) {
      const kind = this.scheduled;
      this.scheduled = null;
      if (kind === 'save' || this.aof !== null || this.server.config.bool('appendonly')) this.startJob(kind);
      return;
    }
    if (this.savePointReached(now)) this.startJob('save');
    else if (this.aofGrown()) this.startJob('rewrite');
  }

  /**
   * appendonly yes and the log cannot go on as it is: there is none (the
   * rewrite that creates it failed), it may end in a torn record, or an
   * fsync failed since its base and works again (the kernel may have dropped
   * unwritten pages: the durability point waits for a new base).
   */
  private needsFreshBase(): boolean {
    if (!this.loaded || !this.server.config.bool('appendonly')) return false;
    return this.aof === null || this.logTorn || (this.fsyncFailedSinceBase && this.fsyncError === null);
  }

  /** `save <seconds> <changes> ...`: enough changes since the last save, that long ago. */
  private savePointReached(nowMs: number): boolean {
    const params = this.server.config.get('save').split(/\s+/).filter(Boolean).map(Number);
    const changes = this.changesSinceSave;
    const nowSec = Math.floor(nowMs / 1000);
    if (!this.info.rdbLastBgsaveOk && nowSec - this.info.lastBgsaveFailSec < BGSAVE_RETRY_DELAY_SEC) return false;
    for (let i = 0; i + 1 < params.length; i += 2) {
      if (changes >= params[i + 1]! && nowSec - this.server.lastSaveSec >= params[i]!) return true;
    }
    return false;
  }

  /** auto-aof-rewrite-percentage / -min-size, computed as Redis does from the size after the last rewrite. */
  private aofGrown(): boolean {
    const aof = this.aof;
    const pct = this.server.config.int('auto-aof-rewrite-percentage');
    if (aof === null || pct === 0 || aof.bytes <= this.server.config.int('auto-aof-rewrite-min-size')) return false;
    const base = aof.baseBytes > 0 ? aof.baseBytes : 1;
    return ((aof.bytes - base) * 100) / base >= pct;
  }

  get changesSinceSave(): number {
    return this.server.stats.dirty - this.dirtyAtLastSave;
  }

  /** INFO persistence, with Redis's field names. */
  infoFields(): [string, string | number][] {
    const i = this.info;
    const job = this.job;
    const running = (kind: JobKind): number => (job?.kind === kind ? 1 : 0);
    const sinceStart = job === null ? -1 : Math.round((this.server.now() - job.startedMs) / 1000);
    const aof = this.aof;
    return [
      ['loading', this.server.replication?.loading === true ? 1 : 0], ['async_loading', 0], ['current_cow_peak', 0], ['current_cow_size', 0], ['current_cow_size_age', 0],
      ['current_fork_perc', '0.00'], ['current_save_keys_processed', job?.checkpoint.keys ?? 0], ['current_save_keys_total', job === null ? 0 : this.server.keyspace.all().reduce((n, db) => n + db.size, 0)],
      ['rdb_changes_since_last_save', this.changesSinceSave], ['rdb_bgsave_in_progress', running('save')], ['rdb_last_save_time', this.server.lastSaveSec],
      ['rdb_last_bgsave_status', i.rdbLastBgsaveOk ? 'ok' : 'err'], ['rdb_last_bgsave_time_sec', i.rdbLastBgsaveTimeSec],
      ['rdb_current_bgsave_time_sec', job?.kind === 'save' ? sinceStart : -1], ['rdb_saves', i.rdbSaves], ['rdb_last_cow_size', 0],
      ['rdb_last_load_keys_expired', i.expiredOnLoad], ['rdb_last_load_keys_loaded', i.loadedKeys],
      ['aof_enabled', this.server.config.bool('appendonly') ? 1 : 0], ['aof_rewrite_in_progress', running('rewrite')],
      ['aof_rewrite_scheduled', this.rewriteScheduled ? 1 : 0], ['aof_last_rewrite_time_sec', i.aofLastRewriteTimeSec],
      ['aof_current_rewrite_time_sec', job?.kind === 'rewrite' ? sinceStart : -1], ['aof_last_bgrewrite_status', i.aofLastRewriteOk ? 'ok' : 'err'],
      ['aof_rewrites', i.aofRewrites], ['aof_rewrites_consecutive_failures', 0], ['aof_last_write_status', this.writeError === null && this.fsyncError === null ? 'ok' : 'err'],
      ['aof_last_cow_size', 0], ['module_fork_in_progress', 0], ['module_fork_last_cow_size', 0],
      ...(aof === null ? [] : ([['aof_current_size', aof.bytes], ['aof_base_size', aof.baseBytes], ['aof_pending_rewrite', this.rewriteScheduled ? 1 : 0],
        ['aof_buffer_length', this.held.bytes], ['aof_pending_bio_fsync', this.backgroundSync === null ? 0 : 1], ['aof_delayed_fsync', 0]] as [string, number][])),
    ];
  }
}
