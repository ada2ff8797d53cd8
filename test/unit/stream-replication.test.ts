import { describe, expect, it } from 'vitest';
import { decodeDoc, docDigest, type StreamDoc } from '../../src/replication/stream-crdt.js';
import { encodeStream } from '../../src/replication/stream-writes.js';
import type { StreamValue } from '../../src/store/stream.js';
import { twoSimNodes, type TwoNodes } from '../helpers/sim.js';

/**
 * Streams merge entry by entry (docs/CRDT.md): concurrent XADDs on two
 * replicas all survive, an XDEL removes only what its replica had seen,
 * consumer groups merge per group, PEL entry and consumer, and both
 * replicas end with the same stream.
 */

type Node = TwoNodes['a'];

/** XINFO STREAM as a map, without the node layout (replicas may pack the same entries into different nodes). */
function info(n: Node, key: string): Record<string, unknown> {
  const flat = n.client.call('XINFO', 'STREAM', key) as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i] as string] = flat[i + 1];
  delete out['radix-tree-keys'];
  delete out['radix-tree-nodes'];
  return out;
}

/** Both replicas hold the same CRDT states (Merkle leaves) and refused nothing. */
function converged(a: Node, b: Node): void {
  const leaves = (n: Node): number[] => Array.from(n.server.replication!.crdt.merkle[0]!.leaves);
  expect(leaves(b)).toEqual(leaves(a));
  for (const n of [a, b]) {
    expect(n.client.call('INFO', 'replication') as string).toContain('rejected_messages:0');
    // The digest kept incrementally by local writes is the digest of the stream's state.
    for (const e of n.server.keyspace.db(0).entries()) {
      if (e.type !== 'stream') continue;
      const doc = decodeDoc(encodeStream(e.crdt!, e.value as StreamValue), 0) as StreamDoc;
      expect(e.crdt!.elementsDigest).toBe(docDigest(doc));
    }
  }
}

function ids(n: Node, key: string): string[] {
  return (n.client.call('XRANGE', key, '-', '+') as [string, string[]][]).map((e) => e[0]);
}

async function partitioned(seed: number): Promise<TwoNodes & { heal(): Promise<void> }> {
  const nodes = await twoSimNodes(seed);
  const cut = nodes.network.partition(['n1'], ['n2']);
  return {
    ...nodes,
    async heal() {
      cut.heal();
      await nodes.settle(5000);
    },
  };
}

