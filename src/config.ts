import { splitArgs } from './protocol/parser.js';
import { canonicalNotifyFlags, validateNotifyFlags } from './server/notify-flags.js';
import { mergeOutputLimits, validateOutputLimits } from './server/output-limits.js';

/**
 * Every option of a node: its redis.conf name, type, default and validation.
 * Command-line flags (--port 7000), a redis.conf-style file and CONFIG SET all
 * go through the same table, so they accept and reject exactly the same input.
 */
export type OptionType = 'int' | 'memory' | 'bool' | 'string' | 'enum' | 'list';

export interface OptionSpec {
  name: string;
  type: OptionType;
  default: string;
  aliases?: string[];
  min?: number;
  max?: number;
  values?: string[];
  /** Only settable at startup (CONFIG SET refuses it). */
  immutable?: boolean;
  /** Checked after type validation; returns an error text or null. */
  validate?: (value: string) => string | null;
  /** Rewrites a valid value into the form CONFIG GET shows ("50.0" -> "50"). */
  canonical?: (value: string) => string;
  /** Combines a valid new value with the current one (a partial client-output-buffer-limit keeps the other classes). */
  merge?: (current: string, value: string) => string;
  /** Only CONFIG GET of the exact name shows it (never a glob). */
  hidden?: boolean;
  /** CONFIG SET refuses it unless enable-protected-configs allows it. */
  protected?: boolean;
  /** Hidden from logs, SLOWLOG and MONITOR (passwords). */
  sensitive?: boolean;
}

const INT_MAX = 2147483647;

/** One peer: "host:port" or "host:port@busport". */
const PEER_RE = /^[^\s,@]+:\d{1,5}(@\d{1,5})?$/;

function validatePeers(value: string): string | null {
  for (const p of value.split(',').map((x) => x.trim()).filter(Boolean)) if (!PEER_RE.test(p)) return `Invalid peer address '${p}'`;
  return null;
}
const LLONG_MAX = Number.MAX_SAFE_INTEGER;

