/**
 * The CRDT state of one key, as replicas exchange and merge it.
 *
 * A key's state is a *version* plus what lives on that version:
 *
 *   version = (ts, o, g): the HLC timestamp and origin node of the write that
 *   created it, and a generation g counting delete/revive cycles on top of
 *   that write. Even g = live, odd g = deleted (a tombstone). Versions are
 *   totally ordered by (ts, o, g); the larger version wins outright
 *   (last writer wins for the SET family, type clashes included).
 *
 *   A DEL of version (ts, o, g) writes the tombstone (ts, o, g + 1): it sorts
 *   right above what it observed and below any write it did not observe
 *   (those carry a larger ts), so a delete is observed-remove.
 *
 *   On one live version, two more CRDTs merge instead of competing:
 *   - counters: a PN counter per origin (INCR family); the value is the
 *     version's base plus every origin's increments;
 *   - the expire register (x, e): an epoch bumped by each EXPIRE/PERSIST and
 *     the expire time; the larger epoch wins (it saw the other), and between
 *     equal epochs (concurrent) PERSIST beats EXPIRE and the longer TTL wins.
 *
 * Merge is a join: commutative, associative, idempotent (test/unit/crdt-key-state.test.ts).
 * States are plain data so msgpackr carries them as they are.
 */

/** One origin's increments on a version: p and n only grow (ints: number, or decimal text beyond 2^53), fp/fn the same for float increments. */
export type CounterRow = [origin: string, p: number | string, n: number | string, fp: number, fn: number];

/**
 * One element of a hash or set: [name, ts, origin, gen, value (hash fields;
 * the base when counters exist; null for set members and removed elements),
 * counters]. Merged element by element with the same rules as keys.
 */
export type ElementState = [name: string, ts: number, origin: string, g: number, value: string | null, counters: CounterRow[] | null];

export interface KeyState {
  /** Version: HLC timestamp (0 = the bottom version of a key never SET), origin, generation. */
  ts: number;
  o: string;
  g: number;
  /** Live only: the Redis type name. */
  t?: string;
  /**
   * Live only: the value. Strings: the text (the base when counters exist);
   * hashes and sets: their element states; other types: a DUMP payload
   * (whole-value last writer wins).
   */
  v?: string | Uint8Array | ElementState[];
  /** Live only: expire register: epoch and expire-at Unix ms (0 = no TTL). */
  x?: number;
  e?: number;
  /** Live only: counters on this version, sorted by origin. */
  c?: CounterRow[];
  /** Live strings only: 1 when the value is a HyperLogLog merged register-wise (PFADD/PFMERGE wrote it). */
  h?: number;
  /** Dead only: HLC of the delete (earliest one, when replicas deleted the same version independently); drives collection. */
  d?: number;
}

export function isDead(s: KeyState): boolean {
  return (s.g & 1) === 1;
}

/** Orders versions (ts, o, g). */
export function compareVersion(aTs: number, aO: string, aG: number, bTs: number, bO: string, bG: number): number {
  if (aTs !== bTs) return aTs < bTs ? -1 : 1;
  if (aO !== bO) return aO < bO ? -1 : 1;
  return aG === bG ? 0 : aG < bG ? -1 : 1;
}

/** Expire times ordered for "longer TTL wins, no TTL (PERSIST) wins over any TTL". */
function expireRank(e: number): number {
  return e === 0 ? Infinity : e;
}

/** Compares expire registers (x, e). */
export function compareExpire(aX: number, aE: number, bX: number, bE: number): number {
  if (aX !== bX) return aX < bX ? -1 : 1;
  const ra = expireRank(aE);
  const rb = expireRank(bE);
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

/** The join of two states of one key. */
export function mergeKeyState(a: KeyState, b: KeyState): KeyState {
  const order = compareVersion(a.ts, a.o, a.g, b.ts, b.o, b.g);
  if (order !== 0) return order > 0 ? a : b;
  if (isDead(a)) return (a.d ?? 0) <= (b.d ?? 0) ? a : b;
  // One tombstone revived as two types on two replicas: the type name decides, the same way everywhere.
  if (a.t !== b.t) return a.t! > b.t! ? a : b;
  const expireOrder = compareExpire(a.x ?? 0, a.e ?? 0, b.x ?? 0, b.e ?? 0);
  const expireFrom = expireOrder >= 0 ? a : b;
  const c = mergeCounters(a.c, b.c);
  if (expireFrom === a && c === a.c) return a;
  if (expireFrom === b && c === b.c) return b;
  const merged: KeyState = { ts: a.ts, o: a.o, g: a.g, t: a.t!, v: a.v!, x: expireFrom.x ?? 0, e: expireFrom.e ?? 0 };
  if (c !== undefined) merged.c = c;
  return merged;
}

/** Pointwise max of two counter sets; returns one of the inputs when it already is the result. */
export function mergeCounters(a: CounterRow[] | undefined, b: CounterRow[] | undefined): CounterRow[] | undefined {
  if (a === undefined || a.length === 0) return b === undefined || b.length === 0 ? a : b;
  if (b === undefined || b.length === 0) return a;
  const dominant = dominantRows(a, b);
  if (dominant !== null) return dominant;
  const out: CounterRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ra = a[i];
    const rb = b[j];
    if (rb === undefined || (ra !== undefined && ra[0] < rb[0])) {
      out.push(ra!);
      i++;
    } else if (ra === undefined || rb[0] < ra[0]) {
      out.push(rb);
      j++;
    } else {
      out.push(maxRow(ra, rb));
      i++;
      j++;
    }
  }
  if (sameRows(out, a)) return a;
  if (sameRows(out, b)) return b;
  return out;
}

