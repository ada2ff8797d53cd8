import { PersistenceError } from '../persistence/persistence.js';
import type { Client } from '../server/client.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg } from './util.js';

/** SAVE, BGSAVE and BGREWRITEAOF (src/persistence/); LASTSAVE lives with the server commands. */

function persistenceOf(c: Client) {
  const p = c.server.persistence;
  if (p === null) c.error('ERR persistence is not available on this node');
  return p;
}

/** SAVE: a snapshot written synchronously (dbfilename). */
function save(c: Client): void {
  const p = persistenceOf(c);
  if (p === null) return;
  if (p.jobKind === 'save') return c.error('ERR Background save already in progress');
  try {
    p.saveNow();
  } catch (err) {
    c.server.log.error({ err }, 'SAVE failed');
    return c.error(err instanceof PersistenceError ? `ERR ${err.message}` : 'ERR');
  }
  c.reply.ok();
}

/** BGSAVE [SCHEDULE] */
function bgsave(c: Client, argv: string[]): void {
  if (argv.length > 2 || (argv.length === 2 && !isArg(argv[1]!, 'SCHEDULE'))) return c.error(ERR.syntax);
  const p = persistenceOf(c);
  if (p === null) return;
  const why = p.startJob('save');
  if (why === null) return c.reply.status('Background saving started');
  if (why === 'already') return c.error('ERR Background save already in progress');
  if (argv.length === 2) {
    p.schedule('save');
    return c.reply.status('Background saving scheduled');
  }
  c.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
}

/** BGREWRITEAOF */
function bgrewriteaof(c: Client): void {
  const p = persistenceOf(c);
  if (p === null) return;
  const why = p.startJob('rewrite');
  if (why === null) return c.reply.status('Background append only file rewriting started');
  if (why === 'already') return c.error('ERR Background append only file rewriting already in progress');
  p.schedule('rewrite');
  c.reply.status('Background append only file rewriting scheduled');
}

const FLAGS = ['admin', 'noscript', 'no_async_loading', 'no_multi'] as const;

export const persistenceCommands: CommandSpec[] = [
  {
    name: 'save', arity: 1, flags: [...FLAGS], group: 'server', since: '1.0.0', acl: ['dangerous'],
    summary: 'Synchronously saves the database(s) to disk.', complexity: 'O(N) where N is the total number of keys in all databases',
    handler: save,
  },
  {
    name: 'bgsave', arity: -1, flags: [...FLAGS], group: 'server', since: '1.0.0', acl: ['dangerous'],
    summary: 'Asynchronously saves the database(s) to disk.', complexity: 'O(1)', syntax: '[SCHEDULE]',
    handler: bgsave,
  },
  {
    name: 'bgrewriteaof', arity: 1, flags: [...FLAGS], group: 'server', since: '1.0.0', acl: ['dangerous'],
    summary: 'Asynchronously rewrites the append-only file to disk.', complexity: 'O(1)',
    handler: bgrewriteaof,
  },
];
