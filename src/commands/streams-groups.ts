import type { Client } from '../server/client.js';
import type { StreamValue } from '../store/stream.js';
import { formatId, ID_ZERO, type StreamId } from '../store/stream-id.js';
import { Consumer, ConsumerGroup, ENTRIES_READ_INVALID } from '../store/stream-pel.js';
import { replyHelp } from './help.js';
import { xautoclaimCommand, xclaimCommand } from './streams-claim.js';
import { createStream, groupStateChanged, idArg, intervalArg, noGroup, readStream, strictIdArg, writeStream } from './streams-common.js';
import { streamSpec as spec } from './streams-spec.js';
import type { CommandSpec, Handler } from './types.js';
import { ERR, isArg, parseInteger } from './util.js';

/** Consumer groups (t_stream.c): XGROUP's subcommands, XACK and XPENDING; XCLAIM/XAUTOCLAIM in streams-claim.ts. */

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  '      Set the group\'s entries_read counter (internal use).',
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
];

export function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

interface GroupOptions {
  mkstream: boolean;
  entriesRead: number;
}

/** MKSTREAM (CREATE) and ENTRIESREAD (CREATE, SETID) after the ID; null after an error. */
function parseGroupOptions(c: Client, argv: string[], create: boolean): GroupOptions | null {
  const o: GroupOptions = { mkstream: false, entriesRead: ENTRIES_READ_INVALID };
  for (let i = 5; i < argv.length; i++) {
    if (create && isArg(argv[i]!, 'MKSTREAM')) {
      o.mkstream = true;
    } else if (isArg(argv[i]!, 'ENTRIESREAD') && i + 1 < argv.length) {
      const n = parseInteger(argv[++i]!);
      if (n === null) return c.error(ERR.notInteger), null;
      if (n < 0 && n !== ENTRIES_READ_INVALID) return c.error('ERR value for ENTRIESREAD must be positive or -1'), null;
      o.entriesRead = n;
    } else {
      return subcommandSyntaxError(c, argv), null;
    }
  }
  return o;
}

const ERR_NEEDS_KEY = 'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';

/** The stream and (when `needGroup`) the group an XGROUP subcommand works on; null after an error. */
function groupTarget(c: Client, argv: string[], needGroup: boolean): { s: StreamValue; g: ConsumerGroup | undefined } | null {
  const s = writeStream(c, argv[2]!);
  if (s === null) return null;
  if (s === undefined) return c.error(ERR_NEEDS_KEY), null;
  const g = s.groups.get(argv[3]!);
  if (g === undefined && needGroup) {
    c.error(`NOGROUP No such consumer group '${argv[3]}' for key name '${argv[2]}'`);
    return null;
  }
  return { s, g };
}

function xgroupCreate(c: Client, argv: string[]): void {
  const o = parseGroupOptions(c, argv, true);
  if (o === null) return;
  const key = argv[2]!;
  let s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined && !o.mkstream) return c.error(ERR_NEEDS_KEY);
  if (argv.length > 8) return subcommandSyntaxError(c, argv);
  let id: StreamId | null = s?.lastId ?? ID_ZERO;
  if (argv[4] !== '$') id = strictIdArg(c, argv[4]!);
  if (id === null) return;
  s ??= createStream(c, key);
  if (s.groups.has(argv[3]!)) return c.error('BUSYGROUP Consumer Group name already exists');
  s.groups.set(argv[3]!, new ConsumerGroup(argv[3]!, id, o.entriesRead));
  c.reply.ok();
  c.db.written(key, 'xgroup-create');
}

function xgroupSetid(c: Client, argv: string[]): void {
  const o = parseGroupOptions(c, argv, false);
  if (o === null) return;
  const t = groupTarget(c, argv, true);
  if (t === null) return;
  if (argv.length !== 5 && argv.length !== 7) return subcommandSyntaxError(c, argv);
  const id = argv[4] === '$' ? t.s.lastId : idArg(c, argv[4]!, 0n);
  if (id === null) return;
  t.g!.lastId = id;
  t.g!.entriesRead = o.entriesRead;
  c.reply.ok();
  c.db.written(argv[2]!, 'xgroup-setid');
}

