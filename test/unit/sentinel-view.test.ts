import { describe, expect, it } from 'vitest';
import type { ClusterControl } from '../../src/cluster/control.js';
import { ClusterNode, NODE_FLAG } from '../../src/cluster/node.js';
import {
  findShard,
  isMasterDownByAddr,
  masterAddress,
  masterRecord,
  quorumCheck,
  replicaRecord,
  roleView,
  sentinelPeers,
  shardNames,
  shardViews,
  type SentinelClock,
  type SentinelRecord,
} from '../../src/cluster/sentinel-view.js';
import { ClusterState } from '../../src/cluster/state.js';
import { sentinelCommands } from '../../src/commands/sentinel.js';
import type { CommandSpec } from '../../src/commands/types.js';
import { ReplyWriter } from '../../src/protocol/reply.js';
import type { Client } from '../../src/server/client.js';

const NOW = 1_700_000_000_000;
const CLOCK: SentinelClock = { nowMs: NOW, nodeTimeoutMs: 15000 };

const id = (c: string): string => c.repeat(40);
const SHARD_A = id('a');
const SHARD_B = id('b');
const SHARD_C = id('c');

function node(nodeId: string, port: number, flags: number, shardId: string): ClusterNode {
  const n = new ClusterNode(nodeId, { ip: '127.0.0.1', port, cport: port + 10000, flags, shardId, nowMs: NOW - 60_000 });
  n.pongReceivedMs = NOW - 100;
  n.dataReceivedMs = NOW - 50;
  return n;
}

function replicaOf(state: ClusterState, nodeId: string, port: number, primary: ClusterNode): ClusterNode {
  const r = node(nodeId, port, NODE_FLAG.slave, primary.shardId);
  r.primaryId = primary.id;
  r.replOffset = port;
  state.addNode(r);
  return r;
}

function assignRange(state: ClusterState, n: ClusterNode, from: number, to: number): void {
  for (let s = from; s <= to; s++) state.assign(s, n);
}

/**
 * Three shards. myself (node 2, port 7002) serves the middle range, so ranks
 * must come from slots, not from node order; node 3's primary has failed.
 */
function sampleCluster() {
  const p2 = node(id('2'), 7002, NODE_FLAG.myself | NODE_FLAG.master, SHARD_B);
  const state = new ClusterState(p2);
  const p1 = node(id('1'), 7001, NODE_FLAG.master, SHARD_A);
  const p3 = node(id('3'), 7003, NODE_FLAG.master | NODE_FLAG.fail, SHARD_C);
  p3.failTimeMs = NOW - 2000;
  p3.pingSentMs = NOW - 20_000;
  p1.configEpoch = 1;
  p2.configEpoch = 2;
  p3.configEpoch = 3;
  for (const p of [p3, p1]) state.addNode(p);
  const r1 = replicaOf(state, id('4'), 7004, p1);
  const r2 = replicaOf(state, id('5'), 7005, p2);
  const r3 = replicaOf(state, id('6'), 7006, p3);
  assignRange(state, p1, 0, 5460);
  assignRange(state, p2, 5461, 10922);
  assignRange(state, p3, 10923, 16383);
  return { state, p1, p2, p3, r1, r2, r3 };
}

/** What a replica winning the election does to the view: it takes its primary's slots, keeping the shard id. */
function failOver(state: ClusterState, replica: ClusterNode): void {
  const old = state.primaryOf(replica)!;
  state.setRole(replica, null);
  replica.configEpoch = state.maxConfigEpoch() + 1;
  for (let s = 0; s < 16384; s++) if (state.owners[s] === old) state.assign(s, replica);
}

const field = (r: SentinelRecord, name: string): string | undefined => r.find(([k]) => k === name)?.[1];

