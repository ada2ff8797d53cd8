import type { ClusterControl, FailoverMode } from '../cluster/control.js';
import {
  clusterInfoText,
  clusterLinksReply,
  clusterNodesText,
  clusterShardsReply,
  clusterSlotsReply,
  pingLinkUp,
  replicaLines,
  writeReply,
  type EndpointType,
} from '../cluster/format.js';
import { NODE_FLAG, type ClusterNode } from '../cluster/node.js';
import { keyHashSlot, SLOT_COUNT } from '../cluster/slots.js';
import { findOption } from '../config.js';
import type { Client } from '../server/client.js';
import { replyHelp, sub } from './help.js';
import type { CommandFlag, CommandSpec, Handler } from './types.js';
import { ERR, parseInteger } from './util.js';

/**
 * CLUSTER and its subcommands, ASKING, READONLY, READWRITE: argument checks
 * and error texts as Redis 7.0's clusterCommand; the work is done by the
 * running cluster (ClusterControl) and the texts by src/cluster/format.ts.
 */

const DISABLED = 'ERR This instance has cluster support disabled';

/** A handler that runs only in cluster mode (Redis refuses every CLUSTER subcommand, HELP included, otherwise). */
type ClusterHandler = (c: Client, argv: string[], cl: ClusterControl) => void;

function clustered(h: ClusterHandler): Handler {
  return (c, argv) => {
    const cl = c.server.cluster;
    if (cl === null) c.error(DISABLED);
    else h(c, argv, cl);
  };
}

/** Replies with the error; false, for checks that report success as a boolean. */
function refuse(c: Client, error: string): false {
  c.error(error);
  return false;
}

/** Replies OK, or the error a ClusterControl method returned. */
function replyResult(c: Client, err: string | null): void {
  if (err === null) c.reply.ok();
  else c.error(err.startsWith('ERR ') ? err : `ERR ${err}`);
}

/** Redis's reply when a subcommand's own argument count check fails (after the table's arity check passed). */
function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

/** getSlotOrReply: an integer in [0, 16383] (Redis's strict integer grammar), else the error. */
function slotArg(c: Client, text: string): number | null {
  const n = parseInteger(text);
  if (n === null || n < 0 || n >= SLOT_COUNT) {
    c.error('ERR Invalid or out of range slot');
    return null;
  }
  return n;
}

/** A node named by id, or the "Unknown node" error. */
function knownNode(c: Client, cl: ClusterControl, id: string, error = `ERR Unknown node ${id}`): ClusterNode | null {
  const n = cl.state.node(id);
  if (n === undefined) c.error(error);
  return n ?? null;
}

/** cluster-preferred-endpoint-type when the configuration has it; Redis's default (ip) otherwise. */
function endpointType(c: Client): EndpointType {
  if (findOption('cluster-preferred-endpoint-type') === undefined) return 'ip';
  const v = c.server.config.get('cluster-preferred-endpoint-type');
  return v === 'hostname' || v === 'unknown-endpoint' ? v : 'ip';
}

function keysOfDb0(c: Client): number {
  return c.server.keyspace.db(0).size;
}

// ---- slot assignment (ADDSLOTS, DELSLOTS and their RANGE forms) -------------

/** checkSlotAssignmentsOrReply: every slot in [start, end] free (or assigned, to delete) and named once. */
function checkSlots(c: Client, cl: ClusterControl, marked: Uint8Array, del: boolean, start: number, end: number): boolean {
  for (let s = start; s <= end; s++) {
    const owner = cl.state.ownerOf(s);
    if (del && owner === null) return refuse(c, `ERR Slot ${s} is already unassigned`);
    if (!del && owner !== null) return refuse(c, `ERR Slot ${s} is already busy`);
    if (marked[s]++ === 1) return refuse(c, `ERR Slot ${s} specified multiple times`);
  }
  return true;
}

/** Applies the checked slots to myself; an import in progress ends since this node now decides the slot. */
function updateSlots(c: Client, cl: ClusterControl, marked: Uint8Array, del: boolean): void {
  const state = cl.state;
  for (let s = 0; s < SLOT_COUNT; s++) {
    if (marked[s] === 0) continue;
    state.importingFrom[s] = null;
    if (del) state.unassign(s);
    else state.assign(s, cl.myself);
  }
  cl.configChanged();
  c.reply.ok();
}

