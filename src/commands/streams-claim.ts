import type { Client } from '../server/client.js';
import type { StreamValue } from '../store/stream.js';
import { formatId, parseStreamId, type StreamId } from '../store/stream-id.js';
import type { Consumer, ConsumerGroup, Nack } from '../store/stream-pel.js';
import {
  groupStateChanged, intervalArg, lookupOrCreateConsumer, noGroup, readStream, replyEntry, strictIdArg,
} from './streams-common.js';
import { ERR, isArg, parseInteger } from './util.js';

/** XCLAIM and XAUTOCLAIM (t_stream.c): moving pending entries to another consumer. */

/** Where a claim happens: the command's client, key, stream, group and the claiming consumer's name. */
interface ClaimContext {
  c: Client;
  key: string;
  s: StreamValue;
  g: ConsumerGroup;
  name: string;
  consumer: Consumer | null;
}

/** The claiming consumer, looked up (or created, notifying) on the first claim only, as Redis does. */
function claimer(x: ClaimContext): Consumer {
  x.consumer ??= lookupOrCreateConsumer(x.c, x.key, x.g, x.name);
  return x.consumer;
}

/** Drops a pending entry whose stream entry was deleted. */
function dropNack(g: ConsumerGroup, id: StreamId): void {
  g.ack(id);
}

/** Moves nack to the claiming consumer with a new delivery time. */
function assign(x: ClaimContext, id: StreamId, nack: Nack, deliveryTime: number): void {
  const to = claimer(x);
  if (nack.consumer !== to) {
    nack.consumer?.pel.delete(id);
    to.pel.set(id, nack);
    nack.consumer = to;
  }
  nack.deliveryTime = deliveryTime;
}

function replyClaimed(c: Client, s: StreamValue, ids: readonly StreamId[], justid: boolean): void {
  c.reply.arrayHeader(ids.length);
  for (const id of ids) {
    if (justid) c.reply.bulk(formatId(id));
    else replyEntry(c, s.get(id)!);
  }
}

/** The group of a claim command, or null after -NOGROUP / WRONGTYPE. */
function claimGroup(c: Client, argv: string[]): { s: StreamValue; g: ConsumerGroup } | null {
  const s = readStream(c, argv[1]!);
  if (s === null) return null;
  const g = s?.groups.get(argv[2]!);
  if (s === undefined || g === undefined) return noGroup(c, argv[1]!, argv[2]!), null;
  return { s, g };
}

interface ClaimOptions {
  /** -1 when neither IDLE nor TIME was given. */
  deliveryTime: number;
  retryCount: number;
  force: boolean;
  justid: boolean;
  lastId: StreamId;
}

/** XCLAIM's options after the IDs; null after an error. */
function parseClaimOptions(c: Client, argv: string[], from: number, now: number): ClaimOptions | null {
  const o: ClaimOptions = { deliveryTime: -1, retryCount: -1, force: false, justid: false, lastId: 0n };
  for (let j = from; j < argv.length; j++) {
    const opt = argv[j]!;
    const more = j < argv.length - 1;
    const num = (what: string): number | null => {
      const n = parseInteger(argv[++j]!);
      if (n === null) c.error(`ERR Invalid ${what} option argument for XCLAIM`);
      return n;
    };
    if (isArg(opt, 'FORCE')) o.force = true;
    else if (isArg(opt, 'JUSTID')) o.justid = true;
    else if (isArg(opt, 'IDLE') && more) {
      const n = num('IDLE');
      if (n === null) return null;
      o.deliveryTime = now - n;
    } else if (isArg(opt, 'TIME') && more) {
      const n = num('TIME');
      if (n === null) return null;
      o.deliveryTime = n;
    } else if (isArg(opt, 'RETRYCOUNT') && more) {
      const n = num('RETRYCOUNT');
      if (n === null) return null;
      o.retryCount = n;
    } else if (isArg(opt, 'LASTID') && more) {
      const id = strictIdArg(c, argv[++j]!);
      if (id === null) return null;
      o.lastId = id;
    } else {
      return c.error(`ERR Unrecognized XCLAIM option '${opt}'`), null;
    }
  }
  return o;
}

