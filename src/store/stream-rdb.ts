import { canonicalInt, RDB_TYPE, RdbFormatError, RdbReader, RdbWriter, readListpack, writeListpack } from './rdb.js';
import { FLAG_DELETED, FLAG_SAMEFIELDS, StreamNode, StreamValue, type StreamEntry } from './stream.js';
import { decodeId, encodeId, idMs, idSeq, makeId, type StreamId } from './stream-id.js';
import { Consumer, ConsumerGroup, type Nack } from './stream-pel.js';
import type { RdbLoader, TypeCodec } from './values.js';

/**
 * Streams in Redis 7.0's RDB format (rdb.c, RDB_TYPE_STREAM_LISTPACKS_2):
 * each node as its 16-byte master ID and its listpack, then length, last,
 * first and max-deleted IDs, entries-added, and the consumer groups with
 * their PELs and consumers. RDB_TYPE_STREAM_LISTPACKS (Redis 5/6) loads too.
 */

/** rdbSaveLen of a 64-bit value (lengths above 2^53 do not fit RdbWriter.length's number). */
function writeLen64(w: RdbWriter, v: bigint): void {
  if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return w.length(Number(v));
  w.byte(0x81);
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(v, 0);
  w.bytes(b);
}

function readLen64(r: RdbReader): bigint {
  if (r.buf[r.pos] === 0x81) {
    r.byte();
    return r.bytes(8).readBigUInt64BE(0);
  }
  return BigInt(r.length());
}

function writeId(w: RdbWriter, id: StreamId): void {
  writeLen64(w, idMs(id));
  writeLen64(w, idSeq(id));
}

function readId(r: RdbReader): StreamId {
  const ms = readLen64(r);
  return makeId(ms, readLen64(r));
}

/** The listpack elements of a node, as streamAppendItem and XDEL/XTRIM leave them. */
function nodeElements(n: StreamNode): string[] {
  const out = [String(n.live), String(n.deleted), String(n.masterFields.length), ...n.masterFields, '0'];
  const masterMs = idMs(n.master);
  const masterSeq = idSeq(n.master);
  for (const e of n.entries) {
    const same = n.sameFields(e);
    out.push(String((e.deleted ? FLAG_DELETED : 0) | (same ? FLAG_SAMEFIELDS : 0)));
    out.push(String(BigInt.asIntN(64, idMs(e.id) - masterMs)), String(BigInt.asIntN(64, idSeq(e.id) - masterSeq)));
    const pairs = e.fields.length / 2;
    if (same) {
      for (let i = 1; i < e.fields.length; i += 2) out.push(e.fields[i]!);
      out.push(String(pairs + 3));
    } else {
      out.push(String(pairs), ...e.fields, String(pairs * 2 + 4));
    }
  }
  return out;
}

function saveStream(w: RdbWriter, s: StreamValue, compress: boolean): void {
  w.byte(RDB_TYPE.STREAM_LISTPACKS_2);
  w.length(s.nodes.length);
  for (const n of s.nodes) {
    w.string(encodeId(n.master), compress);
    w.string(writeListpack(nodeElements(n)), compress);
  }
  w.length(s.length);
  writeId(w, s.lastId);
  writeId(w, s.firstId);
  writeId(w, s.maxDeletedId);
  w.length(s.entriesAdded);
  const groups = s.sortedGroups();
  w.length(groups.length);
  for (const g of groups) saveGroup(w, g, compress);
}

function saveGroup(w: RdbWriter, g: ConsumerGroup, compress: boolean): void {
  w.string(g.name, compress);
  writeId(w, g.lastId);
  writeLen64(w, BigInt.asUintN(64, BigInt(g.entriesRead)));
  w.length(g.pel.size);
  for (const [id, nack] of g.pel.from(0n)) {
    w.bytes(encodeId(id));
    w.millisecondTime(nack.deliveryTime);
    w.length(nack.deliveryCount);
  }
  const consumers = g.sortedConsumers();
  w.length(consumers.length);
  for (const c of consumers) {
    w.string(c.name, compress);
    w.millisecondTime(c.seenTime);
    w.length(c.pel.size);
    for (const [id] of c.pel.from(0n)) w.bytes(encodeId(id));
  }
}

/** Reads a node's listpack back into entries; throws RdbFormatError when its structure is not a stream node's. */
function loadNode(master: StreamId, lp: Buffer): StreamNode {
  const el = readListpack(lp);
  let p = 0;
  const next = (): string => {
    if (p >= el.length) throw new RdbFormatError('truncated stream listpack');
    return el[p++]!;
  };
  const int = (): bigint => {
    const v = canonicalInt(next());
    if (v === null) throw new RdbFormatError('stream listpack integer expected');
    return v;
  };
  const live = Number(int());
  const deleted = Number(int());
  const nf = Number(int());
  const names: string[] = [];
  for (let i = 0; i < nf; i++) names.push(next());
  if (int() !== 0n) throw new RdbFormatError('bad master entry terminator');
  const n = new StreamNode(master, names);
  while (p < el.length) n.push(loadEntry(n, int, next));
  if (n.live !== live || n.deleted !== deleted || n.entries.length === 0) throw new RdbFormatError('bad stream node counts');
  return n;
}

