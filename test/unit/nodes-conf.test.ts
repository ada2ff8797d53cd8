import { describe, expect, it } from 'vitest';
import { ClusterNode, NODE_FLAG } from '../../src/cluster/node.js';
import { nodesConfText, parseNodesConf } from '../../src/cluster/nodes-conf.js';
import { ClusterState } from '../../src/cluster/state.js';

const ID_A = 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca';
const ID_B = '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1';
const ID_C = '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f';
const ID_H = '0123456789abcdef0123456789abcdef01234567';
const SHARD_A = 'a'.repeat(40);
const SHARD_B = 'b'.repeat(40);

function node(id: string, port: number, flags: number, shardId: string): ClusterNode {
  return new ClusterNode(id, { ip: '10.0.0.1', port, cport: port + 10000, flags, shardId, nowMs: 0 });
}

/** myself (A) primary with open slots, B primary with a hostname, C replica of A, H still in handshake. */
function sampleState(): ClusterState {
  const a = node(ID_A, 6379, NODE_FLAG.myself | NODE_FLAG.master, SHARD_A);
  const state = new ClusterState(a);
  const b = node(ID_B, 6380, NODE_FLAG.master, SHARD_B);
  b.hostname = 'b.example';
  const c = node(ID_C, 6381, NODE_FLAG.slave, SHARD_A);
  c.primaryId = ID_A;
  state.addNode(b);
  state.addNode(c);
  state.addNode(node(ID_H, 6390, NODE_FLAG.handshake, ID_H));
  a.configEpoch = 4;
  b.configEpoch = 5;
  state.currentEpoch = 7;
  state.lastVoteEpoch = 6;
  for (let s = 0; s < 8000; s++) state.assign(s, a);
  state.assign(9000, a);
  for (let s = 8000; s < 16384; s++) if (s !== 9000) state.assign(s, b);
  state.migratingTo[100] = b;
  state.importingFrom[8001] = b;
  return state;
}