export const OPTIONS: OptionSpec[] = [
  { name: 'port', type: 'int', default: '6379', min: 0, max: 65535, immutable: true },
  { name: 'bind', type: 'list', default: '127.0.0.1', immutable: true },
  // Strata's active-active replication (see docs/CRDT.md): peers' client addresses
  // "host:port" (bus on port+10000) or "host:port@busport", comma separated.
  { name: 'peers', type: 'string', default: '', immutable: true, validate: validatePeers },
  { name: 'bus-port', type: 'int', default: '0', min: 0, max: 65535, immutable: true },
  { name: 'delta-log-entries', type: 'int', default: '1000000', min: 1, max: INT_MAX, immutable: true },
  { name: 'anti-entropy-interval-ms', type: 'int', default: '1000', min: 10, max: INT_MAX },
  // At start, clients get -LOADING until a sync round with a peer completes, or no
  // round could run for this long (0: serve at once). See src/replication/peer-sync.ts.
  { name: 'peer-sync-timeout-ms', type: 'int', default: '5000', min: 0, max: INT_MAX },
  { name: 'bind-source-addr', type: 'string', default: '', immutable: true },
  { name: 'protected-mode', type: 'bool', default: 'yes' },
  { name: 'tcp-backlog', type: 'int', default: '511', min: 0, max: INT_MAX, immutable: true },
  { name: 'tcp-keepalive', type: 'int', default: '300', min: 0, max: INT_MAX },
  { name: 'timeout', type: 'int', default: '0', min: 0, max: INT_MAX },
  { name: 'requirepass', type: 'string', default: '', sensitive: true },
  { name: 'masterauth', type: 'string', default: '', sensitive: true },
  { name: 'masteruser', type: 'string', default: '' },
  { name: 'replicaof', type: 'string', default: '', immutable: true, aliases: ['slaveof'] },
  { name: 'unixsocket', type: 'string', default: '', immutable: true },
  { name: 'supervised', type: 'enum', default: 'no', values: ['upstart', 'systemd', 'auto', 'no'], immutable: true },
  { name: 'always-show-logo', type: 'bool', default: 'no', immutable: true },
  { name: 'set-proc-title', type: 'bool', default: 'yes', immutable: true },
  { name: 'proc-title-template', type: 'string', default: '{title} {listen-addr} {server-mode}' },
  { name: 'enable-module-command', type: 'enum', default: 'no', values: ['no', 'yes', 'local'], immutable: true },
  { name: 'shutdown-on-sigint', type: 'string', default: 'default', validate: validateShutdownFlags },
  { name: 'shutdown-on-sigterm', type: 'string', default: 'default', validate: validateShutdownFlags },
  { name: 'shutdown-timeout', type: 'int', default: '10', min: 0, max: INT_MAX },
  { name: 'maxmemory-clients', type: 'string', default: '0', validate: validateMemoryOrPercent },
  { name: 'maxmemory-eviction-tenacity', type: 'int', default: '10', min: 0, max: 100 },
  { name: 'repl-backlog-size', type: 'memory', default: '1048576', min: 1, max: LLONG_MAX },
  { name: 'repl-backlog-ttl', type: 'int', default: '3600', min: 0, max: INT_MAX },
  { name: 'repl-timeout', type: 'int', default: '60', min: 1, max: INT_MAX },
  { name: 'repl-diskless-sync', type: 'bool', default: 'yes' },
  { name: 'replica-priority', type: 'int', default: '100', min: 0, max: INT_MAX, aliases: ['slave-priority'] },
  { name: 'min-replicas-to-write', type: 'int', default: '0', min: 0, max: INT_MAX, aliases: ['min-slaves-to-write'] },
  { name: 'min-replicas-max-lag', type: 'int', default: '10', min: 0, max: INT_MAX, aliases: ['min-slaves-max-lag'] },
  { name: 'rdbcompression', type: 'bool', default: 'yes' },
  { name: 'rdbchecksum', type: 'bool', default: 'yes', immutable: true },
  { name: 'stop-writes-on-bgsave-error', type: 'bool', default: 'yes' },
  { name: 'aof-use-rdb-preamble', type: 'bool', default: 'yes' },
  { name: 'appenddirname', type: 'string', default: 'appendonlydir', immutable: true },
  { name: 'activedefrag', type: 'bool', default: 'no' },
  { name: 'hll-sparse-max-bytes', type: 'memory', default: '3000', min: 0, max: LLONG_MAX },
  { name: 'tracking-table-max-keys', type: 'int', default: '1000000', min: 0, max: LLONG_MAX },
  { name: 'acllog-max-len', type: 'int', default: '128', min: 0, max: LLONG_MAX },
  { name: 'cluster-node-timeout', type: 'int', default: '15000', min: 0, max: LLONG_MAX },
  { name: 'latency-tracking-info-percentiles', type: 'string', default: '50 99 99.9', validate: validatePercentiles, canonical: canonicalPercentiles },
  { name: 'crash-log-enabled', type: 'bool', default: 'yes' },
  { name: 'key-load-delay', type: 'int', default: '0', min: -INT_MAX, max: INT_MAX, hidden: true },
  { name: 'databases', type: 'int', default: '16', min: 1, max: INT_MAX, immutable: true },
  { name: 'maxclients', type: 'int', default: '10000', min: 1, max: INT_MAX },
  { name: 'proto-max-bulk-len', type: 'memory', default: '536870912', min: 1024 * 1024, max: LLONG_MAX },
  { name: 'client-query-buffer-limit', type: 'memory', default: '1073741824', min: 1024 * 1024, max: LLONG_MAX },
  {
    name: 'client-output-buffer-limit',
    type: 'string',
    default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    validate: validateOutputLimits,
    merge: mergeOutputLimits,
  },
  { name: 'maxmemory', type: 'memory', default: '0', min: 0, max: LLONG_MAX },
  { name: 'maxmemory-policy', type: 'enum', default: 'noeviction', values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'] },
  { name: 'maxmemory-samples', type: 'int', default: '5', min: 1, max: 64 },
  { name: 'hz', type: 'int', default: '10', min: 0, max: INT_MAX },
  { name: 'dynamic-hz', type: 'bool', default: 'yes' },
  { name: 'active-expire-effort', type: 'int', default: '1', min: 1, max: 10 },
  { name: 'loglevel', type: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] },
  { name: 'logfile', type: 'string', default: '', immutable: true },
  { name: 'daemonize', type: 'bool', default: 'no', immutable: true },
  { name: 'pidfile', type: 'string', default: '', immutable: true },
  { name: 'dir', type: 'string', default: '.', protected: true },
  { name: 'dbfilename', type: 'string', default: 'dump.rdb', protected: true },
  // Strata: a Redis RDB file whose keys the node writes into its keyspace at startup (persistence/rdb-import.ts).
  { name: 'import-rdb', type: 'string', default: '', immutable: true },
  { name: 'save', type: 'string', default: '', validate: validateSaveParams },
  { name: 'appendonly', type: 'bool', default: 'no' },
  { name: 'appendfilename', type: 'string', default: 'appendonly.aof', immutable: true },
  { name: 'appendfsync', type: 'enum', default: 'everysec', values: ['always', 'everysec', 'no'] },
  { name: 'aof-load-truncated', type: 'bool', default: 'yes' },
  { name: 'auto-aof-rewrite-percentage', type: 'int', default: '100', min: 0, max: INT_MAX },
  { name: 'auto-aof-rewrite-min-size', type: 'memory', default: '67108864', min: 0, max: LLONG_MAX },
  { name: 'slowlog-log-slower-than', type: 'int', default: '10000', min: -1, max: LLONG_MAX },
  { name: 'slowlog-max-len', type: 'int', default: '128', min: 0, max: LLONG_MAX },
  { name: 'latency-monitor-threshold', type: 'int', default: '0', min: 0, max: LLONG_MAX },
  { name: 'latency-tracking', type: 'bool', default: 'yes' },
  { name: 'notify-keyspace-events', type: 'string', default: '', validate: validateNotifyFlags, canonical: canonicalNotifyFlags },
  { name: 'lazyfree-lazy-eviction', type: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-expire', type: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-server-del', type: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-user-del', type: 'bool', default: 'no' },
  { name: 'lazyfree-lazy-user-flush', type: 'bool', default: 'no' },
  { name: 'replica-read-only', type: 'bool', default: 'yes', aliases: ['slave-read-only'] },
  { name: 'io-threads', type: 'int', default: '1', min: 1, max: 128, immutable: true },
  { name: 'enable-debug-command', type: 'enum', default: 'yes', values: ['no', 'yes', 'local'], immutable: true },
  { name: 'enable-protected-configs', type: 'enum', default: 'no', values: ['no', 'yes', 'local'], immutable: true },
  { name: 'list-max-listpack-size', type: 'int', default: '-2', min: -5, max: INT_MAX, aliases: ['list-max-ziplist-size'] },
  { name: 'list-compress-depth', type: 'int', default: '0', min: 0, max: INT_MAX },
  { name: 'hash-max-listpack-entries', type: 'int', default: '128', min: 0, max: LLONG_MAX, aliases: ['hash-max-ziplist-entries'] },
  { name: 'hash-max-listpack-value', type: 'int', default: '64', min: 0, max: LLONG_MAX, aliases: ['hash-max-ziplist-value'] },
  { name: 'set-max-intset-entries', type: 'int', default: '512', min: 0, max: LLONG_MAX },
  { name: 'zset-max-listpack-entries', type: 'int', default: '128', min: 0, max: LLONG_MAX, aliases: ['zset-max-ziplist-entries'] },
  { name: 'zset-max-listpack-value', type: 'int', default: '64', min: 0, max: LLONG_MAX, aliases: ['zset-max-ziplist-value'] },
  { name: 'stream-node-max-bytes', type: 'memory', default: '4096', min: 0, max: LLONG_MAX },
  { name: 'stream-node-max-entries', type: 'int', default: '100', min: 0, max: LLONG_MAX },
  { name: 'activerehashing', type: 'bool', default: 'yes' },
  { name: 'lfu-log-factor', type: 'int', default: '10', min: 0, max: INT_MAX },
  { name: 'lfu-decay-time', type: 'int', default: '1', min: 0, max: INT_MAX },
  { name: 'busy-reply-threshold', type: 'int', default: '5000', min: 0, max: LLONG_MAX, aliases: ['lua-time-limit'] },
  { name: 'cluster-enabled', type: 'bool', default: 'no', immutable: true },
  { name: 'cluster-config-file', type: 'string', default: 'nodes.conf', immutable: true },
  { name: 'cluster-port', type: 'int', default: '0', min: 0, max: 65535, immutable: true },
  { name: 'cluster-announce-ip', type: 'string', default: '' },
  { name: 'cluster-announce-port', type: 'int', default: '0', min: 0, max: 65535 },
  { name: 'cluster-announce-bus-port', type: 'int', default: '0', min: 0, max: 65535 },
  { name: 'cluster-announce-tls-port', type: 'int', default: '0', min: 0, max: 65535 },
  { name: 'cluster-announce-hostname', type: 'string', default: '' },
  { name: 'cluster-preferred-endpoint-type', type: 'enum', default: 'ip', values: ['ip', 'hostname', 'unknown-endpoint'] },
  { name: 'cluster-require-full-coverage', type: 'bool', default: 'yes' },
  { name: 'cluster-allow-reads-when-down', type: 'bool', default: 'no' },
  { name: 'cluster-allow-pubsubshard-when-down', type: 'bool', default: 'yes' },
  { name: 'cluster-replica-validity-factor', type: 'int', default: '10', min: 0, max: INT_MAX, aliases: ['cluster-slave-validity-factor'] },
  { name: 'cluster-replica-no-failover', type: 'bool', default: 'no', aliases: ['cluster-slave-no-failover'] },
  { name: 'cluster-migration-barrier', type: 'int', default: '1', min: 0, max: INT_MAX },
  { name: 'cluster-allow-replica-migration', type: 'bool', default: 'yes' },
  { name: 'cluster-link-sendbuf-limit', type: 'memory', default: '0', min: 0, max: LLONG_MAX },
];

function validateShutdownFlags(value: string): string | null {
  const flags = value.toLowerCase().split(/\s+/).filter(Boolean);
  const known = ['default', 'save', 'nosave', 'now', 'force'];
  if (flags.length === 0 || flags.some((f) => !known.includes(f))) return 'argument(s) must be one of the following: default, save, nosave, now, force';
  if (flags.includes('save') && flags.includes('nosave')) return 'argument(s) must be one of the following: default, save, nosave, now, force';
  return null;
}

function validateMemoryOrPercent(value: string): string | null {
  if (value.endsWith('%')) {
    const p = Number(value.slice(0, -1));
    if (!/^\d+$/.test(value.slice(0, -1))) return 'argument must be a memory or percent value';
    return p > 100 ? 'percentage argument must be less or equal to 100' : null;
  }
  return Number.isFinite(parseMemory(value)) && parseMemory(value) >= 0 ? null : 'argument must be a memory or percent value';
}

function validateSaveParams(value: string): string | null {
  const parts = value.split(/\s+/).filter(Boolean);
  if (parts.length % 2 !== 0) return 'Invalid save parameters';
  return parts.every((p) => /^\d+$/.test(p)) ? null : 'Invalid save parameters';
}

function validatePercentiles(value: string): string | null {
  for (const p of value.split(/\s+/).filter(Boolean)) {
    const n = Number(p);
    if (!Number.isFinite(n) || n < 0 || n > 100) return 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]';
  }
  return null;
}

