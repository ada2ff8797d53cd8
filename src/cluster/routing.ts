import { keyPositions } from '../commands/table.js';
import { FLAG, type Command } from '../commands/types.js';
import type { Client } from '../server/client.js';
import type { Database } from '../store/database.js';
import type { ClusterControl } from './control.js';
import type { ClusterNode } from './node.js';
import { keyHashSlot } from './slots.js';

export const ERR_CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";
export const ERR_TRYAGAIN = 'TRYAGAIN Multiple keys request during rehashing of slot';
export const ERR_DOWN = 'CLUSTERDOWN The cluster is down';
export const ERR_DOWN_READONLY = 'CLUSTERDOWN The cluster is down and only accepts read commands';
export const ERR_UNBOUND = 'CLUSTERDOWN Hash slot not served';

/** The commands of one request: the command itself, or for EXEC the queued ones. */
interface Request {
  commands: { cmd: Command; argv: string[] }[];
  isWrite: boolean;
  asking: boolean;
}

/** What the keys of a request resolve to. */
interface KeyFacts {
  slot: number;
  owner: ClusterNode | null;
  keys: number;
  missing: number;
}

/** Whether the command takes part in routing (it has keys, or it is EXEC). */
export function routed(cmd: Command): boolean {
  return cmd.fullName === 'exec' || (cmd.spec.keys !== undefined && cmd.spec.keys.length > 0);
}

/**
 * Redis's getNodeByQuery + clusterRedirectClient: decides whether this node
 * serves the request and otherwise returns the redirection or error text
 * (-MOVED, -ASK, -CROSSSLOT, -TRYAGAIN, -CLUSTERDOWN). `asking` is the
 * client's one-shot ASKING flag.
 */
export function routeRequest(cluster: ClusterControl, c: Client, cmd: Command, argv: string[], asking: boolean): string | null {
  const req = requestOf(c, cmd, argv, asking);
  if (req === null) return null;
  const facts = keyFacts(cluster, c.db, req);
  if (typeof facts === 'string') return facts;
  if (facts === null) return null;
  const state = cluster.state;
  if (state.state !== 'ok') {
    if (!allowReadsWhenDown(c)) return ERR_DOWN;
    if (req.isWrite) return ERR_DOWN_READONLY;
  }
  const me = cluster.myself;
  const { slot, owner } = facts;
  const migrating = owner === me && state.migratingTo[slot] !== null;
  const importing = owner !== me && state.importingFrom[slot] !== null;
  if (migrating && facts.missing > 0) {
    if (facts.missing < facts.keys) return ERR_TRYAGAIN;
    return redirect('ASK', slot, state.migratingTo[slot]!);
  }
  if (importing && req.asking) return facts.keys > 1 && facts.missing > 0 ? ERR_TRYAGAIN : null;
  if (owner === me) return null;
  if (c.readOnly && !req.isWrite && me.isReplica && me.primaryId === owner!.id) return null;
  return redirect('MOVED', slot, owner!);
}

function allowReadsWhenDown(c: Client): boolean {
  return c.server.config.bool('cluster-allow-reads-when-down');
}

function redirect(kind: 'MOVED' | 'ASK', slot: number, n: ClusterNode): string {
  return `${kind} ${slot} ${n.ip}:${n.port}`;
}

function requestOf(c: Client, cmd: Command, argv: string[], asking: boolean): Request | null {
  const isAsking = asking || (cmd.flagBits & FLAG.asking) !== 0;
  if (cmd.fullName !== 'exec') return { commands: [{ cmd, argv }], isWrite: (cmd.flagBits & FLAG.write) !== 0, asking: isAsking };
  const tx = c.multi;
  if (tx === null) return null;
  return { commands: tx.queued, isWrite: (tx.flagBits & FLAG.write) !== 0, asking: isAsking };
}

/** The one slot of every key (or CROSSSLOT / unbound), and how many keys are missing here; null without keys. */
function keyFacts(cluster: ClusterControl, db: Database, req: Request): KeyFacts | string | null {
  const state = cluster.state;
  let facts: KeyFacts | null = null;
  for (const { cmd, argv } of req.commands) {
    for (const pos of keyPositions(cmd, argv)) {
      const key = argv[pos]!;
      const slot = keyHashSlot(key);
      if (facts === null) {
        const owner = state.ownerOf(slot);
        if (owner === null) return ERR_UNBOUND;
        facts = { slot, owner, keys: 0, missing: 0 };
      } else if (slot !== facts.slot) {
        return ERR_CROSSSLOT;
      }
      facts.keys++;
      if (state.migratingTo[slot] !== null || state.importingFrom[slot] !== null) {
        const e = db.entryAt(key);
        if (e === undefined || db.isExpired(e)) facts.missing++;
      }
    }
  }
  return facts;
}