function loadEntry(n: StreamNode, int: () => bigint, next: () => string): StreamEntry {
  const flags = Number(int());
  const ms = BigInt.asUintN(64, idMs(n.master) + int());
  const seq = BigInt.asUintN(64, idSeq(n.master) + int());
  const fields: string[] = [];
  if (flags & FLAG_SAMEFIELDS) {
    for (const f of n.masterFields) fields.push(f, next());
  } else {
    const pairs = Number(int());
    for (let i = 0; i < pairs * 2; i++) fields.push(next());
  }
  int(); // lp-count, only used to walk backwards
  return { id: makeId(ms, seq), fields, deleted: (flags & FLAG_DELETED) !== 0 };
}

function loadStream(r: RdbReader, v2: boolean): StreamValue {
  const s = new StreamValue();
  const count = r.length();
  for (let i = 0; i < count; i++) {
    const key = r.string();
    if (key.length !== 16) throw new RdbFormatError('bad stream node key');
    const master = decodeId(key);
    const prev = s.nodes[s.nodes.length - 1];
    if (prev !== undefined && prev.master >= master) throw new RdbFormatError('stream nodes out of order');
    s.nodes.push(loadNode(master, r.string()));
  }
  s.length = r.length();
  s.lastId = readId(r);
  let live = 0;
  for (const n of s.nodes) live += n.live;
  if (live !== s.length) throw new RdbFormatError('bad stream length');
  if (v2) {
    s.firstId = readId(r);
    s.maxDeletedId = readId(r);
    s.entriesAdded = Number(readLen64(r));
  } else {
    s.entriesAdded = s.length;
    s.refreshFirstId();
  }
  const groups = r.length();
  for (let i = 0; i < groups; i++) loadGroup(r, s, v2);
  return s;
}

function loadGroup(r: RdbReader, s: StreamValue, v2: boolean): void {
  const name = r.text();
  const lastId = readId(r);
  const entriesRead = v2 ? Number(BigInt.asIntN(64, readLen64(r))) : s.estimateDistance(lastId);
  if (s.groups.has(name)) throw new RdbFormatError('duplicated consumer group');
  const g = new ConsumerGroup(name, lastId, entriesRead);
  s.groups.set(name, g);
  const pel = r.length();
  for (let i = 0; i < pel; i++) {
    const id = decodeId(r.bytes(16));
    const nack: Nack = { deliveryTime: r.millisecondTime(), deliveryCount: r.length(), consumer: null };
    if (g.pel.get(id) !== undefined) throw new RdbFormatError('duplicated PEL entry');
    g.pel.set(id, nack);
  }
  const consumers = r.length();
  for (let i = 0; i < consumers; i++) {
    const c = new Consumer(r.text(), 0);
    if (g.consumers.has(c.name)) throw new RdbFormatError('duplicated consumer');
    c.seenTime = r.millisecondTime();
    g.consumers.set(c.name, c);
    const owned = r.length();
    for (let j = 0; j < owned; j++) {
      const id = decodeId(r.bytes(16));
      const nack = g.pel.get(id);
      if (nack === undefined || nack.consumer !== null) throw new RdbFormatError('consumer PEL entry not in group PEL');
      nack.consumer = c;
      c.pel.set(id, nack);
    }
  }
  for (let i = 0; i < g.pel.size; i++) {
    if (g.pel.valueAt(i).consumer === null) throw new RdbFormatError('group PEL entry without consumer');
  }
}

/** COPY: an independent stream through its own serialization (groups, PELs and times included). */
function dupStream(s: StreamValue): StreamValue {
  const w = new RdbWriter();
  saveStream(w, s, false);
  return loadStream(new RdbReader(Buffer.from(w.toBuffer()), 1), true);
}

export const streamCodec: TypeCodec = {
  encoding: () => 'stream',
  refcount: () => 1,
  dup: (value) => dupStream(value as StreamValue),
  save: (w, value, compress) => saveStream(w, value as StreamValue, compress),
};

export const streamLoaders: Record<number, RdbLoader> = {
  [RDB_TYPE.STREAM_LISTPACKS]: (r) => ({ type: 'stream', value: loadStream(r, false) }),
  [RDB_TYPE.STREAM_LISTPACKS_2]: (r) => ({ type: 'stream', value: loadStream(r, true) }),
};
