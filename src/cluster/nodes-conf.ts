import { nodeLine, slotRangesByNode, type LinkUp } from './format.js';
import { ClusterNode, NODE_FLAG, NODE_ID_RE, parseFlags } from './node.js';
import { SLOT_COUNT } from './slots.js';
import { ClusterState } from './state.js';

/**
 * nodes.conf: the CLUSTER NODES lines of every node but those still in
 * handshake, then "vars currentEpoch N lastVoteEpoch M" (Redis's
 * clusterSaveConfig). The address field carries Redis 7.2's aux fields
 * (",hostname,shard-id=<id>") so shard ids survive a restart; Redis 7.0 files
 * (no aux fields, or only ",hostname") load too.
 */

/** Redis's default bus port offset, for old files without "@cport". */
const BUS_PORT_OFFSET = 10_000;

/** Node ids as Redis's verifyClusterNodeId accepts them (40 chars of [a-z0-9]). */
const FILE_NODE_ID_RE = /^[a-z0-9]{40}$/;

const FLAG_WORDS = new Set(['myself', 'master', 'slave', 'fail?', 'fail', 'handshake', 'noaddr', 'nofailover', 'noflags']);

/** The address field as nodes.conf stores it: "ip:port@cport,hostname,shard-id=<id>". */
function confAddress(n: ClusterNode): string {
  return `${n.ip}:${n.port}@${n.cport},${n.hostname},shard-id=${n.shardId}`;
}

