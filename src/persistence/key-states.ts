import { isDead, type KeyState } from '../crdt/key-state.js';
import { wireError, type KeyStateItem } from '../replication/messages.js';
import type { KeyCrdt } from '../replication/key-crdt.js';
import { applyState, invalidState, liveState, stateOf } from '../replication/state-apply.js';
import { decodeStates, encodeStates, type WireStates } from '../replication/wire.js';
import type { Database } from '../store/database.js';
import { createDumpPayload, loadDumpPayload, verifyDumpPayload } from '../store/dump.js';
import type { Bytes, Entry, TypeName } from '../store/entry.js';
import type { Keyspace } from '../store/keyspace.js';
import { ownString, ownTypeName } from '../store/own-string.js';
import { encodeRecord, PersistenceError, PlainRecordWriter } from './record.js';

/**
 * Key states as records. A record holds the current state of up to
 * KEYS_PER_RECORD keys, so replaying records in file order leaves every key
 * in its last recorded state. Payload shapes:
 *
 *   { p: [db, key, type | null, value, expireAt, ...] }  stand-alone: type null = deleted;
 *                                                         strings as they are, other types as DUMP payloads
 *   { r: db }                                            stand-alone: the database was emptied (FLUSHDB, SWAPDB)
 *   { w: WireStates }                                    replicated: CRDT KeyStates in the bus's wire form,
 *                                                         merged on load (a join: order does not even matter)
 */

const KEYS_PER_RECORD = 1000;
/** Strings up to this size are recorded at their write (RecordBuilder.addNow). */
const NOW_MAX_BYTES = 4096;
const PLAIN_SLOTS = 5;

/** Collects key states and cuts them into records. */
export class RecordBuilder {
  private readonly plain = new PlainRecordWriter();
  private items: KeyStateItem[] = [];
  readonly out: Buffer[] = [];
  keys = 0;

  /** crdt: the node's replication state, null stand-alone. */
  constructor(readonly crdt: KeyCrdt | null) {}

  add(db: Database, key: string): void {
    if (this.crdt === null) this.addPlain(db, key, db.entryAt(key));
    else this.addState(db, key, stateOf(this.crdt, db, key));
  }

  /**
   * Stand-alone: records key at once, at its write, when it holds a string
   * of up to NOW_MAX_BYTES or nothing; false (nothing recorded) otherwise.
   * The command that wrote it just looked it up (Database.entryAt finds it
   * without a dict lookup), where a record built at commit time looked it up
   * again and had to be listed once per commit first: at P=1 that listing
   * and lookup were a third of what appendonly cost a SET. A key written
   * twice in a batch gets two records, the later one wins on load; a
   * collection, or a string large enough that repeated records would cost
   * more than the listing, waits for the commit (recorded once).
   */
  addNow(db: Database, key: string): boolean {
    if (this.crdt !== null) return false;
    const e = db.entryAt(key);
    if (e !== undefined && (e.type !== 'string' || (e.value as Bytes).length > NOW_MAX_BYTES)) return false;
    this.addPlain(db, key, e);
    return true;
  }

  /** A live entry the caller already holds (a keyspace scan): no second lookup of its key. */
  addEntry(db: Database, e: Entry): void {
    if (this.crdt === null) this.addPlain(db, e.key, e);
    else this.addState(db, e.key, e.crdt !== null ? liveState(this.crdt, e, e.crdt) : stateOf(this.crdt, db, e.key));
  }

  private addState(db: Database, key: string, s: KeyState | null): void {
    this.keys++;
    if (s !== null) this.items.push([db.id, key, s]);
    if (this.items.length >= KEYS_PER_RECORD) this.cut();
  }

  private addPlain(db: Database, key: string, e: Entry | undefined): void {
    this.keys++;
    if (e === undefined) this.plain.key(db.id, key, null, null, 0);
    else this.plain.key(db.id, key, e.type, e.type === 'string' ? e.value : dumpOf(e.type, e.value), e.expireAt);
    // A full record leaves the writer's buffer, which stays one record big (a SAVE builds every record at once).
    if (this.plain.slots >= KEYS_PER_RECORD * PLAIN_SLOTS) this.cut();
  }

  /** Stand-alone: db was emptied before the keys that follow (replicated nodes record tombstones instead). */
  reset(db: Database): void {
    if (this.crdt !== null) return;
    this.plain.raw(encodeRecord({ r: db.id }));
  }

  /** Every key state db holds: live keys, and with replication emptied collections and tombstones. */
  addDatabase(db: Database): void {
    this.reset(db);
    for (const key of databaseKeys(this.crdt, db)) this.add(db, key);
  }

  /**
   * Ends the current record; returns and forgets every record built so far,
   * in one buffer (null: none). The buffer may be a view of the builder's
   * own (PlainRecordWriter.takeView): use it before the next add.
   */
  take(): Buffer | null {
    if (this.out.length === 0 && this.items.length === 0) return this.plain.takeView();
    this.cut();
    const out = this.out;
    if (out.length === 0) return null;
    const all = out.length === 1 ? out[0]! : Buffer.concat(out);
    out.length = 0;
    return all;
  }

