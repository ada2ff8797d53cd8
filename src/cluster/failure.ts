import type { Cluster } from './cluster.js';
import { NODE_FLAG, type ClusterNode } from './node.js';

/** Failure reports older than node-timeout times this are forgotten (Redis: CLUSTER_FAIL_REPORT_VALIDITY_MULT). */
const FAIL_REPORT_VALIDITY_MULT = 2;

/**
 * PFAIL: a node that has not answered a ping (nor sent anything) for
 * cluster-node-timeout is possibly failing, in this node's opinion.
 */
export function checkFailures(cluster: Cluster, now: number): void {
  const timeout = cluster.nodeTimeoutMs;
  for (const n of cluster.state.nodes.values()) {
    if (n === cluster.myself || n.has(NODE_FLAG.handshake) || n.pingSentMs === 0) continue;
    // Silent since the last thing heard (pings go out often, so this is close to Redis's ping_sent rule).
    const silentMs = now - Math.max(n.pongReceivedMs, n.dataReceivedMs, n.createdMs);
    if (silentMs > timeout && !n.failing) {
      n.flags |= NODE_FLAG.pfail;
      cluster.log.info({ node: n.id }, 'Node is possibly failing (PFAIL)');
      // Our report reaches the other primaries now rather than with the next regular ping.
      for (const p of cluster.state.votingPrimaries()) if (p !== n && p !== cluster.myself) cluster.ping(p);
    }
    if (n.has(NODE_FLAG.pfail)) markFailIfNeeded(cluster, n);
  }
}

/**
 * PFAIL -> FAIL once a majority of the primaries serving slots report the
 * node as failing (this node counts itself when it is one of them); the
 * verdict is broadcast so every node agrees at once.
 */
export function markFailIfNeeded(cluster: Cluster, n: ClusterNode): void {
  if (!n.has(NODE_FLAG.pfail) || n.has(NODE_FLAG.fail)) return;
  const me = cluster.myself;
  const now = cluster.nowMs();
  let reports = n.liveFailReports(now, cluster.nodeTimeoutMs * FAIL_REPORT_VALIDITY_MULT);
  if (me.isPrimary && me.slots.count > 0) reports++;
  if (reports < cluster.state.quorum()) return;
  n.flags = (n.flags & ~NODE_FLAG.pfail) | NODE_FLAG.fail;
  n.failTimeMs = now;
  cluster.nodeFailed(n);
}