function canonicalPercentiles(value: string): string {
  return value.split(/\s+/).filter(Boolean).map((p) => String(Number(p))).join(' ');
}

const BY_NAME = new Map<string, OptionSpec>();
for (const o of OPTIONS) {
  BY_NAME.set(o.name, o);
  for (const a of o.aliases ?? []) BY_NAME.set(a, o);
}

export function findOption(name: string): OptionSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Redis's memtoull: "1gb", "512mb", "100k" (k=1000, kb=1024...). Returns NaN when malformed. */
export function parseMemory(text: string): number {
  const m = /^(-?\d+)([a-z]*)$/i.exec(text.trim());
  if (!m) return NaN;
  const units: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 * 1024, g: 1e9, gb: 1024 * 1024 * 1024 };
  const mult = units[m[2]!.toLowerCase()];
  if (mult === undefined) return NaN;
  return Number(m[1]) * mult;
}

/** Normalises and validates a value for an option; returns [canonical value, null] or [null, error]. */
export function validateOption(spec: OptionSpec, raw: string): [string, null] | [null, string] {
  let value = raw;
  switch (spec.type) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (v !== 'yes' && v !== 'no') return [null, 'argument must be \'yes\' or \'no\''];
      value = v;
      break;
    }
    case 'int':
    case 'memory': {
      const n = spec.type === 'memory' ? parseMemory(raw) : /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return [null, spec.type === 'memory' ? 'argument must be a memory value' : 'argument couldn\'t be parsed into an integer'];
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return [null, `argument must be between ${spec.min} and ${spec.max} inclusive`];
      }
      value = String(n);
      break;
    }
    case 'enum': {
      const v = raw.toLowerCase();
      if (!spec.values!.includes(v)) return [null, `argument(s) must be one of the following: ${spec.values!.join(', ')}`];
      value = v;
      break;
    }
    default:
      break;
  }
  const err = spec.validate?.(value) ?? null;
  if (err) return [null, err];
  return [spec.canonical ? spec.canonical(value) : value, null];
}

