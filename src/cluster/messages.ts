import { NODE_ID_RE } from './node.js';
import { SLOT_COUNT } from './slots.js';
import { wireError } from '../replication/messages.js';
import type { WireStates } from '../replication/wire.js';

/**
 * The cluster bus protocol (Redis's clusterMsg, carried by the Bus as
 * msgpack objects with k: 'cl'). Every message has the header: the sender's
 * id, address, role, epochs, replication offset and slots (a primary's own,
 * a replica's primary's), so every message also refreshes what the receiver
 * knows about the sender.
 *
 *   ping, pong, meet   liveness + a sample of gossip about other nodes (meet: "add me")
 *   fail               "node `about` is failing", from a node that counted a majority
 *   update             "node `about` now serves slots `sl` with config epoch `cfg`"
 *   auth-req, auth-ack a replica's request for a failover vote and a primary's vote
 *   mfstart            a replica asks its primary to start a manual failover
 */
export type ClusterMessageType =
  | 'ping' | 'pong' | 'meet' | 'fail' | 'update' | 'auth-req' | 'auth-ack' | 'mfstart' | 'publish' | 'publishshard' | 'handoff' | 'handoff-ack';

export const MESSAGE_TYPES: readonly ClusterMessageType[] = [
  'ping', 'pong', 'meet', 'fail', 'update', 'auth-req', 'auth-ack', 'mfstart', 'publish', 'publishshard', 'handoff', 'handoff-ack',
];

/** What a node says about another in a ping/pong: [id, ip, port, cport, flags, pingSentMs, pongReceivedMs]. */
export type GossipEntry = [string, string, number, number, number, number, number];

export interface ClusterHeader {
  k: 'cl';
  t: ClusterMessageType;
  /** Sender's node id, address ('' when it does not know its own ip), flags (master/slave/nofailover bits). */
  id: string;
  ip: string;
  port: number;
  cport: number;
  fl: number;
  /** The sender's primary ('' for a primary). */
  pr: string;
  /** Sender's currentEpoch and the config epoch of its slots (a replica sends its primary's). */
  cur: number;
  cfg: number;
  /** Replication offset (primary: its log's last seq; replica: what it applied from its primary). */
  off: number;
  /** Slots the sender (or its primary) serves: 2048-byte bitmap. */
  sl: Uint8Array;
  sh: string;
  /** The sender sees the cluster as down. */
  down: boolean;
  /** Set by a primary in a manual failover: writes are paused, `off` is final. */
  mf: boolean;
  /** The address the sender dialled (meet): lets a node learn its own ip. */
  to?: string;
  g?: GossipEntry[];
  /** fail / update: the node concerned; update also carries its cfg and slots in `ucfg` / `usl`. */
  about?: string;
  ucfg?: number;
  usl?: Uint8Array;
  /** auth-req: FORCE / manual failover: vote even though the primary is not failing. */
  force?: boolean;
  /** publish / publishshard: the channel and the message. */
  ch?: string;
  msg?: string;
  /** handoff: batch id, the slots it covers and the keys' states in replication's wire form; handoff-ack: the id. */
  hid?: number;
  hsl?: number[];
  hst?: WireStates;
}

const MAX_GOSSIP = 64;
const BITMAP_BYTES = SLOT_COUNT / 8;

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isPort(x: unknown): x is number {
  return isUint(x) && x <= 65535;
}

function isBitmap(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.byteLength === BITMAP_BYTES;
}

function isId(x: unknown): x is string {
  return typeof x === 'string' && NODE_ID_RE.test(x);
}

function isIp(x: unknown): x is string {
  return typeof x === 'string' && x.length <= 255 && !/[\s,@]/.test(x);
}

function isSlotList(x: unknown): x is number[] {
  return Array.isArray(x) && x.length > 0 && x.length <= SLOT_COUNT && x.every((s) => isUint(s) && s < SLOT_COUNT);
}

/** The outer shape of replication's wire states (items are checked one by one when decoded). */
function isWireStates(x: unknown): boolean {
  return x !== null && typeof x === 'object' && wireError(x as Record<string, unknown>) === null;
}

function gossipProblem(g: unknown): string | null {
  if (!Array.isArray(g) || g.length > MAX_GOSSIP) return 'gossip is not a bounded array';
  for (const e of g as unknown[]) {
    if (!Array.isArray(e) || e.length !== 7) return 'gossip entry shape';
    const [id, ip, port, cport, flags, ping, pong] = e as unknown[];
    if (!isId(id) || !isIp(ip) || !isPort(port) || !isPort(cport) || !isUint(flags) || !isUint(ping) || !isUint(pong)) return 'gossip entry field';
  }
  return null;
}

/** Checks one header field at a time; returns why the message is refused, or null. */
function headerProblem(m: Record<string, unknown>): string | null {
  if (!MESSAGE_TYPES.includes(m.t as ClusterMessageType)) return `unknown cluster message type ${String(m.t)}`;
  if (!isId(m.id)) return 'bad sender id';
  if (!isIp(m.ip) || !isPort(m.port) || !isPort(m.cport)) return 'bad sender address';
  if (!isUint(m.fl) || !isUint(m.cur) || !isUint(m.cfg) || !isUint(m.off)) return 'bad header number';
  if (m.pr !== '' && !isId(m.pr)) return 'bad primary id';
  if (!isBitmap(m.sl)) return 'bad slot bitmap';
  if (typeof m.sh !== 'string' || (m.sh !== '' && !isId(m.sh))) return 'bad shard id';
  if (typeof m.down !== 'boolean' || typeof m.mf !== 'boolean') return 'bad header flag';
  if (m.to !== undefined && !isIp(m.to)) return 'bad meet address';
  return null;
}

function bodyProblem(m: Record<string, unknown>): string | null {
  switch (m.t as ClusterMessageType) {
    case 'ping':
    case 'pong':
    case 'meet':
      return m.g === undefined ? null : gossipProblem(m.g);
    case 'fail':
      return isId(m.about) ? null : 'fail without a node';
    case 'update':
      return isId(m.about) && isUint(m.ucfg) && isBitmap(m.usl) ? null : 'bad update';
    case 'auth-req':
      return m.force === undefined || typeof m.force === 'boolean' ? null : 'bad force flag';
    case 'publish':
    case 'publishshard':
      return typeof m.ch === 'string' && typeof m.msg === 'string' ? null : 'bad publish';
    case 'handoff':
      return isUint(m.hid) && isSlotList(m.hsl) && isWireStates(m.hst) ? null : 'bad handoff';
    case 'handoff-ack':
      return isUint(m.hid) ? null : 'bad handoff ack';
    default:
      return null;
  }
}

/** Validates a decoded bus message: the header, or why it is refused. Hostile input never throws. */
export function parseClusterMessage(raw: unknown): ClusterHeader | string {
  if (raw === null || typeof raw !== 'object') return 'cluster message is not an object';
  const m = raw as Record<string, unknown>;
  return headerProblem(m) ?? bodyProblem(m) ?? (m as unknown as ClusterHeader);
}
