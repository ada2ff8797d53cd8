import { Derived, type Config } from '../config.js';
import type { Client } from '../server/client.js';
import { SILENT_XGROUP_EVENT } from '../server/notify.js';
import { StreamValue, type IdLane, type StreamEntry, type StreamLimits } from '../store/stream.js';
import { keyHash } from '../replication/merkle.js';
import { formatId, ID_MAX, ID_ZERO, parseStreamId, U64_MAX, type StreamId } from '../store/stream-id.js';
import { Consumer, type ConsumerGroup } from '../store/stream-pel.js';
import { readOfType, writeOfType } from './util.js';

/** What the stream commands share (t_stream.c's helpers): ID arguments, lookups, entry replies, consumers. */

export const ERR_INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/** stream-node-max-bytes / stream-node-max-entries, read at each append as Redis does. */
const STREAM_LIMITS = new Derived(
  (config): StreamLimits => ({ maxBytes: config.int('stream-node-max-bytes'), maxEntries: config.int('stream-node-max-entries') }),
);

export function streamLimits(config: Config): StreamLimits {
  return STREAM_LIMITS.of(config);
}

/** Lanes of automatic IDs under replication (see IdLane): two replicas share one with probability 1/LANES. */
const LANES = 1024n;
let laneCache: { self: string; lane: IdLane } | null = null;

/** This node's lane of automatic stream IDs; null on a stand-alone node (Redis's IDs). */
export function idLane(c: Client): IdLane | null {
  const r = c.server.replication;
  if (r === null) return null;
  const self = r.crdt.self;
  if (laneCache?.self !== self) laneCache = { self, lane: { count: LANES, index: BigInt(keyHash(self)) % LANES } };
  return laneCache.lane;
}

/** streamParseIDOrReply ("-" and "+" allowed). */
export function idArg(c: Client, s: string, missingSeq: bigint): StreamId | null {
  const p = parseStreamId(s, missingSeq, false);
  if (p === null) c.error(ERR_INVALID_ID);
  return p === null ? null : p.id;
}

/** streamParseStrictIDOrReply ("-" and "+" refused). */
export function strictIdArg(c: Client, s: string, missingSeq = 0n): StreamId | null {
  const p = parseStreamId(s, missingSeq, true);
  if (p === null) c.error(ERR_INVALID_ID);
  return p === null ? null : p.id;
}

/**
 * streamParseIntervalIDOrReply plus the exclusive-bound step of XRANGE and
 * XPENDING: "(id" moves one ID inwards.
 */
export function intervalArg(c: Client, s: string, isStart: boolean): StreamId | null {
  const exclusive = s.length > 1 && s[0] === '(';
  const missing = isStart ? 0n : U64_MAX;
  const id = exclusive ? strictIdArg(c, s.slice(1), missing) : idArg(c, s, missing);
  if (id === null || !exclusive) return id;
  if (isStart ? id === ID_MAX : id === ID_ZERO) {
    c.error(isStart ? 'ERR invalid start ID for the interval' : 'ERR invalid end ID for the interval');
    return null;
  }
  return isStart ? id + 1n : id - 1n;
}

/** Lookup for reading: the stream, undefined when missing, null after WRONGTYPE. */
export function readStream(c: Client, key: string): StreamValue | undefined | null {
  const e = readOfType(c, key, 'stream');
  return e === undefined || e === null ? e : (e.value as StreamValue);
}

export function writeStream(c: Client, key: string): StreamValue | undefined | null {
  const e = writeOfType(c, key, 'stream');
  return e === undefined || e === null ? e : (e.value as StreamValue);
}

/** Creates an empty stream at key (the caller checked it is missing). */
export function createStream(c: Client, key: string): StreamValue {
  const s = new StreamValue();
  c.db.add(key, 'stream', s);
  return s;
}

/** One entry as [id, [field, value, ...]]. */
export function replyEntry(c: Client, e: StreamEntry): void {
  c.reply.arrayHeader(2);
  c.reply.bulk(formatId(e.id));
  c.reply.arrayHeader(e.fields.length);
  for (const f of e.fields) c.reply.bulk(f);
}

export function replyEntries(c: Client, entries: readonly StreamEntry[]): void {
  c.reply.arrayHeader(entries.length);
  for (const e of entries) replyEntry(c, e);
}

/** Up to count (0 = all) live entries of a range. */
export function collectRange(s: StreamValue, start: StreamId, end: StreamId, rev: boolean, count: number): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const e of s.range(start, end, rev)) {
    out.push(e);
    if (count > 0 && out.length >= count) break;
  }
  return out;
}

/**
 * streamLookupConsumer (refreshing its seen-time) or streamCreateConsumer,
 * which notifies "xgroup-createconsumer".
 */
export function lookupOrCreateConsumer(c: Client, key: string, g: ConsumerGroup, name: string): Consumer {
  const now = c.server.nowMs();
  const found = g.consumers.get(name);
  if (found !== undefined) {
    found.seenTime = now;
    return found;
  }
  const created = new Consumer(name, now);
  g.consumers.set(name, created);
  c.db.written(key, 'xgroup-createconsumer');
  return created;
}

/**
 * A change Redis makes without a keyspace event or signalModifiedKey (a
 * delivery into a PEL, XACK, XCLAIM): counted dirty, and with replication
 * a new version of the key so that peers get the group state.
 */
export function groupStateChanged(c: Client, key: string): void {
  c.server.stats.dirty++;
  const r = c.server.replication;
  if (r !== null) r.crdt.written(c.db, key, SILENT_XGROUP_EVENT);
}

/** "NOGROUP No such key 'k' or consumer group 'g'" and its suffixed forms. */
export function noGroup(c: Client, key: string, group: string, suffix = ''): void {
  c.error(`NOGROUP No such key '${key}' or consumer group '${group}'${suffix}`);
}