/** XCLAIM key group consumer min-idle-time id [id ...] [options] */
export function xclaimCommand(c: Client, argv: string[]): void {
  const t = claimGroup(c, argv);
  if (t === null) return;
  const minIdleArg = parseInteger(argv[4]!);
  if (minIdleArg === null) return c.error('ERR Invalid min-idle-time argument for XCLAIM');
  const minIdle = Math.max(0, minIdleArg);
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseStreamId(argv[j]!, 0n, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const now = c.server.nowMs();
  const o = parseClaimOptions(c, argv, j, now);
  if (o === null) return;
  const x: ClaimContext = { c, key: argv[1]!, s: t.s, g: t.g, name: argv[3]!, consumer: null };
  let changed = false;
  if (o.lastId > t.g.lastId) {
    t.g.lastId = o.lastId;
    changed = true;
  }
  const time = o.deliveryTime === -1 || o.deliveryTime < 0 || o.deliveryTime > now ? now : o.deliveryTime;
  const claimed: StreamId[] = [];
  for (const id of ids) {
    const r = claimOne(x, id, o, minIdle, time, now);
    if (r !== 'skipped') changed = true;
    if (r === 'claimed') claimed.push(id);
  }
  if (changed) groupStateChanged(c, x.key);
  replyClaimed(c, t.s, claimed, o.justid);
}

/** One ID of XCLAIM: dropped (entry deleted), skipped, or claimed. */
function claimOne(x: ClaimContext, id: StreamId, o: ClaimOptions, minIdle: number, time: number, now: number): 'dropped' | 'skipped' | 'claimed' {
  let nack = x.g.pel.get(id);
  if (!x.s.has(id)) {
    if (nack === undefined) return 'skipped';
    dropNack(x.g, id);
    return 'dropped';
  }
  if (o.force && nack === undefined) {
    nack = { deliveryTime: now, deliveryCount: 1, consumer: null };
    x.g.pel.set(id, nack);
  }
  if (nack === undefined) return 'skipped';
  if (nack.consumer !== null && minIdle > 0 && now - nack.deliveryTime < minIdle) return 'skipped';
  assign(x, id, nack, time);
  if (o.retryCount >= 0) nack.deliveryCount = o.retryCount;
  else if (!o.justid) nack.deliveryCount++;
  return 'claimed';
}

/** Largest COUNT XAUTOCLAIM takes (LONG_MAX / max(sizeof(streamID), attempts factor)). */
const AUTOCLAIM_MAX_COUNT = Number((2n ** 63n - 1n) / 16n);

interface AutoclaimArgs {
  minIdle: number;
  start: StreamId;
  count: number;
  justid: boolean;
}

function parseAutoclaim(c: Client, argv: string[]): AutoclaimArgs | null {
  const minIdle = parseInteger(argv[4]!);
  if (minIdle === null) return c.error('ERR Invalid min-idle-time argument for XAUTOCLAIM'), null;
  const start = intervalArg(c, argv[5]!, true);
  if (start === null) return null;
  const a: AutoclaimArgs = { minIdle: Math.max(0, minIdle), start, count: 100, justid: false };
  for (let j = 6; j < argv.length; j++) {
    if (isArg(argv[j]!, 'COUNT') && j < argv.length - 1) {
      const n = parseInteger(argv[++j]!);
      if (n === null || n < 1 || n > AUTOCLAIM_MAX_COUNT) return c.error('ERR COUNT must be > 0'), null;
      a.count = n;
    } else if (isArg(argv[j]!, 'JUSTID')) {
      a.justid = true;
    } else {
      return c.error(ERR.syntax), null;
    }
  }
  return a;
}

/**
 * XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]:
 * scans the PEL from start (at most count * 10 entries), claims the idle
 * ones, drops those whose entry was deleted; replies the next cursor, the
 * claimed entries and the dropped IDs.
 */
export function xautoclaimCommand(c: Client, argv: string[]): void {
  const a = parseAutoclaim(c, argv);
  if (a === null) return;
  const t = claimGroup(c, argv);
  if (t === null) return;
  const x: ClaimContext = { c, key: argv[1]!, s: t.s, g: t.g, name: argv[3]!, consumer: null };
  const now = c.server.nowMs();
  const claimed: StreamId[] = [];
  const dropped: StreamId[] = [];
  const pel = t.g.pel;
  let pos = pel.lowerBound(a.start);
  let count = a.count;
  for (let attempts = count * 10; attempts > 0 && count > 0 && pos < pel.size; attempts--) {
    const id = pel.idAt(pos);
    const nack = pel.valueAt(pos);
    if (!t.s.has(id)) {
      dropNack(t.g, id);
      dropped.push(id);
      count--;
      continue;
    }
    pos++;
    if (a.minIdle > 0 && now - nack.deliveryTime < a.minIdle) continue;
    assign(x, id, nack, now);
    if (!a.justid) nack.deliveryCount++;
    claimed.push(id);
    count--;
  }
  if (claimed.length + dropped.length > 0) groupStateChanged(c, x.key);
  c.reply.arrayHeader(3);
  c.reply.bulk(pos < pel.size ? formatId(pel.idAt(pos)) : '0-0');
  replyClaimed(c, t.s, claimed, a.justid);
  c.reply.arrayHeader(dropped.length);
  for (const id of dropped) c.reply.bulk(formatId(id));
}