function addDelSlots(del: boolean): ClusterHandler {
  return (c, argv, cl) => {
    const slots: number[] = [];
    // Every argument is validated before any is checked against the table, as Redis does.
    for (const a of argv.slice(2)) {
      const s = slotArg(c, a);
      if (s === null) return;
      slots.push(s);
    }
    const marked = new Uint8Array(SLOT_COUNT);
    for (const s of slots) if (!checkSlots(c, cl, marked, del, s, s)) return;
    updateSlots(c, cl, marked, del);
  };
}

function addDelSlotsRange(del: boolean): ClusterHandler {
  return (c, argv, cl) => {
    if (argv.length % 2 === 1) return c.error(`ERR wrong number of arguments for 'cluster|${argv[1]!.toLowerCase()}' command`);
    const marked = new Uint8Array(SLOT_COUNT);
    for (let i = 2; i < argv.length; i += 2) {
      const start = slotArg(c, argv[i]!);
      if (start === null) return;
      const end = slotArg(c, argv[i + 1]!);
      if (end === null) return;
      if (start > end) return c.error(`ERR start slot number ${start} is greater than end slot number ${end}`);
      if (!checkSlots(c, cl, marked, del, start, end)) return;
    }
    updateSlots(c, cl, marked, del);
  };
}

const flushSlots: ClusterHandler = (c, _argv, cl) => {
  if (keysOfDb0(c) !== 0) return c.error('ERR DB must be empty to perform CLUSTER FLUSHSLOTS.');
  for (let s = 0; s < SLOT_COUNT; s++) if (cl.state.ownerOf(s) === cl.myself) cl.state.unassign(s);
  cl.configChanged();
  c.reply.ok();
};

// ---- SETSLOT ------------------------------------------------------------------

/** The MIGRATING / IMPORTING peer: known, and a primary. */
function slotPeer(c: Client, cl: ClusterControl, id: string): ClusterNode | null {
  const n = knownNode(c, cl, id, `ERR I don't know about node ${id}`);
  if (n === null) return null;
  if (!n.isReplica) return n;
  c.error('ERR Target node is not a master');
  return null;
}

/** SETSLOT <slot> MIGRATING|IMPORTING|STABLE; false when it replied with an error. */
function setSlotOpen(c: Client, cl: ClusterControl, slot: number, action: string, id: string): boolean {
  const state = cl.state;
  if (action === 'stable') {
    state.importingFrom[slot] = null;
    state.migratingTo[slot] = null;
    return true;
  }
  const mine = state.ownerOf(slot) === cl.myself;
  if (action === 'migrating' && !mine) return refuse(c, `ERR I'm not the owner of hash slot ${slot}`);
  if (action === 'importing' && mine) return refuse(c, `ERR I'm already the owner of hash slot ${slot}`);
  const n = slotPeer(c, cl, id);
  if (n === null) return false;
  if (action === 'migrating') state.migratingTo[slot] = n;
  else state.importingFrom[slot] = n;
  return true;
}

/** SETSLOT <slot> NODE <id>: the assignment and its side effects belong to the cluster. */
function setSlotNode(c: Client, cl: ClusterControl, slot: number, id: string): void {
  const n = knownNode(c, cl, id);
  if (n === null) return;
  if (n.isReplica) return c.error('ERR Target node is not a master');
  replyResult(c, cl.setSlotNode(slot, n));
}

