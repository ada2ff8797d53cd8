/**
 * A growable ring buffer: O(1) at both ends (LPUSH/RPOP queues), O(n) in
 * the middle (as LINSERT/LREM are in Redis).
 */
export class Deque<T> {
  private items: (T | undefined)[] = new Array(8);
  private head = 0;
  size = 0;

  get(i: number): T {
    if (i < 0 || i >= this.size) throw new Error(`deque index ${i} out of range`);
    return this.items[(this.head + i) & (this.items.length - 1)]!;
  }

  pushFront(v: T): void {
    this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = v;
    this.size++;
  }

  pushBack(v: T): void {
    this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = v;
    this.size++;
  }

  popFront(): T {
    const v = this.get(0);
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return v;
  }

  popBack(): T {
    const v = this.get(this.size - 1);
    this.items[(this.head + this.size - 1) & (this.items.length - 1)] = undefined;
    this.size--;
    return v;
  }

  /** Inserts at index (0..size), shifting the rest towards the back. */
  insert(index: number, v: T): void {
    if (index === 0) return this.pushFront(v);
    if (index === this.size) return this.pushBack(v);
    const all = this.toArray();
    all.splice(index, 0, v);
    this.reset(all);
  }

  /** Removes count items from index. */
  remove(index: number, count = 1): T[] {
    if (index === 0 && count <= this.size) {
      const out: T[] = [];
      for (let i = 0; i < count; i++) out.push(this.popFront());
      return out;
    }
    if (index + count === this.size) {
      const out: T[] = new Array(count);
      for (let i = count - 1; i >= 0; i--) out[i] = this.popBack();
      return out;
    }
    const all = this.toArray();
    const out = all.splice(index, count);
    this.reset(all);
    return out;
  }

  toArray(): T[] {
    const out: T[] = new Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.get(i);
    return out;
  }

  reset(values: T[]): void {
    let cap = 8;
    while (cap < values.length + 1) cap *= 2;
    this.items = new Array(cap);
    for (let i = 0; i < values.length; i++) this.items[i] = values[i];
    this.head = 0;
    this.size = values.length;
  }

  private grow(): void {
    if (this.size + 1 < this.items.length) return;
    this.reset(this.toArray());
  }
}