export type ConfigListener = (name: string, value: string) => void;

/** A type's listpack thresholds (hash-/zset-max-listpack-entries and -value): most elements, longest element. */
export interface ListpackLimits {
  maxEntries: number;
  maxValue: number;
}

/** Config generations, unique across every Config of the process (the simulator runs many nodes in one). */
let lastGeneration = 0;

/**
 * A value computed from options (an encoding's size limits), cached in
 * this object until an option of the config it was computed from changes:
 * commands read their limits on every write, as Redis does, and parsing
 * them each time (then a map lookup by name) was measurable on SADD, HSET
 * and ZADD. Made once per kind of value (module level); the value must not
 * be mutated by callers.
 */
export class Derived<T> {
  private config: Config | null = null;
  private generation = 0;
  private value: T | undefined = undefined;

  constructor(private readonly compute: (config: Config) => T) {}

  of(config: Config): T {
    if (this.config !== config || this.generation !== config.generation) {
      this.value = this.compute(config);
      this.config = config;
      this.generation = config.generation;
    }
    return this.value as T;
  }
}

function listpackReader(type: 'hash' | 'zset'): Derived<ListpackLimits> {
  const entries = `${type}-max-listpack-entries`;
  const value = `${type}-max-listpack-value`;
  return new Derived((config) => ({ maxEntries: config.int(entries), maxValue: config.int(value) }));
}

