import type { CounterRow, KeyState } from '../crdt/key-state.js';

/**
 * The replication protocol between peers (carried by the Bus, msgpack
 * encoded). Every message names its sender (`id`: the sender's run id,
 * which changes when it restarts with an empty memory; `from`: its bus
 * address as configured in --peers) and its HLC, so receivers advance
 * their clocks.
 *
 *   hb      heartbeat: the sender's last sequence number, how far it has sent
 *           its deltas to the receiver, and what it has applied of the
 *           receiver's deltas (the ack)
 *   nack    "resend your deltas from seq `resendFrom`": the receiver saw a hole
 *   deltas  states of keys the sender wrote, covering its seqs [first, last]
 *   gap     seqs up to `last` are gone from the sender's log: anti-entropy repairs
 *   ae1..4, aedone   one anti-entropy round (anti-entropy.ts)
 *   states  states shipped on request during anti-entropy
 *   pub     a PUBLISH/SPUBLISH on the sender, for the receiver's subscribers
 */

/** [db index, key, state] */
export type KeyStateItem = [number, string, KeyState];

interface Envelope {
  id: string;
  from: string;
  hlc: number;
}

export interface Heartbeat extends Envelope {
  k: 'hb';
  /** The sender's newest own seq. */
  seq: number;
  /** The receiver's seqs the sender has applied, contiguously (0: none, or the receiver's id is unknown to it). */
  ack: number;
  /** The receiver's run id that `ack` refers to. */
  ackId: string;
  /** The sender's deltas up to this seq were sent to the receiver before this heartbeat. */
  sent: number;
  /**
   * The sender's durability point (its HLC; Infinity when it persists
   * nothing): what it would still hold after a crash. Absent from older nodes.
   */
  dur?: number;
}

export interface Nack extends Envelope {
  k: 'nack';
  resendFrom: number;
}

/** Key states in the wire form of wire.ts: the origins table and the items' bytes (or, before them, flat slots). */
interface WireStateFields {
  o: string[];
  /** Items in bin, their bytes, and the collection values they name (wire-bin.ts). */
  n?: number;
  bin?: Uint8Array;
  cx?: unknown[];
  /** Before the bytes: ITEM_SLOTS values per item, and the keys and string values whose slots hold byte lengths. */
  s?: unknown[];
  b?: Uint8Array;
  /** Deltas: the writes' keyspace events in order, as pairs [item index, event name] (checked on decode). */
  ev?: unknown[];
}

export interface Deltas extends Envelope, WireStateFields {
  k: 'deltas';
  first: number;
  last: number;
}

/** A PUBLISH (sh: SPUBLISH) made on the sender: delivered to the receiver's subscribers, never forwarded. */
export interface Publish extends Envelope {
  k: 'pub';
  ch: string;
  msg: string;
  sh: boolean;
}

export interface Gap extends Envelope {
  k: 'gap';
  last: number;
}

export interface AeGroups extends Envelope {
  k: 'ae1';
  round: number;
  /** [db, group hashes] for every database. */
  g: [number, number[]][];
}

export interface AeLeaves extends Envelope {
  k: 'ae2';
  round: number;
  /** [db, group, leaf hashes] for every group that differs. Empty: in sync. */
  l: [number, number, number[]][];
}

export interface AeKeys extends Envelope {
  k: 'ae3';
  round: number;
  /** The differing leaves [db, leaf] and the initiator's [key, digest] in each. */
  leaves: [number, number][];
  keys: [number, string, number][];
  /** False when the initiator left differing leaves out (budget): the round does not count as complete. */
  complete: boolean;
}

export interface AeDiff extends Envelope, WireStateFields {
  k: 'ae4';
  round: number;
  /** (o, s): states the initiator lacks or differs on. */
  /** Keys whose state the responder wants. */
  want: [number, string][];
  complete: boolean;
}

export interface States extends Envelope, WireStateFields {
  k: 'states';
  round: number;
  complete: boolean;
}

export interface AeDone extends Envelope {
  k: 'aedone';
  round: number;
  complete: boolean;
}

export type ReplMessage = Heartbeat | Nack | Deltas | Publish | Gap | AeGroups | AeLeaves | AeKeys | AeDiff | States | AeDone;

/** Bounds on what a peer may send (anything beyond is hostile or corrupt). */
export const MAX_ITEMS = 100_000;
const MAX_KEY_LENGTH = 512 * 1024 * 1024;

/**
 * Validates a decoded message from the bus; returns it typed, or a reason.
 * Nothing here trusts the peer: every field is checked before use.
 */
export function parseMessage(m: unknown, dbCount: number): ReplMessage | string {
  if (typeof m !== 'object' || m === null) return 'not an object';
  const o = m as Record<string, unknown>;
  if (typeof o.id !== 'string' || typeof o.from !== 'string' || !isUint(o.hlc)) return 'bad envelope';
  const check = CHECKS[o.k as string];
  if (check === undefined) return `unknown kind ${String(o.k)}`;
  const err = check(o, dbCount);
  return err === null ? (o as unknown as ReplMessage) : `${String(o.k)}: ${err}`;
}

type Check = (o: Record<string, unknown>, dbCount: number) => string | null;

