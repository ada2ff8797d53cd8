import type { Client } from '../server/client.js';
import { docArguments, type DocArg } from './docargs.js';
import { helpSubcommand, sub } from './help.js';
import { keyPositions, legacyKeyRange } from './table.js';
import type { Command, CommandFlag, CommandSpec, KeyFlag, KeySpec } from './types.js';
import { ERR, globMatch, isArg } from './util.js';

/** Flags COMMAND INFO shows, in Redis's order (may_replicate, sentinel, only_sentinel are hidden on purpose). */
const SHOWN_FLAGS: CommandFlag[] = [
  'write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading', 'no_multi',
  'movablekeys', 'allow_busy',
];
const KEY_FLAG_ORDER: KeyFlag[] = ['RO', 'RW', 'OW', 'RM', 'ACCESS', 'UPDATE', 'INSERT', 'DELETE', 'NOT_KEY', 'INCOMPLETE'];

function commandFlags(cmd: Command): string[] {
  const flags = new Set<string>(cmd.spec.flags);
  if (cmd.spec.keys?.some((k) => k.kind !== 'range')) flags.add('movablekeys');
  return SHOWN_FLAGS.filter((f) => flags.has(f));
}

/** Key flags as Redis prints them: RO/RW/OW/RM upper case, the rest lower case. */
function keyFlagNames(flags: readonly KeyFlag[] | undefined): string[] {
  const set = new Set(flags ?? []);
  return KEY_FLAG_ORDER.filter((f) => set.has(f)).map((f) => (f.length === 2 ? f : f.toLowerCase()));
}

function statusSet(c: Client, items: readonly string[]): void {
  c.reply.setHeader(items.length);
  for (const s of items) c.reply.status(s);
}

/** A small map of name -> integer. */
function intMap(c: Client, pairs: [string, number][]): void {
  c.reply.mapHeader(pairs.length);
  for (const [k, v] of pairs) {
    c.reply.bulk(k);
    c.reply.int(v);
  }
}

/** {type, spec} of a key spec's begin_search and find_keys parts. */
function searchPart(c: Client, type: string, spec: [string, number][]): void {
  c.reply.mapHeader(2);
  c.reply.bulk('type');
  c.reply.bulk(type);
  c.reply.bulk('spec');
  intMap(c, spec);
}

function replyKeySpec(c: Client, ks: KeySpec): void {
  c.reply.mapHeader(3);
  c.reply.bulk('flags');
  statusSet(c, keyFlagNames(ks.flags));
  c.reply.bulk('begin_search');
  if (ks.kind === 'range') searchPart(c, 'index', [['index', ks.first]]);
  else if (ks.kind === 'keynum') searchPart(c, 'index', [['index', ks.keynumIndex]]);
  else searchPart(c, 'unknown', []);
  c.reply.bulk('find_keys');
  if (ks.kind === 'range') {
    searchPart(c, 'range', [['lastkey', ks.last >= 0 ? ks.last - ks.first : ks.last], ['keystep', ks.step], ['limit', 0]]);
  } else if (ks.kind === 'keynum') {
    searchPart(c, 'keynum', [['keynumidx', 0], ['firstkey', ks.firstKey - ks.keynumIndex], ['keystep', ks.step]]);
  } else searchPart(c, 'unknown', []);
}

/** addReplyCommandInfo: [name, arity, flags, first, last, step, categories, tips, key specs, subcommands]. */
function replyCommandInfo(c: Client, cmd: Command | undefined): void {
  if (cmd === undefined) return c.reply.nullBulk();
  const [first, last, step] = legacyKeyRange(cmd);
  c.reply.arrayHeader(10);
  c.reply.bulk(cmd.fullName);
  c.reply.int(cmd.arity);
  statusSet(c, commandFlags(cmd));
  c.reply.int(first);
  c.reply.int(last);
  c.reply.int(step);
  statusSet(c, cmd.aclCategories.map((a) => `@${a}`));
  c.reply.setHeader(cmd.spec.tips?.length ?? 0);
  for (const t of cmd.spec.tips ?? []) c.reply.bulk(t);
  c.reply.setHeader(cmd.spec.keys?.length ?? 0);
  for (const ks of cmd.spec.keys ?? []) replyKeySpec(c, ks);
  const subs = cmd.subcommands ? [...cmd.subcommands.values()] : [];
  if (subs.length === 0) return c.reply.setHeader(0);
  c.reply.arrayHeader(subs.length);
  for (const s of subs) replyCommandInfo(c, s);
}