describe('sentinel view: shards and names', () => {
  it('ranks shards by lowest served slot and names them', () => {
    const { state, p1, p2, p3 } = sampleCluster();
    const shards = shardViews(state);
    expect(shards.map((s) => s.primary)).toEqual([p1, p2, p3]);
    expect(shardNames(shards[0]!)).toEqual([SHARD_A, 'shard-0', 'mymaster']);
    expect(shardNames(shards[1]!)).toEqual([SHARD_B, 'shard-1']);
    expect(shardNames(shards[2]!)).toEqual([SHARD_C, 'shard-2']);
  });

  it('lists replicas with their shard', () => {
    const { state, r1, r2, r3 } = sampleCluster();
    expect(shardViews(state).map((s) => s.replicas)).toEqual([[r1], [r2], [r3]]);
  });

  it('resolves every name to the primary address', () => {
    const { state } = sampleCluster();
    for (const name of [SHARD_A, 'shard-0', 'mymaster']) expect(masterAddress(state, name)).toEqual(['127.0.0.1', 7001]);
    for (const name of [SHARD_B, 'shard-1']) expect(masterAddress(state, name)).toEqual(['127.0.0.1', 7002]);
    // A failed primary stays the answer until a replica replaces it, as with Sentinel.
    for (const name of [SHARD_C, 'shard-2']) expect(masterAddress(state, name)).toEqual(['127.0.0.1', 7003]);
  });

  it('does not know other names', () => {
    const { state } = sampleCluster();
    for (const name of ['shard-3', 'MYMASTER', id('d'), '', 'shard-01']) expect(masterAddress(state, name)).toBeNull();
  });

  it('has no masters while no slot is served', () => {
    const state = new ClusterState(node(id('1'), 7001, NODE_FLAG.myself | NODE_FLAG.master, SHARD_A));
    expect(shardViews(state)).toEqual([]);
    expect(masterAddress(state, 'mymaster')).toBeNull();
  });
});

describe('sentinel view: failover', () => {
  it('the shard id and shard-<i> names follow the promoted replica', () => {
    const { state, p3, r3 } = sampleCluster();
    failOver(state, r3);
    for (const name of [SHARD_C, 'shard-2']) expect(masterAddress(state, name)).toEqual(['127.0.0.1', 7006]);
    // The deposed primary is still a member of the shard: listed as a replica that is down.
    const shard = findShard(state, SHARD_C)!;
    expect(shard.replicas).toEqual([p3]);
    expect(field(replicaRecord(state, p3, CLOCK), 'flags')).toBe('s_down,o_down,slave');
  });

  it('mymaster follows a failover of shard-0', () => {
    const { state, r1 } = sampleCluster();
    failOver(state, r1);
    expect(masterAddress(state, 'mymaster')).toEqual(['127.0.0.1', 7004]);
    expect(masterAddress(state, SHARD_A)).toEqual(['127.0.0.1', 7004]);
  });

  it('while two owners claim one shard id, the newer config wins', () => {
    const { state, r1 } = sampleCluster();
    state.setRole(r1, null);
    r1.configEpoch = 9;
    state.assign(100, r1);
    expect(shardViews(state)).toHaveLength(3);
    expect(masterAddress(state, 'shard-0')).toEqual(['127.0.0.1', 7004]);
    expect(findShard(state, 'shard-0')!.replicas).toEqual([]);
  });
});

