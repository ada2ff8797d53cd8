import type { Client } from '../server/client.js';
import type { StreamValue } from '../store/stream.js';
import { formatId, ID_MAX, ID_ZERO } from '../store/stream-id.js';
import type { ConsumerGroup } from '../store/stream-pel.js';
import { replyHelp } from './help.js';
import { collectRange, readStream, replyEntries, replyEntry } from './streams-common.js';
import { replyEntriesRead, subcommandSyntaxError } from './streams-groups.js';
import type { CommandSpec, Handler } from './types.js';
import { ERR, isArg, parseInteger } from './util.js';

/** XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP (xinfoCommand). */

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
];

/** The stream at argv[2], or null after "no such key" / WRONGTYPE. */
function infoStream(c: Client, argv: string[]): StreamValue | null {
  const s = readStream(c, argv[2]!);
  if (s === undefined) c.error(ERR.noSuchKey);
  return s ?? null;
}

/** The fields XINFO STREAM shows in both forms. */
function replyStreamHeader(c: Client, s: StreamValue, full: boolean): void {
  c.reply.mapHeader(full ? 9 : 10);
  c.reply.bulk('length');
  c.reply.int(s.length);
  c.reply.bulk('radix-tree-keys');
  c.reply.int(s.nodeCount);
  c.reply.bulk('radix-tree-nodes');
  // Strata keeps nodes in an array, not a radix tree: report what a rax of these keys would need at least.
  c.reply.int(s.nodeCount === 0 ? 1 : s.nodeCount + 1);
  c.reply.bulk('last-generated-id');
  c.reply.bulk(formatId(s.lastId));
  c.reply.bulk('max-deleted-entry-id');
  c.reply.bulk(formatId(s.maxDeletedId));
  c.reply.bulk('entries-added');
  c.reply.int(s.entriesAdded);
  c.reply.bulk('recorded-first-entry-id');
  c.reply.bulk(formatId(s.firstId));
}

function replyEdgeEntry(c: Client, s: StreamValue, rev: boolean): void {
  const e = collectRange(s, ID_ZERO, ID_MAX, rev, 1)[0];
  if (e === undefined) c.reply.nullBulk();
  else replyEntry(c, e);
}

function xinfoStream(c: Client, argv: string[]): void {
  const s = infoStream(c, argv);
  if (s === null) return;
  const opts = argv.length - 3;
  let count = 10;
  if (opts > 0) {
    if ((opts !== 1 && opts !== 3) || !isArg(argv[3]!, 'FULL')) return subcommandSyntaxError(c, argv);
    if (opts === 3) {
      if (!isArg(argv[4]!, 'COUNT')) return subcommandSyntaxError(c, argv);
      const n = parseInteger(argv[5]!);
      if (n === null) return c.error(ERR.notInteger);
      count = n < 0 ? 10 : n;
    }
  }
  replyStreamHeader(c, s, opts > 0);
  if (opts > 0) return replyFull(c, s, count);
  c.reply.bulk('groups');
  c.reply.int(s.groups.size);
  c.reply.bulk('first-entry');
  replyEdgeEntry(c, s, false);
  c.reply.bulk('last-entry');
  replyEdgeEntry(c, s, true);
}

function replyLag(c: Client, s: StreamValue, g: ConsumerGroup): void {
  const lag = s.groupLag(g);
  if (lag === null) c.reply.nullBulk();
  else c.reply.int(lag);
}

/** Up to count (0 = all) items of a list. */
function firstN<T>(items: Iterable<T>, count: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (count > 0 && out.length >= count) break;
    out.push(item);
  }
  return out;
}

function replyFull(c: Client, s: StreamValue, count: number): void {
  c.reply.bulk('entries');
  replyEntries(c, collectRange(s, ID_ZERO, ID_MAX, false, count));
  c.reply.bulk('groups');
  const groups = s.sortedGroups();
  c.reply.arrayHeader(groups.length);
  for (const g of groups) replyFullGroup(c, s, g, count);
}

