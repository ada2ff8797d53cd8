import type { Client } from '../server/client.js';

/** Command flags with Redis 7.0's names (COMMAND INFO prints them). */
export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'module'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'asking'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'sentinel'
  | 'only_sentinel'
  | 'no_mandatory_keys'
  | 'no_async_loading'
  | 'no_multi'
  | 'movablekeys'
  | 'allow_busy';

/** Command groups as COMMAND DOCS names them. */
export type CommandGroup =
  | 'generic'
  | 'string'
  | 'list'
  | 'set'
  | 'sorted-set'
  | 'hash'
  | 'pubsub'
  | 'transactions'
  | 'connection'
  | 'server'
  | 'scripting'
  | 'hyperloglog'
  | 'cluster'
  | 'geo'
  | 'stream'
  | 'bitmap';

/** A handler runs synchronously to completion and writes exactly one reply (unless it blocks). */
export type Handler = (c: Client, argv: string[]) => void;

/**
 * Where a command's keys are. Either a range (first/last/step, last negative
 * counts from the end as in Redis's legacy triple), a count argument
 * (`numkeys` style), or a function for irregular syntaxes (SORT, MIGRATE).
 */
export type KeySpec = KeySpecLocation & {
  flags?: KeyFlag[];
  /**
   * With VARIABLE_FLAGS: the flags of one invocation (SET is OW without GET,
   * RW with it), what COMMAND GETKEYSANDFLAGS and ACL checks use.
   */
  flagsFor?: (argv: readonly string[]) => KeyFlag[];
};

type KeySpecLocation =
  | { kind: 'range'; first: number; last: number; step: number }
  | { kind: 'keynum'; keynumIndex: number; firstKey: number; step: number }
  | { kind: 'custom'; find: (argv: readonly string[]) => number[] };

export type KeyFlag =
  | 'RO'
  | 'RW'
  | 'OW'
  | 'RM'
  | 'ACCESS'
  | 'UPDATE'
  | 'INSERT'
  | 'DELETE'
  | 'NOT_KEY'
  | 'INCOMPLETE'
  | 'VARIABLE_FLAGS';

/** One metadata record per command: the single source of truth for dispatch, COMMAND and routing. */
export interface CommandSpec {
  /** Lowercase name; for a subcommand just the subcommand ("get" of CONFIG GET). */
  name: string;
  /** Redis arity: positive = exact argc, negative = at least -arity. Includes the command name (and subcommand). */
  arity: number;
  flags: CommandFlag[];
  keys?: KeySpec[];
  /** ACL categories beyond the ones derived from flags and group (without '@'). */
  acl?: string[];
  group: CommandGroup;
  since: string;
  summary: string;
  complexity?: string;
  /** Usage after the command name, as in Redis's docs, e.g. "key value [NX | XX]". */
  syntax?: string;
  /** Documentation flags (deprecated, syscmd). */
  docFlags?: string[];
  /** For deprecated commands: what replaces them. */
  replacedBy?: string;
  deprecatedSince?: string;
  /** Command tips (nondeterministic_output, request_policy:..., ...). */
  tips?: string[];
  handler?: Handler;
  subcommands?: CommandSpec[];
}

/** A command as registered in a table: its spec, its full name and its slot in per-server stats. */
export interface Command {
  spec: CommandSpec;
  /** "get", or "config|get" for a subcommand (what errors and COMMAND show). */
  fullName: string;
  /** Index into per-server statistics arrays. */
  id: number;
  parent: Command | null;
  subcommands: Map<string, Command> | null;
  handler: Handler | null;
  arity: number;
  isWrite: boolean;
  isReadonly: boolean;
  /** Bitmask of common flags for the hot path. */
  flagBits: number;
  aclCategories: string[];
}

export const FLAG = {
  write: 1 << 0,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  admin: 1 << 3,
  pubsub: 1 << 4,
  noscript: 1 << 5,
  blocking: 1 << 6,
  loading: 1 << 7,
  stale: 1 << 8,
  skip_monitor: 1 << 9,
  skip_slowlog: 1 << 10,
  fast: 1 << 11,
  no_auth: 1 << 12,
  may_replicate: 1 << 13,
  no_multi: 1 << 14,
  movablekeys: 1 << 15,
  allow_busy: 1 << 16,
  asking: 1 << 17,
} as const;
