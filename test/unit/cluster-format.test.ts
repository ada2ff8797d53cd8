import { describe, expect, it } from 'vitest';
import type { BusMessageStats } from '../../src/cluster/control.js';
import {
  clusterInfoText,
  clusterLinksReply,
  clusterNodesText,
  clusterShardsReply,
  clusterSlotsReply,
  replicaLines,
  writeReply,
  type ReplyValue,
} from '../../src/cluster/format.js';
import { ClusterNode, NODE_FLAG } from '../../src/cluster/node.js';
import { crc16, keyHashSlot } from '../../src/cluster/slots.js';
import { ClusterState } from '../../src/cluster/state.js';
import { ReplyWriter } from '../../src/protocol/reply.js';

const ID_A = 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca';
const ID_B = '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1';
const ID_C = '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f';
const ID_D = '07c37dfeb235213a872192d90877d0cd55635b91';
const SHARD_A = '1'.repeat(40);

function node(id: string, port: number, flags: number, shardId = id): ClusterNode {
  return new ClusterNode(id, { ip: '127.0.0.1', port, cport: port + 10000, flags, shardId, nowMs: 0 });
}

function assignRange(state: ClusterState, n: ClusterNode, from: number, to: number): void {
  for (let s = from; s <= to; s++) state.assign(s, n);
}

/**
 * myself (A) primary of 0-5460 and 5462 with a replica (D), B a primary with a
 * hostname, C a failed primary; A migrates 5000 to B and imports 5461 from B.
 */
function sampleState(): ClusterState {
  const a = node(ID_A, 30001, NODE_FLAG.myself | NODE_FLAG.master, SHARD_A);
  const state = new ClusterState(a);
  const b = node(ID_B, 30002, NODE_FLAG.master);
  b.hostname = 'host-b';
  b.pongReceivedMs = 1426238316232;
  const c = node(ID_C, 30003, NODE_FLAG.master | NODE_FLAG.fail);
  c.pingSentMs = 1426238310000;
  c.pongReceivedMs = 1426238300000;
  const d = node(ID_D, 30004, NODE_FLAG.slave, SHARD_A);
  d.primaryId = ID_A;
  d.pongReceivedMs = 1426238317239;
  d.replOffset = 1234;
  for (const n of [b, c, d]) state.addNode(n);
  a.configEpoch = 1;
  b.configEpoch = 2;
  c.configEpoch = 3;
  d.configEpoch = 0;
  state.currentEpoch = 3;
  assignRange(state, a, 0, 5460);
  state.assign(5462, a);
  state.assign(5461, b);
  assignRange(state, b, 5463, 10922);
  assignRange(state, c, 10923, 16383);
  state.migratingTo[5000] = b;
  state.importingFrom[5461] = b;
  return state;
}

/** The bytes a reply tree becomes in the given protocol. */
function resp(v: ReplyValue, proto: 2 | 3): string {
  const w = new ReplyWriter();
  w.resp = proto;
  writeReply(w, v);
  return w.take()?.toString('latin1') ?? '';
}

describe('hash slots', () => {
  it('CRC16-XMODEM of the reference string', () => {
    expect(crc16('123456789')).toBe(0x31c3);
  });

  it('known key slots', () => {
    expect(keyHashSlot('foo')).toBe(12182);
    expect(keyHashSlot('bar')).toBe(5061);
    expect(keyHashSlot('')).toBe(0);
  });

  it('hash tags', () => {
    expect(keyHashSlot('{user1000}.following')).toBe(keyHashSlot('{user1000}.followers'));
    expect(keyHashSlot('{user1000}.following')).toBe(keyHashSlot('user1000'));
    // An empty first tag means the whole key is hashed.
    expect(keyHashSlot('foo{}{bar}')).toBe(crc16('foo{}{bar}') & 16383);
    expect(keyHashSlot('foo{{bar}}zap')).toBe(keyHashSlot('{bar'));
    expect(keyHashSlot('foo{bar}{zap}')).toBe(keyHashSlot('bar'));
    expect(keyHashSlot('{unclosed')).toBe(crc16('{unclosed') & 16383);
  });
});