function replyDocArgs(c: Client, args: readonly DocArg[]): void {
  c.reply.arrayHeader(args.length);
  for (const a of args) {
    const fields: [string, (() => void)][] = [['name', () => c.reply.bulk(a.name)], ['type', () => c.reply.bulk(a.type)]];
    if (a.keySpecIndex !== undefined) fields.push(['key_spec_index', () => c.reply.int(a.keySpecIndex!)]);
    if (a.token) fields.push(['token', () => c.reply.bulk(a.token!)]);
    if (a.flags.length) fields.push(['flags', () => statusSet(c, a.flags)]);
    if (a.arguments) fields.push(['arguments', () => replyDocArgs(c, a.arguments!)]);
    replyFields(c, fields);
  }
}

function replyFields(c: Client, fields: [string, () => void][]): void {
  c.reply.mapHeader(fields.length);
  for (const [k, write] of fields) {
    c.reply.bulk(k);
    write();
  }
}

/** addReplyCommandDocs: summary, since, group, complexity, doc_flags, deprecated_since, replaced_by, arguments, subcommands. */
function replyCommandDocs(c: Client, cmd: Command): void {
  const s = cmd.spec;
  const fields: [string, () => void][] = [];
  const text = (k: string, v: string | undefined): void => {
    if (v !== undefined) fields.push([k, () => c.reply.bulk(v)]);
  };
  text('summary', s.summary);
  text('since', s.since);
  text('group', s.group);
  text('complexity', s.complexity);
  if (s.docFlags?.length) fields.push(['doc_flags', () => statusSet(c, s.docFlags!)]);
  text('deprecated_since', s.deprecatedSince);
  text('replaced_by', s.replacedBy);
  if (s.syntax) fields.push(['arguments', () => replyDocArgs(c, docArguments(s.syntax!))]);
  if (cmd.subcommands) {
    const subs = [...cmd.subcommands.values()];
    fields.push(['subcommands', () => {
      c.reply.mapHeader(subs.length);
      for (const x of subs) {
        c.reply.bulk(x.fullName);
        replyCommandDocs(c, x);
      }
    }]);
  }
  replyFields(c, fields);
}

/** lookupCommandBySds: "get" or "config|get"; undefined when any part is unknown. */
function lookupByFullName(c: Client, name: string): Command | undefined {
  const parts = name.split('|');
  if (parts.length > 2) return undefined;
  const top = c.server.commands.lookupTop(parts[0]!);
  if (parts.length === 1 || top === undefined) return top;
  return top.subcommands?.get(parts[1]!.toLowerCase());
}

/** Every command and subcommand, parents before their subcommands. */
function allCommands(c: Client): Command[] {
  const out: Command[] = [];
  for (const top of c.server.commands.topLevel()) {
    out.push(top);
    if (top.subcommands) out.push(...top.subcommands.values());
  }
  return out;
}

/** COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pattern] */
function commandList(c: Client, argv: string[]): void {
  let filter: (cmd: Command) => boolean = () => true;
  if (argv.length !== 2) {
    if (argv.length !== 5 || !isArg(argv[2]!, 'FILTERBY')) return c.error(ERR.syntax);
    const arg = argv[4]!;
    const kind = argv[3]!;
    if (isArg(kind, 'MODULE')) filter = () => false;
    else if (isArg(kind, 'ACLCAT')) filter = (cmd) => cmd.aclCategories.includes(arg.toLowerCase());
    else if (isArg(kind, 'PATTERN')) filter = (cmd) => globMatch(arg, cmd.fullName, true);
    else return c.error(ERR.syntax);
  }
  c.reply.bulkArray(allCommands(c).filter(filter).map((cmd) => cmd.fullName));
}

