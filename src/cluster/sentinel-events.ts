import { NODE_FLAG, type ClusterNode } from './node.js';
import { shardNames, shardViews, type ShardView } from './sentinel-view.js';
import type { ClusterState } from './state.js';

/**
 * Sentinel's pub/sub events, from this node's cluster view (docs/SENTINEL.md):
 * sentinel-mode clients subscribe to them on any node to learn of failures
 * and failovers without polling. Published for every name a shard answers
 * to (shard id, shard-<i>, mymaster):
 *
 *   +switch-master <name> <old ip> <old port> <new ip> <new port>
 *   +sdown / -sdown master <name> <ip> <port>       (primary suspected: PFAIL)
 *   +odown / -odown master <name> <ip> <port> ...  (primary agreed failed: FAIL)
 */

type Publish = (channel: string, message: string) => void;

/** What a shard's primary looked like at the last check. */
interface Seen {
  ip: string;
  port: number;
  nodeId: string;
  sdown: boolean;
  odown: boolean;
}

export class SentinelEvents {
  /** Per shard id, null until the first check after someone could listen. */
  private seen: Map<string, Seen> | null = null;

  /** Compares the view with the last one and publishes the differences. `listening` false: nobody subscribed, skip the work. */
  check(state: ClusterState, listening: boolean, publish: Publish): void {
    if (!listening) {
      this.seen = null;
      return;
    }
    const next = new Map<string, Seen>();
    for (const shard of shardViews(state)) {
      const now = seenOf(shard.primary);
      next.set(shard.shardId, now);
      const before = this.seen?.get(shard.shardId);
      if (before !== undefined) publishChanges(shard, before, now, state, publish);
    }
    this.seen = next;
  }
}

function seenOf(primary: ClusterNode): Seen {
  return { ip: primary.ip, port: primary.port, nodeId: primary.id, sdown: primary.failing, odown: primary.has(NODE_FLAG.fail) };
}

function publishChanges(shard: ShardView, before: Seen, now: Seen, state: ClusterState, publish: Publish): void {
  const names = shardNames(shard);
  if (before.nodeId !== now.nodeId || before.ip !== now.ip || before.port !== now.port) {
    for (const name of names) publish('+switch-master', `${name} ${before.ip} ${before.port} ${now.ip} ${now.port}`);
    return;
  }
  const where = (name: string): string => `master ${name} ${now.ip} ${now.port}`;
  if (before.sdown !== now.sdown) for (const name of names) publish(now.sdown ? '+sdown' : '-sdown', where(name));
  if (before.odown !== now.odown) {
    const quorum = state.quorum();
    for (const name of names) publish(now.odown ? '+odown' : '-odown', now.odown ? `${where(name)} #quorum ${quorum}/${quorum}` : where(name));
  }
}