describe('sentinel view: failure view', () => {
  it('reports a failed primary as objectively down', () => {
    const { state } = sampleCluster();
    const shard = findShard(state, 'shard-2')!;
    const rec = masterRecord(state, shard, 'shard-2', CLOCK);
    expect(field(rec, 'flags')).toBe('s_down,o_down,master');
    expect(field(rec, 'o-down-time')).toBe('2000');
    expect(field(rec, 'num-slaves')).toBe('1');
    expect(isMasterDownByAddr(state, '127.0.0.1', 7003)).toBe(true);
    expect(isMasterDownByAddr(state, '127.0.0.1', 7001)).toBe(false);
    // Replicas are not masters.
    expect(isMasterDownByAddr(state, '127.0.0.1', 7006)).toBe(false);
  });

  it('uses the cluster quorum over the primaries serving slots', () => {
    const { state } = sampleCluster();
    expect(quorumCheck(state)).toEqual({ usable: 2, quorum: 2, voters: 3 });
  });

  it('every other node that is up is a sentinel', () => {
    const { state } = sampleCluster();
    expect(sentinelPeers(state).map((n) => n.port).sort()).toEqual([7001, 7004, 7005, 7006]);
  });

  it('lays out master and replica records in Sentinel order', () => {
    const { state, r3 } = sampleCluster();
    const master = masterRecord(state, findShard(state, 'mymaster')!, 'mymaster', CLOCK);
    expect(master.map(([k]) => k)).toEqual([
      'name', 'ip', 'port', 'runid', 'flags', 'link-pending-commands', 'link-refcount', 'last-ping-sent',
      'last-ok-ping-reply', 'last-ping-reply', 'down-after-milliseconds', 'info-refresh', 'role-reported',
      'role-reported-time', 'config-epoch', 'num-slaves', 'num-other-sentinels', 'quorum', 'failover-timeout',
      'parallel-syncs',
    ]);
    expect(field(master, 'name')).toBe('mymaster');
    expect(field(master, 'down-after-milliseconds')).toBe('15000');
    expect(field(master, 'num-other-sentinels')).toBe('4');
    const replica = replicaRecord(state, r3, CLOCK);
    expect(replica.slice(-7)).toEqual([
      ['master-link-down-time', '2000'], ['master-link-status', 'err'], ['master-host', '127.0.0.1'],
      ['master-port', '7003'], ['slave-priority', '100'], ['slave-repl-offset', '7006'], ['replica-announced', '1'],
    ]);
    expect(field(replica, 'name')).toBe('127.0.0.1:7006');
  });
});

describe('sentinel view: role', () => {
  it('a primary lists its replicas that are up', () => {
    const { state } = sampleCluster();
    expect(roleView(state, 42, NOW)).toEqual({ role: 'master', offset: 42, replicas: [{ ip: '127.0.0.1', port: 7005, offset: 7005 }] });
  });

  it('a replica reports its primary and link', () => {
    const { r3 } = sampleCluster();
    const state = new ClusterState(r3);
    const p3 = node(id('3'), 7003, NODE_FLAG.master, SHARD_C);
    state.addNode(p3);
    r3.flags |= NODE_FLAG.myself;
    expect(roleView(state, 0, NOW)).toMatchObject({ role: 'slave', host: '127.0.0.1', port: 7003, linkUp: true, lastIoSeconds: 0, offset: 7006 });
    p3.flags |= NODE_FLAG.fail;
    p3.failTimeMs = NOW - 3000;
    expect(roleView(state, 0, NOW)).toMatchObject({ linkUp: false, lastIoSeconds: -1, downSinceSeconds: 3 });
  });
});

// ---- The SENTINEL and ROLE commands over the view ----

function subcommand(name: string): CommandSpec {
  return sentinelCommands.find((s) => s.name === 'sentinel')!.subcommands!.find((s) => s.name === name)!;
}

/** Runs a handler against a stub client; returns the RESP bytes. */
function run(state: ClusterState | null, spec: CommandSpec, argv: string[], proto: 2 | 3 = 2): string {
  const reply = new ReplyWriter();
  reply.resp = proto;
  const cluster = state === null ? null : ({ state, myself: state.myself, nodeTimeoutMs: 15000 } as unknown as ClusterControl);
  const c = { reply, error: (m: string) => reply.error(m), server: { cluster, now: () => NOW, replication: null } } as unknown as Client;
  spec.handler!(c, argv);
  return reply.take()?.toString('latin1') ?? '';
}

const sentinel = (state: ClusterState | null, ...args: string[]): string => run(state, subcommand(args[0]!.toLowerCase()), ['SENTINEL', ...args]);

