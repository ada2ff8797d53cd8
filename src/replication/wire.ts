import type { CounterRow, KeyState } from '../crdt/key-state.js';
import type { KeyStateItem } from './messages.js';
import { ownInterned, ownString, ownStrings, ownTypeName } from '../store/own-string.js';
import { ITEM_SLOTS, MAX_ITEMS, stateShapeError } from './messages.js';
import { decodeBin, encodeBin, type BinStates } from './wire-bin.js';

export { ITEM_SLOTS };

/**
 * Key states on the wire: the states in bytes (wire-bin.ts) plus a table of
 * the origins (node ids) the message mentions, so a 40-character id is sent
 * once per message instead of once per key. Every value a peer keeps is a
 * string of its own, read from the bytes.
 *
 * Nodes and files from before the bytes sent one msgpack array of
 * ITEM_SLOTS values per key, `s`, still read here:
 *
 *   [db, key, ts, origin index, g, type, value, x or d, e, counters]
 *
 * A live key has type and value; a tombstone has null there and its delete
 * stamp d in the x slot. Keys and string values could travel as UTF-8 in one
 * blob `b` (every key, then every string value, in item order), their slots
 * holding byte lengths; keys are then slices of one string of the message's
 * keys, and the one key a merge stores is copied then (state-apply.ts).
 */

export interface WireStates extends Partial<BinStates> {
  /** Origins named by index in the states. */
  o: string[];
  /** Before the bytes: ITEM_SLOTS values per item. */
  s?: unknown[];
  /** With s: the keys, then the string values, whose slots in s hold byte lengths. */
  b?: Uint8Array;
  /** Deltas: the keyspace events of the writes, in order: [item index, event name] pairs. */
  ev?: unknown[];
}

const MAX_EVENT_NAME_CHARS = 64;

/** One write's event in a deltas message: which item (its index in the message) and the event name. */
export interface ItemEvent {
  item: number;
  name: string;
}

/** `events`: the writes' events already in wire form, flat [item index, event name] pairs (deltas only). */
export function encodeStates(items: readonly KeyStateItem[], events?: unknown[]): WireStates {
  const o: string[] = [];
  const index = new Map<string, number>();
  const originIndex = (origin: string): number => {
    let oi = index.get(origin);
    if (oi === undefined) {
      oi = o.length;
      o.push(origin);
      index.set(origin, oi);
    }
    return oi;
  };
  const bin = encodeBin(items, originIndex);
  return events === undefined ? { o, ...bin } : { o, ...bin, ev: events };
}

/**
 * The events of a deltas message, or null when it carries none or they are
 * malformed (then the receiver falls back to set/del: events are never trusted blindly).
 */
export function decodeEvents(w: WireStates): ItemEvent[] | null {
  const ev = w.ev;
  const items = w.bin !== undefined ? w.n! : w.s!.length / ITEM_SLOTS;
  if (!Array.isArray(ev) || ev.length % 2 !== 0 || ev.length > 2 * MAX_ITEMS) return null;
  const out: ItemEvent[] = [];
  for (let i = 0; i < ev.length; i += 2) {
    const item = ev[i];
    const name = ev[i + 1];
    if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item >= items) return null;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_EVENT_NAME_CHARS) return null;
    out.push({ item, name });
  }
  return out;
}

/**
 * The items of a shape-checked message; each malformed item is skipped and
 * reported. `indexes`, when given, receives each kept item's index in the
 * message. Every value is a string of its own (see the blob above).
 */
export function decodeStates(w: WireStates, dbCount: number, bad: (reason: string) => void, indexes?: number[]): KeyStateItem[] {
  const origins = w.o.map(ownInterned);
  if (w.bin !== undefined) return decodeBin(w as BinStates, origins, dbCount, bad, indexes);
  return decodeSlots(w.s!, w.b, origins, dbCount, bad, indexes);
}

