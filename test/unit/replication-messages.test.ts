import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/replication/messages.js';
import { decodeStates } from '../../src/replication/wire.js';
import { twoSimNodes } from '../helpers/sim.js';

/**
 * Hostile or corrupt replication messages are refused, counted and
 * dropped: the validator never throws, and a node fed garbage on its bus
 * keeps its data and keeps replicating.
 */

const envelope = { id: 'x', from: '10.0.0.2:16379', hlc: 1 };

describe('replication message validation', () => {
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true }), (x) => {
        const r = parseMessage(x, 16);
        expect(typeof r === 'string' || typeof r === 'object').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses malformed deltas, and malformed states one by one', () => {
    const item = [0, 'k', 5, 0, 0, 'string', 'x', 0, 0, null];
    const good = { ...envelope, k: 'deltas', first: 1, last: 1, o: ['a'], s: item };
    expect(typeof parseMessage(good, 16)).toBe('object');
    for (const m of [{ ...good, k: 'nope' }, { ...good, hlc: -1 }, { ...good, first: 5, last: 1 }, { ...good, s: item.slice(1) }, { ...good, o: [7] }]) {
      expect(typeof parseMessage(m, 16)).toBe('string');
    }
    const badItems = [
      [16, 'k', 5, 0, 0, 'string', 'x', 0, 0, null],
      [0, 'k', 5, 3, 0, 'string', 'x', 0, 0, null],
      [0, 'k', 5, 0, 0, 'string', 7, 0, 0, null],
      [0, 'k', 5, 0, 0, 'list', 'x', 0, 0, [['a', 1, 0, 0, 0]]],
      [0, 'k', 5, 0, 0, 'string', 'x', 0, 0, [['a', -1, 0, 0, 0]]],
      [0, 'k', 5.5, 0, 0, 'string', 'x', 0, 0, null],
    ];
    const reasons: string[] = [];
    const decoded = decodeStates({ o: ['a'], s: [...item, ...badItems.flat(), ...item] }, 16, (why) => reasons.push(why));
    expect(decoded).toHaveLength(2);
    expect(reasons).toHaveLength(badItems.length);
  });

  it('a node fed garbage on its bus counts it and keeps replicating', async () => {
    const { a, b, cluster, settle } = await twoSimNodes(7);
    a.client.call('SET', 'k', 'v1');
    // The peer's link to b (n2) carries garbage and ill-typed states, as a hostile peer would send.
    const link = a.runtime.bus.connect({ host: cluster.hostOf('n2'), port: 16379 });
    await settle(200);
    const from = `${cluster.hostOf('n1')}:16379`;
    link.send({ garbage: true });
    link.send({ id: 'evil', from, hlc: 1, k: 'deltas', first: 1, last: 1, o: ['z'], s: [0, 'k', 9e15, 0, 0, 'list', 'not a payload', 0, 0, null] });
    link.send([1, 2, 3]);
    await settle(2000);
    expect(b.server.replication!.rejectedMessages).toBeGreaterThanOrEqual(3);
    expect(b.client.call('GET', 'k')).toBe('v1');
    a.client.call('SET', 'k', 'v2');
    await settle(2000);
    expect(b.client.call('GET', 'k')).toBe('v2');
  });
});
