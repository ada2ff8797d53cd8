import { describe, expect, it } from 'vitest';
import { DeltaLog } from '../../src/replication/delta-log.js';
import { twoSimNodes } from '../helpers/sim.js';

/**
 * EXEC's writes replicate as one unit: a peer applies them in one step, so
 * between any two steps it never shows half of a transaction, even when the
 * transaction is larger than one deltas message would otherwise carry.
 */
describe('atomic units in the delta log', () => {
  it('joins the writes of a unit and nothing else', () => {
    const log = new DeltaLog(16);
    log.append(0, 'lone', 1, 'set');
    log.beginUnit();
    log.append(0, 'a', 1, 'set');
    log.append(0, 'b', 1, 'set');
    log.append(0, 'c', 1, 'set');
    log.endUnit();
    log.append(0, 'after', 1, 'set');
    expect([1, 2, 3, 4, 5].map((s) => log.joinsNext(s))).toEqual([false, true, true, false, false]);
    expect(log.unitEnd(2)).toBe(4);
    expect(log.unitEnd(1)).toBe(1);
    expect(() => log.endUnit()).toThrow();
  });
});

describe('EXEC replicates as one unit', () => {
  it('a peer never shows half of a transaction larger than a deltas message', async () => {
    const { a, b, settle } = await twoSimNodes(21);
    // 1500 keys per transaction: beyond the 1000 keys a deltas message normally carries.
    const keys = 1500;
    const seen: string[] = [];
    const server = b.server;
    const apply = server.runAsCommand.bind(server);
    server.runAsCommand = (fn: () => void): void => {
      apply(fn);
      seen.push(`${String(b.client.call('GET', 'k0'))}|${String(b.client.call('GET', `k${keys - 1}`))}`);
    };
    for (let i = 0; i < 3; i++) {
      expect(a.client.call('MULTI')).toBe('OK');
      for (let k = 0; k < keys; k++) a.client.call('SET', `k${k}`, `v${i}`);
      expect((a.client.call('EXEC') as unknown[]).length).toBe(keys);
      await settle(50);
    }
    await settle(3000);
    expect(b.client.call('GET', `k${keys - 1}`)).toBe('v2');
    const torn = seen.filter((s) => s.split('|')[0] !== s.split('|')[1]);
    expect(torn).toEqual([]);
  });
});
