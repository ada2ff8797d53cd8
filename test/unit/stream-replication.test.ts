import { describe, expect, it } from 'vitest';
import { twoSimNodes } from '../helpers/sim.js';

/**
 * Streams replicate as whole values, last writer wins (docs/CRDT.md): every
 * stream write, group-state changes included, is a new version that peers
 * adopt, and concurrent writes converge to the same stream on both nodes.
 */
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

  it('concurrent writes on both sides converge to one stream', async () => {
    const { a, b, network, settle } = await twoSimNodes(12);
    a.client.call('XADD', 's', '1-0', 'f', 'base');
    await settle(1000);
    const cut = network.partition(['n1'], ['n2']);
    a.client.call('XADD', 's', '2-0', 'f', 'from-a');
    b.client.call('XADD', 's', '3-0', 'f', 'from-b');
    b.client.call('XDEL', 's', '1-0');
    cut.heal();
    await settle(5000);
    const onA = a.client.call('XRANGE', 's', '-', '+');
    expect(b.client.call('XRANGE', 's', '-', '+')).toEqual(onA);
    expect(b.client.call('XINFO', 'STREAM', 's')).toEqual(a.client.call('XINFO', 'STREAM', 's'));
  });
});