/**
 * The common case without allocating: the same origins on both sides and
 * one side at or above the other in every row (a replica's newer state of a
 * counter only it or the same nodes increment). Null when neither dominates.
 */
function dominantRows(a: CounterRow[], b: CounterRow[]): CounterRow[] | null {
  if (a.length !== b.length) return null;
  let aAbove = true;
  let bAbove = true;
  for (let i = 0; i < a.length; i++) {
    const ra = a[i]!;
    const rb = b[i]!;
    if (ra[0] !== rb[0]) return null;
    aAbove &&= rowAtLeast(ra, rb);
    bAbove &&= rowAtLeast(rb, ra);
    if (!aAbove && !bAbove) return null;
  }
  return aAbove ? a : b;
}

/**
 * mergeCounters into rows a replica keeps (KeyMeta.counters,
 * ElementMeta.counters): where b has a's origins, a's rows take b's larger
 * counts in place. Adopting b's arrays instead gave a key under a replicated
 * INCR stream a new rows array and row per merge, young objects the
 * keyspace keeps, which each scavenge then copied and promoted. Returns the
 * rows to keep (a; b itself when a has none; a new array when b brings
 * origins a lacks), or null when b adds nothing. Rows kept this way change while their version lasts:
 * a state that outlives the current step copies them (copyRows).
 */
export function joinCountersInPlace(a: CounterRow[] | null, b: CounterRow[] | null | undefined): CounterRow[] | null {
  if (b === undefined || b === null || b.length === 0) return null;
  if (a === null || a.length === 0) return b;
  if (!sameOrigins(a, b)) {
    const merged = mergeCounters(a, b)!;
    return merged === a ? null : merged;
  }
  let changed = false;
  for (let i = 0; i < a.length; i++) changed = raiseRow(a[i]!, b[i]!) || changed;
  return changed ? a : null;
}

/** Rows' own copies: a state that outlives the current step must not see its rows raised in place. */
export function copyRows(rows: readonly CounterRow[]): CounterRow[] {
  return rows.map((r): CounterRow => [r[0], r[1], r[2], r[3], r[4]]);
}

function sameOrigins(a: readonly CounterRow[], b: readonly CounterRow[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0]) return false;
  return true;
}

/** Raises a's counts to b's where b's are larger (one origin's row); returns whether any changed. */
function raiseRow(a: CounterRow, b: CounterRow): boolean {
  if (rowAtLeast(a, b)) return false;
  a[1] = maxInt(a[1], b[1]);
  a[2] = maxInt(a[2], b[2]);
  a[3] = Math.max(a[3], b[3]);
  a[4] = Math.max(a[4], b[4]);
  return true;
}

function rowAtLeast(x: CounterRow, y: CounterRow): boolean {
  return maxInt(x[1], y[1]) === x[1] && maxInt(x[2], y[2]) === x[2] && x[3] >= y[3] && x[4] >= y[4];
}

function maxRow(a: CounterRow, b: CounterRow): CounterRow {
  const p = maxInt(a[1], b[1]);
  const n = maxInt(a[2], b[2]);
  const fp = Math.max(a[3], b[3]);
  const fn = Math.max(a[4], b[4]);
  if (p === a[1] && n === a[2] && fp === a[3] && fn === a[4]) return a;
  if (p === b[1] && n === b[2] && fp === b[3] && fn === b[4]) return b;
  return [a[0], p, n, fp, fn];
}

function sameRows(x: CounterRow[], y: CounterRow[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A counter integer as a bigint (the wire carries numbers, or decimal text beyond 2^53). */
export function counterInt(v: number | string): bigint {
  return BigInt(v);
}

/** The wire form of a counter integer: a number while exact, else decimal text. */
export function counterIntWire(v: bigint): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v.toString();
}

function maxInt(a: number | string, b: number | string): number | string {
  if (typeof a === 'number' && typeof b === 'number') return a >= b ? a : b;
  return counterInt(a) >= counterInt(b) ? a : b;
}
