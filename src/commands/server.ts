import type { Client } from '../server/client.js';
import { debugCommand } from './debug.js';
import { helpSubcommand, sub } from './help.js';
import { infoText, selectSections } from './info.js';
import { memoryCommand } from './memory.js';
import type { CommandSpec } from './types.js';
import { ERR, globMatch, isArg, parseInteger } from './util.js';

/** INFO [section ...] */
function info(c: Client, argv: string[]): void {
  c.reply.verbatim(infoText(c.server, selectSections(argv.slice(1))));
}

/** CONFIG GET parameter [parameter ...]: a map of matching options. */
function configGet(c: Client, argv: string[]): void {
  const pairs = c.server.config.matching(argv.slice(2), (p, s) => globMatch(p, s, true));
  c.reply.mapHeader(pairs.length);
  for (const [k, v] of pairs) {
    c.reply.bulk(k);
    c.reply.bulk(v);
  }
}

/** A client connected over loopback (enable-protected-configs local). */
function isLocal(c: Client): boolean {
  return /^(127\.|::1|::ffff:127\.)/.test(c.remoteAddress) || c.remoteAddress.startsWith('[::1]');
}

/** CONFIG SET parameter value [parameter value ...]: all or nothing. */
function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0) return c.error(ERR.syntax);
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i]!, argv[i + 1]!]);
  const config = c.server.config;
  const failure = config.setAll(pairs, config.allowsProtected(isLocal(c)));
  if (failure === null) return c.reply.ok();
  if (failure.reason === null) return c.error(`ERR Unknown option or number of arguments for CONFIG SET - '${failure.arg}'`);
  c.error(`ERR CONFIG SET failed (possibly related to argument '${failure.arg}') - ${failure.reason}`);
}

/** CONFIG REWRITE: the config file with the running values. */
function configRewrite(c: Client): void {
  const config = c.server.config;
  const file = config.file || c.server.runtime.process.configFile;
  if (!file) return c.error('ERR The server is running without a config file');
  const disk = c.server.runtime.disk;
  try {
    const old = disk.exists(file) ? disk.readFile(file).toString('utf8') : '';
    disk.writeFileAtomic(file, config.render(old));
  } catch (err) {
    c.server.log.warn({ err, file }, 'CONFIG REWRITE failed');
    return c.error(`ERR Rewriting config file: ${(err as Error).message}`);
  }
  c.server.log.info('CONFIG REWRITE executed with success.');
  c.reply.ok();
}

/** CONFIG RESETSTAT: zeroes INFO stats, commandstats and errorstats. */
function configResetStat(c: Client): void {
  const s = c.server;
  s.stats.reset(s.commands.all.length);
  c.reply.ok();
}

const CONFIG_HELP = [
  'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>', '    Set the configuration <directive> to <value>.',
  'RESETSTAT', '    Reset statistics reported by the INFO command.',
  'REWRITE', '    Rewrite the configuration file.',
];

/** SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] */
function shutdown(c: Client, argv: string[]): void {
  let save = false;
  let nosave = false;
  let abort = false;
  let force = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (isArg(a, 'NOSAVE')) nosave = true;
    else if (isArg(a, 'SAVE')) save = true;
    else if (isArg(a, 'ABORT')) abort = true;
    else if (isArg(a, 'FORCE')) force = true;
    else if (!isArg(a, 'NOW')) return c.error(ERR.syntax);
  }
  if ((abort && argv.length > 2) || (save && nosave)) return c.error(ERR.syntax);
  if (abort) return c.error('ERR No shutdown in progress.');
  c.server.log.warn({ client: c.remoteAddress }, 'User requested shutdown...');
  if (!c.server.requestShutdown(save ? 'save' : nosave ? 'nosave' : 'default', force)) c.error('ERR Errors trying to SHUTDOWN. Check logs.');
}

/** SLOWLOG GET [count]: [id, time, duration, args, peer, name] per entry, newest first. */
function slowlogGet(c: Client, argv: string[]): void {
  let count = 10;
  if (argv.length === 3) {
    const n = parseInteger(argv[2]!);
    if (n === null || n < -1) return c.error('ERR count should be greater than or equal to -1');
    count = n === -1 ? Infinity : n;
  }
  const entries = c.server.slowlog.entries.slice(0, count);
  c.reply.arrayHeader(entries.length);
  for (const e of entries) {
    c.reply.arrayHeader(6);
    c.reply.int(e.id);
    c.reply.int(e.timestampSec);
    c.reply.int(e.durationUs);
    c.reply.bulkArray(e.argv);
    c.reply.bulk(e.peer);
    c.reply.bulk(e.clientName);
  }
}

const SLOWLOG_HELP = [
  'GET [<count>]', '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:', '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name', 'LEN', '    Return the length of the slowlog.', 'RESET', '    Reset the slowlog.',
];