describe('SENTINEL command', () => {
  it('GET-MASTER-ADDR-BY-NAME replies [ip, port] or a null array', () => {
    const { state, r3 } = sampleCluster();
    expect(sentinel(state, 'get-master-addr-by-name', 'mymaster')).toBe('*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7001\r\n');
    expect(sentinel(state, 'get-master-addr-by-name', 'nope')).toBe('*-1\r\n');
    failOver(state, r3);
    expect(sentinel(state, 'get-master-addr-by-name', SHARD_C)).toBe('*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7006\r\n');
  });

  it('refuses outside cluster mode', () => {
    expect(sentinel(null, 'masters')).toBe('-ERR This instance has cluster support disabled\r\n');
  });

  it('unknown master names are errors for MASTER, REPLICAS, SENTINELS, CKQUORUM', () => {
    const { state } = sampleCluster();
    for (const sub of ['master', 'replicas', 'slaves', 'sentinels', 'ckquorum']) {
      expect(sentinel(state, sub, 'nope')).toBe('-ERR No such master with that name\r\n');
    }
  });

  it('MASTER is a flat field/value array in RESP2 and a map in RESP3', () => {
    const { state } = sampleCluster();
    const resp2 = sentinel(state, 'master', 'shard-1');
    expect(resp2.startsWith('*40\r\n$4\r\nname\r\n$7\r\nshard-1\r\n$2\r\nip\r\n')).toBe(true);
    expect(resp2).toContain('$5\r\nflags\r\n$6\r\nmaster\r\n');
    const resp3 = run(state, subcommand('master'), ['SENTINEL', 'MASTER', 'shard-1'], 3);
    expect(resp3.startsWith('%20\r\n')).toBe(true);
  });

  it('MASTERS lists each shard once under its shard id', () => {
    const { state } = sampleCluster();
    const out = sentinel(state, 'masters');
    expect(out.startsWith('*3\r\n')).toBe(true);
    for (const s of [SHARD_A, SHARD_B, SHARD_C]) expect(out).toContain(`$4\r\nname\r\n$40\r\n${s}\r\n`);
  });

  it('SENTINELS lists the other nodes that are up with their node ids', () => {
    const { state } = sampleCluster();
    const out = sentinel(state, 'sentinels', 'mymaster');
    expect(out.startsWith('*4\r\n')).toBe(true);
    expect(out).toContain(`$5\r\nrunid\r\n$40\r\n${id('1')}\r\n$5\r\nflags\r\n$8\r\nsentinel\r\n`);
    expect(out).not.toContain(id('3'));
  });

  it('CKQUORUM and IS-MASTER-DOWN-BY-ADDR answer from the failure view', () => {
    const { state, p1 } = sampleCluster();
    expect(sentinel(state, 'ckquorum', 'mymaster')).toBe('+OK 2 usable Sentinels. Quorum and failover authorization can be reached\r\n');
    expect(sentinel(state, 'is-master-down-by-addr', '127.0.0.1', '7003', '0', '*')).toBe('*3\r\n:1\r\n$1\r\n*\r\n:0\r\n');
    expect(sentinel(state, 'is-master-down-by-addr', '127.0.0.1', 'x', '0', '*')).toBe('-ERR value is not an integer or out of range\r\n');
    p1.flags |= NODE_FLAG.pfail;
    expect(sentinel(state, 'ckquorum', 'mymaster')).toBe(
      '-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. ' +
        'Not enough available Sentinels to reach the majority and authorize a failover\r\n',
    );
  });

  it('MYID is the node id', () => {
    const { state } = sampleCluster();
    expect(sentinel(state, 'myid')).toBe(`$40\r\n${id('2')}\r\n`);
  });
});

describe('ROLE command', () => {
  const role = sentinelCommands.find((s) => s.name === 'role')!;

  it('outside cluster mode a master without replicas', () => {
    expect(run(null, role, ['ROLE'])).toBe('*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n');
  });

  it('a cluster primary lists its replicas with string port and offset', () => {
    const { state } = sampleCluster();
    expect(run(state, role, ['ROLE'])).toBe('*3\r\n$6\r\nmaster\r\n:0\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n7005\r\n$4\r\n7005\r\n');
  });
});