function xgroupDestroy(c: Client, argv: string[]): void {
  const t = groupTarget(c, argv, false);
  if (t === null) return;
  if (t.g === undefined) return c.reply.int(0);
  t.s.groups.delete(t.g.name);
  c.reply.int(1);
  // Also wakes clients blocked in XREADGROUP on this group: they get -NOGROUP.
  c.db.written(argv[2]!, 'xgroup-destroy');
}

function xgroupCreateConsumer(c: Client, argv: string[]): void {
  const t = groupTarget(c, argv, true);
  if (t === null) return;
  const g = t.g!;
  if (g.consumers.has(argv[4]!)) return c.reply.int(0);
  g.consumers.set(argv[4]!, new Consumer(argv[4]!, c.server.nowMs()));
  c.reply.int(1);
  c.db.written(argv[2]!, 'xgroup-createconsumer');
}

function xgroupDelConsumer(c: Client, argv: string[]): void {
  const t = groupTarget(c, argv, true);
  if (t === null) return;
  const consumer = t.g!.consumers.get(argv[4]!);
  if (consumer === undefined) return c.reply.int(0);
  const pending = consumer.pel.size;
  t.g!.deleteConsumer(consumer);
  c.reply.int(pending);
  c.db.written(argv[2]!, 'xgroup-delconsumer');
}

function xackCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = readStream(c, key);
  if (s === null) return;
  const g = s?.groups.get(argv[2]!);
  if (g === undefined) return c.reply.int(0);
  const ids: StreamId[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = strictIdArg(c, argv[j]!);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) if (g.ack(id)) acked++;
  if (acked > 0) groupStateChanged(c, key);
  c.reply.int(acked);
}

// ---- XPENDING ----

interface PendingRange {
  minIdle: number;
  start: StreamId;
  end: StreamId;
  count: number;
  consumer: string | null;
}

/** XPENDING's [IDLE min-idle-time] start end count [consumer]; null after an error. */
function parsePendingRange(c: Client, argv: string[]): PendingRange | null {
  let at = 3;
  let minIdle = 0;
  if (isArg(argv[3]!, 'IDLE')) {
    const n = parseInteger(argv[4]!);
    if (n === null) return c.error(ERR.notInteger), null;
    if (argv.length < 8) return c.error(ERR.syntax), null;
    minIdle = n;
    at += 2;
  }
  const count = parseInteger(argv[at + 2]!);
  if (count === null) return c.error(ERR.notInteger), null;
  const start = intervalArg(c, argv[at]!, true);
  if (start === null) return null;
  const end = intervalArg(c, argv[at + 1]!, false);
  if (end === null) return null;
  return { minIdle, start, end, count: Math.max(0, count), consumer: argv[at + 3] ?? null };
}

function xpendingCommand(c: Client, argv: string[]): void {
  if (argv.length !== 3 && (argv.length < 6 || argv.length > 9)) return c.error(ERR.syntax);
  const range = argv.length >= 6 ? parsePendingRange(c, argv) : null;
  if (argv.length >= 6 && range === null) return;
  const s = readStream(c, argv[1]!);
  if (s === null) return;
  const g = s?.groups.get(argv[2]!);
  if (g === undefined) return noGroup(c, argv[1]!, argv[2]!);
  if (range === null) pendingSummary(c, g);
  else pendingEntries(c, g, range);
}

function pendingSummary(c: Client, g: ConsumerGroup): void {
  c.reply.arrayHeader(4);
  c.reply.int(g.pel.size);
  if (g.pel.size === 0) {
    c.reply.nullBulk();
    c.reply.nullBulk();
    c.reply.nullArray();
    return;
  }
  c.reply.bulk(formatId(g.pel.idAt(0)));
  c.reply.bulk(formatId(g.pel.idAt(g.pel.size - 1)));
  const owners = g.sortedConsumers().filter((k) => k.pel.size > 0);
  c.reply.arrayHeader(owners.length);
  for (const k of owners) {
    c.reply.arrayHeader(2);
    c.reply.bulk(k.name);
    c.reply.bulk(String(k.pel.size));
  }
}

