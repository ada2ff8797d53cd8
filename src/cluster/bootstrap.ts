import * as path from 'node:path';
import type { Server } from '../server/server.js';
import { Cluster, type ClusterHost } from './cluster.js';
import { ClusterNode, NODE_FLAG } from './node.js';
import { nodesConfText, parseNodesConf } from './nodes-conf.js';
import { SlotKeys } from './slot-keys.js';
import { ClusterState } from './state.js';

/**
 * Starts cluster mode on a server (cluster-enabled yes): loads nodes.conf or
 * creates a new identity, indexes db 0 by slot, starts the replicator on the
 * cluster bus (its peers are the shard's members) and the cluster itself.
 */
export async function startCluster(server: Server, bindHost: string): Promise<Cluster> {
  const config = server.config;
  const cport = config.int('cluster-port') || server.port + 10000;
  if (cport > 65535) throw new Error('Port number too high: the cluster bus port is the client port + 10000 (set cluster-port)');
  const announcedIp = config.get('cluster-announce-ip');
  const busHost = bindHost === '*' || bindHost === '0.0.0.0' ? '0.0.0.0' : bindHost;
  const ip = announcedIp || (busHost === '0.0.0.0' ? '' : busHost);
  const state = loadState(server, ip, cport);
  const db0 = server.keyspace.db(0);
  db0.slotKeys = new SlotKeys();
  for (const e of db0.entries()) db0.slotKeys.added(e.key);
  const replication = server.createReplicator(null, state.myself.id, []);
  server.replication = replication;
  const cluster = new Cluster(state, clusterHost(server, configFile(server)), server.runtime.createBus(server.log), {
    nodeTimeoutMs: Math.max(100, config.int('cluster-node-timeout')),
    requireFullCoverage: () => config.bool('cluster-require-full-coverage'),
    replicaValidityFactor: () => config.int('cluster-replica-validity-factor'),
    busHost,
    announceIp: announcedIp,
    port: server.port,
    cport,
    localAddress: config.get('bind-source-addr'),
    noFailover: config.bool('cluster-replica-no-failover'),
  });
  await replication.start();
  await cluster.start();
  // Its shard's members from nodes.conf (none for a new node): a restarted node catches up with them first.
  replication.startPeerSync(config.int('peer-sync-timeout-ms'));
  server.cluster = cluster;
  server.log.info({ id: state.myself.id, cport }, 'Cluster bus listening');
  return cluster;
}

function configFile(server: Server): string {
  return path.join(server.config.get('dir'), server.config.get('cluster-config-file'));
}

/** nodes.conf when there is one (a node keeps its id and view across restarts), else a new node. */
function loadState(server: Server, ip: string, cport: number): ClusterState {
  const file = configFile(server);
  const disk = server.runtime.disk;
  const now = server.runtime.clock.nowMs();
  const port = server.config.int('cluster-announce-port') || server.port;
  const busPort = server.config.int('cluster-announce-bus-port') || cport;
  if (disk.exists(file)) {
    const text = disk.readFile(file).toString('latin1');
    if (text.trim() !== '') {
      const loaded = parseNodesConf(text, now);
      if (typeof loaded === 'string') throw new Error(`Unrecoverable error: corrupted cluster config file "${file}": ${loaded}`);
      const me = loaded.myself;
      if (ip !== '') me.ip = ip;
      me.port = port;
      me.cport = busPort;
      return loaded;
    }
  }
  const random = server.runtime.random;
  const me = new ClusterNode(random.bytes(20).toString('hex'), {
    ip,
    port,
    cport: busPort,
    flags: NODE_FLAG.myself | NODE_FLAG.master,
    shardId: random.bytes(20).toString('hex'),
    nowMs: now,
  });
  if (server.config.bool('cluster-replica-no-failover')) me.flags |= NODE_FLAG.nofailover;
  server.log.info({ id: me.id }, 'No cluster configuration found, I am a new node');
  return new ClusterState(me);
}

function clusterHost(server: Server, file: string): ClusterHost {
  const db0 = server.keyspace.db(0);
  return {
    runtime: server.runtime,
    log: server.log,
    get replication() {
      return server.replication!;
    },
    pubsub: server.pubsub,
    pauseWrites: (untilMs) => server.pause('write', untilMs),
    unpauseWrites: () => server.unpause(),
    node: server,
    keyCount: () => db0.size,
    slotKeyCount: (slot) => db0.slotKeys?.count(slot) ?? 0,
    persist: (text) => {
      try {
        server.runtime.disk.writeFileAtomic(file, text);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
    serialize: (state) => nodesConfText(state),
  };
}