/** The whole nodes.conf text. `linkUp` only feeds the informational connected/disconnected field. */
export function nodesConfText(state: ClusterState, linkUp: LinkUp = (n) => n.pingSentMs === 0): string {
  const ranges = slotRangesByNode(state);
  let out = '';
  for (const n of state.nodes.values()) {
    if (n.has(NODE_FLAG.handshake)) continue;
    out += nodeLine(state, n, { ranges: ranges.get(n) ?? [], connected: linkUp(n), address: confAddress(n) }) + '\n';
  }
  return out + `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
}

// ---------------------------------------------------------------------------
// Loading: lines are parsed into records first, so the order of the lines
// does not matter (a replica may come before its primary); then the state is
// built around the record flagged "myself".
// ---------------------------------------------------------------------------

interface OpenSlot {
  slot: number;
  migrating: boolean;
  nodeId: string;
}

interface NodeRecord {
  id: string;
  ip: string;
  port: number;
  cport: number;
  hostname: string;
  /** '' when the file has none (a Redis 7.0 file). */
  shardId: string;
  flags: number;
  primaryId: string;
  pinged: boolean;
  ponged: boolean;
  configEpoch: number;
  ranges: [number, number][];
  open: OpenSlot[];
}

interface ParsedFile {
  records: NodeRecord[];
  currentEpoch: number;
  lastVoteEpoch: number;
}

/** Thrown inside the parser only; parseNodesConf turns it into its error string. */
class ConfError extends Error {}

function fail(message: string): never {
  throw new ConfError(message);
}

function uint(text: string, what: string): number {
  if (!/^\d+$/.test(text)) fail(`invalid ${what} '${text}'`);
  return Number(text);
}

function slotNumber(text: string): number {
  const n = uint(text, 'slot');
  if (n >= SLOT_COUNT) fail(`slot ${n} out of range`);
  return n;
}

function nodeId(text: string, what: string): string {
  if (!FILE_NODE_ID_RE.test(text)) fail(`invalid ${what} '${text}'`);
  return text;
}

/** "ip:port[@cport][,hostname][,key=value...]" (the ip may be IPv6, hence the last ':'). */
function parseAddress(field: string): Pick<NodeRecord, 'ip' | 'port' | 'cport' | 'hostname' | 'shardId'> {
  const [addr, ...aux] = field.split(',');
  const colon = addr!.lastIndexOf(':');
  if (colon === -1) fail(`invalid address '${field}'`);
  const [portText, busText] = addr!.slice(colon + 1).split('@');
  const port = uint(portText!, 'port');
  const cport = busText === undefined ? port + BUS_PORT_OFFSET : uint(busText, 'bus port');
  let hostname = '';
  let shardId = '';
  aux.forEach((item, i) => {
    const eq = item.indexOf('=');
    if (eq === -1) {
      if (i === 0) hostname = item; // the hostname is positional; other aux fields are key=value
      return;
    }
    if (item.slice(0, eq) !== 'shard-id') return; // tls-port, nodename...: not ours, skipped as Redis skips unknown ones
    shardId = item.slice(eq + 1);
    if (!NODE_ID_RE.test(shardId)) fail(`invalid shard id '${shardId}'`);
  });
  return { ip: addr!.slice(0, colon), port, cport, hostname, shardId };
}

function parseFlagsField(field: string): number {
  const lower = field.toLowerCase();
  for (const word of lower.split(',')) if (!FLAG_WORDS.has(word)) fail(`unknown flag '${word}'`);
  return parseFlags(lower);
}

/** "[slot->-id]" or "[slot-<-id]". */
function parseOpenSlot(field: string): OpenSlot {
  const m = /^\[(\d+)-([<>])-([^\]]*)\]$/.exec(field);
  if (m === null) fail(`invalid open slot '${field}'`);
  return { slot: slotNumber(m[1]!), migrating: m[2] === '>', nodeId: nodeId(m[3]!, 'node id in open slot') };
}

function parseSlotFields(fields: readonly string[], rec: NodeRecord): void {
  for (const f of fields) {
    if (f.startsWith('[')) {
      rec.open.push(parseOpenSlot(f));
      continue;
    }
    const dash = f.indexOf('-');
    const start = slotNumber(dash === -1 ? f : f.slice(0, dash));
    const end = dash === -1 ? start : slotNumber(f.slice(dash + 1));
    if (start > end) fail(`invalid slot range '${f}'`);
    rec.ranges.push([start, end]);
  }
}

/** One node line: id addr flags primary ping pong epoch link slots... */
function parseNodeLine(f: readonly string[]): NodeRecord {
  if (f.length < 8) fail('a node line needs at least 8 fields');
  const rec: NodeRecord = {
    id: nodeId(f[0]!, 'node id'),
    ...parseAddress(f[1]!),
    flags: parseFlagsField(f[2]!),
    primaryId: f[3]!.startsWith('-') ? '' : nodeId(f[3]!, 'primary id'),
    pinged: uint(f[4]!, 'ping time') !== 0,
    ponged: uint(f[5]!, 'pong time') !== 0,
    configEpoch: uint(f[6]!, 'config epoch'),
    ranges: [],
    open: [],
  };
  parseSlotFields(f.slice(8), rec);
  return rec;
}

/** "vars name value ..." (unknown names are skipped, as Redis does). */
function parseVars(f: readonly string[], file: ParsedFile): void {
  if (f.length % 2 === 0) fail('the vars line needs name value pairs');
  for (let i = 1; i < f.length; i += 2) {
    const name = f[i]!.toLowerCase();
    if (name === 'currentepoch') file.currentEpoch = uint(f[i + 1]!, 'currentEpoch');
    else if (name === 'lastvoteepoch') file.lastVoteEpoch = uint(f[i + 1]!, 'lastVoteEpoch');
  }
}

function parseLines(text: string): ParsedFile {
  const file: ParsedFile = { records: [], currentEpoch: 0, lastVoteEpoch: 0 };
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f[0] === '') return; // blank lines: padding of an interrupted write, or hand edits
    try {
      if (f[0]!.toLowerCase() === 'vars') return parseVars(f, file);
      const rec = parseNodeLine(f);
      if (seen.has(rec.id)) fail(`node ${rec.id} appears twice`);
      seen.add(rec.id);
      file.records.push(rec);
    } catch (e) {
      if (e instanceof ConfError) fail(`line ${i + 1}: ${e.message}`);
      throw e;
    }
  });
  return file;
}

function findMyself(records: readonly NodeRecord[]): NodeRecord {
  const mine = records.filter((r) => (r.flags & NODE_FLAG.myself) !== 0);
  if (mine.length === 0) fail('no node is flagged myself');
  if (mine.length > 1) fail('more than one node is flagged myself');
  return mine[0]!;
}

function nodeFromRecord(r: NodeRecord, nowMs: number): ClusterNode {
  const n = new ClusterNode(r.id, { ip: r.ip, port: r.port, cport: r.cport, flags: r.flags, shardId: r.shardId || r.id, nowMs });
  n.hostname = r.hostname;
  n.primaryId = r.primaryId;
  // Redis restores the timestamps as "now" when set: the stored values are from another run.
  if (r.pinged) n.pingSentMs = nowMs;
  if (r.ponged) n.pongReceivedMs = nowMs;
  if (n.has(NODE_FLAG.fail)) n.failTimeMs = nowMs;
  // A replica's epoch is its primary's; Redis keeps 0 for it.
  n.configEpoch = n.isReplica && r.primaryId !== '' ? 0 : r.configEpoch;
  return n;
}

/** A node only referenced (a primary or a migration peer without its own line): no address, no flags yet. */
function nodeOrPlaceholder(state: ClusterState, id: string, nowMs: number): ClusterNode {
  let n = state.node(id);
  if (n === undefined) {
    n = new ClusterNode(id, { ip: '', port: 0, cport: 0, flags: 0, shardId: id, nowMs });
    state.addNode(n);
  }
  return n;
}

function applySlots(state: ClusterState, n: ClusterNode, r: NodeRecord, nowMs: number): void {
  for (const [a, b] of r.ranges) {
    // A slot claimed twice keeps its first owner, as Redis's loader does.
    for (let s = a; s <= b; s++) if (state.owners[s] === null) state.assign(s, n);
  }
  for (const o of r.open) {
    const peer = nodeOrPlaceholder(state, o.nodeId, nowMs);
    if (o.migrating) state.migratingTo[o.slot] = peer;
    else state.importingFrom[o.slot] = peer;
  }
}

function buildState(file: ParsedFile, nowMs: number): ClusterState {
  const me = findMyself(file.records);
  const state = new ClusterState(nodeFromRecord(me, nowMs));
  for (const r of file.records) if (r !== me) state.addNode(nodeFromRecord(r, nowMs));
  for (const r of file.records) {
    const n = state.node(r.id)!;
    if (r.primaryId !== '') {
      const primary = nodeOrPlaceholder(state, r.primaryId, nowMs);
      if (r.shardId === '') n.shardId = primary.shardId; // a replica belongs to its primary's shard
    }
    applySlots(state, n, r, nowMs);
  }
  state.currentEpoch = Math.max(file.currentEpoch, state.maxConfigEpoch());
  state.lastVoteEpoch = file.lastVoteEpoch;
  return state;
}

/**
 * Loads a nodes.conf text. Returns the state, or an error string naming the
 * line and the problem for a corrupt file (Redis exits on those).
 */
export function parseNodesConf(text: string, nowMs: number): ClusterState | string {
  try {
    return buildState(parseLines(text), nowMs);
  } catch (e) {
    if (e instanceof ConfError) return `corrupted cluster config file: ${e.message}`;
    throw e;
  }
}
