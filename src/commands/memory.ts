import type { ProcessInfo } from '../runtime/index.js';
import type { Client } from '../server/client.js';
import type { Entry } from '../store/entry.js';
import { helpSubcommand, sub } from './help.js';
import { bytesToHuman } from './info.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg, parseInteger } from './util.js';

/** Per-key and per-element overheads (dict entry, object header) as Redis's MEMORY USAGE counts them roughly. */
const KEY_OVERHEAD = 24;
const OBJECT_OVERHEAD = 16;
const ELEMENT_OVERHEAD = 16;
const MAX_DEPTH = 4;

/**
 * Estimated bytes of a value: strings by length, collections by sampling
 * `samples` elements (0 = all) and extrapolating, as objectComputeSize does.
 */
export function estimateSize(value: unknown, samples: number, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return 8;
  if (value === null || value === undefined || typeof value !== 'object' || depth > MAX_DEPTH) return 0;
  const { items, n } = sampleOf(value, samples);
  const take = items.length;
  let sum = 0;
  for (let i = 0; i < take; i++) sum += ELEMENT_OVERHEAD + estimateSize(items[i], samples, depth + 1);
  return take === 0 ? 0 : Math.round((sum / take) * n);
}

/**
 * The first `samples` elements (0: all) of a collection and how many it
 * holds. A sized iterable is read only as far as the sample: spreading a
 * 10-million-element set to look at five of them stalled the server (and
 * every eviction of such a key) for seconds.
 */
function sampleOf(value: object, samples: number): { items: unknown[]; n: number } {
  const sized = value as { size?: unknown; length?: unknown };
  const n = typeof sized.size === 'number' ? sized.size : typeof sized.length === 'number' ? sized.length : -1;
  if (n < 0 || !(Symbol.iterator in value)) {
    const all = Object.values(value);
    return { items: samples <= 0 ? all : all.slice(0, samples), n: all.length };
  }
  const want = samples <= 0 ? n : Math.min(n, samples);
  const items: unknown[] = [];
  for (const item of value as Iterable<unknown>) {
    if (items.length >= want) break;
    items.push(item);
  }
  return { items, n };
}

/** Elements MEMORY USAGE samples per collection unless told otherwise (Redis's default). */
export const DEFAULT_SAMPLES = 5;

/**
 * An entry left the keyspace for good (deleted, evicted): used_memory drops
 * by its estimated size at once, as Redis's does, though V8 frees it only at
 * its next major GC. Returns the bytes counted.
 */
export function releaseEntry(process: ProcessInfo, e: Entry): number {
  const bytes = entryBytes(e.key, e.value, DEFAULT_SAMPLES);
  process.released(bytes);
  return bytes;
}

/** What MEMORY USAGE reports for an entry (eviction counts what it frees with it too). */
export function entryBytes(key: string, value: unknown, samples: number): number {
  return KEY_OVERHEAD + OBJECT_OVERHEAD + key.length + estimateSize(value, samples);
}

/** MEMORY USAGE key [SAMPLES count] */
function memoryUsage(c: Client, argv: string[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let i = 3; i < argv.length; i++) {
    if (isArg(argv[i]!, 'SAMPLES') && i + 1 < argv.length) {
      const n = parseInteger(argv[++i]!);
      if (n === null || n < 0) return c.error(n === null ? ERR.notInteger : ERR.syntax);
      samples = n;
    } else return c.error(ERR.syntax);
  }
  const e = c.db.lookup(argv[2]!);
  if (e === undefined) return c.reply.nullBulk();
  c.reply.int(entryBytes(e.key, e.value, samples));
}

const EMPTY_DOCTOR = 'Hi Sam, this instance is empty or is using very little memory, my issues detector can\'t be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.';
const OK_DOCTOR = 'Hi Sam, I can\'t find any memory issue in your instance. I can only account for what occurs on this base.';

