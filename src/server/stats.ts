/** Counters INFO stats/errorstats/commandstats report. */
export class CommandStats {
  calls = 0;
  usec = 0;
  rejectedCalls = 0;
  failedCalls = 0;
}

/** Redis keeps at most this many distinct error codes in errorstats. */
const MAX_ERROR_CODES = 128;

export class ServerStats {
  totalConnections = 0;
  rejectedConnections = 0;
  /** Clients closed at their client-output-buffer-limit. */
  clientsClosedForOutput = 0;
  totalCommands = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  expiredKeys = 0;
  expiredStalePerc = 0;
  expiredTimeCapReached = 0;
  evictedKeys = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  totalErrorReplies = 0;
  unexpectedErrorReplies = 0;
  /** Writes since the last save (rdb_changes_since_last_save). */
  dirty = 0;
  readonly errors = new Map<string, number>();
  commands: CommandStats[] = [];
  /** Ring of (ms, commands) samples for instantaneous_ops_per_sec. */
  private readonly opsSamples: number[] = new Array(16).fill(0);
  private opsSampleIdx = 0;
  private lastSampleMs = 0;
  private lastSampleCommands = 0;

  constructor(commandCount: number) {
    this.resetCommands(commandCount);
  }

  resetCommands(commandCount: number): void {
    this.commands = [];
    for (let i = 0; i < commandCount; i++) this.commands.push(new CommandStats());
  }

  /** Counts an error reply under its code (the first word: ERR, WRONGTYPE, ...). */
  countError(message: string): void {
    this.totalErrorReplies++;
    const space = message.indexOf(' ');
    const code = space < 0 ? message : message.slice(0, space);
    const n = this.errors.get(code);
    if (n !== undefined) this.errors.set(code, n + 1);
    else if (this.errors.size < MAX_ERROR_CODES) this.errors.set(code, 1);
  }

  /** Called from the server cron (trackInstantaneousMetric). */
  sampleOps(nowMs: number): void {
    if (this.lastSampleMs !== 0) {
      const dt = nowMs - this.lastSampleMs;
      if (dt > 0) {
        this.opsSamples[this.opsSampleIdx] = ((this.totalCommands - this.lastSampleCommands) * 1000) / dt;
        this.opsSampleIdx = (this.opsSampleIdx + 1) % this.opsSamples.length;
      }
    }
    this.lastSampleMs = nowMs;
    this.lastSampleCommands = this.totalCommands;
  }

  get instantaneousOps(): number {
    let sum = 0;
    for (const s of this.opsSamples) sum += s;
    return Math.round(sum / this.opsSamples.length);
  }

  /** CONFIG RESETSTAT. */
  reset(commandCount: number): void {
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.clientsClosedForOutput = 0;
    this.totalCommands = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.expiredKeys = 0;
    this.evictedKeys = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.totalErrorReplies = 0;
    this.errors.clear();
    this.resetCommands(commandCount);
  }
}
