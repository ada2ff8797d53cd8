import type { BlockedCommand } from '../server/blocking.js';
import type { Client } from '../server/client.js';
import type { StreamEntry, StreamValue } from '../store/stream.js';
import { formatId, ID_MAX, ID_ZERO, parseStreamId, type StreamId } from '../store/stream-id.js';
import type { Consumer, ConsumerGroup } from '../store/stream-pel.js';
import {
  collectRange, ERR_INVALID_ID, groupStateChanged, lookupOrCreateConsumer, noGroup, replyEntry, replyEntries,
} from './streams-common.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg, lookupRead, parseInt64, parseInteger } from './util.js';

/**
 * XREAD and XREADGROUP (xreadCommand): serve at once what is there, or
 * block on the server's BlockingRegistry until a write gives a waited-on
 * stream entries past the requested ID (or the group goes, or the key).
 */

/** A blocked reader takes at most this many entries when it gave no COUNT (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;

interface ReadArgs {
  /** -1 without BLOCK, 0 = forever, else a Unix ms deadline. */
  deadline: number;
  count: number;
  noack: boolean;
  group: string | null;
  consumer: string;
  keys: string[];
  idArgs: string[];
}

/** getTimeoutFromObjectOrReply in milliseconds. */
function parseBlockTimeout(c: Client, arg: string): number | null {
  const ms = parseInt64(arg);
  if (ms === null) return c.error('ERR timeout is not an integer or out of range'), null;
  if (ms < 0n) return c.error('ERR timeout is negative'), null;
  if (ms === 0n) return 0;
  const now = c.server.now();
  if (ms > BigInt(Number.MAX_SAFE_INTEGER) - BigInt(Math.ceil(now))) return c.error('ERR timeout is out of range'), null;
  return now + Number(ms);
}

function optionOnlyForGroup(c: Client, name: string): null {
  c.error(`ERR The ${name} option is only supported by XREADGROUP. You called XREAD instead.`);
  return null;
}

function parseReadArgs(c: Client, argv: string[], xreadgroup: boolean): ReadArgs | null {
  const a: ReadArgs = { deadline: -1, count: 0, noack: false, group: null, consumer: '', keys: [], idArgs: [] };
  let streamsAt = 0;
  for (let i = 1; i < argv.length && streamsAt === 0; i++) {
    const o = argv[i]!;
    const more = argv.length - 1 - i;
    if (isArg(o, 'BLOCK') && more > 0) {
      const d = parseBlockTimeout(c, argv[++i]!);
      if (d === null) return null;
      a.deadline = d;
    } else if (isArg(o, 'COUNT') && more > 0) {
      const n = parseInteger(argv[++i]!);
      if (n === null) return c.error(ERR.notInteger), null;
      a.count = Math.max(0, n);
    } else if (isArg(o, 'STREAMS') && more > 0) {
      streamsAt = i + 1;
    } else if (isArg(o, 'GROUP') && more >= 2) {
      if (!xreadgroup) return optionOnlyForGroup(c, 'GROUP');
      a.group = argv[i + 1]!;
      a.consumer = argv[i + 2]!;
      i += 2;
    } else if (isArg(o, 'NOACK')) {
      if (!xreadgroup) return optionOnlyForGroup(c, 'NOACK');
      a.noack = true;
    } else {
      return c.error(ERR.syntax), null;
    }
  }
  if (streamsAt === 0) return c.error(ERR.syntax), null;
  const n = argv.length - streamsAt;
  if (n % 2 !== 0) {
    c.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
    return null;
  }
  if (xreadgroup && a.group === null) return c.error('ERR Missing GROUP option for XREADGROUP'), null;
  a.keys = argv.slice(streamsAt, streamsAt + n / 2);
  a.idArgs = argv.slice(streamsAt + n / 2);
  return a;
}

/** One stream to read: its key, the ID entries must be greater than, and the group when XREADGROUP. */
interface Target {
  key: string;
  gt: StreamId;
  group: ConsumerGroup | null;
}