const CHECKS: Record<string, Check> = {
  pub: (o) => (typeof o.ch === 'string' && typeof o.msg === 'string' && typeof o.sh === 'boolean' ? null : 'bad publish'),
  hb: (o) =>
    isUint(o.seq) && isUint(o.ack) && isUint(o.sent) && typeof o.ackId === 'string' && (o.dur === undefined || typeof o.dur === 'number')
      ? null
      : 'bad fields',
  nack: (o) => (isUint(o.resendFrom) && (o.resendFrom as number) >= 1 ? null : 'bad resendFrom'),
  deltas: (o) => (isUint(o.first) && isUint(o.last) && (o.first as number) <= (o.last as number) + 1 ? wireError(o) : 'bad range'),
  gap: (o) => (isUint(o.last) ? null : 'bad last'),
  ae1: (o, n) => (isUint(o.round) && listOf(o.g, (x) => isTuple(x, 2) && isDb(x[0], n) && numbers(x[1])) ? null : 'bad groups'),
  ae2: (o, n) => (isUint(o.round) && listOf(o.l, (x) => isTuple(x, 3) && isDb(x[0], n) && isUint(x[1]) && numbers(x[2])) ? null : 'bad leaves'),
  ae3: (o, n) =>
    isUint(o.round) &&
    typeof o.complete === 'boolean' &&
    listOf(o.leaves, (x) => isTuple(x, 2) && isDb(x[0], n) && isUint(x[1])) &&
    listOf(o.keys, (x) => isTuple(x, 3) && isDb(x[0], n) && isKey(x[1]) && Number.isInteger(x[2]))
      ? null
      : 'bad keys',
  ae4: (o, n) =>
    isUint(o.round) && typeof o.complete === 'boolean' && listOf(o.want, (x) => isTuple(x, 2) && isDb(x[0], n) && isKey(x[1])) ? wireError(o) : 'bad want',
  states: (o) => (isUint(o.round) && typeof o.complete === 'boolean' ? wireError(o) : 'bad round'),
  aedone: (o) => (isUint(o.round) && typeof o.complete === 'boolean' ? null : 'bad round'),
};

/** Most origins one message may name. */
const MAX_ORIGINS = 4096;
/** Values per state item on the wire (the layout is in wire.ts). */
export const ITEM_SLOTS = 10;

/** The wire form's outer shape, (o, n, bin, cx) or before it (o, s, b); items are checked one by one when decoded (wire.ts). */
export function wireError(m: Record<string, unknown>): string | null {
  const { o, s } = m;
  if (!Array.isArray(o) || o.length > MAX_ORIGINS || !o.every((x) => typeof x === 'string')) return 'bad origins';
  if (m.bin !== undefined) {
    if (!(m.bin instanceof Uint8Array) || !isUint(m.n) || (m.n as number) > MAX_ITEMS) return 'bad state bytes';
    return m.cx === undefined || (Array.isArray(m.cx) && m.cx.length <= MAX_ITEMS) ? null : 'bad state values';
  }
  if (!Array.isArray(s) || s.length % ITEM_SLOTS !== 0 || s.length > MAX_ITEMS * ITEM_SLOTS) return 'bad state list';
  if (m.b !== undefined && !(m.b instanceof Uint8Array)) return 'bad blob';
  return null;
}

/**
 * Checks the shape of one KeyState (types, ranges); the value's content is
 * checked when applied. Checked per item, so one bad state costs only itself.
 */
export function stateShapeError(x: unknown): string | null {
  if (typeof x !== 'object' || x === null) return 'state not an object';
  const s = x as Record<string, unknown>;
  if (!isUint(s.ts) || typeof s.o !== 'string' || !isUint(s.g)) return 'bad version';
  if (((s.g as number) & 1) === 1) return s.d === undefined || isUint(s.d) ? null : 'bad delete stamp';
  if (typeof s.t !== 'string') return 'bad type';
  const container = s.t === 'hash' || s.t === 'set' || s.t === 'zset' || s.t === 'list' || s.t === 'stream';
  if (container ? !Array.isArray(s.v) : typeof s.v !== 'string' && !(s.v instanceof Uint8Array)) return 'bad value';
  if (!isUint(s.x ?? 0) || !isUint(s.e ?? 0)) return 'bad expire';
  if (s.c !== undefined && (s.t !== 'string' || !listOf(s.c, isCounterRow))) return 'bad counters';
  return null;
}

export function isCounterRow(x: unknown): boolean {
  if (!isTuple(x, 5) || typeof x[0] !== 'string') return false;
  const r = x as unknown as CounterRow;
  return isCount(r[1]) && isCount(r[2]) && isNonNegative(r[3]) && isNonNegative(r[4]);
}

function isCount(x: unknown): boolean {
  return isUint(x) || (typeof x === 'string' && /^[0-9]{1,40}$/.test(x));
}

function isNonNegative(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

export function isUint(x: unknown): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isDb(x: unknown, dbCount: number): boolean {
  return isUint(x) && (x as number) < dbCount;
}

function isKey(x: unknown): boolean {
  return typeof x === 'string' && x.length <= MAX_KEY_LENGTH;
}

function isTuple(x: unknown, n: number): x is unknown[] {
  return Array.isArray(x) && x.length === n;
}

function numbers(x: unknown): boolean {
  return Array.isArray(x) && x.length <= 4096 && x.every((v) => Number.isInteger(v));
}

function listOf(x: unknown, item: (v: unknown) => boolean): boolean {
  return Array.isArray(x) && x.length <= MAX_ITEMS && x.every(item);
}