/** decodeStates of the form before the bytes: ITEM_SLOTS values per item, strings in the slots or in blob b. */
function decodeSlots(s: unknown[], b: Uint8Array | undefined, origins: string[], dbCount: number, bad: (reason: string) => void, indexes?: number[]): KeyStateItem[] {
  const out: KeyStateItem[] = [];
  const blob = new BlobReader(b, s);
  for (let at = 0; at < s.length; at += ITEM_SLOTS) {
    const db = s[at];
    // Both blob reads come first: a skipped item's strings must still be stepped over.
    const key = blob.key(s[at + 1]);
    const v = blob.value(s[at + 6]);
    const origin = origins[s[at + 3] as number];
    if (typeof db !== 'number' || !Number.isInteger(db) || db < 0 || db >= dbCount || typeof key !== 'string' || origin === undefined || v === BAD) {
      bad('bad state item');
      continue;
    }
    const state = itemState(s, at, origins, v);
    const err = stateShapeError(state);
    if (err !== null) bad(`state of ${key}: ${err}`);
    else {
      out.push([db, key, state]);
      indexes?.push(at / ITEM_SLOTS);
    }
  }
  return out;
}

const BAD = Symbol('bad blob length');

/**
 * Reads a message's blob in item order: keys from the front, values after
 * the last key. A length that runs past its region makes every later read
 * BAD (the order is lost).
 */
class BlobReader {
  private readonly bytes: Buffer | null = null;
  /** The keys' region decoded at once, when it is all ASCII (then char and byte offsets agree). */
  private keysText: string | null = null;
  private keyAt = 0;
  private keysEnd = 0;
  private valueAt = 0;
  private broken = false;

  constructor(b: Uint8Array | undefined, s: unknown[]) {
    if (!(b instanceof Uint8Array)) return;
    this.bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    for (let at = 1; at < s.length; at += ITEM_SLOTS) if (typeof s[at] === 'number') this.keysEnd += s[at] as number;
    if (!(this.keysEnd <= this.bytes.length)) {
      this.broken = true;
      return;
    }
    this.valueAt = this.keysEnd;
    const text = this.bytes.utf8Slice(0, this.keysEnd);
    if (text.length === this.keysEnd) this.keysText = text;
  }

  /** A key slot's key: the next key of the blob (a string in the slot: that string). */
  key(slot: unknown): unknown {
    if (typeof slot !== 'number') return slot;
    const start = this.keyAt;
    if (!this.take(slot, this.keysEnd, start)) return BAD;
    this.keyAt += slot;
    return this.keysText !== null ? this.keysText.substring(start, start + slot) : this.bytes!.utf8Slice(start, start + slot);
  }

  /** A value slot's value: the next string value of the blob, a copy of a string in the slot, other values as they are. */
  value(slot: unknown): unknown {
    if (typeof slot === 'string') return ownString(slot);
    if (typeof slot !== 'number') return slot;
    const start = this.valueAt;
    if (!this.take(slot, this.bytes?.length ?? 0, start)) return BAD;
    this.valueAt += slot;
    return this.bytes!.utf8Slice(start, start + slot);
  }

  private take(length: number, end: number, start: number): boolean {
    if (this.broken || this.bytes === null || !Number.isInteger(length) || length < 0 || start + length > end) this.broken = true;
    return !this.broken;
  }
}

function itemState(s: unknown[], at: number, origins: readonly string[], v: unknown): KeyState {
  const origin = origins[s[at + 3] as number]!;
  const g = s[at + 4] as number;
  const state: KeyState = { ts: s[at + 2] as number, o: origin, g };
  if ((g & 1) === 1) {
    state.d = s[at + 7] as number;
    return state;
  }
  const t = s[at + 5];
  if (t === 'hll') {
    state.t = 'string';
    state.h = 1;
  } else {
    state.t = ownTypeName(t);
  }
  state.v = ownStrings(v) as string | Uint8Array;
  state.x = s[at + 7] as number;
  state.e = s[at + 8] as number;
  const c = s[at + 9];
  if (c !== null) state.c = Array.isArray(c) ? c.map((row) => ownRow(row, origins)) : (c as CounterRow[]);
  return state;
}

/** A counter row's strings as the node's own (rows are kept: meta.counters). Shape is checked later (stateShapeError). */
function ownRow(row: unknown, origins: readonly string[]): CounterRow {
  if (!Array.isArray(row)) return row as CounterRow;
  // An index into the message's origins; a string from nodes and files before that.
  if (typeof row[0] === 'number') row[0] = origins[row[0]] ?? row[0];
  else if (typeof row[0] === 'string') row[0] = ownInterned(row[0]);
  // The counts: a bigint beyond 2^53 travels as its decimal text.
  for (let i = 1; i < row.length; i++) if (typeof row[i] === 'string') row[i] = ownString(row[i] as string);
  return row as CounterRow;
}
