import { describe, expect, it } from 'vitest';
import { PeerSync } from '../../src/replication/peer-sync.js';

describe('PeerSync', () => {
  it('waits while peers bring data, and gives up timeoutMs after the last of it', () => {
    const sync = new PeerSync();
    sync.start(1000, 500);
    expect(sync.active).toBe(true);
    expect(sync.givesUp(1499, 2)).toBe(false);
    sync.progressed(1400);
    expect(sync.givesUp(1600, 2)).toBe(false);
    expect(sync.givesUp(1899, 2)).toBe(false);
    expect(sync.givesUp(1900, 2)).toBe(true);
  });

  it('gives up at once without peers, never once inactive, and a timeout of 0 never waits', () => {
    const sync = new PeerSync();
    sync.start(0, 500);
    expect(sync.givesUp(1, 0)).toBe(true);
    sync.finish();
    expect(sync.givesUp(10_000, 2)).toBe(false);
    sync.start(0, 0);
    expect(sync.active).toBe(false);
    expect(() => sync.start(0, -1)).toThrow();
  });
});
