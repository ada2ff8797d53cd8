import { describe, expect, it } from 'vitest';
import { twoSimNodes } from '../helpers/sim.js';

function fields(info: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

/** INFO replication says how far removals may be collected and what holds them back. */
describe('INFO replication durability and tombstone horizon', () => {
  it('reports each peer\'s durability point and who holds the tombstone horizon', async () => {
    const { a, b, settle } = await twoSimNodes(5);
    a.client.call('SET', 'k', 'v');
    a.client.call('DEL', 'k');
    await settle(15_000);
    const info = fields(a.client.call('INFO', 'replication') as string);
    // Without persistence a node keeps nothing on disk: its point is "everything" (-1).
    expect(info.get('durable_ms')).toBe('-1');
    const peer = info.get('peer0')!;
    expect(peer).toContain('durable_ms=-1');
    const aeDurable = Number(/ae_durable_ms=(\d+)/.exec(peer)![1]);
    expect(aeDurable).toBeGreaterThan(0);
    // The horizon is the peer's last complete round: the peer holds it.
    expect(info.get('tombstone_horizon_held_by')).toBe(peer.split(',')[0]!.slice('addr='.length));
    expect(Number(info.get('tombstone_horizon_ms'))).toBe(aeDurable);
    expect(b.client.call('EXISTS', 'k')).toBe(0);
  });
});
