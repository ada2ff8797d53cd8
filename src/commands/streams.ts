import type { Client } from '../server/client.js';
import { formatId, ID_MAX, parseStreamId, ID_ZERO } from '../store/stream-id.js';
import {
  collectRange, createStream, ERR_INVALID_ID, idLane, intervalArg, readStream, replyEntries, streamLimits, strictIdArg, writeStream,
} from './streams-common.js';
import { STREAM_GROUP_COMMANDS } from './streams-groups.js';
import { STREAM_INFO_COMMANDS } from './streams-info.js';
import { STREAM_READ_COMMANDS } from './streams-read.js';
import { parseAddTrimArgs } from './streams-trim.js';
import { streamSpec as spec } from './streams-spec.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg, parseInteger } from './util.js';

/** The stream group (t_stream.c): XADD, XRANGE, XDEL, XTRIM, XSETID here; reads, groups and XINFO beside. */

/** Entries of one XADD never exceed a listpack's size (STREAM_LISTPACK_MAX_SIZE). */
const LISTPACK_MAX_SIZE = 1 << 30;

function xaddCommand(c: Client, argv: string[]): void {
  const args = parseAddTrimArgs(c, argv, true);
  if (args === null) return;
  const fieldPos = args.idPos + 1;
  const pairs = argv.length - fieldPos;
  if (pairs < 2 || pairs % 2 === 1) return c.error("ERR wrong number of arguments for 'xadd' command");
  if (args.id !== null && args.id.seqGiven && args.id.id === ID_ZERO) {
    return c.error('ERR The ID specified in XADD must be greater than 0-0');
  }
  const key = argv[1]!;
  let s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) {
    if (args.noMkstream) return c.reply.nullBulk();
    s = createStream(c, key);
  }
  if (s.lastId === ID_MAX) return c.error('ERR The stream has exhausted the last possible ID, unable to add more items');
  const id = s.nextId(args.id?.id ?? null, args.id?.seqGiven ?? true, c.server.nowMs(), args.id === null ? idLane(c) : null);
  if (id === null) return c.error('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  const fields = argv.slice(fieldPos);
  let total = 0;
  for (const f of fields) total += f.length;
  if (total > LISTPACK_MAX_SIZE) return c.error('ERR Elements are too large to be stored');
  s.append(id, fields, streamLimits(c.server.config));
  c.reply.bulk(formatId(id));
  c.db.written(key, 'xadd');
  if (args.trim !== null && s.trim(args.trim) > 0) c.db.written(key, 'xtrim');
}

function xrangeGeneric(c: Client, argv: string[], rev: boolean): void {
  const start = intervalArg(c, rev ? argv[3]! : argv[2]!, true);
  if (start === null) return;
  const end = intervalArg(c, rev ? argv[2]! : argv[3]!, false);
  if (end === null) return;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (!isArg(argv[j]!, 'COUNT') || j + 1 >= argv.length) return c.error(ERR.syntax);
    const n = parseInteger(argv[++j]!);
    if (n === null) return c.error(ERR.notInteger);
    count = Math.max(0, n);
  }
  const s = readStream(c, argv[1]!);
  if (s === null) return;
  if (s === undefined) return c.reply.emptyArray();
  if (count === 0) return c.reply.nullArray();
  replyEntries(c, collectRange(s, start, end, rev, Math.max(0, count)));
}

function xlenCommand(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]!);
  if (s !== null) c.reply.int(s === undefined ? 0 : s.length);
}

function xdelCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.int(0);
  const ids: bigint[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = strictIdArg(c, argv[j]!);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  let firstGone = false;
  for (const id of ids) {
    if (!s.delete(id)) continue;
    if (id === s.firstId) firstGone = true;
    if (id > s.maxDeletedId) s.maxDeletedId = id;
    deleted++;
  }
  if (deleted > 0) {
    if (s.length === 0) s.firstId = ID_ZERO;
    else if (firstGone) s.refreshFirstId();
    c.db.written(key, 'xdel');
  }
  c.reply.int(deleted);
}

function xtrimCommand(c: Client, argv: string[]): void {
  const args = parseAddTrimArgs(c, argv, false);
  if (args === null) return;
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.int(0);
  const deleted = s.trim(args.trim!);
  if (deleted > 0) c.db.written(key, 'xtrim');
  c.reply.int(deleted);
}

