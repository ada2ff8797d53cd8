import type { Client } from '../server/client.js';
import { Transaction } from '../server/multi.js';
import type { CommandFlag, CommandSpec } from './types.js';

/**
 * Transactions (multi.c): MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queueing
 * happens in Server.call; the WATCH registry and the EXEC runner live in
 * src/server/multi.ts.
 */

const FLAGS: CommandFlag[] = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];

function multi(c: Client): void {
  if (c.multi !== null) return c.error('ERR MULTI calls can not be nested');
  c.multi = new Transaction();
  c.reply.ok();
}

function exec(c: Client): void {
  if (c.multi === null) return c.error('ERR EXEC without MULTI');
  c.server.transactions.exec(c, c.multi);
}

function discard(c: Client): void {
  if (c.multi === null) return c.error('ERR DISCARD without MULTI');
  c.server.transactions.discard(c);
  c.reply.ok();
}

function watch(c: Client, argv: string[]): void {
  if (c.multi !== null) return c.error('ERR WATCH inside MULTI is not allowed');
  // A client already dirty will fail its EXEC anyway: no point in watching more.
  if (!c.dirtyCas) for (let i = 1; i < argv.length; i++) c.server.transactions.watch(c, argv[i]!);
  c.reply.ok();
}

function unwatch(c: Client): void {
  c.server.transactions.unwatchAll(c);
  c.dirtyCas = false;
  c.reply.ok();
}

export const multiCommands: CommandSpec[] = [
  {
    name: 'multi', arity: 1, flags: FLAGS, group: 'transactions', since: '1.2.0',
    summary: 'Starts a transaction.', complexity: 'O(1)', handler: multi,
  },
  {
    name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], group: 'transactions', since: '1.2.0',
    summary: 'Executes all commands in a transaction.', complexity: 'Depends on commands in the transaction', handler: exec,
  },
  {
    name: 'discard', arity: 1, flags: FLAGS, group: 'transactions', since: '2.0.0',
    summary: 'Discards a transaction.', complexity: 'O(N), when N is the number of queued commands', handler: discard,
  },
  {
    name: 'watch', arity: -2, flags: FLAGS, group: 'transactions', since: '2.2.0',
    keys: [{ kind: 'range', first: 1, last: -1, step: 1, flags: ['RO'] }],
    summary: 'Monitors changes to keys to determine the execution of a transaction.', complexity: 'O(1) for every key.',
    syntax: 'key [key ...]', handler: watch,
  },
  {
    name: 'unwatch', arity: 1, flags: FLAGS, group: 'transactions', since: '2.2.0',
    summary: 'Forgets about watched keys of a transaction.', complexity: 'O(1)', handler: unwatch,
  },
];
