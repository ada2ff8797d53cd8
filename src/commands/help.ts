import type { Client } from '../server/client.js';
import type { CommandFlag, CommandSpec, Handler } from './types.js';

/** addReplyHelp: "<CMD> <subcommand> ... Subcommands are:", the lines, then HELP. */
export function replyHelp(c: Client, command: string, lines: readonly string[]): void {
  c.reply.arrayHeader(lines.length + 3);
  c.reply.status(`${command.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.reply.status(l);
  c.reply.status('HELP');
  c.reply.status('    Print this help.');
}

/** The HELP subcommand spec of a container command. */
export function helpSubcommand(command: string, lines: readonly string[], since: string): CommandSpec {
  return {
    name: 'help',
    arity: 2,
    flags: ['loading', 'stale'],
    group: 'server',
    since,
    summary: 'Returns helpful text about the different subcommands.',
    complexity: 'O(1)',
    handler: (c) => replyHelp(c, command, lines),
  };
}

/** Shorthand for a subcommand spec (keeps the tables readable). */
export function sub(
  name: string,
  arity: number,
  flags: CommandFlag[],
  meta: { since: string; summary: string; complexity?: string; syntax?: string; group?: CommandSpec['group']; tips?: string[]; acl?: string[] },
  handler: Handler,
): CommandSpec {
  return { name, arity, flags, group: meta.group ?? 'server', handler, ...meta };
}