interface SetIdOptions {
  entriesAdded: number;
  maxDeleted: bigint;
}

/** XSETID's ENTRIESADDED / MAXDELETEDID options; null after an error. */
function parseSetIdOptions(c: Client, argv: string[], id: bigint): SetIdOptions | null {
  const o: SetIdOptions = { entriesAdded: -1, maxDeleted: ID_ZERO };
  for (let i = 3; i < argv.length; i += 2) {
    const more = argv.length - 1 - i;
    if (isArg(argv[i]!, 'ENTRIESADDED') && more > 0) {
      const n = parseInteger(argv[i + 1]!);
      if (n === null) return c.error(ERR.notInteger), null;
      if (n < 0) return c.error('ERR entries_added must be positive'), null;
      o.entriesAdded = n;
    } else if (isArg(argv[i]!, 'MAXDELETEDID') && more > 0) {
      const p = parseStreamId(argv[i + 1]!, 0n, true);
      if (p === null) return c.error(ERR_INVALID_ID), null;
      if (id < p.id) return c.error('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id'), null;
      o.maxDeleted = p.id;
    } else {
      return c.error(ERR.syntax), null;
    }
  }
  return o;
}

function xsetidCommand(c: Client, argv: string[]): void {
  const id = strictIdArg(c, argv[2]!);
  if (id === null) return;
  const o = parseSetIdOptions(c, argv, id);
  if (o === null) return;
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.error(ERR.noSuchKey);
  if (s.length > 0) {
    if (id < s.lastValidId()) return c.error('ERR The ID specified in XSETID is smaller than the target stream top item');
    if (o.entriesAdded !== -1 && s.length > o.entriesAdded) {
      return c.error('ERR The entries_added specified in XSETID is smaller than the target stream length');
    }
  }
  s.lastId = id;
  if (o.entriesAdded !== -1) s.entriesAdded = o.entriesAdded;
  if (o.maxDeleted !== ID_ZERO) s.maxDeletedId = o.maxDeleted;
  c.reply.ok();
  c.db.written(key, 'xsetid');
}

// ---- command table ----

const O1 = 'O(1)';

export const streamCommands: CommandSpec[] = [
  spec('xadd', -5, ['write', 'denyoom', 'fast'], ['RW', 'UPDATE'], '5.0.0',
    'key [NOMKSTREAM] [MAXLEN | MINID [= | ~] threshold [LIMIT count]] * | id field value [field value ...]',
    'Appends a new entry to a stream',
    'O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.', xaddCommand,
    { tips: ['nondeterministic_output'] }),
  spec('xrange', -4, ['readonly'], ['RO', 'ACCESS'], '5.0.0', 'key start end [COUNT count]',
    'Return a range of elements in a stream, with IDs matching the specified IDs interval',
    'O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).',
    (c, argv) => xrangeGeneric(c, argv, false)),
  spec('xrevrange', -4, ['readonly'], ['RO', 'ACCESS'], '5.0.0', 'key end start [COUNT count]',
    'Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE',
    'O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).',
    (c, argv) => xrangeGeneric(c, argv, true)),
  spec('xlen', 2, ['readonly', 'fast'], ['RO'], '5.0.0', 'key', 'Return the number of entries in a stream', O1, xlenCommand),
  spec('xdel', -3, ['write', 'fast'], ['RW', 'DELETE'], '5.0.0', 'key id [id ...]',
    'Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.',
    'O(1) for each single item to delete in the stream, regardless of the stream size.', xdelCommand),
  spec('xtrim', -4, ['write'], ['RW', 'DELETE'], '5.0.0', 'key MAXLEN | MINID [= | ~] threshold [LIMIT count]',
    "Trims the stream to (approximately if '~' is passed) a certain size",
    'O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.',
    xtrimCommand, { tips: ['nondeterministic_output'] }),
  spec('xsetid', -3, ['write', 'denyoom', 'fast'], ['RW', 'UPDATE'], '5.0.0',
    'key last-id [ENTRIESADDED entries_added] [MAXDELETEDID max_deleted_entry_id]',
    'An internal command for replicating stream values', O1, xsetidCommand),
  ...STREAM_READ_COMMANDS,
  ...STREAM_GROUP_COMMANDS,
  ...STREAM_INFO_COMMANDS,
];