function parsed(text: string, nowMs = 0): ClusterState {
  const r = parseNodesConf(text, nowMs);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('nodes.conf', () => {
  it('writes CLUSTER NODES lines with aux fields, skips handshakes, ends with vars', () => {
    expect(nodesConfText(sampleState()).split('\n')).toEqual([
      `${ID_A} 10.0.0.1:6379@16379,,shard-id=${SHARD_A} myself,master - 0 0 4 connected 0-7999 9000 [100->-${ID_B}] [8001-<-${ID_B}]`,
      `${ID_B} 10.0.0.1:6380@16380,b.example,shard-id=${SHARD_B} master - 0 0 5 connected 8000-8999 9001-16383`,
      `${ID_C} 10.0.0.1:6381@16381,,shard-id=${SHARD_A} slave ${ID_A} 0 0 4 connected`,
      'vars currentEpoch 7 lastVoteEpoch 6',
      '',
    ]);
  });

  it('round trips', () => {
    const text = nodesConfText(sampleState());
    const state = parsed(text);
    expect(nodesConfText(state)).toBe(text);
    expect(state.myself.id).toBe(ID_A);
    expect(state.node(ID_B)!.hostname).toBe('b.example');
    expect(state.node(ID_B)!.shardId).toBe(SHARD_B);
    expect(state.node(ID_C)!.shardId).toBe(SHARD_A);
    expect(state.primaryOf(state.node(ID_C)!)).toBe(state.myself);
    expect(state.ownerOf(9000)).toBe(state.myself);
    expect(state.node(ID_B)!.slots.count).toBe(16384 - 8001);
    expect(state.migratingTo[100]).toBe(state.node(ID_B));
    expect(state.importingFrom[8001]).toBe(state.node(ID_B));
    expect([state.currentEpoch, state.lastVoteEpoch]).toEqual([7, 6]);
    expect(state.node(ID_H)).toBeUndefined();
  });

  it('loads a Redis 7.0 file: lines in any order, no shard ids, old address forms', () => {
    const text = [
      '',
      `${ID_C} 10.0.0.3:7002@17002 slave ${ID_B} 0 1700000000000 2 connected`,
      `${ID_B} 10.0.0.2:7001,host-b master,fail? - 1700000000000 1700000000000 2 disconnected 0-10`,
      `${ID_A} 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 11 12-13`,
      'vars currentEpoch 1 lastVoteEpoch 0',
    ].join('\n');
    const state = parsed(text, 42);
    const b = state.node(ID_B)!;
    const c = state.node(ID_C)!;
    expect([b.port, b.cport, b.hostname]).toEqual([7001, 17001, 'host-b']);
    expect(b.flags).toBe(NODE_FLAG.master | NODE_FLAG.pfail);
    expect(b.shardId).toBe(ID_B);
    expect(c.shardId).toBe(ID_B);
    expect(c.configEpoch).toBe(0);
    expect([b.pingSentMs, b.pongReceivedMs, c.pingSentMs, c.pongReceivedMs]).toEqual([42, 42, 0, 42]);
    expect(state.myself.slots.ranges()).toEqual([[11, 13]]);
    // currentEpoch is raised to the highest config epoch found.
    expect(state.currentEpoch).toBe(2);
  });

  it('creates nodes only referenced as primaries or migration peers', () => {
    const text = `${ID_A} 10.0.0.1:7000@17000 myself,slave ${ID_B} 0 0 0 connected [5-<-${ID_C}]\n`;
    const state = parsed(text);
    expect(state.node(ID_B)!.flags).toBe(0);
    expect(state.importingFrom[5]).toBe(state.node(ID_C));
    expect(state.myself.shardId).toBe(ID_B);
  });

  it('keeps IPv6 addresses', () => {
    const state = parsed(`${ID_A} ::1:7000@17000 myself,master - 0 0 0 connected\n`);
    expect([state.myself.ip, state.myself.port]).toEqual(['::1', 7000]);
  });

  it('rejects corrupt files with a reason', () => {
    const me = `${ID_A} 10.0.0.1:7000@17000 myself,master - 0 0 1 connected`;
    const cases: [string, RegExp][] = [
      ['', /no node is flagged myself/],
      [`${me}\n${ID_B} 10.0.0.2:7001@17001 myself,master - 0 0 1 connected`, /more than one node is flagged myself/],
      [`${ID_A} 10.0.0.1:7000@17000 myself,master - 0 0 1`, /line 1: .*at least 8 fields/],
      [`${me}\n${me}`, /line 2: .*appears twice/],
      [`xyz 10.0.0.1:7000@17000 myself,master - 0 0 1 connected`, /invalid node id/],
      [`${me} 16384`, /slot 16384 out of range/],
      [`${me} 10-5`, /invalid slot range/],
      [`${me} abc`, /invalid slot/],
      [`${me} [5->-nothex]`, /invalid node id in open slot/],
      [`${me} [5=>-${ID_B}]`, /invalid open slot/],
      [`${ID_A} 10.0.0.1:7000@17000 myself,wizard - 0 0 1 connected`, /unknown flag 'wizard'/],
      [`${ID_A} 10.0.0.1 myself,master - 0 0 1 connected`, /invalid address/],
      [`${ID_A} 10.0.0.1:port@17000 myself,master - 0 0 1 connected`, /invalid port/],
      [`${ID_A} 10.0.0.1:7000@17000,,shard-id=xyz myself,master - 0 0 1 connected`, /invalid shard id/],
      [`${ID_A} 10.0.0.1:7000@17000 myself,slave zzz 0 0 1 connected`, /invalid primary id/],
      [`${me}\nvars currentEpoch`, /line 2: .*vars/],
      [`${me}\nvars currentEpoch x`, /invalid currentEpoch/],
    ];
    for (const [text, error] of cases) {
      const r = parseNodesConf(text, 0);
      expect(typeof r, text).toBe('string');
      expect(r as string, text).toMatch(/^corrupted cluster config file: /);
      expect(r as string, text).toMatch(error);
    }
  });
});
