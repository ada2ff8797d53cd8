import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, StrataCluster } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw.js';

/**
 * Pub/sub across an active-active group of three real processes: a PUBLISH
 * on node A reaches subscribers on B and C exactly once, keyspace
 * notifications and KSUB events fire on B for writes made on A (they arrive
 * by replication), in RESP2 (ioredis) and RESP3 (node-redis push).
 */

let group: StrataCluster;

beforeAll(async () => {
  group = await StrataCluster.start(3);
});

afterAll(async () => {
  await group?.stop();
});

/** Resolves when `got` holds n items (polling, no timing assertion). */
async function receivedAtLeast<T>(what: string, got: T[], n: number): Promise<void> {
  await eventually(what, async () => (got.length >= n ? null : `${got.length} of ${n}`));
}

describe('PUBLISH in a group', () => {
  it('reaches subscribers on every node exactly once (RESP2 and RESP3)', async () => {
    const a = group.node(0).ioredis();
    const onB = group.node(1).ioredis();
    const onC = await group.node(2).nodeRedis(3);
    const gotB: string[] = [];
    const gotC: string[] = [];
    onB.on('message', (_channel: string, message: string) => gotB.push(message));
    await onB.subscribe('news');
    await onC.subscribe('news', (message) => gotC.push(message));
    // Subscriptions exist once the local counts say so on each node.
    await eventually('subscribers registered', async () => {
      const b = (await group.node(1).command('PUBSUB', 'NUMSUB', 'news')) as [string, number];
      const c = (await group.node(2).command('PUBSUB', 'NUMSUB', 'news')) as [string, number];
      return b[1] === 1 && c[1] === 1 ? null : `B ${b[1]} C ${c[1]}`;
    });
    const count = 50;
    for (let i = 0; i < count; i++) expect(await a.publish('news', `m${i}`)).toBe(0); // no subscriber on A itself
    await receivedAtLeast('all messages on B', gotB, count);
    await receivedAtLeast('all messages on C', gotC, count);
    // A marker published after the batch: once it arrives, any duplicate of the batch would have too.
    await a.publish('news', 'end');
    await receivedAtLeast('marker on B', gotB, count + 1);
    await receivedAtLeast('marker on C', gotC, count + 1);
    const expected = [...Array.from({ length: count }, (_, i) => `m${i}`), 'end'];
    expect(gotB).toEqual(expected);
    expect(gotC).toEqual(expected);
  });

  it('SPUBLISH reaches shard subscribers on the other nodes', async () => {
    const a = group.node(0).ioredis();
    const onB = await group.node(1).nodeRedis(3);
    const got: string[] = [];
    await onB.sSubscribe('orders', (message) => got.push(message));
    await a.call('SPUBLISH', 'orders', 'o1');
    await receivedAtLeast('shard message on B', got, 1);
    expect(got).toEqual(['o1']);
  });
});

describe('key events in a group', () => {
  it('KSUB on B sees writes made on A, with their command names', async () => {
    const a = group.node(0).ioredis();
    const onB = await RawClient.connect(group.node(1).port, group.node(1).host);
    onB.write('KSUB user:*\r\n');
    expect(await onB.lines(6)).toBe('*3\r\n$4\r\nksub\r\n$6\r\nuser:*\r\n:1\r\n');
    await a.set('user:1', 'x');
    await a.hset('user:2', 'name', 'ann');
    await a.set('other', 'y');
    await a.del('user:1');
    // Each kmessage is 9 lines: *4, then 4 bulk strings.
    const text = await onB.lines(27);
    const events = [...text.matchAll(/kmessage\r\n\$\d+\r\nuser:\*\r\n\$\d+\r\n([^\r]*)\r\n\$\d+\r\n([^\r]*)\r\n/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(events).toEqual(['user:1 set', 'user:2 hset', 'user:1 del']);
    onB.close();
  });

  it('keyspace notifications on B fire for writes applied from A', async () => {
    const a = group.node(0).ioredis();
    const b = group.node(1).ioredis();
    await b.config('SET', 'notify-keyspace-events', 'KEA');
    const sub = group.node(1).ioredis();
    const got: string[] = [];
    sub.on('pmessage', (_p: string, channel: string, message: string) => got.push(`${channel} ${message}`));
    await sub.psubscribe('__key*__:counter');
    await a.incr('counter');
    await receivedAtLeast('keyspace event on B', got, 1);
    expect(got[0]).toBe('__keyspace@0__:counter incrby');
  });
});