/** MEMORY STATS: Redis's field names with Strata's own measurements. */
function memoryStats(c: Client): void {
  const s = c.server;
  const used = s.runtime.process.heapUsed();
  const keys = s.keyspace.totalKeys;
  const dbs = s.keyspace.all().filter((db) => db.size > 0);
  const fields: [string, number | string][] = [
    ['peak.allocated', used], ['total.allocated', used], ['startup.allocated', 0], ['replication.backlog', 0],
    ['clients.slaves', 0], ['clients.normal', 0], ['cluster.links', 0], ['aof.buffer', 0], ['lua.caches', 0],
    ['functions.caches', 0], ['overhead.total', 0], ['keys.count', keys], ['keys.bytes-per-key', keys ? Math.floor(used / keys) : 0],
    ['dataset.bytes', used], ['dataset.percentage', '100'], ['peak.percentage', '100'], ['allocator.allocated', used],
    ['allocator.active', used], ['allocator.resident', s.runtime.process.memoryRss()], ['allocator-fragmentation.ratio', '1'],
    ['allocator-fragmentation.bytes', 0], ['allocator.rss-ratio', '1'], ['allocator.rss-bytes', 0], ['rss-overhead.ratio', '1'],
    ['rss-overhead.bytes', 0], ['fragmentation', '1'], ['fragmentation.bytes', 0],
  ];
  c.reply.mapHeader(fields.length + dbs.length);
  for (const [k, v] of fields.slice(0, 11)) statField(c, k, v);
  for (const db of dbs) {
    c.reply.bulk(`db.${db.id}`);
    c.reply.mapHeader(2);
    statField(c, 'overhead.hashtable.main', db.size * KEY_OVERHEAD);
    statField(c, 'overhead.hashtable.expires', db.expiresCount * KEY_OVERHEAD);
  }
  for (const [k, v] of fields.slice(11)) statField(c, k, v);
}

function statField(c: Client, name: string, v: number | string): void {
  c.reply.bulk(name);
  if (typeof v === 'number') c.reply.int(v);
  else c.reply.double(Number(v));
}

const MEMORY_HELP = [
  'DOCTOR', '    Return memory problems reports.',
  'MALLOC-STATS', '    Return internal statistics report from the memory allocator.',
  'PURGE', '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS', '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]', '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

const RO: CommandSpec['flags'] = ['readonly'];
const memorySubcommands: CommandSpec[] = [
  { ...sub('usage', -3, RO, { since: '4.0.0', summary: 'Estimates the memory usage of a key.', complexity: 'O(N) where N is the number of samples.', syntax: 'key [SAMPLES count]' }, memoryUsage),
    keys: [{ kind: 'range', first: 2, last: 2, step: 1, flags: ['RO'] }] },
  sub('doctor', 2, [], { since: '4.0.0', summary: 'Outputs a memory problems report.', complexity: 'O(1)', tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'] },
    (c) => c.reply.verbatim(c.server.runtime.process.heapUsed() < 5 * 1024 * 1024 || c.server.keyspace.totalKeys === 0 ? EMPTY_DOCTOR : OK_DOCTOR)),
  sub('stats', 2, [], { since: '4.0.0', summary: 'Returns details about memory usage.', complexity: 'O(1)', tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'] }, memoryStats),
  sub('malloc-stats', 2, [], { since: '4.0.0', summary: 'Returns the allocator statistics.', complexity: 'Depends on how much memory is allocated, could be slow', tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'] },
    (c) => c.reply.verbatim(`Stats not supported for the current allocator (used ${bytesToHuman(c.server.runtime.process.heapUsed())})`)),
  sub('purge', 2, [], { since: '4.0.0', summary: 'Asks the allocator to release memory.', complexity: 'Depends on how much memory is allocated, could be slow', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'] },
    // Node's allocator is V8's heap: a full collection is what returns memory, and it re-measures used_memory.
    (c) => {
      c.server.runtime.process.measureHeap();
      c.reply.ok();
    }),
  helpSubcommand('memory', MEMORY_HELP, '4.0.0'),
];

export const memoryCommand: CommandSpec = {
  name: 'memory', arity: -2, flags: [], group: 'server', since: '4.0.0',
  summary: 'A container for memory diagnostics commands.', complexity: 'Depends on subcommand.',
  subcommands: memorySubcommands,
};
