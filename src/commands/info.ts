import { migrateCachedSockets } from './migrate.js';
import { roleView } from '../cluster/sentinel-view.js';
import type { Server } from '../server/server.js';
import { SubKind } from '../server/pubsub.js';

/** The Redis version Strata reports (INFO, HELLO): the release whose behaviour it follows. */
export const REDIS_VERSION = '7.0.15';
export const STRATA_VERSION = '0.1.0';

type Field = [string, string | number];

/** One INFO section: its title and a function producing its fields. */
interface Section {
  name: string;
  title: string;
  fields: (s: Server) => Field[];
}

/** Redis's bytesToHuman: 1023B, 1.00K, 2.50M ... */
export function bytesToHuman(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`;
}

/** "%ld.%06ld" of a microsecond count. */
function secondsUs(us: number): string {
  const sec = Math.floor(us / 1e6);
  return `${sec}.${String(Math.floor(us % 1e6)).padStart(6, '0')}`;
}

/** Characters INFO replaces so that values never break its line format. */
function safe(s: string): string {
  return s.replace(/[#:\n\r]/g, '_');
}

function serverFields(s: Server): Field[] {
  const now = s.now();
  const uptime = Math.floor((now - s.startedAtMs) / 1000);
  const p = s.runtime.process;
  return [
    ['redis_version', REDIS_VERSION], ['strata_version', STRATA_VERSION], ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0], ['redis_build_id', '0'],
    ['redis_mode', s.config.bool('cluster-enabled') ? 'cluster' : 'standalone'], ['os', 'Node.js'],
    ['arch_bits', 64], ['monotonic_clock', 'POSIX clock_gettime'], ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'], ['gcc_version', '0.0.0'], ['process_id', p.pid], ['process_supervised', 'no'],
    ['run_id', s.runId], ['tcp_port', s.port], ['server_time_usec', s.runtime.clock.nowUs()],
    ['uptime_in_seconds', uptime], ['uptime_in_days', Math.floor(uptime / 86400)], ['hz', s.config.int('hz')],
    ['configured_hz', s.config.int('hz')], ['lru_clock', Math.floor(now / 1000) & 0xffffff],
    ['executable', p.executable], ['config_file', s.config.file || p.configFile], ['io_threads_active', 0],
  ];
}

function clientFields(s: Server): Field[] {
  let maxIn = 0;
  let maxOut = 0;
  for (const c of s.clients.all()) {
    maxIn = Math.max(maxIn, c.queryBufferBytes);
    maxOut = Math.max(maxOut, c.outputBytes);
  }
  return [
    ['connected_clients', s.clients.size], ['cluster_connections', 0], ['maxclients', s.config.int('maxclients')],
    ['client_recent_max_input_buffer', maxIn], ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', s.blocking.blockedCount], ['tracking_clients', s.tracking.clientCount], ['clients_in_timeout_table', s.blocking.timeoutCount],
  ];
}

function memoryFields(s: Server): Field[] {
  const used = s.runtime.process.heapUsed();
  const rss = s.runtime.process.memoryRss();
  const maxmemory = s.config.int('maxmemory');
  const mem = (name: string, n: number): Field[] => [[name, n], [`${name}_human`, bytesToHuman(n)]];
  return [
    ...mem('used_memory', used), ...mem('used_memory_rss', rss), ...mem('used_memory_peak', used),
    ['used_memory_peak_perc', '100.00%'], ['used_memory_overhead', 0], ['used_memory_startup', 0],
    ['used_memory_dataset', used], ['used_memory_dataset_perc', '100.00%'], ['allocator_allocated', used],
    ['allocator_active', used], ['allocator_resident', rss], ...mem('total_system_memory', 0),
    ['used_memory_lua', 0], ['used_memory_vm_eval', 0], ['used_memory_lua_human', '0B'], ['used_memory_scripts_eval', 0],
    ['number_of_cached_scripts', 0], ['number_of_functions', 0], ['number_of_libraries', 0],
    ['used_memory_vm_functions', 0], ...mem('used_memory_vm_total', 0), ['used_memory_functions', 0],
    ...mem('used_memory_scripts', 0), ...mem('maxmemory', maxmemory), ['maxmemory_policy', s.config.get('maxmemory-policy')],
    ['allocator_frag_ratio', '1.00'], ['allocator_frag_bytes', 0], ['allocator_rss_ratio', '1.00'], ['allocator_rss_bytes', 0],
    ['rss_overhead_ratio', '1.00'], ['rss_overhead_bytes', 0],
    ['mem_fragmentation_ratio', used > 0 ? (rss / used).toFixed(2) : '0.00'], ['mem_fragmentation_bytes', rss - used],
    ['mem_not_counted_for_evict', 0], ['mem_replication_backlog', 0], ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', 0], ['mem_clients_normal', 0], ['mem_cluster_links', 0], ['mem_aof_buffer', 0],
    ['mem_allocator', 'v8'], ['active_defrag_running', 0], ['lazyfree_pending_objects', 0], ['lazyfreed_objects', 0],
  ];
}

function persistenceFields(s: Server): Field[] {
  if (s.persistence !== null) return s.persistence.infoFields();
  return [
    ['loading', s.replication?.loading === true ? 1 : 0], ['async_loading', 0], ['current_cow_peak', 0], ['current_cow_size', 0], ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'], ['current_save_keys_processed', 0], ['current_save_keys_total', 0],
    ['rdb_changes_since_last_save', s.stats.dirty], ['rdb_bgsave_in_progress', 0], ['rdb_last_save_time', s.lastSaveSec],
    ['rdb_last_bgsave_status', 'ok'], ['rdb_last_bgsave_time_sec', -1], ['rdb_current_bgsave_time_sec', -1],
    ['rdb_saves', 0], ['rdb_last_cow_size', 0], ['rdb_last_load_keys_expired', 0], ['rdb_last_load_keys_loaded', 0],
    ['aof_enabled', s.config.bool('appendonly') ? 1 : 0], ['aof_rewrite_in_progress', 0], ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1], ['aof_current_rewrite_time_sec', -1], ['aof_last_bgrewrite_status', 'ok'],
    ['aof_rewrites', 0], ['aof_rewrites_consecutive_failures', 0], ['aof_last_write_status', 'ok'],
    ['aof_last_cow_size', 0], ['module_fork_in_progress', 0], ['module_fork_last_cow_size', 0],
  ];
}

function statsFields(s: Server): Field[] {
  const st = s.stats;
  const zero = (...names: string[]): Field[] => names.map((n) => [n, 0]);
  return [
    ['total_connections_received', st.totalConnections], ['total_commands_processed', st.totalCommands],
    ['instantaneous_ops_per_sec', st.instantaneousOps], ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes], ...zero('total_net_repl_input_bytes', 'total_net_repl_output_bytes'),
    ['instantaneous_input_kbps', '0.00'], ['instantaneous_output_kbps', '0.00'],
    ['instantaneous_input_repl_kbps', '0.00'], ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', st.rejectedConnections], ...zero('sync_full', 'sync_partial_ok', 'sync_partial_err'),
    ['expired_keys', st.expiredKeys], ['expired_stale_perc', st.expiredStalePerc.toFixed(2)],
    ['expired_time_cap_reached_count', st.expiredTimeCapReached], ['expire_cycle_cpu_milliseconds', 0],
    ['evicted_keys', st.evictedKeys], ...zero('evicted_clients', 'total_eviction_exceeded_time', 'current_eviction_exceeded_time'),
    ['keyspace_hits', st.keyspaceHits], ['keyspace_misses', st.keyspaceMisses],
    ['pubsub_channels', s.pubsub.channelsOf(SubKind.Channel).size], ['pubsub_patterns', s.pubsub.patternCount],
    ['pubsubshard_channels', s.pubsub.channelsOf(SubKind.Shard).size], ...zero('latest_fork_usec', 'total_forks'),
    ['migrate_cached_sockets', migrateCachedSockets(s)],
    ...zero('slave_expires_tracked_keys', 'active_defrag_hits', 'active_defrag_misses',
      'active_defrag_key_hits', 'active_defrag_key_misses', 'total_active_defrag_time', 'current_active_defrag_time'),
    ['tracking_total_keys', s.tracking.totalKeys], ['tracking_total_items', s.tracking.totalItems],
    ['tracking_total_prefixes', s.tracking.totalPrefixes],
    ['unexpected_error_replies', st.unexpectedErrorReplies], ['total_error_replies', st.totalErrorReplies],
    ['dump_payload_sanitizations', 0], ['total_reads_processed', st.totalCommands],
    ['total_writes_processed', st.totalCommands],
    ...zero('io_threaded_reads_processed', 'io_threaded_writes_processed', 'reply_buffer_shrinks', 'reply_buffer_expands'),
  ];
}

/**
 * INFO replication. In cluster mode the role lines follow the node's cluster
 * role (ioredis's sentinel connector checks "role:" before using a node);
 * offsets are the delta log position of a primary and the gossiped offset
 * of a replica. Strata's peer lines come last in both modes.
 */
function replicationFields(s: Server): Field[] {
  const view = s.cluster === null ? null : roleView(s.cluster.state, s.replication?.log.lastSeq ?? 0, s.now());
  const roleLines = (): Field[] => {
    if (view === null) return [['role', 'master'], ['connected_slaves', 0]];
    if (view.role === 'master') {
      return [
        ['role', 'master'], ['connected_slaves', view.replicas.length],
        ...view.replicas.map((r, i): Field => [`slave${i}`, `ip=${r.ip},port=${r.port},state=online,offset=${r.offset},lag=0`]),
      ];
    }
    return [
      ['role', 'slave'], ['master_host', view.host], ['master_port', view.port],
      ['master_link_status', view.linkUp ? 'up' : 'down'], ['master_last_io_seconds_ago', view.lastIoSeconds],
      ['master_sync_in_progress', 0], ['slave_read_repl_offset', view.offset], ['slave_repl_offset', view.offset],
      ...(view.linkUp ? [] : [['master_link_down_since_seconds', view.downSinceSeconds] as Field]),
      ['slave_priority', s.config.int('replica-priority')], ['slave_read_only', s.config.bool('replica-read-only') ? 1 : 0],
      ['replica_announced', 1], ['connected_slaves', 0],
    ];
  };
  return [
    ...roleLines(), ['master_failover_state', 'no-failover'],
    ['master_replid', s.replId], ['master_replid2', s.replId2], ['master_repl_offset', view?.offset ?? 0],
    ['second_repl_offset', -1], ['repl_backlog_active', 0], ['repl_backlog_size', s.config.int('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', 0], ['repl_backlog_histlen', 0],
    ...(s.replication?.infoLines() ?? []).map((line): Field => {
      const at = line.indexOf(':');
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  ];
}

function cpuFields(s: Server): Field[] {
  const u = s.runtime.process.cpuUsage();
  return [
    ['used_cpu_sys', secondsUs(u.systemUs)], ['used_cpu_user', secondsUs(u.userUs)],
    ['used_cpu_sys_children', '0.000000'], ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', secondsUs(u.systemUs)], ['used_cpu_user_main_thread', secondsUs(u.userUs)],
  ];
}

function commandStatsFields(s: Server): Field[] {
  const out: Field[] = [];
  for (const cmd of s.commands.all) {
    const st = s.stats.commands[cmd.id]!;
    if (st.calls === 0 && st.failedCalls === 0 && st.rejectedCalls === 0) continue;
    const perCall = st.calls === 0 ? 0 : st.usec / st.calls;
    out.push([
      `cmdstat_${safe(cmd.fullName)}`,
      `calls=${st.calls},usec=${st.usec},usec_per_call=${perCall.toFixed(2)},rejected_calls=${st.rejectedCalls},failed_calls=${st.failedCalls}`,
    ]);
  }
  return out;
}

function errorStatsFields(s: Server): Field[] {
  return [...s.stats.errors.keys()].sort().map((code) => [`errorstat_${safe(code)}`, `count=${s.stats.errors.get(code)}`]);
}

function keyspaceFields(s: Server): Field[] {
  const out: Field[] = [];
  for (const db of s.keyspace.all()) {
    if (db.size === 0 && db.expiresCount === 0) continue;
    out.push([`db${db.id}`, `keys=${db.size},expires=${db.expiresCount},avg_ttl=0`]);
  }
  return out;
}

/** Every section in Redis's order. */
const SECTIONS: Section[] = [
  { name: 'server', title: 'Server', fields: serverFields },
  { name: 'clients', title: 'Clients', fields: clientFields },
  { name: 'memory', title: 'Memory', fields: memoryFields },
  { name: 'persistence', title: 'Persistence', fields: persistenceFields },
  { name: 'stats', title: 'Stats', fields: statsFields },
  { name: 'replication', title: 'Replication', fields: replicationFields },
  { name: 'cpu', title: 'CPU', fields: cpuFields },
  { name: 'modules', title: 'Modules', fields: () => [] },
  { name: 'commandstats', title: 'Commandstats', fields: commandStatsFields },
  { name: 'errorstats', title: 'Errorstats', fields: errorStatsFields },
  { name: 'latencystats', title: 'Latencystats', fields: () => [] },
  { name: 'cluster', title: 'Cluster', fields: (s) => [['cluster_enabled', s.config.bool('cluster-enabled') ? 1 : 0]] },
  { name: 'keyspace', title: 'Keyspace', fields: keyspaceFields },
];

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'module_list', 'errorstats', 'cluster', 'keyspace'];

/** Which sections INFO's arguments select (genInfoSectionDict): null means all of them. */
export function selectSections(args: readonly string[]): Set<string> | null {
  const wanted = new Set<string>();
  if (args.length === 0) DEFAULT_SECTIONS.forEach((n) => wanted.add(n));
  let all = false;
  for (const a of args) {
    const name = a.toLowerCase();
    if (name === 'default') DEFAULT_SECTIONS.forEach((n) => wanted.add(n));
    else if (name === 'all' || name === 'everything') all = true;
    else wanted.add(name);
  }
  return all ? null : wanted;
}

/** The INFO text for the given sections (null = all), as genRedisInfoString lays it out. */
export function infoText(s: Server, sections: Set<string> | null): string {
  const parts: string[] = [];
  for (const sec of SECTIONS) {
    const chosen = sections === null || sections.has(sec.name) || (sec.name === 'modules' && sections.has('module_list'));
    if (!chosen) continue;
    let text = `# ${sec.title}\r\n`;
    for (const [k, v] of sec.fields(s)) text += `${k}:${v}\r\n`;
    parts.push(text);
  }
  return parts.join('\r\n');
}

/** One field of the INFO text (for tests and tools): undefined if absent. */
export function infoField(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(text);
  return m ? m[1]!.replace(/\r$/, '') : undefined;
}