describe('CLUSTER NODES', () => {
  it('prints every node as Redis does, open slots on the myself line only', () => {
    const state = sampleState();
    const text = clusterNodesText(state, 1426238320000, (n) => n.id !== ID_C);
    expect(text.split('\n')).toEqual([
      `${ID_A} 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 5462 [5000->-${ID_B}] [5461-<-${ID_B}]`,
      `${ID_B} 127.0.0.1:30002@40002,host-b master - 0 1426238316232 2 connected 5461 5463-10922`,
      `${ID_C} 127.0.0.1:30003@40003 master,fail - 1426238310000 1426238300000 3 disconnected 10923-16383`,
      `${ID_D} 127.0.0.1:30004@40004 slave ${ID_A} 0 1426238317239 1 connected`,
      '',
    ]);
  });

  it('migrating wins over importing for the same slot', () => {
    const state = sampleState();
    state.importingFrom[5000] = state.node(ID_C)!;
    expect(clusterNodesText(state, 0, () => true)).toContain(`[5000->-${ID_B}] [5461-<-${ID_B}]`);
  });

  it('noflags, a full range, and link state from pings by default', () => {
    const a = node(ID_A, 7000, NODE_FLAG.myself | NODE_FLAG.master);
    const state = new ClusterState(a);
    const b = node(ID_B, 7001, 0);
    b.pingSentMs = 1000;
    state.addNode(b);
    assignRange(state, a, 0, 16383);
    const lines = clusterNodesText(state, 1000 + 60_000).split('\n');
    expect(lines[0]).toBe(`${ID_A} 127.0.0.1:7000@17000 myself,master - 0 0 0 connected 0-16383`);
    expect(lines[1]).toBe(`${ID_B} 127.0.0.1:7001@17001 noflags - 1000 0 0 disconnected`);
    expect(clusterNodesText(state, 1001).split('\n')[1]).toContain(' connected');
  });

  it('CLUSTER REPLICAS lines', () => {
    const state = sampleState();
    expect(replicaLines(state, state.myself, 0, () => true)).toEqual([`${ID_D} 127.0.0.1:30004@40004 slave ${ID_A} 0 1426238317239 1 connected`]);
    expect(replicaLines(state, state.node(ID_B)!, 0)).toEqual([]);
  });
});

describe('CLUSTER SLOTS', () => {
  it('one entry per run of slots, replicas after the primary', () => {
    const reply = clusterSlotsReply(sampleState());
    const entry = (ip: string, port: number, id: string, extra: [string, string][] = []): ReplyValue => [ip, port, id, new Map(extra)];
    expect(reply).toEqual([
      [0, 5460, entry('127.0.0.1', 30001, ID_A), entry('127.0.0.1', 30004, ID_D)],
      [5461, 5461, entry('127.0.0.1', 30002, ID_B, [['hostname', 'host-b']])],
      [5462, 5462, entry('127.0.0.1', 30001, ID_A), entry('127.0.0.1', 30004, ID_D)],
      [5463, 10922, entry('127.0.0.1', 30002, ID_B, [['hostname', 'host-b']])],
      [10923, 16383, entry('127.0.0.1', 30003, ID_C)],
    ]);
  });

  it('leaves out failed and never-synced replicas', () => {
    const state = sampleState();
    const d = state.node(ID_D)!;
    d.flags |= NODE_FLAG.fail;
    expect((clusterSlotsReply(state)[0] as ReplyValue[]).length).toBe(3);
    d.flags &= ~NODE_FLAG.fail;
    d.replOffset = 0;
    expect((clusterSlotsReply(state)[0] as ReplyValue[]).length).toBe(3);
  });

  it('hostname endpoints', () => {
    const reply = clusterSlotsReply(sampleState(), 'hostname');
    expect((reply[1] as ReplyValue[])[2]).toEqual(['host-b', 30002, ID_B, new Map([['ip', '127.0.0.1']])]);
    expect((reply[0] as ReplyValue[])[2]).toEqual(['?', 30001, ID_A, new Map([['ip', '127.0.0.1']])]);
  });

  it('RESP2 and RESP3 encodings', () => {
    const a = node(ID_A, 7000, NODE_FLAG.myself | NODE_FLAG.master);
    const state = new ClusterState(a);
    a.hostname = 'h';
    assignRange(state, a, 0, 16383);
    const reply = clusterSlotsReply(state);
    const head = `*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:7000\r\n$40\r\n${ID_A}\r\n`;
    expect(resp(reply, 2)).toBe(`${head}*2\r\n$8\r\nhostname\r\n$1\r\nh\r\n`);
    expect(resp(reply, 3)).toBe(`${head}%1\r\n$8\r\nhostname\r\n$1\r\nh\r\n`);
    expect(resp(clusterSlotsReply(new ClusterState(node(ID_B, 1, NODE_FLAG.myself))), 2)).toBe('*0\r\n');
  });
});