const LISTPACK_LIMITS = { hash: listpackReader('hash'), zset: listpackReader('zset') };

/** A hash's or sorted set's listpack limits, read at each write as Redis does (parsed once per option change). */
export function listpackLimitsOf(config: Config, type: 'hash' | 'zset'): ListpackLimits {
  return LISTPACK_LIMITS[type].of(config);
}

/** The node's live configuration. */
export class Config {
  private readonly values = new Map<string, string>();
  private readonly listeners: ConfigListener[] = [];
  /** Options given explicitly (CONFIG REWRITE writes these). */
  readonly explicit = new Set<string>();
  /** The config file the node was started with, if any. */
  file = '';
  /** Changes whenever an option does: what a Derived value was computed at. */
  generation = ++lastGeneration;

  constructor() {
    for (const o of OPTIONS) this.values.set(o.name, o.default);
  }

  get(name: string): string {
    // Fast path: canonical names (what the code uses) need no alias/case resolution.
    const direct = this.values.get(name);
    if (direct !== undefined) return direct;
    const spec = findOption(name);
    if (!spec) throw new Error(`unknown option ${name}`);
    return this.values.get(spec.name)!;
  }

  int(name: string): number {
    return Number(this.get(name));
  }

  bool(name: string): boolean {
    return this.get(name) === 'yes';
  }

  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  /** Sets a validated value; returns an error text, or null. */
  set(name: string, raw: string, fromCommand = false): string | null {
    const spec = findOption(name);
    if (!spec) return `Unknown option '${name}'`;
    const [valid, err] = validateOption(spec, raw);
    // Setting a startup-only option to the value it has changes nothing, so it is allowed (tools re-apply whole configs).
    if (fromCommand && spec.immutable && (err !== null || valid !== this.values.get(spec.name))) return "can't set immutable config";
    if (err !== null) return err;
    const value = spec.merge ? spec.merge(this.values.get(spec.name)!, valid) : valid;
    this.values.set(spec.name, value);
    this.generation = ++lastGeneration;
    this.explicit.add(spec.name);
    for (const l of this.listeners) l(spec.name, value);
    return null;
  }

  /** name -> value of every option (canonical names). */
  entries(): [string, string][] {
    return OPTIONS.map((o) => [o.name, this.values.get(o.name)!]);
  }

