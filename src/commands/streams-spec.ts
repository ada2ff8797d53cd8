import type { CommandFlag, CommandSpec, Handler, KeyFlag } from './types.js';

/** One stream-group spec with its key at argv[1]. */
export function streamSpec(
  name: string, arity: number, flags: CommandFlag[], keyFlags: KeyFlag[], since: string, syntax: string,
  summary: string, complexity: string, handler: Handler, extra: Partial<CommandSpec> = {},
): CommandSpec {
  return {
    name, arity, flags, keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: keyFlags }],
    group: 'stream', since, summary, complexity, syntax, handler, ...extra,
  };
}