describe('stream replication', () => {
  it('entries and consumer-group state reach the peer', async () => {
    const { a, b, settle } = await twoSimNodes(11);
    a.client.call('XADD', 's', '1-0', 'f', 'v1');
    a.client.call('XADD', 's', '2-0', 'f', 'v2');
    a.client.call('XGROUP', 'CREATE', 's', 'g', '0');
    a.client.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 's', '>');
    await settle(2000);
    expect(b.client.call('XRANGE', 's', '-', '+')).toEqual([['1-0', ['f', 'v1']], ['2-0', ['f', 'v2']]]);
    expect(b.client.call('XPENDING', 's', 'g')).toEqual([1, '1-0', '1-0', [['alice', '1']]]);
    a.client.call('XACK', 's', 'g', '1-0');
    await settle(2000);
    expect(b.client.call('XPENDING', 's', 'g')).toEqual([0, null, null, null]);
  });

  it('concurrent XADDs on both sides all survive a partition; an XDEL removes what its side saw', async () => {
    const { a, b, settle, heal } = await partitioned(12);
    await settle(10);
    a.client.call('XADD', 's', '1-0', 'f', 'base');
    b.client.call('XADD', 's', '1-1', 'f', 'base-b');
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      acked.push(a.client.call('XADD', 's', '*', 'f', `a${i}`) as string);
      acked.push(b.client.call('XADD', 's', '*', 'f', `b${i}`) as string);
    }
    expect(b.client.call('XDEL', 's', '1-1')).toBe(1);
    expect(b.client.call('XDEL', 's', '1-0')).toBe(0); // b never saw a's 1-0: nothing to remove
    await heal();
    const onA = ids(a, 's');
    expect(ids(b, 's')).toEqual(onA);
    expect(b.client.call('XRANGE', 's', '-', '+')).toEqual(a.client.call('XRANGE', 's', '-', '+'));
    expect(new Set(acked).size).toBe(acked.length);
    for (const id of acked) expect(onA).toContain(id);
    expect(onA).toContain('1-0');
    expect(onA).not.toContain('1-1');
    expect(onA.length).toBe(acked.length + 1);
    expect(info(b, 's')).toEqual(info(a, 's'));
    expect(info(a, 's')['entries-added']).toBe(12);
    converged(a, b);
  });

  it('XADD after a merge continues above both sides', async () => {
    const { a, b, heal } = await partitioned(13);
    a.client.call('XADD', 's', '5-0', 'f', 'a');
    b.client.call('XADD', 's', '9-0', 'f', 'b');
    await heal();
    expect((a.client.call('XADD', 's', '7-0', 'f', 'x') as Error).message).toMatch(/^ERR The ID specified in XADD is equal or smaller/);
    expect(a.client.call('XADD', 's', '9-*', 'f', 'x')).toBe('9-1');
  });

  it('the same ID added on both sides: one entry wins everywhere', async () => {
    const { a, b, heal } = await partitioned(14);
    a.client.call('XADD', 's', '3-0', 'f', 'from-a');
    b.client.call('XADD', 's', '3-0', 'f', 'from-b');
    await heal();
    const onA = a.client.call('XRANGE', 's', '-', '+');
    expect(onA).toHaveLength(1);
    expect(b.client.call('XRANGE', 's', '-', '+')).toEqual(onA);
  });

  it('an entry added on one side survives a concurrent XTRIM on the other', async () => {
    const { a, b, settle, network } = await twoSimNodes(15);
    for (const id of ['1-0', '2-0', '3-0']) a.client.call('XADD', 's', id, 'f', id);
    await settle(2000);
    const cut = network.partition(['n1'], ['n2']);
    expect(a.client.call('XTRIM', 's', 'MAXLEN', '1')).toBe(2);
    b.client.call('XADD', 's', '4-0', 'f', 'b');
    cut.heal();
    await settle(5000);
    expect(ids(a, 's')).toEqual(['3-0', '4-0']);
    expect(ids(b, 's')).toEqual(['3-0', '4-0']);
    converged(a, b);
  });

  it('consumer groups merge: deliveries on both sides, XACK of what a side saw', async () => {
    const { a, b, settle, network } = await twoSimNodes(16);
    a.client.call('XADD', 's', '1-0', 'f', 'v1');
    a.client.call('XADD', 's', '2-0', 'f', 'v2');
    a.client.call('XADD', 's', '3-0', 'f', 'v3');
    a.client.call('XGROUP', 'CREATE', 's', 'g', '0');
    a.client.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 's', '>');
    await settle(2000);
    const cut = network.partition(['n1'], ['n2']);
    expect(a.client.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 's', '>')).toEqual([['s', [['2-0', ['f', 'v2']]]]]);
    expect(b.client.call('XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '2', 'STREAMS', 's', '>')).toEqual([['s', [['2-0', ['f', 'v2']], ['3-0', ['f', 'v3']]]]]);
    expect(b.client.call('XACK', 's', 'g', '1-0')).toBe(1);
    b.client.call('XGROUP', 'CREATE', 's', 'g2', '$');
    a.client.call('XGROUP', 'CREATE', 's', 'g2', '0');
    cut.heal();
    await settle(5000);
    const pending = a.client.call('XPENDING', 's', 'g', '-', '+', '10');
    expect(b.client.call('XPENDING', 's', 'g', '-', '+', '10')).toEqual(pending);
    // 1-0 acknowledged by b, which had seen its delivery; 2-0 delivered on both sides: one delivery wins; 3-0 to bob.
    expect((pending as unknown[][]).map((p) => p[0])).toEqual(['2-0', '3-0']);
    expect((pending as unknown[][])[1]![1]).toBe('bob');
    const groups = a.client.call('XINFO', 'GROUPS', 's');
    expect(b.client.call('XINFO', 'GROUPS', 's')).toEqual(groups);
    expect((groups as unknown[][]).map((g) => [g[1], g[7]])).toEqual([['g', '3-0'], ['g2', '3-0']]);
    expect((b.client.call('XINFO', 'CONSUMERS', 's', 'g') as unknown[]).length).toBe(2);
    converged(a, b);
  });

  it('XGROUP SETID moves a group back on every replica; XGROUP DESTROY removes what it saw', async () => {
    const { a, b, settle } = await twoSimNodes(17);
    a.client.call('XADD', 's', '1-0', 'f', 'v1');
    a.client.call('XGROUP', 'CREATE', 's', 'g', '$');
    a.client.call('XGROUP', 'CREATE', 's', 'gone', '$');
    await settle(2000);
    b.client.call('XGROUP', 'SETID', 's', 'g', '0');
    b.client.call('XGROUP', 'DESTROY', 's', 'gone');
    await settle(2000);
    expect(a.client.call('XINFO', 'GROUPS', 's')).toEqual(b.client.call('XINFO', 'GROUPS', 's'));
    expect((a.client.call('XINFO', 'GROUPS', 's') as unknown[][]).map((g) => [g[1], g[7]])).toEqual([['g', '0-0']]);
  });

  it('RESTORE stays a whole write and DUMP stays Redis-compatible after a merge', async () => {
    const { a, b, settle, heal } = await partitioned(18);
    a.client.call('XADD', 's', '1-0', 'f', 'a');
    b.client.call('XADD', 's', '2-0', 'f', 'b');
    b.client.call('XGROUP', 'CREATE', 's', 'g', '0');
    b.client.call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    await heal();
    const dump = a.client.call('DUMP', 's') as string;
    expect(a.client.call('RESTORE', 'copy', '0', dump)).toBe('OK');
    expect(a.client.call('XRANGE', 'copy', '-', '+')).toEqual(a.client.call('XRANGE', 's', '-', '+'));
    expect(a.client.call('XPENDING', 'copy', 'g')).toEqual(a.client.call('XPENDING', 's', 'g'));
    await settle(2000);
    b.client.call('XADD', 'copy', '3-0', 'f', 'c');
    await settle(2000);
    expect(ids(a, 'copy')).toEqual(['1-0', '2-0', '3-0']);
    // RESTORE REPLACE on a: a new version of the whole stream, which b adopts.
    a.client.call('RESTORE', 'copy', '0', dump, 'REPLACE');
    await settle(2000);
    expect(ids(b, 'copy')).toEqual(['1-0', '2-0']);
    expect(info(b, 'copy')).toEqual(info(a, 'copy'));
    converged(a, b);
  });

  it.each([19, 20, 21, 22, 23, 24, 25, 26])('random writes on both sides across partitions (seed %i): every acknowledged entry survives unless removed by a side that saw it', async (s0) => {
    const { a, b, settle, network } = await twoSimNodes(s0);
    let seed = s0;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const acked = new Set<string>();
    const removed = new Set<string>();
    a.client.call('XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM');
    await settle(1000);
    let cut: { heal(): void } | null = null;
    for (let step = 0; step < 300; step++) {
      const n = rand(2) === 0 ? a : b;
      const op = rand(10);
      if (op < 5) acked.add(n.client.call('XADD', 's', '*', 'f', String(step)) as string);
      else if (op === 5) {
        const seen = ids(n, 's');
        if (seen.length > 0) {
          const id = seen[rand(seen.length)]!;
          if (n.client.call('XDEL', 's', id) === 1) removed.add(id);
        }
      } else if (op === 6) {
        const before = ids(n, 's');
        n.client.call('XTRIM', 's', 'MAXLEN', String(5 + rand(20)));
        const after = new Set(ids(n, 's'));
        for (const id of before) if (!after.has(id)) removed.add(id);
      } else if (op === 7) n.client.call('XREADGROUP', 'GROUP', 'g', `c${rand(3)}`, 'COUNT', '2', 'STREAMS', 's', '>');
      else if (op === 8) {
        const pending = n.client.call('XPENDING', 's', 'g', '-', '+', '5') as unknown[][];
        if (pending.length > 0) n.client.call('XACK', 's', 'g', pending[rand(pending.length)]![0] as string);
      } else if (cut === null) cut = network.partition(['n1'], ['n2']);
      else (cut.heal(), (cut = null));
      await settle(rand(50));
    }
    cut?.heal();
    // Long enough for both sides to collect the removals too (a removal collected on one side only differs in digest).
    await settle(10_000);
    const onA = ids(a, 's');
    expect(ids(b, 's')).toEqual(onA);
    expect(new Set(onA)).toEqual(new Set([...acked].filter((id) => !removed.has(id))));
    expect(b.client.call('XPENDING', 's', 'g', '-', '+', '1000')).toEqual(a.client.call('XPENDING', 's', 'g', '-', '+', '1000'));
    expect(info(b, 's')).toEqual(info(a, 's'));
    expect(info(a, 's')['entries-added']).toBe(acked.size);
    converged(a, b);
    expect(removed.size).toBeGreaterThan(0);
  });
});