  /**
   * CONFIG GET: options named exactly, or matching a glob (names and
   * aliases, case-insensitive; hidden options only by exact name).
   */
  matching(patterns: readonly string[], globMatch: (p: string, s: string) => boolean): [string, string][] {
    const out = new Map<string, string>();
    for (const pattern of patterns) {
      if (!/[[*?]/.test(pattern)) {
        const spec = findOption(pattern);
        if (spec && !out.has(pattern)) out.set(pattern, this.values.get(spec.name)!);
        continue;
      }
      for (const [name, spec] of BY_NAME) {
        if (spec.hidden || out.has(name) || !globMatch(pattern, name)) continue;
        out.set(name, this.values.get(spec.name)!);
      }
    }
    return [...out];
  }

  /**
   * CONFIG SET of several options at once: all are validated and set, or
   * none (earlier ones are rolled back). Returns null, or the failing
   * argument and Redis's reason (reason null for an unknown option).
   */
  setAll(pairs: readonly [string, string][], allowProtected: boolean): { arg: string; reason: string | null } | null {
    const seen = new Set<OptionSpec>();
    for (const [name] of pairs) {
      const spec = findOption(name);
      if (!spec) return { arg: name, reason: null };
    }
    for (const [name, value] of pairs) {
      const spec = findOption(name)!;
      if (spec.immutable && validateOption(spec, value)[0] !== this.values.get(spec.name)) return { arg: name, reason: "can't set immutable config" };
      if (spec.protected && !allowProtected) return { arg: name, reason: "can't set protected config" };
      if (seen.has(spec)) return { arg: name, reason: 'duplicate parameter' };
      seen.add(spec);
    }
    const backup = pairs.map(([name]) => [name, this.get(name)] as const);
    for (let i = 0; i < pairs.length; i++) {
      const [name, value] = pairs[i]!;
      const err = this.set(name, value);
      if (err !== null) {
        for (let j = 0; j < i; j++) this.set(backup[j]![0], backup[j]![1]);
        return { arg: findOption(name)!.name, reason: err };
      }
    }
    return null;
  }

  /** Whether a client may change protected options (enable-protected-configs yes, or local and the client is local). */
  allowsProtected(clientIsLocal: boolean): boolean {
    const v = this.get('enable-protected-configs');
    return v === 'yes' || (v === 'local' && clientIsLocal);
  }

  /**
   * CONFIG REWRITE: the old file's text with each option's first directive
   * replaced by its current value (later duplicates dropped), comments and
   * unknown lines kept, explicitly set options not in the file appended.
   */
  render(oldText = ''): string {
    const written = new Set<string>();
    const lines: string[] = [];
    for (const raw of oldText.split(/\r?\n/)) {
      const parts = raw.trim().startsWith('#') ? null : splitArgs(raw.trim());
      const spec = parts && parts.length > 0 ? findOption(parts[0]!) : undefined;
      if (!spec) {
        if (raw !== '# Generated by CONFIG REWRITE') lines.push(raw);
        continue;
      }
      if (written.has(spec.name)) continue;
      written.add(spec.name);
      lines.push(this.directive(spec.name));
    }
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const added = [...this.explicit].filter((n) => !written.has(n));
    if (added.length > 0) lines.push('# Generated by CONFIG REWRITE', ...added.map((n) => this.directive(n)));
    return `${lines.join('\n')}\n`;
  }

  private directive(name: string): string {
    return `${name} ${quoteConfValue(this.values.get(name)!)}`;
  }
}

function quoteConfValue(v: string): string {
  if (v === '') return '""';
  return /[\s"'\\]/.test(v) ? JSON.stringify(v) : v;
}

/**
 * Reads redis-server style arguments: an optional config file path first,
 * then `--name value [value ...]` pairs. Returns [name, value] pairs in order
 * (file directives first, so the command line overrides the file).
 */
export function parseCommandLine(args: readonly string[], readFile: (path: string) => string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  if (args.length > 0 && !args[0]!.startsWith('--')) {
    out.push(...parseConfigText(readFile(args[0]!)));
    i = 1;
  }
  while (i < args.length) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new Error(`Invalid argument '${arg}': options start with --`);
    const name = arg.slice(2);
    const values: string[] = [];
    i++;
    while (i < args.length && !args[i]!.startsWith('--')) values.push(args[i++]!);
    out.push([name, values.join(' ')]);
  }
  return out;
}

/** Parses redis.conf text: one directive per line, # comments, quoted values. */
export function parseConfigText(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = splitArgs(line);
    if (parts === null || parts.length === 0) throw new Error(`Bad directive or wrong number of arguments: ${line}`);
    out.push([parts[0]!.toLowerCase(), parts.slice(1).join(' ')]);
  }
  return out;
}
