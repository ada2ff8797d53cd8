import { describe, expect, it } from 'vitest';
import type { KeyState } from '../../src/crdt/key-state.js';
import { DeltaLog } from '../../src/replication/delta-log.js';
import { BATCH_KEYS, Outbox, type StateSource } from '../../src/replication/outbox.js';
import { decodeEvents, decodeStates } from '../../src/replication/wire.js';

/** A keyspace of holders: strings (readable now) or lists (read at sending time). */
class FakeKeys implements StateSource {
  readonly holders = new Map<string, { type: string; value: string; ts: number; hash: number }>();
  peers = true;
  private ts = 1;

  write(log: DeltaLog, key: string, value: string, type = 'string'): void {
    const h = this.holders.get(key);
    if (h !== undefined && h.type === type) {
      h.value = value;
      h.ts = this.ts++;
    } else this.holders.set(key, { type, value, ts: this.ts++, hash: this.holders.size % 3 });
    log.append(0, key, 0, type === 'string' ? 'set' : 'rpush');
  }

  /** RENAME: the same holder object moves to `to`; `from` keeps a deleted marker. */
  rename(log: DeltaLog, from: string, to: string): void {
    const h = this.holders.get(from)!;
    this.holders.set(from, { type: 'string', value: '(deleted)', ts: this.ts++, hash: h.hash });
    h.ts = this.ts++;
    h.hash++; // an entry's dict hash changes with its key
    this.holders.set(to, h);
    log.append(0, from, 0, 'rename_from');
    log.append(0, to, 0, 'rename_to');
  }

  sending(): boolean {
    return this.peers;
  }
  holder(_db: number, key: string): object | undefined {
    return this.holders.get(key);
  }
  holderHash(h: object): number {
    // Most holders collide: the index must tell them apart by identity.
    return (h as { hash: number }).hash;
  }
  readableNow(h: object): boolean {
    return (h as { type: string }).type === 'string';
  }
  state(h: object): KeyState {
    const { value, ts } = h as { value: string; ts: number };
    return { ts, o: 'n1', g: 0, t: 'string', v: value, x: 0, e: 0 };
  }
}

function setup(): { log: DeltaLog; keys: FakeKeys; outbox: Outbox } {
  const log = new DeltaLog(100_000);
  const keys = new FakeKeys();
  return { log, keys, outbox: new Outbox(log, keys) };
}

/** A batch's content: [key, value] per item and [key, event] per write. */
function content(wire: Parameters<typeof decodeStates>[0]): { items: [string, unknown][]; events: [string, string][] } {
  const items = decodeStates(wire, 16, (why) => {
    throw new Error(why);
  });
  const events = decodeEvents(wire) ?? [];
  return { items: items.map(([, k, s]) => [k, s.v]), events: events.map((e) => [items[e.item]![1], e.name]) };
}

describe('Outbox', () => {
  it('captures rounds of string writes into one batch, each key once with its state at the end of its last round', () => {
    const { log, keys, outbox } = setup();
    keys.write(log, 'a', '1');
    keys.write(log, 'b', '1');
    keys.write(log, 'a', '2');
    outbox.captureRound();
    keys.write(log, 'c', '1');
    keys.write(log, 'a', '3');
    outbox.captureRound();
    // Written after the last capture: not in the batch until captured.
    keys.write(log, 'b', '9');
    outbox.seal();
    const batch = outbox.take(1)!;
    expect([batch.first, batch.last]).toEqual([1, 5]);
    expect(content(batch.wire)).toEqual({
      items: [['a', '3'], ['b', '1'], ['c', '1']],
      events: [['a', 'set'], ['b', 'set'], ['a', 'set'], ['c', 'set'], ['a', 'set']],
    });
    outbox.captureRound();
    outbox.seal();
    const next = outbox.take(6)!;
    expect([next.first, next.last]).toEqual([6, 6]);
    expect(content(next.wire).items).toEqual([['b', '9']]);
  });

  it('gives a holder that moved to another key (RENAME, MOVE) a new item, and leaves the old key its own states', () => {
    const { log, keys, outbox } = setup();
    keys.write(log, 'a', '1');
    outbox.captureRound();
    keys.rename(log, 'a', 'b');
    outbox.captureRound();
    keys.write(log, 'b', '2');
    outbox.captureRound();
    outbox.seal();
    expect(content(outbox.take(1)!.wire)).toEqual({
      items: [['a', '1'], ['a', '(deleted)'], ['b', '2']],
      events: [['a', 'set'], ['a', 'rename_from'], ['b', 'rename_to'], ['b', 'set']],
    });
  });

  it('leaves a round with a collection write to be read at sending time, sealing what came before', () => {
    const { log, keys, outbox } = setup();
    keys.write(log, 'a', '1');
    outbox.captureRound();
    keys.write(log, 'l', 'x', 'list');
    keys.write(log, 'a', '2');
    outbox.captureRound();
    keys.write(log, 'b', '1');
    outbox.captureRound();
    outbox.seal();
    expect(content(outbox.take(1)!.wire).items).toEqual([['a', '1']]);
    expect(outbox.take(2)).toBeNull();
    // A batch read from seq 2 must stop before the next captured one.
    expect(outbox.nextFirstAfter(1)).toBe(4);
    expect(content(outbox.take(4)!.wire).items).toEqual([['b', '1']]);
  });

  it('does not capture inside an open atomic unit, and captures the unit whole once it ends', () => {
    const { log, keys, outbox } = setup();
    log.beginUnit();
    keys.write(log, 'a', '1');
    outbox.captureRound();
    keys.write(log, 'b', '1');
    log.endUnit();
    outbox.captureRound();
    outbox.seal();
    const batch = outbox.take(1)!;
    expect([batch.first, batch.last]).toEqual([1, 2]);
  });

  it('keeps batches within BATCH_KEYS writes, and leaves a bigger round to be read at sending time', () => {
    const { log, keys, outbox } = setup();
    const round = (n: number, prefix: string): void => {
      for (let i = 0; i < n; i++) keys.write(log, `${prefix}${i}`, 'v');
      outbox.captureRound();
    };
    round(BATCH_KEYS - 10, 'a');
    round(20, 'b'); // would pass the bound: the first batch is sealed before it
    round(BATCH_KEYS + 1, 'c'); // too big to capture
    outbox.seal();
    const first = outbox.take(1)!;
    expect(first.last).toBe(BATCH_KEYS - 10);
    const second = outbox.take(BATCH_KEYS - 9)!;
    expect(second.last).toBe(BATCH_KEYS + 10);
    expect(outbox.take(BATCH_KEYS + 11)).toBeNull();
    expect(outbox.nextFirstAfter(BATCH_KEYS + 11)).toBe(Infinity);
  });

  it('captures nothing while no peer takes deltas, and drops batches every peer was sent', () => {
    const { log, keys, outbox } = setup();
    keys.peers = false;
    keys.write(log, 'a', '1');
    outbox.captureRound();
    outbox.seal();
    expect(outbox.take(1)).toBeNull();
    keys.peers = true;
    keys.write(log, 'b', '1');
    outbox.captureRound();
    outbox.seal();
    keys.write(log, 'c', '1');
    outbox.captureRound();
    outbox.seal();
    expect(outbox.take(2)).not.toBeNull();
    outbox.trim(2);
    expect(outbox.take(2)).toBeNull();
    expect(outbox.take(3)).not.toBeNull();
    outbox.clear();
    expect(outbox.take(3)).toBeNull();
  });
});
