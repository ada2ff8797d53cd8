import type { ClusterControl } from '../cluster/control.js';
import {
  findShard,
  isMasterDownByAddr,
  masterAddress,
  masterRecord,
  quorumCheck,
  replicaRecord,
  roleView,
  sentinelPeers,
  sentinelRecord,
  shardViews,
  type SentinelClock,
  type SentinelRecord,
  type ShardView,
} from '../cluster/sentinel-view.js';
import type { Client } from '../server/client.js';
import { replyHelp, sub } from './help.js';
import type { CommandFlag, CommandSpec, Handler } from './types.js';
import { ERR, parseInteger } from './util.js';

/**
 * SENTINEL answered by a normal cluster node: Strata has no Sentinel process,
 * but every node knows which node serves each shard, so it can answer the
 * discovery subset of Redis Sentinel 7.0 that sentinel-mode clients use
 * (naming rules in src/cluster/sentinel-view.ts and docs/SENTINEL.md). The
 * cluster elects and promotes on its own: the subcommands that configure
 * or drive Sentinel (MONITOR, SET, FAILOVER, ...) are not offered.
 * Sentinel's pub/sub events (+switch-master...) come from src/cluster/sentinel-events.ts.
 */

const DISABLED = 'ERR This instance has cluster support disabled';
const NO_SUCH_MASTER = 'ERR No such master with that name';

/** Redis flags SENTINEL only_sentinel; here it must run on a data node, so it gets a normal admin command's flags. */
const FLAGS: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];
const SINCE = '2.8.4';

type SentinelHandler = (c: Client, argv: string[], cl: ClusterControl) => void;

/** Runs only in cluster mode: the answers come from the cluster view. */
function clustered(h: SentinelHandler): Handler {
  return (c, argv) => {
    const cl = c.server.cluster;
    if (cl === null) c.error(DISABLED);
    else h(c, argv, cl);
  };
}

function clockOf(c: Client, cl: ClusterControl): SentinelClock {
  return { nowMs: c.server.now(), nodeTimeoutMs: cl.nodeTimeoutMs };
}

/** A record as Sentinel sends it: a map (a flat field/value array in RESP2) of bulk strings. */
function writeRecord(c: Client, record: SentinelRecord): void {
  c.reply.mapHeader(record.length);
  for (const [field, value] of record) {
    c.reply.bulk(field);
    c.reply.bulk(value);
  }
}

function writeRecords(c: Client, records: SentinelRecord[]): void {
  c.reply.arrayHeader(records.length);
  for (const r of records) writeRecord(c, r);
}

/** The shard a name designates, or the Sentinel error. */
function namedShard(c: Client, cl: ClusterControl, name: string): ShardView | null {
  const shard = findShard(cl.state, name);
  if (shard === null) c.error(NO_SUCH_MASTER);
  return shard;
}

function getMasterAddrByName(c: Client, argv: string[], cl: ClusterControl): void {
  const addr = masterAddress(cl.state, argv[2]!);
  if (addr === null) {
    c.reply.nullArray();
    return;
  }
  c.reply.arrayHeader(2);
  c.reply.bulk(addr[0]);
  c.reply.bulkNumber(addr[1]);
}

/** MASTERS lists each shard once, under its canonical name (the shard id, which survives failovers). */
function masters(c: Client, _argv: string[], cl: ClusterControl): void {
  const clock = clockOf(c, cl);
  writeRecords(c, shardViews(cl.state).map((s) => masterRecord(cl.state, s, s.shardId, clock)));
}

/** MASTER echoes the name it was asked by, as Sentinel does (its record's name is the one it monitors). */
function master(c: Client, argv: string[], cl: ClusterControl): void {
  const shard = namedShard(c, cl, argv[2]!);
  if (shard !== null) writeRecord(c, masterRecord(cl.state, shard, argv[2]!, clockOf(c, cl)));
}

function replicas(c: Client, argv: string[], cl: ClusterControl): void {
  const shard = namedShard(c, cl, argv[2]!);
  if (shard === null) return;
  const clock = clockOf(c, cl);
  writeRecords(c, shard.replicas.map((r) => replicaRecord(cl.state, r, clock)));
}

function sentinels(c: Client, argv: string[], cl: ClusterControl): void {
  if (namedShard(c, cl, argv[2]!) === null) return;
  const clock = clockOf(c, cl);
  writeRecords(c, sentinelPeers(cl.state).map((n) => sentinelRecord(n, clock)));
}