function replyFullGroup(c: Client, s: StreamValue, g: ConsumerGroup, count: number): void {
  c.reply.mapHeader(7);
  c.reply.bulk('name');
  c.reply.bulk(g.name);
  c.reply.bulk('last-delivered-id');
  c.reply.bulk(formatId(g.lastId));
  c.reply.bulk('entries-read');
  replyEntriesRead(c, g);
  c.reply.bulk('lag');
  replyLag(c, s, g);
  c.reply.bulk('pel-count');
  c.reply.int(g.pel.size);
  c.reply.bulk('pending');
  const pending = firstN(g.pel.from(0n), count);
  c.reply.arrayHeader(pending.length);
  for (const [id, nack] of pending) {
    c.reply.arrayHeader(4);
    c.reply.bulk(formatId(id));
    c.reply.bulk(nack.consumer?.name ?? '');
    c.reply.int(nack.deliveryTime);
    c.reply.int(nack.deliveryCount);
  }
  c.reply.bulk('consumers');
  const consumers = g.sortedConsumers();
  c.reply.arrayHeader(consumers.length);
  for (const k of consumers) {
    c.reply.mapHeader(4);
    c.reply.bulk('name');
    c.reply.bulk(k.name);
    c.reply.bulk('seen-time');
    c.reply.int(k.seenTime);
    c.reply.bulk('pel-count');
    c.reply.int(k.pel.size);
    c.reply.bulk('pending');
    const mine = firstN(k.pel.from(0n), count);
    c.reply.arrayHeader(mine.length);
    for (const [id, nack] of mine) {
      c.reply.arrayHeader(3);
      c.reply.bulk(formatId(id));
      c.reply.int(nack.deliveryTime);
      c.reply.int(nack.deliveryCount);
    }
  }
}

function xinfoGroups(c: Client, argv: string[]): void {
  const s = infoStream(c, argv);
  if (s === null) return;
  const groups = s.sortedGroups();
  c.reply.arrayHeader(groups.length);
  for (const g of groups) {
    c.reply.mapHeader(6);
    c.reply.bulk('name');
    c.reply.bulk(g.name);
    c.reply.bulk('consumers');
    c.reply.int(g.consumers.size);
    c.reply.bulk('pending');
    c.reply.int(g.pel.size);
    c.reply.bulk('last-delivered-id');
    c.reply.bulk(formatId(g.lastId));
    c.reply.bulk('entries-read');
    replyEntriesRead(c, g);
    c.reply.bulk('lag');
    replyLag(c, s, g);
  }
}

function xinfoConsumers(c: Client, argv: string[]): void {
  const s = infoStream(c, argv);
  if (s === null) return;
  const g = s.groups.get(argv[3]!);
  if (g === undefined) return c.error(`NOGROUP No such consumer group '${argv[3]}' for key name '${argv[2]}'`);
  const now = c.server.nowMs();
  const consumers = g.sortedConsumers();
  c.reply.arrayHeader(consumers.length);
  for (const k of consumers) {
    c.reply.mapHeader(3);
    c.reply.bulk('name');
    c.reply.bulk(k.name);
    c.reply.bulk('pending');
    c.reply.int(k.pel.size);
    c.reply.bulk('idle');
    c.reply.int(Math.max(0, now - k.seenTime));
  }
}

function xinfoSub(name: string, arity: number, syntax: string, summary: string, complexity: string, handler: Handler): CommandSpec {
  return {
    name, arity, flags: ['readonly'], keys: [{ kind: 'range', first: 2, last: 2, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'stream', since: '5.0.0', summary, complexity, syntax, handler, tips: ['nondeterministic_output'],
  };
}

export const STREAM_INFO_COMMANDS: CommandSpec[] = [
  {
    name: 'xinfo', arity: -2, flags: [], group: 'stream', since: '5.0.0',
    summary: 'A container for stream introspection commands', complexity: 'Depends on subcommand.',
    subcommands: [
      xinfoSub('consumers', 4, 'key groupname', 'List the consumers in a consumer group', 'O(1)', xinfoConsumers),
      xinfoSub('groups', 3, 'key', 'List the consumer groups of a stream', 'O(1)', xinfoGroups),
      xinfoSub('stream', -3, 'key [FULL [COUNT count]]', 'Get information about a stream',
        'O(1)', xinfoStream),
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'stream', since: '5.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
        handler: (c) => replyHelp(c, 'xinfo', XINFO_HELP),
      },
    ],
  },
];