/** COMMAND GETKEYS / GETKEYSANDFLAGS command arg ... */
function getKeys(c: Client, argv: string[], withFlags: boolean): void {
  const args = argv.slice(2);
  let cmd = c.server.commands.lookup(args);
  if (cmd?.subcommands && args.length < 2) cmd = undefined;
  if (cmd === undefined) return c.error('ERR Invalid command specified');
  const specs = cmd.spec.keys ?? [];
  if (specs.length === 0) return c.error('ERR The command has no key arguments');
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) {
    return c.error('ERR Invalid number of arguments specified for command');
  }
  const found: [number, KeySpec][] = [];
  for (const ks of specs) {
    for (const pos of keyPositions({ ...cmd, spec: { ...cmd.spec, keys: [ks] } }, args)) found.push([pos, ks]);
  }
  if (found.length === 0 && !cmd.spec.flags.includes('no_mandatory_keys') && !specs.some((k) => k.kind === 'keynum')) {
    return c.error('ERR Invalid arguments specified for command');
  }
  c.reply.arrayHeader(found.length);
  for (const [pos, ks] of found) {
    if (!withFlags) {
      c.reply.bulk(args[pos]!);
      continue;
    }
    c.reply.arrayHeader(2);
    c.reply.bulk(args[pos]!);
    statusSet(c, keyFlagNames(ks.flagsFor?.(args) ?? ks.flags));
  }
}

const COMMAND_HELP = [
  '(no subcommand)', '    Return details about all Redis commands.',
  'COUNT', '    Return the total number of commands in this Redis server.',
  'LIST', '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]', '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all', '    commands are returned.',
  'DOCS [<command-name> ...]', '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all', '    commands are returned.',
  'GETKEYS <full-command>', '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>', '    Return the keys and the access flags from a full Redis command.',
];

function allInfo(c: Client): void {
  const tops = c.server.commands.topLevel();
  c.reply.arrayHeader(tops.length);
  for (const cmd of tops) replyCommandInfo(c, cmd);
}

function docs(c: Client, argv: string[]): void {
  const cmds = argv.length === 2
    ? c.server.commands.topLevel()
    : argv.slice(2).map((n) => lookupByFullName(c, n)).filter((x): x is Command => x !== undefined);
  c.reply.mapHeader(cmds.length);
  for (const cmd of cmds) {
    c.reply.bulk(cmd.fullName);
    replyCommandDocs(c, cmd);
  }
}

const FLAGS: CommandFlag[] = ['loading', 'stale'];
const meta = (since: string, summary: string, complexity: string, syntax?: string) => ({
  since, summary, complexity, syntax, tips: ['nondeterministic_output_order'],
});

/** COMMAND and its subcommands: generated from the command table. */
export const introspectionCommands: CommandSpec[] = [
  {
    name: 'command', arity: -1, flags: ['loading', 'stale'], group: 'server', since: '2.8.13',
    summary: 'Returns detailed information about all commands.', complexity: 'O(N) where N is the total number of Redis commands',
    tips: ['nondeterministic_output_order'],
    handler: allInfo,
    subcommands: [
      sub('count', 2, FLAGS, { since: '2.8.13', summary: 'Returns a count of commands.', complexity: 'O(1)' },
        (c) => c.reply.int(c.server.commands.topLevelCount)),
      sub('list', -2, FLAGS, meta('7.0.0', 'Returns a list of command names.', 'O(N) where N is the total number of Redis commands',
        '[FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]'), commandList),
      sub('info', -2, FLAGS, meta('2.8.13', 'Returns information about one, multiple or all commands.',
        'O(N) where N is the number of commands to look up', '[command-name [command-name ...]]'), (c, argv) => {
        if (argv.length === 2) return allInfo(c);
        c.reply.arrayHeader(argv.length - 2);
        for (const n of argv.slice(2)) replyCommandInfo(c, lookupByFullName(c, n));
      }),
      sub('docs', -2, FLAGS, meta('7.0.0', 'Returns documentary information about one, multiple or all commands.',
        'O(N) where N is the number of commands to look up', '[command-name [command-name ...]]'), docs),
      sub('getkeys', -3, FLAGS, { since: '2.8.13', summary: 'Extracts the key names from an arbitrary command.',
        complexity: 'O(N) where N is the number of arguments to the command', syntax: 'command [arg [arg ...]]' },
      (c, argv) => getKeys(c, argv, false)),
      sub('getkeysandflags', -3, FLAGS, { since: '7.0.0', summary: 'Extracts the key names and access flags for an arbitrary command.',
        complexity: 'O(N) where N is the number of arguments to the command', syntax: 'command [arg [arg ...]]' },
      (c, argv) => getKeys(c, argv, true)),
      helpSubcommand('command', COMMAND_HELP, '5.0.0'),
    ],
  },
];