function pendingEntries(c: Client, g: ConsumerGroup, r: PendingRange): void {
  let pel = g.pel;
  if (r.consumer !== null) {
    const k = g.consumers.get(r.consumer);
    if (k === undefined) return c.reply.emptyArray();
    pel = k.pel;
  }
  const now = c.server.nowMs();
  const rows: [StreamId, string, number, number][] = [];
  for (const [id, nack] of pel.from(r.start)) {
    if (rows.length >= r.count || id > r.end) break;
    if (r.minIdle > 0 && now - nack.deliveryTime < r.minIdle) continue;
    rows.push([id, nack.consumer?.name ?? '', Math.max(0, now - nack.deliveryTime), nack.deliveryCount]);
  }
  c.reply.arrayHeader(rows.length);
  for (const [id, name, idle, count] of rows) {
    c.reply.arrayHeader(4);
    c.reply.bulk(formatId(id));
    c.reply.bulk(name);
    c.reply.int(idle);
    c.reply.int(count);
  }
}

// ---- command table ----

function xgroupSub(name: string, arity: number, flags: CommandSpec['flags'], syntax: string, summary: string, handler: Handler, since = '5.0.0'): CommandSpec {
  return {
    name, arity, flags, keys: [{ kind: 'range', first: 2, last: 2, step: 1, flags: ['RW', 'UPDATE'] }],
    group: 'stream', since, summary, complexity: 'O(1)', syntax, handler,
  };
}

export const STREAM_GROUP_COMMANDS: CommandSpec[] = [
  {
    name: 'xgroup', arity: -2, flags: [], group: 'stream', since: '5.0.0',
    summary: 'A container for consumer groups commands', complexity: 'Depends on subcommand.',
    subcommands: [
      xgroupSub('create', -5, ['write', 'denyoom'], 'key groupname id | $ [MKSTREAM] [ENTRIESREAD entries_read]',
        'Create a consumer group.', xgroupCreate),
      xgroupSub('setid', -5, ['write'], 'key groupname id | $ [ENTRIESREAD entries_read]',
        'Set a consumer group to an arbitrary last delivered ID value.', xgroupSetid),
      xgroupSub('destroy', 4, ['write'], 'key groupname', 'Destroy a consumer group.', xgroupDestroy),
      xgroupSub('createconsumer', 5, ['write', 'denyoom'], 'key groupname consumername',
        'Create a consumer in a consumer group.', xgroupCreateConsumer, '6.2.0'),
      xgroupSub('delconsumer', 5, ['write'], 'key groupname consumername',
        'Delete a consumer from a consumer group.', xgroupDelConsumer),
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'stream', since: '5.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
        handler: (c) => replyHelp(c, 'xgroup', XGROUP_HELP),
      },
    ],
  },
  spec('xack', -4, ['write', 'fast'], ['RW', 'UPDATE'], '5.0.0', 'key group id [id ...]',
    'Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.',
    'O(1) for each message ID processed.', xackCommand),
  spec('xpending', -3, ['readonly'], ['RO', 'ACCESS'], '5.0.0', 'key group [[IDLE min-idle-time] start end count [consumer]]',
    'Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.',
    'O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.',
    xpendingCommand, { tips: ['nondeterministic_output'] }),
  spec('xclaim', -6, ['write', 'fast'], ['RW', 'UPDATE'], '5.0.0',
    'key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]',
    'Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.',
    'O(log N) with N being the number of messages in the PEL of the consumer group.', xclaimCommand,
    { tips: ['nondeterministic_output'] }),
  spec('xautoclaim', -6, ['write', 'fast'], ['RW', 'UPDATE'], '6.2.0', 'key group consumer min-idle-time start [COUNT count] [JUSTID]',
    'Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.',
    'O(1) if COUNT is small.', xautoclaimCommand, { tips: ['nondeterministic_output'] }),
];

/** Used by XINFO for the groups' entries-read field. */
export function replyEntriesRead(c: Client, g: ConsumerGroup): void {
  if (g.entriesRead !== ENTRIES_READ_INVALID) c.reply.int(g.entriesRead);
  else c.reply.nullBulk();
}