/** CKQUORUM counts the cluster's voters (primaries serving slots), which are what decide a failover here. */
function ckquorum(c: Client, argv: string[], cl: ClusterControl): void {
  if (namedShard(c, cl, argv[2]!) === null) return;
  const { usable, quorum, voters } = quorumCheck(cl.state);
  const noQuorum = usable < quorum;
  const noAuth = usable < Math.floor(voters / 2) + 1;
  if (!noQuorum && !noAuth) {
    c.reply.status(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`);
    return;
  }
  const reasons: string[] = [];
  if (noQuorum) reasons.push('Not enough available Sentinels to reach the specified quorum for this master');
  if (noAuth) reasons.push('Not enough available Sentinels to reach the majority and authorize a failover');
  c.error(`NOQUORUM ${usable} usable Sentinels. ${reasons.join('. ')}`);
}

/**
 * IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>: down when this
 * node sees that primary failing. The cluster elects its own replacement, so
 * no Sentinel leader vote is ever given ("*", epoch 0).
 */
function isMasterDown(c: Client, argv: string[], cl: ClusterControl): void {
  const port = parseInteger(argv[3]!);
  if (port === null || parseInteger(argv[4]!) === null) {
    c.error(ERR.notInteger);
    return;
  }
  c.reply.arrayHeader(3);
  c.reply.int(isMasterDownByAddr(cl.state, argv[2]!, port) ? 1 : 0);
  c.reply.bulk('*');
  c.reply.int(0);
}

const SENTINEL_HELP = [
  'CKQUORUM <master-name>',
  '    Check if the cluster can reach the quorum needed to fail over a master and',
  '    the majority needed to authorize the failover.',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>',
  '    Check if the master specified by ip:port is down from this node\'s point of view.',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters (one per cluster shard) and their state.',
  'MYID',
  '    Return the ID of this node.',
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'SENTINELS <master-name>',
  '    Show a list of the other cluster nodes answering as Sentinels.',
  'Masters are named by shard id, by shard-<i> (rank by lowest slot) and "mymaster" (shard-0).',
];

/** A subcommand's metadata; `since` defaults to SENTINEL's own version. */
type Meta = Omit<Parameters<typeof sub>[3], 'since'> & { since?: string };

function ssub(name: string, arity: number, meta: Meta, h: SentinelHandler, flags: CommandFlag[] = FLAGS): CommandSpec {
  return sub(name, arity, flags, { ...meta, since: meta.since ?? SINCE }, clustered(h));
}

const NAME = 'master-name';

const sentinelSubcommands: CommandSpec[] = [
  ssub('ckquorum', 3, { summary: 'Checks for a Sentinel quorum.', syntax: NAME }, ckquorum),
  ssub('get-master-addr-by-name', 3, { summary: 'Returns the port and address of a master instance.', complexity: 'O(1)', syntax: NAME }, getMasterAddrByName),
  ssub('help', 2, { since: '6.2.0', summary: 'Returns helpful text about the different subcommands.', complexity: 'O(1)' }, (c) => replyHelp(c, 'sentinel', SENTINEL_HELP), ['loading', 'stale', 'noscript']),
  ssub('is-master-down-by-addr', 6, { summary: 'Determines whether a master instance is down.', complexity: 'O(1)', syntax: 'ip port current-epoch runid' }, isMasterDown),
  ssub('master', 3, { summary: 'Returns the state of a master instance.', complexity: 'O(1)', syntax: NAME }, master),
  ssub('masters', 2, { summary: 'Returns a list of monitored masters.', complexity: 'O(N) where N is the number of masters' }, masters),
  ssub('myid', 2, { since: '6.2.0', summary: 'Returns the Sentinel instance ID.', complexity: 'O(1)' }, (c, _a, cl) => c.reply.bulk(cl.myself.id)),
  ssub('replicas', 3, { since: '5.0.0', summary: 'Returns a list of the monitored replicas.', complexity: 'O(N) where N is the number of replicas', syntax: NAME }, replicas),
  ssub('sentinels', 3, { summary: 'Returns a list of Sentinel instances.', complexity: 'O(N) where N is the number of Sentinels', syntax: NAME }, sentinels),
  {
    ...ssub('slaves', 3, { since: '2.8.0', summary: 'Returns a list of the monitored replicas.', complexity: 'O(N) where N is the number of replicas', syntax: NAME }, replicas),
    docFlags: ['deprecated'],
    deprecatedSince: '5.0.0',
    replacedBy: '`SENTINEL REPLICAS`',
  },
];

/**
 * ROLE. In a cluster the role is the node's cluster role; a replica's link
 * state is "connected" while its primary is not seen failing, and its offset
 * is -1 otherwise (Redis reports -1 without a live link to the master).
 * Outside cluster mode every Strata node is a writable peer: a master with
 * no replicas.
 */
function role(c: Client): void {
  const cl = c.server.cluster;
  if (cl === null) {
    c.reply.arrayHeader(3);
    c.reply.bulk('master');
    c.reply.int(0);
    c.reply.arrayHeader(0);
    return;
  }
  const view = roleView(cl.state, c.server.replication?.log.lastSeq ?? 0, c.server.now());
  if (view.role === 'master') {
    c.reply.arrayHeader(3);
    c.reply.bulk('master');
    c.reply.int(view.offset);
    c.reply.arrayHeader(view.replicas.length);
    for (const r of view.replicas) c.reply.bulkArray([r.ip, String(r.port), String(r.offset)]);
    return;
  }
  c.reply.arrayHeader(5);
  c.reply.bulk('slave');
  c.reply.bulk(view.host);
  c.reply.int(view.port);
  c.reply.bulk(view.linkUp ? 'connected' : 'connect');
  c.reply.int(view.linkUp ? view.offset : -1);
}

export const sentinelCommands: CommandSpec[] = [
  {
    name: 'sentinel',
    arity: -2,
    flags: FLAGS,
    // Redis's group is "sentinel", which Strata's CommandGroup does not have.
    group: 'server',
    since: SINCE,
    summary: 'A container for Redis Sentinel commands.',
    complexity: 'Depends on subcommand.',
    subcommands: sentinelSubcommands,
  },
  {
    name: 'role',
    arity: 1,
    flags: ['noscript', 'loading', 'stale', 'fast'],
    acl: ['admin', 'dangerous'],
    group: 'server',
    since: '2.8.12',
    summary: 'Returns the replication role.',
    complexity: 'O(1)',
    handler: role,
  },
];