describe('CLUSTER SHARDS', () => {
  it('one shard per primary, slots as flat ranges, primary first', () => {
    const reply = clusterShardsReply(sampleState());
    expect(reply.length).toBe(3);
    const first = reply[0] as Map<string, ReplyValue>;
    expect(first.get('slots')).toEqual([0, 5460, 5462, 5462]);
    expect(first.get('nodes')).toEqual([
      new Map<string, ReplyValue>([
        ['id', ID_A], ['port', 30001], ['ip', '127.0.0.1'], ['endpoint', '127.0.0.1'],
        ['role', 'master'], ['replication-offset', 0], ['health', 'online'],
      ]),
      new Map<string, ReplyValue>([
        ['id', ID_D], ['port', 30004], ['ip', '127.0.0.1'], ['endpoint', '127.0.0.1'],
        ['role', 'replica'], ['replication-offset', 1234], ['health', 'online'],
      ]),
    ]);
    const b = ((reply[1] as Map<string, ReplyValue>).get('nodes') as Map<string, ReplyValue>[])[0]!;
    expect([...b.keys()]).toEqual(['id', 'port', 'ip', 'endpoint', 'hostname', 'role', 'replication-offset', 'health']);
    const c = ((reply[2] as Map<string, ReplyValue>).get('nodes') as Map<string, ReplyValue>[])[0]!;
    expect(c.get('health')).toBe('fail');
  });

  it('a replica that never synced is loading; a primary without slots has an empty list', () => {
    const state = sampleState();
    state.node(ID_D)!.replOffset = 0;
    state.addNode(node('f'.repeat(40), 30005, NODE_FLAG.master));
    const reply = clusterShardsReply(state);
    const nodes = (reply[0] as Map<string, ReplyValue>).get('nodes') as Map<string, ReplyValue>[];
    expect(nodes[1]!.get('health')).toBe('loading');
    expect((reply[3] as Map<string, ReplyValue>).get('slots')).toEqual([]);
  });
});

describe('CLUSTER INFO', () => {
  it('slot health, sizes, epochs and message counters in type order', () => {
    const state = sampleState();
    state.node(ID_B)!.flags |= NODE_FLAG.pfail;
    state.state = 'ok';
    const stats: BusMessageStats = {
      sent: new Map([['pong', 5], ['ping', 7], ['meet', 0]]),
      received: new Map([['fail', 1], ['ping', 4]]),
    };
    expect(clusterInfoText(state, stats)).toBe(
      [
        'cluster_state:ok',
        'cluster_slots_assigned:16384',
        'cluster_slots_ok:5462',
        'cluster_slots_pfail:5461',
        'cluster_slots_fail:5461',
        'cluster_known_nodes:4',
        'cluster_size:3',
        'cluster_current_epoch:3',
        'cluster_my_epoch:1',
        'cluster_stats_messages_ping_sent:7',
        'cluster_stats_messages_pong_sent:5',
        'cluster_stats_messages_sent:12',
        'cluster_stats_messages_ping_received:4',
        'cluster_stats_messages_fail_received:1',
        'cluster_stats_messages_received:5',
        'total_cluster_links_buffer_limit_exceeded:0',
        '',
      ].join('\r\n'),
    );
  });

  it("a replica reports its primary's epoch", () => {
    const a = node(ID_A, 1, NODE_FLAG.myself | NODE_FLAG.slave);
    const state = new ClusterState(a);
    const b = node(ID_B, 2, NODE_FLAG.master);
    b.configEpoch = 9;
    state.addNode(b);
    a.primaryId = ID_B;
    expect(clusterInfoText(state, { sent: new Map(), received: new Map() })).toContain('cluster_my_epoch:9\r\n');
  });
});

describe('CLUSTER LINKS', () => {
  it('one map per link', () => {
    const reply = clusterLinksReply([{ direction: 'to', node: ID_B, createTimeMs: 1700000000000, events: 'rw', sendBufferAllocated: 0, sendBufferUsed: 0 }]);
    expect(resp(reply, 3)).toBe(
      `*1\r\n%6\r\n$9\r\ndirection\r\n$2\r\nto\r\n$4\r\nnode\r\n$40\r\n${ID_B}\r\n$11\r\ncreate-time\r\n:1700000000000\r\n` +
        '$6\r\nevents\r\n$2\r\nrw\r\n$21\r\nsend-buffer-allocated\r\n:0\r\n$16\r\nsend-buffer-used\r\n:0\r\n',
    );
  });
});
