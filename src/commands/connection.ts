import type { CommandSpec } from './types.js';
import { ERR, parseInteger } from './util.js';

/** Connection group: PING, ECHO, QUIT, SELECT (HELLO, AUTH, CLIENT, RESET live in server-side modules). */
export const connectionCommands: CommandSpec[] = [
  {
    name: 'ping',
    arity: -1,
    flags: ['fast'],
    group: 'connection',
    since: '1.0.0',
    summary: 'Returns the server\'s liveliness response.',
    complexity: 'O(1)',
    syntax: '[message]',
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
    handler(c, argv) {
      if (argv.length > 2) {
        c.error("ERR wrong number of arguments for 'ping' command");
        return;
      }
      if (c.inSubscribedMode()) {
        c.reply.arrayHeader(2);
        c.reply.bulk('pong');
        c.reply.bulk(argv.length === 2 ? argv[1]! : '');
        return;
      }
      if (argv.length === 2) c.reply.bulk(argv[1]!);
      else c.reply.status('PONG');
    },
  },
  {
    name: 'echo',
    arity: 2,
    flags: ['fast'],
    group: 'connection',
    since: '1.0.0',
    summary: 'Returns the given string.',
    complexity: 'O(1)',
    syntax: 'message',
    handler(c, argv) {
      c.reply.bulk(argv[1]!);
    },
  },
  {
    name: 'quit',
    arity: -1,
    flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'],
    group: 'connection',
    since: '1.0.0',
    summary: 'Closes the connection.',
    complexity: 'O(1)',
    docFlags: ['deprecated'],
    deprecatedSince: '7.2.0',
    replacedBy: 'just closing the connection',
    handler(c) {
      c.reply.ok();
      c.closeAfterReply = true;
    },
  },
  {
    name: 'select',
    arity: 2,
    flags: ['loading', 'stale', 'fast'],
    group: 'connection',
    since: '1.0.0',
    summary: 'Changes the selected database.',
    complexity: 'O(1)',
    syntax: 'index',
    handler(c, argv) {
      const index = parseInteger(argv[1]!);
      if (index === null) {
        c.error(ERR.notInteger);
        return;
      }
      if (c.server.cluster !== null && index !== 0) {
        c.error('ERR SELECT is not allowed in cluster mode');
        return;
      }
      if (index < 0 || index >= c.server.keyspace.count) {
        c.error(ERR.dbIndex);
        return;
      }
      c.db = c.server.keyspace.db(index);
      c.reply.ok();
    },
  },
];