/** Resolves each stream's ID argument ("$", ">", or an ID) and group; null after an error. */
function resolveTargets(c: Client, a: ReadArgs, xreadgroup: boolean): Target[] | null {
  const out: Target[] = [];
  for (let i = 0; i < a.keys.length; i++) {
    const key = a.keys[i]!;
    const e = lookupRead(c, key);
    if (e !== undefined && e.type !== 'stream') return c.error(ERR.wrongType), null;
    const s = e?.value as StreamValue | undefined;
    let group: ConsumerGroup | null = null;
    if (a.group !== null) {
      group = s?.groups.get(a.group) ?? null;
      if (group === null) return noGroup(c, key, a.group, ' in XREADGROUP with GROUP option'), null;
    }
    const gt = resolveId(c, a.idArgs[i]!, s, xreadgroup);
    if (gt === null) return null;
    out.push({ key, gt, group });
  }
  return out;
}

function resolveId(c: Client, arg: string, s: StreamValue | undefined, xreadgroup: boolean): StreamId | null {
  if (arg === '$') {
    if (!xreadgroup) return s?.lastId ?? ID_ZERO;
    c.error('ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.');
    return null;
  }
  if (arg === '>') {
    if (xreadgroup) return ID_MAX;
    c.error('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
    return null;
  }
  const p = parseStreamId(arg, 0n, true);
  if (p === null) c.error(ERR_INVALID_ID);
  return p === null ? null : p.id;
}

/** What one served stream replies: plain entries, or a consumer's history ([id, entry | null]). */
type Served = { key: string; entries: StreamEntry[] } | { key: string; history: [StreamId, StreamEntry | null][] };

/**
 * streamReplyWithRange with a group: delivers entries past `after`,
 * advancing the group's last ID and read counter and (unless NOACK)
 * recording each delivery in the PELs.
 */
function deliver(c: Client, s: StreamValue, g: ConsumerGroup, consumer: Consumer, after: StreamId, count: number, noack: boolean): StreamEntry[] {
  const entries = after === ID_MAX ? [] : collectRange(s, after + 1n, ID_MAX, false, count);
  const now = c.server.nowMs();
  for (const e of entries) {
    if (e.id > g.lastId) {
      if (g.entriesRead !== -1 && !s.hasTombstonesFrom(e.id)) g.entriesRead++;
      else if (s.entriesAdded !== 0) g.entriesRead = s.estimateDistance(e.id);
      g.lastId = e.id;
    }
    if (noack) continue;
    const prev = g.pel.get(e.id);
    if (prev?.consumer != null) prev.consumer.pel.delete(e.id);
    const nack = { deliveryTime: now, deliveryCount: 1, consumer };
    g.pel.set(e.id, nack);
    consumer.pel.set(e.id, nack);
  }
  return entries;
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's pending entries past `after`, each delivered again. */
function history(c: Client, s: StreamValue, consumer: Consumer, after: StreamId, count: number): [StreamId, StreamEntry | null][] {
  const out: [StreamId, StreamEntry | null][] = [];
  if (after === ID_MAX) return out;
  for (const [id, nack] of consumer.pel.from(after + 1n)) {
    if (count > 0 && out.length >= count) break;
    const e = s.get(id) ?? null;
    if (e !== null) {
      nack.deliveryTime = c.server.nowMs();
      nack.deliveryCount++;
    }
    out.push([id, e]);
  }
  return out;
}

/** Serves one target at once when it has something; null when it must wait. */
function serveNow(c: Client, a: ReadArgs, t: Target): Served | null {
  const s = lookupRead(c, t.key)?.value as StreamValue | undefined;
  if (s === undefined) return null;
  if (t.group === null) {
    if (s.length === 0 || s.lastValidId() <= t.gt) return null;
    return { key: t.key, entries: collectRange(s, t.gt + 1n, ID_MAX, false, a.count) };
  }
  const historic = t.gt !== ID_MAX;
  if (!historic && (s.length === 0 || s.lastValidId() <= t.group.lastId)) return null;
  const consumer = lookupOrCreateConsumer(c, t.key, t.group, a.consumer);
  const served: Served = historic
    ? { key: t.key, history: history(c, s, consumer, t.gt, a.count) }
    : { key: t.key, entries: deliver(c, s, t.group, consumer, t.group.lastId, a.count, a.noack) };
  groupStateChanged(c, t.key);
  return served;
}

function replyServed(c: Client, served: readonly Served[]): void {
  if (c.resp === 2) c.reply.arrayHeader(served.length);
  else c.reply.mapHeader(served.length);
  for (const r of served) {
    if (c.resp === 2) c.reply.arrayHeader(2);
    c.reply.bulk(r.key);
    if ('entries' in r) {
      replyEntries(c, r.entries);
      continue;
    }
    c.reply.arrayHeader(r.history.length);
    for (const [id, e] of r.history) {
      if (e !== null) replyEntry(c, e);
      else {
        c.reply.arrayHeader(2);
        c.reply.bulk(formatId(id));
        c.reply.nullArray();
      }
    }
  }
}

function xreadGeneric(c: Client, argv: string[], xreadgroup: boolean): void {
  const a = parseReadArgs(c, argv, xreadgroup);
  if (a === null) return;
  const targets = resolveTargets(c, a, xreadgroup);
  if (targets === null) return;
  const served: Served[] = [];
  for (const t of targets) {
    const r = serveNow(c, a, t);
    if (r !== null) served.push(r);
  }
  if (served.length > 0) return replyServed(c, served);
  if (a.deadline === -1 || !c.server.blocking.mayBlock) return c.reply.nullArray();
  c.server.blocking.block(c, a.keys, a.deadline, blockedReader(a, targets));
}

/** serveClientsBlockedOnStreamKey for one client: what a blocked XREAD / XREADGROUP does when a key it waits on changes. */
function blockedReader(a: ReadArgs, targets: Target[]): BlockedCommand {
  const count = a.count > 0 ? a.count : BLOCKED_DEFAULT_COUNT;
  const byKey = new Map(targets.map((t) => [t.key, t]));
  return {
    serve(bc, key) {
      const e = bc.db.lookup(key);
      if (e === undefined || e.type !== 'stream') return this.keyGone!(bc, key);
      const s = e.value as StreamValue;
      if (a.group === null) return servePlain(bc, key, s, byKey.get(key)!.gt, count);
      return serveGroup(bc, key, s, a, count);
    },
    keyGone(bc) {
      if (a.group === null) return false;
      bc.error('UNBLOCKED the stream key no longer exists');
      return true;
    },
    timeout: (bc) => bc.reply.nullArray(),
  };
}

function servePlain(c: Client, key: string, s: StreamValue, gt: StreamId, count: number): boolean {
  if (s.lastId <= gt) return false;
  replyServed(c, [{ key, entries: collectRange(s, gt + 1n, ID_MAX, false, count) }]);
  return true;
}

function serveGroup(c: Client, key: string, s: StreamValue, a: ReadArgs, count: number): boolean {
  const g = s.groups.get(a.group!);
  if (g === undefined) {
    c.error('NOGROUP the consumer group this client was blocked on no longer exists');
    return true;
  }
  if (s.lastId <= g.lastId) return false;
  const consumer = lookupOrCreateConsumer(c, key, g, a.consumer);
  const entries = deliver(c, s, g, consumer, g.lastId, count, a.noack);
  groupStateChanged(c, key);
  replyServed(c, [{ key, entries }]);
  return true;
}

// ---- command table ----

/** The keys of XREAD / XREADGROUP: the first half of what follows STREAMS. */
function streamsKeys(argv: readonly string[]): number[] {
  for (let i = 1; i < argv.length; i++) {
    if (!isArg(argv[i]!, 'STREAMS')) continue;
    const n = Math.floor((argv.length - i - 1) / 2);
    return Array.from({ length: n }, (_, k) => i + 1 + k);
  }
  return [];
}

export const STREAM_READ_COMMANDS: CommandSpec[] = [
  {
    name: 'xread', arity: -4, flags: ['readonly', 'blocking', 'movablekeys'],
    keys: [{ kind: 'custom', find: streamsKeys, flags: ['RO', 'ACCESS'] }],
    group: 'stream', since: '5.0.0',
    summary: 'Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.',
    complexity: 'For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.',
    syntax: '[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]',
    handler: (c, argv) => xreadGeneric(c, argv, false),
  },
  {
    name: 'xreadgroup', arity: -7, flags: ['write', 'blocking', 'movablekeys'],
    keys: [{ kind: 'custom', find: streamsKeys, flags: ['RW', 'ACCESS'] }],
    group: 'stream', since: '5.0.0',
    summary: 'Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.',
    complexity: 'For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.',
    syntax: 'GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]',
    handler: (c, argv) => xreadGeneric(c, argv, true),
  },
];
