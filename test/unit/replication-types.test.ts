import { describe, expect, it } from 'vitest';
import type { Life } from '../../sim/cluster.js';
import { twoSimNodes } from '../helpers/sim.js';

/**
 * Per-type merges between two replicating nodes on the simulator's network
 * (no faults): writes made on both sides before they hear of each other
 * end up merged the same way on both.
 */
async function twoNodes(): Promise<{ a: Life; b: Life; settle: (ms: number) => Promise<void>; cut: (on: boolean) => void }> {
  const { a, b, network, settle } = await twoSimNodes(3);
  let partition: { heal(): void } | null = null;
  return {
    a,
    b,
    settle,
    cut: (on) => {
      if (on) partition = network.partition(['n1'], ['n2']);
      else partition?.heal();
    },
  };
}

describe('per-type merges', () => {
  it('HyperLogLogs merge register-wise', async () => {
    const { a, b, settle, cut } = await twoNodes();
    cut(true);
    for (let i = 0; i < 500; i++) a.client.call('PFADD', 'h', `a${i}`);
    for (let i = 0; i < 500; i++) b.client.call('PFADD', 'h', `b${i}`);
    cut(false);
    await settle(5000);
    const count = a.client.call('PFCOUNT', 'h') as number;
    expect(b.client.call('PFCOUNT', 'h')).toBe(count);
    expect(Math.abs(count - 1000)).toBeLessThan(30);
  });

  it('concurrent list pushes are all kept, in one order', async () => {
    const { a, b, settle, cut } = await twoNodes();
    a.client.call('RPUSH', 'l', 'x', 'y');
    await settle(1000);
    cut(true);
    a.client.call('LPUSH', 'l', 'a1');
    b.client.call('LPUSH', 'l', 'b1');
    b.client.call('RPUSH', 'l', 'b2');
    a.client.call('LINSERT', 'l', 'BEFORE', 'y', 'a2');
    expect(b.client.call('LPOP', 'l')).toBe('b1');
    cut(false);
    await settle(5000);
    const listA = a.client.call('LRANGE', 'l', '0', '-1');
    expect(b.client.call('LRANGE', 'l', '0', '-1')).toEqual(listA);
    expect([...(listA as string[])].sort()).toEqual(['a1', 'a2', 'b2', 'x', 'y']);
  });

  it('hash fields, set members and sorted-set scores merge element by element', async () => {
    const { a, b, settle, cut } = await twoNodes();
    cut(true);
    a.client.call('HSET', 'h', 'f1', '1');
    b.client.call('HSET', 'h', 'f2', '2');
    a.client.call('HINCRBY', 'h', 'n', '3');
    b.client.call('HINCRBY', 'h', 'n', '4');
    a.client.call('SADD', 's', 'x');
    b.client.call('SADD', 's', 'y');
    a.client.call('ZINCRBY', 'z', '1.5', 'm');
    b.client.call('ZINCRBY', 'z', '2', 'm');
    cut(false);
    await settle(5000);
    for (const life of [a, b]) {
      expect(life.client.call('HGET', 'h', 'f1')).toBe('1');
      expect(life.client.call('HGET', 'h', 'f2')).toBe('2');
      expect(life.client.call('HGET', 'h', 'n')).toBe('7');
      expect(life.client.call('SCARD', 's')).toBe(2);
      expect(life.client.call('ZSCORE', 'z', 'm')).toBe('3.5');
    }
  });

  it('collects removed set members once every peer holds the removal', async () => {
    const { a, b, settle } = await twoNodes();
    a.client.call('SADD', 's', 'keep', 'gone');
    await settle(500);
    b.client.call('SREM', 's', 'gone');
    await settle(15_000);
    // The next write of the set on each node drops what every peer has seen.
    a.client.call('SADD', 's', 'new-a');
    b.client.call('SADD', 's', 'new-b');
    await settle(15_000);
    a.client.call('SADD', 's', 'new-a2');
    b.client.call('SADD', 's', 'new-b2');
    await settle(2000);
    for (const life of [a, b]) {
      const meta = life.server.keyspace.db(0).keys.get('s')!.crdt!;
      expect(meta.elementTombs?.has('gone') ?? false).toBe(false);
      expect(life.client.call('SISMEMBER', 's', 'gone')).toBe(0);
      expect(life.client.call('SCARD', 's')).toBe(5);
    }
  });
});
