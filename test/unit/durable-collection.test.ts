import { describe, expect, it } from 'vitest';
import { SimCluster, type Life } from '../../sim/cluster.js';
import { drawFaultPlan, Scheduler, seededRandom, SimNetwork } from '../../sim/runtime/index.js';
import { DURABILITY_SYNC_MS } from '../../src/persistence/persistence.js';
import { PeerSession } from '../../src/replication/peer.js';
import type { BusLink } from '../../src/transport/bus.js';

/**
 * A removal is collected only once every replica has it on disk. Here node
 * a logs with appendfsync no, merges b's removal of a list element, finishes
 * an anti-entropy round with b, and then its machine crashes before any fsync:
 * it comes back from disk with the element still in its list. b must still
 * hold the removal then, or the element would come back everywhere (the
 * simulator found this as seed 681).
 */
async function twoPersistingNodes(): Promise<{ cluster: SimCluster; network: SimNetwork; settle: (ms: number) => Promise<void> }> {
  const seed = 5;
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, seededRandom(seed, 'network'));
  const cluster = new SimCluster(scheduler, network, seed, 2, drawFaultPlan(seededRandom(seed, 'plan')), seededRandom(seed, 'faults'), {
    appendfsync: 'no',
    machineCrashShare: 1,
    tornShare: 0,
    probe: false,
    rewriteMinSize: 1 << 30,
    save: '',
  });
  await cluster.startAll();
  const settle = (ms: number): Promise<void> => scheduler.runUntilAsync(scheduler.nowMs + ms).then(() => undefined);
  await settle(500);
  return { cluster, network, settle };
}

function life(cluster: SimCluster, node: string): Life {
  return cluster.running().find((l) => l.node === node)!;
}

function peerOf(l: Life) {
  return l.server.replication!['peers'][0]! as { aeRoundsCompleted: number; aeCompletedHlc: number };
}

describe('collecting removals', () => {
  it('waits until every replica has the removal on disk', async () => {
    const { cluster, network, settle } = await twoPersistingNodes();
    const startedMs = cluster.nowMs;
    const n1 = life(cluster, 'n1');
    // The element itself is on n1's disk (fsynced); what n1 merges later is not.
    n1.client.call('CONFIG', 'SET', 'appendfsync', 'always');
    n1.client.call('RPUSH', 'l', 'x', 'y');
    n1.client.call('CONFIG', 'SET', 'appendfsync', 'no');
    await settle(500);
    const n2 = life(cluster, 'n2');
    expect(n2.client.call('LRANGE', 'l', 0, -1)).toEqual(['x', 'y']);
    n2.client.call('LREM', 'l', 0, 'x');
    // Two complete rounds of n2 with n1 after the removal: n1 holds it (in memory).
    const rounds = peerOf(n2).aeRoundsCompleted;
    for (let i = 0; i < 40 && peerOf(n2).aeRoundsCompleted < rounds + 2; i++) await settle(250);
    expect(peerOf(n2).aeRoundsCompleted).toBeGreaterThanOrEqual(rounds + 2);
    expect(n1.client.call('LRANGE', 'l', 0, -1)).toEqual(['y']);
    // The list's next write is where its removals get collected.
    n2.client.call('RPUSH', 'l', 'z');
    await settle(300);
    expect(n1.client.call('LRANGE', 'l', 0, -1)).toEqual(['y', 'z']);
    // Still before n1's first fsync under appendfsync no (DURABILITY_SYNC_MS after start).
    expect(cluster.nowMs - startedMs).toBeLessThan(DURABILITY_SYNC_MS);
    // n1's machine goes down: its log keeps [x, y] and loses the removal it merged.
    network.crash('n1');
    cluster.crash('n1', 'machine');
    network.restart('n1');
    await cluster.startNode('n1');
    await settle(20_000);
    for (const node of ['n1', 'n2']) expect(life(cluster, node).client.call('LRANGE', 'l', 0, -1)).toEqual(['y', 'z']);
  });

  it('still collects once the replicas have synced (appendfsync no: within DURABILITY_SYNC_MS)', async () => {
    const { cluster, settle } = await twoPersistingNodes();
    const n1 = life(cluster, 'n1');
    const n2 = life(cluster, 'n2');
    n1.client.call('RPUSH', 'l', 'x', 'y');
    await settle(500);
    n2.client.call('LREM', 'l', 0, 'x');
    const removedHeld = (l: Life): number => l.server.keyspace.db(0).keys.get('l')!.crdt!.list!.removed.size;
    await settle(1000);
    expect(removedHeld(n2)).toBe(1);
    await settle(45_000);
    // The list's next write on each node is where its removals are collected.
    n1.client.call('RPUSH', 'l', 'a');
    n2.client.call('RPUSH', 'l', 'b');
    await settle(2000);
    for (const l of [n1, n2]) {
      expect(removedHeld(l)).toBe(0);
      expect(l.client.call('LLEN', 'l')).toBe(3);
    }
  });
});

describe('PeerSession: rounds waiting for a peer\'s durability', () => {
  const session = (): PeerSession => new PeerSession({ host: '127.0.0.1', port: 1 }, '127.0.0.1:1', null as unknown as BusLink);

  it('counts the newest round the peer\'s disk covers, and only once it does', () => {
    const p = session();
    p.roundCompleted(100, 110);
    p.roundCompleted(200, 210);
    p.roundCompleted(300, 310);
    p.heardDurable(150);
    expect(p.aeCompletedHlc).toBe(100);
    p.heardDurable(400);
    expect(p.aeCompletedHlc).toBe(300);
    expect(p.aeUndurable).toBeNull();
  });

  it('takes a lower durability point as told: rounds past it wait', () => {
    const p = session();
    p.heardDurable(Infinity);
    p.heardDurable(50);
    p.roundCompleted(100, 110);
    expect(p.aeCompletedHlc).toBe(0);
    p.heardDurable(120);
    expect(p.aeCompletedHlc).toBe(100);
  });
});