const setSlot: ClusterHandler = (c, argv, cl) => {
  if (cl.myself.isReplica) return c.error('ERR Please use SETSLOT only with masters.');
  const slot = slotArg(c, argv[2]!);
  if (slot === null) return;
  const action = argv[3]!.toLowerCase();
  const argc = argv.length;
  if (action === 'node' && argc === 5) return setSlotNode(c, cl, slot, argv[4]!);
  const valid = ((action === 'migrating' || action === 'importing') && argc === 5) || (action === 'stable' && argc === 4);
  if (!valid) return c.error('ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
  if (!setSlotOpen(c, cl, slot, action, argv[4] ?? '')) return;
  cl.configChanged();
  c.reply.ok();
};

// ---- membership and roles ----------------------------------------------------------

const meet: ClusterHandler = (c, argv, cl) => {
  if (argv.length > 5) return subcommandSyntaxError(c, argv);
  const port = parseInteger(argv[3]!);
  if (port === null) return c.error(`ERR Invalid TCP base port specified: ${argv[3]}`);
  let cport = port + 10_000; // Redis's bus port offset
  if (argv.length === 5) {
    const bus = parseInteger(argv[4]!);
    if (bus === null) return c.error(`ERR Invalid TCP bus port specified: ${argv[4]}`);
    cport = bus;
  }
  if (!cl.meet(argv[2]!, port, cport)) return c.error(`ERR Invalid node address specified: ${argv[2]}:${argv[3]}`);
  c.reply.ok();
};

const forget: ClusterHandler = (c, argv, cl) => {
  const n = knownNode(c, cl, argv[2]!);
  if (n === null) return;
  if (n === cl.myself) return c.error("ERR I tried hard but I can't forget myself...");
  if (cl.myself.isReplica && cl.myself.primaryId === n.id) return c.error("ERR Can't forget my master!");
  replyResult(c, cl.forget(n));
};

const replicate: ClusterHandler = (c, argv, cl) => {
  const n = knownNode(c, cl, argv[2]!);
  if (n === null) return;
  if (n === cl.myself) return c.error("ERR Can't replicate myself");
  if (n.isReplica) return c.error('ERR I can only replicate a master, not a replica.');
  const me = cl.myself;
  if (me.isPrimary && (me.slots.count !== 0 || keysOfDb0(c) !== 0)) {
    return c.error('ERR To set a master the node must be empty and without assigned slots.');
  }
  replyResult(c, cl.replicate(n));
};

const replicas: ClusterHandler = (c, argv, cl) => {
  const n = knownNode(c, cl, argv[2]!);
  if (n === null) return;
  if (n.isReplica) return c.error('ERR The specified node is not a master');
  const now = c.server.nowMs();
  c.reply.bulkArray(replicaLines(cl.state, n, now, pingLinkUp(now, cl.nodeTimeoutMs)));
};

const countFailureReports: ClusterHandler = (c, argv, cl) => {
  const n = knownNode(c, cl, argv[2]!);
  if (n === null) return;
  // Reports older than twice the node timeout no longer count (CLUSTER_FAIL_REPORT_VALIDITY_MULT).
  c.reply.int(n.liveFailReports(c.server.nowMs(), cl.nodeTimeoutMs * 2));
};

function failoverMode(c: Client, argv: string[]): FailoverMode | null {
  if (argv.length === 2) return 'default';
  const opt = argv[2]!.toLowerCase();
  if (opt === 'force' || opt === 'takeover') return opt;
  c.error(ERR.syntax);
  return null;
}

const failover: ClusterHandler = (c, argv, cl) => {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  const mode = failoverMode(c, argv);
  if (mode === null) return;
  const me = cl.myself;
  if (me.isPrimary) return c.error('ERR You should send CLUSTER FAILOVER to a replica');
  const primary = cl.state.primaryOf(me);
  if (primary === null) return c.error("ERR I'm a replica but my master is unknown to me");
  // The "no link to the primary" half of this check needs the bus: the cluster makes it.
  if (mode === 'default' && primary.has(NODE_FLAG.fail)) {
    return c.error('ERR Master is down or failed, please use CLUSTER FAILOVER FORCE');
  }
  replyResult(c, cl.failover(mode));
};

const reset: ClusterHandler = (c, argv, cl) => {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  const opt = argv.length === 3 ? argv[2]!.toLowerCase() : 'soft';
  if (opt !== 'hard' && opt !== 'soft') return c.error(ERR.syntax);
  // Redis checks the client's selected database here, not database 0.
  if (cl.myself.isPrimary && c.db.size !== 0) return c.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
  cl.reset(opt === 'hard');
  c.reply.ok();
};

const setConfigEpoch: ClusterHandler = (c, argv, cl) => {
  const epoch = parseInteger(argv[2]!);
  if (epoch === null) return c.error(ERR.notInteger);
  if (epoch < 0) return c.error(`ERR Invalid config epoch specified: ${argv[2]}`);
  if (cl.state.nodes.size > 1) return c.error('ERR The user can assign a config epoch only when the node does not know any other node.');
  if (cl.myself.configEpoch !== 0) return c.error('ERR Node config epoch is already non-zero');
  replyResult(c, cl.setConfigEpoch(epoch));
};

// ---- keys by slot ----------------------------------------------------------------

const countKeysInSlot: ClusterHandler = (c, argv) => {
  const slot = parseInteger(argv[2]!);
  if (slot === null) return c.error(ERR.notInteger);
  if (slot < 0 || slot >= SLOT_COUNT) return c.error('ERR Invalid slot');
  c.reply.int(c.server.keyspace.db(0).slotKeys?.count(slot) ?? 0);
};

const getKeysInSlot: ClusterHandler = (c, argv) => {
  const slot = parseInteger(argv[2]!);
  if (slot === null) return c.error(ERR.notInteger);
  const max = parseInteger(argv[3]!);
  if (max === null) return c.error(ERR.notInteger);
  if (slot < 0 || slot >= SLOT_COUNT || max < 0) return c.error('ERR Invalid slot or number of keys');
  c.reply.bulkArray(c.server.keyspace.db(0).slotKeys?.keys(slot, max) ?? []);
};

// ---- reports ---------------------------------------------------------------------

const nodes: ClusterHandler = (c, _argv, cl) => {
  const now = c.server.nowMs();
  c.reply.verbatim(clusterNodesText(cl.state, now, pingLinkUp(now, cl.nodeTimeoutMs)));
};

/** CLUSTER HELP, as Redis 7.0 words it. */
const CLUSTER_HELP = [
  'ADDSLOTS <slot> [<slot> ...]',
  '    Assign slots to current node.',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Assign slots which are between <start-slot> and <end-slot> to current node.',
  'BUMPEPOCH',
  '    Advance the cluster config epoch.',
  'COUNT-FAILURE-REPORTS <node-id>',
  '    Return number of failure reports for <node-id>.',
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot>.',
  'DELSLOTS <slot> [<slot> ...]',
  '    Delete slots information from current node.',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Delete slots information which are between <start-slot> and <end-slot> from current node.',
  'FAILOVER [FORCE|TAKEOVER]',
  '    Promote current replica node to being a master.',
  'FORGET <node-id>',
  '    Remove a node from the cluster.',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot.',
  'FLUSHSLOTS',
  '    Delete current node own slots information.',
  'INFO',
  '    Return information about the cluster.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'MEET <ip> <port> [<bus-port>]',
  '    Connect nodes into a working cluster.',
  'MYID',
  '    Return the node id.',
  'NODES',
  '    Return cluster configuration seen by node. Output format:',
  '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
  'REPLICATE <node-id>',
  '    Configure current node as replica to <node-id>.',
  'RESET [HARD|SOFT]',
  '    Reset current node (default: soft).',
  'SET-CONFIG-EPOCH <epoch>',
  '    Set config epoch of current node.',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
  '    Set slot state.',
  'REPLICAS <node-id>',
  '    Return <node-id> replicas.',
  'SAVECONFIG',
  '    Force saving cluster configuration on disk.',
  'SLOTS',
  '    Return information about slots range mappings. Each range is made of:',
  '    start, end, master and replicas IP addresses, ports and ids',
  'SHARDS',
  '    Return information about slot range mappings and the nodes associated with them.',
  'LINKS',
  '    Return information about all network links between this node and its peers.',
  '    Output format is an array where each array element is a map containing attributes of a link',
];

// ---- the table -------------------------------------------------------------------

const ADMIN: CommandFlag[] = ['no_async_loading', 'admin', 'stale'];
const STALE: CommandFlag[] = ['stale'];
const NONDET = ['nondeterministic_output'];

type Meta = Parameters<typeof sub>[3];

/** A CLUSTER subcommand (group cluster, refused outside cluster mode). */
function csub(name: string, arity: number, flags: CommandFlag[], meta: Meta, h: ClusterHandler, extra: Partial<CommandSpec> = {}): CommandSpec {
  return { ...sub(name, arity, flags, { group: 'cluster', ...meta }, clustered(h)), ...extra };
}

const deprecated = (since: string, by: string): Partial<CommandSpec> => ({ docFlags: ['deprecated'], deprecatedSince: since, replacedBy: by });

const clusterSubcommands: CommandSpec[] = [
  csub('addslots', -3, ADMIN, { since: '3.0.0', summary: 'Assigns new hash slots to a node.', complexity: 'O(N) where N is the total number of hash slot arguments', syntax: 'slot [slot ...]' }, addDelSlots(false)),
  csub('addslotsrange', -4, ADMIN, { since: '7.0.0', summary: 'Assigns new hash slot ranges to a node.', complexity: 'O(N) where N is the total number of the slots between the start slot and end slot arguments.', syntax: 'start-slot end-slot [start-slot end-slot ...]' }, addDelSlotsRange(false)),
  csub('bumpepoch', 2, ADMIN, { since: '3.0.0', summary: 'Advances the cluster config epoch.', complexity: 'O(1)', tips: NONDET }, (c, _a, cl) => c.reply.status(cl.bumpEpoch())),
  csub('count-failure-reports', 3, ['admin', 'stale'], { since: '3.0.0', summary: 'Returns the number of active failure reports active for a node.', complexity: 'O(N) where N is the number of failure reports', syntax: 'node-id', tips: NONDET }, countFailureReports),
  csub('countkeysinslot', 3, STALE, { since: '3.0.0', summary: 'Returns the number of keys in a hash slot.', complexity: 'O(1)', syntax: 'slot' }, countKeysInSlot),
  csub('delslots', -3, ADMIN, { since: '3.0.0', summary: 'Sets hash slots as unbound for a node.', complexity: 'O(N) where N is the total number of hash slot arguments', syntax: 'slot [slot ...]' }, addDelSlots(true)),
  csub('delslotsrange', -4, ADMIN, { since: '7.0.0', summary: 'Sets hash slot ranges as unbound for a node.', complexity: 'O(N) where N is the total number of the slots between the start slot and end slot arguments.', syntax: 'start-slot end-slot [start-slot end-slot ...]' }, addDelSlotsRange(true)),
  csub('failover', -2, ADMIN, { since: '3.0.0', summary: 'Forces a replica to perform a manual failover of its master.', complexity: 'O(1)', syntax: '[FORCE | TAKEOVER]' }, failover),
  csub('flushslots', 2, ADMIN, { since: '3.0.0', summary: 'Deletes all slots information from a node.', complexity: 'O(1)' }, flushSlots),
  csub('forget', 3, ADMIN, { since: '3.0.0', summary: 'Removes a node from the nodes table.', complexity: 'O(1)', syntax: 'node-id' }, forget),
  csub('getkeysinslot', 4, STALE, { since: '3.0.0', summary: 'Returns the key names in a hash slot.', complexity: 'O(N) where N is the number of requested keys', syntax: 'slot count', tips: NONDET }, getKeysInSlot),
  csub('help', 2, ['loading', 'stale'], { since: '5.0.0', summary: 'Returns helpful text about the different subcommands.', complexity: 'O(1)' }, (c) => replyHelp(c, 'cluster', CLUSTER_HELP)),
  csub('info', 2, STALE, { since: '3.0.0', summary: 'Returns information about the state of a node.', complexity: 'O(1)', tips: NONDET }, (c, _a, cl) => c.reply.verbatim(clusterInfoText(cl.state, cl.stats))),
  csub('keyslot', 3, STALE, { since: '3.0.0', summary: 'Returns the hash slot for a key.', complexity: 'O(N) where N is the number of bytes in the key', syntax: 'key' }, (c, argv) => c.reply.int(keyHashSlot(argv[2]!))),
  csub('links', 2, STALE, { since: '7.0.0', summary: 'Returns a list of all TCP links to and from peer nodes.', complexity: 'O(N) where N is the total number of Cluster nodes', tips: NONDET }, (c, _a, cl) => writeReply(c.reply, clusterLinksReply(cl.links()))),
  csub('meet', -4, ADMIN, { since: '3.0.0', summary: 'Forces a node to handshake with another node.', complexity: 'O(1)', syntax: 'ip port [cluster-bus-port]' }, meet),
  csub('myid', 2, STALE, { since: '3.0.0', summary: 'Returns the ID of a node.', complexity: 'O(1)' }, (c, _a, cl) => c.reply.bulk(cl.myself.id)),
  csub('myshardid', 2, STALE, { since: '7.2.0', summary: 'Returns the shard ID of a node.', complexity: 'O(1)', tips: NONDET }, (c, _a, cl) => c.reply.bulk(cl.myself.shardId)),
  csub('nodes', 2, STALE, { since: '3.0.0', summary: 'Returns the cluster configuration for a node.', complexity: 'O(N) where N is the total number of Cluster nodes', tips: NONDET }, nodes),
  csub('replicas', 3, ['admin', 'stale'], { since: '5.0.0', summary: 'Lists the replica nodes of a master node.', complexity: 'O(1)', syntax: 'node-id', tips: NONDET }, replicas),
  csub('replicate', 3, ADMIN, { since: '3.0.0', summary: 'Configure a node as replica of a master node.', complexity: 'O(1)', syntax: 'node-id' }, replicate),
  csub('reset', -2, ['admin', 'stale', 'noscript'], { since: '3.0.0', summary: 'Resets a node.', complexity: 'O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.', syntax: '[HARD | SOFT]' }, reset),
  csub('saveconfig', 2, ADMIN, { since: '3.0.0', summary: 'Forces a node to save the cluster configuration to disk.', complexity: 'O(1)' }, (c, _a, cl) => replyResult(c, cl.saveConfig())),
  csub('set-config-epoch', 3, ADMIN, { since: '3.0.0', summary: 'Sets the configuration epoch for a new node.', complexity: 'O(1)', syntax: 'config-epoch' }, setConfigEpoch),
  csub('setslot', -4, ADMIN, { since: '3.0.0', summary: 'Binds a hash slot to a node.', complexity: 'O(1)', syntax: 'slot <IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE>' }, setSlot),
  csub('shards', 2, STALE, { since: '7.0.0', summary: 'Returns the mapping of cluster slots to shards.', complexity: 'O(N) where N is the total number of cluster nodes', tips: NONDET }, (c, _a, cl) => writeReply(c.reply, clusterShardsReply(cl.state, endpointType(c)))),
  csub('slaves', 3, ['admin', 'stale'], { since: '3.0.0', summary: 'Lists the replica nodes of a master node.', complexity: 'O(1)', syntax: 'node-id', tips: NONDET }, replicas, deprecated('5.0.0', '`CLUSTER REPLICAS`')),
  csub('slots', 2, STALE, { since: '3.0.0', summary: 'Returns the mapping of cluster slots to nodes.', complexity: 'O(N) where N is the total number of Cluster nodes', tips: NONDET }, (c, _a, cl) => writeReply(c.reply, clusterSlotsReply(cl.state, endpointType(c))), deprecated('7.0.0', '`CLUSTER SHARDS`')),
];

/** ASKING / READONLY / READWRITE: connection flags for cluster clients. */
function connectionFlag(name: string, flags: CommandFlag[], summary: string, set: (c: Client) => void): CommandSpec {
  return {
    name,
    arity: 1,
    flags,
    acl: ['connection'],
    group: 'cluster',
    since: '3.0.0',
    summary,
    complexity: 'O(1)',
    handler: clustered((c) => {
      set(c);
      c.reply.ok();
    }),
  };
}

export const clusterCommands: CommandSpec[] = [
  {
    name: 'cluster',
    arity: -2,
    flags: [],
    group: 'cluster',
    since: '3.0.0',
    summary: 'A container for Redis Cluster commands.',
    complexity: 'Depends on subcommand.',
    subcommands: clusterSubcommands,
  },
  connectionFlag('asking', ['fast'], 'Signals that a cluster client is following an -ASK redirect.', (c) => {
    c.asking = true;
  }),
  connectionFlag('readonly', ['fast', 'loading', 'stale'], 'Enables read-only queries for a connection to a Redis Cluster replica node.', (c) => {
    c.readOnly = true;
  }),
  // "Reids": Redis's own summary has the typo; COMMAND DOCS reproduces it.
  connectionFlag('readwrite', ['fast', 'loading', 'stale'], 'Enables read-write queries for a connection to a Reids Cluster replica node.', (c) => {
    c.readOnly = false;
  }),
];