  private cut(): void {
    const plain = this.plain.take();
    if (plain !== null) this.out.push(plain);
    if (this.items.length > 0) this.out.push(encodeRecord({ w: encodeStates(this.items.splice(0)) }));
  }
}

function dumpOf(type: TypeName, value: unknown): Buffer {
  const payload = createDumpPayload(type, value, false);
  if (payload === null) throw new Error(`no codec for type ${type}`);
  return payload;
}

/** Keys of db that have a state: live ones, then (replicated) hidden collections and tombstones. */
export function* databaseKeys(crdt: KeyCrdt | null, db: Database): Generator<string> {
  for (const e of db.entries()) yield e.key;
  if (crdt === null) return;
  yield* crdt.hidden[db.id]!.keys();
  yield* crdt.tombstones[db.id]!.keys();
}

/** What loading counted (INFO rdb_last_load_keys_*). */
export interface LoadCounts {
  loaded: number;
  expired: number;
  /** The file was written by a node of the other kind (stand-alone vs replicated): rewrite it. */
  foreign: boolean;
  /** Highest HLC timestamp loaded: the node's clock must move past it. */
  maxTs: number;
}

/** Applies one record's payload to the keyspace; throws PersistenceError on content it cannot use. */
export function applyRecord(keyspace: Keyspace, crdt: KeyCrdt | null, payload: unknown, nowMs: number, counts: LoadCounts): void {
  const p = payload as { p?: unknown; r?: unknown; w?: unknown };
  if (Array.isArray(p.p)) applyPlain(keyspace, p.p, nowMs, counts);
  else if (typeof p.r === 'number' && p.r >= 0 && p.r < keyspace.count) applyReset(keyspace.db(p.r), counts);
  else if (p.w !== undefined && typeof p.w === 'object' && p.w !== null) applyStates(keyspace, crdt, p.w as WireStates, counts);
  else throw new PersistenceError('unknown record');
}

function applyReset(db: Database, counts: LoadCounts): void {
  if (db.crdt !== null) counts.foreign = true;
  db.clear();
}

function applyPlain(keyspace: Keyspace, p: unknown[], nowMs: number, counts: LoadCounts): void {
  if (p.length % PLAIN_SLOTS !== 0) throw new PersistenceError('bad key record');
  for (let i = 0; i < p.length; i += PLAIN_SLOTS) {
    const [dbIndex, key, type, value, expireAt] = p.slice(i, i + PLAIN_SLOTS) as [number, string, TypeName | null, unknown, number];
    if (!Number.isInteger(dbIndex) || dbIndex < 0 || dbIndex >= keyspace.count || typeof key !== 'string') throw new PersistenceError('bad key record');
    const db = keyspace.db(dbIndex);
    if (db.crdt !== null) counts.foreign = true;
    db.delete(key);
    if (type === null) continue;
    if (expireAt !== 0 && expireAt < nowMs) {
      counts.expired++;
      continue;
    }
    // Strings of their own: msgpackr's are slices of one string per record, which a kept slice keeps whole (store/own-string.ts).
    const own = ownString(key);
    db.addWithExpire(own, ownTypeName(type) as TypeName, type === 'string' ? (typeof value === 'string' ? ownString(value) : value) : loadedValue(key, value), expireAt);
    // A replicated node gives the key a CRDT version, as RESTORE would.
    if (db.crdt !== null) db.written(own, 'restore');
    counts.loaded++;
  }
}

function loadedValue(key: string, value: unknown): unknown {
  const payload = value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : null;
  const loaded = payload !== null && verifyDumpPayload(payload) ? loadDumpPayload(payload) : null;
  if (loaded === null) throw new PersistenceError(`bad value of key ${key}`);
  return loaded.value;
}

function applyStates(keyspace: Keyspace, crdt: KeyCrdt | null, w: WireStates, counts: LoadCounts): void {
  if (crdt === null) {
    throw new PersistenceError('the file holds replicated (CRDT) states: start this node with --peers (or cluster-enabled yes) to load it');
  }
  const shape = wireError(w as unknown as Record<string, unknown>);
  if (shape !== null) throw new PersistenceError(`bad key states: ${shape}`);
  let bad: string | null = null;
  const items = decodeStates(w, keyspace.count, (why) => (bad ??= why));
  if (bad !== null) throw new PersistenceError(`bad key state: ${bad}`);
  for (const [dbIndex, key, s] of items) {
    const invalid = invalidState(s);
    if (invalid !== null) throw new PersistenceError(`bad state of key ${key}: ${invalid}`);
    applyState(crdt, keyspace.db(dbIndex), key, s);
    countState(s, counts);
  }
}

function countState(s: KeyState, counts: LoadCounts): void {
  if (!isDead(s)) counts.loaded++;
  if (s.ts > counts.maxTs) counts.maxTs = s.ts;
}
