import type { Client } from '../server/client.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg, parseInteger } from './util.js';

/**
 * CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: a subcommand spec for
 * src/commands/client.ts to list among CLIENT's subcommands. Replies 1 when
 * the client was blocked (it then gets a timeout's null, or -UNBLOCKED).
 */
function clientUnblock(c: Client, argv: string[]): void {
  if (argv.length > 4) {
    return c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try CLIENT HELP.`);
  }
  let reason: 'timeout' | 'error' = 'timeout';
  if (argv.length === 4) {
    if (isArg(argv[3]!, 'ERROR')) reason = 'error';
    else if (!isArg(argv[3]!, 'TIMEOUT')) return c.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  }
  const id = parseInteger(argv[2]!);
  if (id === null) return c.error(ERR.notInteger);
  const target = c.server.clients.get(id);
  c.reply.int(target !== undefined && c.server.blocking.unblock(target, reason) ? 1 : 0);
}

export const clientUnblockSpec: CommandSpec = {
  name: 'unblock',
  arity: -3,
  flags: ['admin', 'noscript', 'loading', 'stale', 'sentinel'],
  group: 'connection',
  since: '5.0.0',
  summary: 'Unblock a client blocked in a blocking command from a different connection',
  complexity: 'O(log N) where N is the number of client connections',
  syntax: 'client-id [TIMEOUT | ERROR]',
  handler: clientUnblock,
};
