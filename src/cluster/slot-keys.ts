import { keyHashSlot, SLOT_COUNT } from './slots.js';

/**
 * Keys of database 0 by hash slot, kept as keys come and go (Redis's
 * slots_to_keys): CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT, the routing
 * check of a migrating slot and slot purges must not scan the keyspace.
 */
export class SlotKeys {
  private readonly bySlot: (Set<string> | undefined)[] = new Array(SLOT_COUNT);

  added(key: string): void {
    const slot = keyHashSlot(key);
    let set = this.bySlot[slot];
    if (set === undefined) this.bySlot[slot] = set = new Set();
    set.add(key);
  }

  removed(key: string): void {
    const slot = keyHashSlot(key);
    const set = this.bySlot[slot];
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.bySlot[slot] = undefined;
  }

  cleared(): void {
    this.bySlot.fill(undefined);
  }

  count(slot: number): number {
    return this.bySlot[slot]?.size ?? 0;
  }

  /** Up to `max` keys of the slot, in insertion order. */
  keys(slot: number, max: number): string[] {
    const out: string[] = [];
    const set = this.bySlot[slot];
    if (set === undefined) return out;
    for (const k of set) {
      if (out.length >= max) break;
      out.push(k);
    }
    return out;
  }
}