/** MONITOR: from now on this client receives every command the server runs. */
function monitor(c: Client): void {
  if (c.monitor) return;
  c.monitor = true;
  c.server.clients.monitors.add(c);
  c.reply.ok();
}

const ADMIN: CommandSpec['flags'] = ['admin', 'noscript', 'loading', 'stale'];
const srv = (since: string, summary: string, extra: { syntax?: string; complexity?: string; tips?: string[] } = {}) => ({
  since, summary, complexity: 'O(1)', ...extra,
});

const configSubcommands: CommandSpec[] = [
  sub('get', -3, ADMIN, srv('2.0.0', 'Returns the effective values of configuration parameters.', {
    syntax: 'parameter [parameter ...]', complexity: 'O(N) when N is the number of configuration parameters provided',
  }), configGet),
  sub('set', -4, [...ADMIN, 'may_replicate'], srv('2.0.0', 'Sets configuration parameters in-flight.', {
    syntax: 'parameter value [parameter value ...]', complexity: 'O(N) when N is the number of configuration parameters provided',
    tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  }), configSet),
  sub('resetstat', 2, ADMIN, srv('2.0.0', 'Resets the server\'s statistics.', {
    tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  }), configResetStat),
  sub('rewrite', 2, ADMIN, srv('2.8.0', 'Persists the effective configuration to file.', {
    tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  }), configRewrite),
  helpSubcommand('config', CONFIG_HELP, '5.0.0'),
];

const slowlogSubcommands: CommandSpec[] = [
  sub('get', -2, ['admin', 'loading', 'stale'], srv('2.2.12', 'Returns the slow log\'s entries.', {
    syntax: '[count]', complexity: 'O(N) where N is the number of entries returned',
    tips: ['request_policy:all_nodes', 'nondeterministic_output'],
  }), (c, argv) => (argv.length > 3 ? c.error("ERR wrong number of arguments for 'slowlog|get' command") : slowlogGet(c, argv))),
  sub('len', 2, ['admin', 'loading', 'stale'], srv('2.2.12', 'Returns the number of entries in the slow log.', {
    tips: ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'],
  }), (c) => c.reply.int(c.server.slowlog.entries.length)),
  sub('reset', 2, ['admin', 'loading', 'stale'], srv('2.2.12', 'Clears all entries from the slow log.', {
    complexity: 'O(N) where N is the number of entries in the slowlog',
    tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  }), (c) => {
    c.server.slowlog.reset();
    c.reply.ok();
  }),
  helpSubcommand('slowlog', SLOWLOG_HELP, '6.2.0'),
];

/** Server group commands: INFO, CONFIG, TIME, LASTSAVE, SHUTDOWN, SLOWLOG, MONITOR, MEMORY, DEBUG. */
export const serverCommands: CommandSpec[] = [
  {
    ...srv('1.0.0', 'Returns information and statistics about the server.', {
      syntax: '[section [section ...]]', tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
    }),
    name: 'info', arity: -1, flags: ['loading', 'stale'], group: 'server', acl: ['dangerous'], handler: info,
  },
  {
    name: 'config', arity: -2, flags: [], group: 'server', since: '2.0.0',
    summary: 'A container for server configuration commands.', complexity: 'Depends on subcommand.',
    subcommands: configSubcommands,
  },
  {
    ...srv('2.6.0', 'Returns the server time.', { tips: ['nondeterministic_output'] }),
    name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], group: 'server',
    handler(c) {
      const us = c.server.runtime.clock.nowUs();
      c.reply.bulkArray([String(Math.floor(us / 1e6)), String(us % 1e6)]);
    },
  },
  {
    ...srv('1.0.0', 'Returns the Unix timestamp of the last successful save to disk.', { tips: ['nondeterministic_output'] }),
    name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], group: 'server', acl: ['admin', 'dangerous'],
    handler: (c) => c.reply.int(c.server.lastSaveSec),
  },
  {
    ...srv('1.0.0', 'Synchronously saves the database(s) to disk and shuts down the Redis server.', {
      syntax: '[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]', complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)',
    }),
    name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'sentinel', 'allow_busy'],
    group: 'server', handler: shutdown,
  },
  {
    name: 'slowlog', arity: -2, flags: [], group: 'server', since: '2.2.12',
    summary: 'A container for slow log commands.', complexity: 'Depends on subcommand.',
    subcommands: slowlogSubcommands,
  },
  {
    ...srv('1.0.0', 'Listens for all requests received by the server in real-time.'),
    name: 'monitor', arity: 1, flags: ['admin', 'noscript', 'loading', 'stale'], group: 'server', handler: monitor,
  },
  memoryCommand,
  debugCommand,
];
