import { FLAG, type Command, type CommandSpec } from './types.js';

/** ACL category implied by a command group (Redis assigns these in its JSON command files). */
const GROUP_CATEGORY: Record<string, string | undefined> = {
  generic: 'keyspace',
  string: 'string',
  list: 'list',
  set: 'set',
  'sorted-set': 'sortedset',
  hash: 'hash',
  pubsub: 'pubsub',
  transactions: 'transaction',
  connection: 'connection',
  scripting: 'scripting',
  hyperloglog: 'hyperloglog',
  geo: 'geo',
  stream: 'stream',
  bitmap: 'bitmap',
};

/** Categories in the order Redis prints them. */
const CATEGORY_ORDER = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

function deriveCategories(spec: CommandSpec): string[] {
  // A container (CONFIG, OBJECT...) only dispatches: Redis gives it no category but @slow.
  if (spec.subcommands?.length && !spec.handler) return spec.acl?.length ? [...spec.acl] : ['slow'];
  const cats = new Set<string>(spec.acl ?? []);
  const f = new Set(spec.flags);
  if (f.has('write')) cats.add('write');
  if (f.has('readonly') && spec.group !== 'scripting') cats.add('read');
  if (f.has('admin')) {
    cats.add('admin');
    cats.add('dangerous');
  }
  if (f.has('pubsub')) cats.add('pubsub');
  if (f.has('fast')) cats.add('fast');
  if (f.has('blocking')) cats.add('blocking');
  if (!f.has('fast')) cats.add('slow');
  const groupCat = GROUP_CATEGORY[spec.group];
  if (groupCat && spec.group !== 'server') cats.add(groupCat);
  return [...cats].sort((a, b) => rank(a) - rank(b));
}

function rank(cat: string): number {
  const i = CATEGORY_ORDER.indexOf(cat);
  return i < 0 ? CATEGORY_ORDER.length : i;
}

function flagBits(spec: CommandSpec): number {
  let bits = 0;
  for (const f of spec.flags) {
    const bit = (FLAG as Record<string, number>)[f];
    if (bit !== undefined) bits |= bit;
  }
  if (spec.keys?.some((k) => k.kind !== 'range')) bits |= FLAG.movablekeys;
  return bits;
}

/**
 * The command table: built once per process from every module's spec list,
 * shared by all servers (statistics are per server, indexed by Command.id).
 */
export class CommandTable {
  private readonly byName = new Map<string, Command>();
  /** Every command and subcommand, by id. */
  readonly all: Command[] = [];

  constructor(specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new Error(`duplicate command ${spec.name}`);
      const cmd = this.build(spec, null);
      this.byName.set(spec.name, cmd);
      this.byName.set(spec.name.toUpperCase(), cmd);
    }
  }

  private build(spec: CommandSpec, parent: Command | null): Command {
    if (spec.name !== spec.name.toLowerCase()) throw new Error(`command name must be lowercase: ${spec.name}`);
    if (!spec.handler && !spec.subcommands?.length) throw new Error(`command ${spec.name} has no handler`);
    const cmd: Command = {
      spec,
      fullName: parent ? `${parent.fullName}|${spec.name}` : spec.name,
      id: this.all.length,
      parent,
      subcommands: null,
      handler: spec.handler ?? null,
      arity: spec.arity,
      isWrite: spec.flags.includes('write'),
      isReadonly: spec.flags.includes('readonly'),
      flagBits: flagBits(spec),
      aclCategories: deriveCategories(spec),
    };
    this.all.push(cmd);
    if (spec.subcommands) {
      cmd.subcommands = new Map();
      for (const sub of spec.subcommands) cmd.subcommands.set(sub.name, this.build(sub, cmd));
    }
    return cmd;
  }

  /** The top-level command named argv0 (any case), or undefined. */
  lookupTop(name: string): Command | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  /** Resolves "config get" style names to the subcommand (undefined if absent). */
  lookup(argv: readonly string[]): Command | undefined {
    const top = this.lookupTop(argv[0]!);
    if (top === undefined || top.subcommands === null || argv.length < 2) return top;
    return top.subcommands.get(argv[1]!.toLowerCase());
  }

  /** Top-level commands in table order. */
  topLevel(): Command[] {
    return this.all.filter((c) => c.parent === null);
  }

  get topLevelCount(): number {
    return this.all.reduce((n, c) => n + (c.parent === null ? 1 : 0), 0);
  }
}

/** Redis's arity rule: exact when positive, a minimum when negative. */
export function arityOk(arity: number, argc: number): boolean {
  return arity > 0 ? argc === arity : argc >= -arity;
}

/** Positions of key arguments in argv, per the command's key specs (COMMAND GETKEYS, routing). */
export function keyPositions(cmd: Command, argv: readonly string[]): number[] {
  const specs = cmd.spec.keys;
  if (!specs) return [];
  const out: number[] = [];
  for (const ks of specs) {
    if (ks.kind === 'range') {
      if (ks.first >= argv.length) continue;
      const last = ks.last >= 0 ? ks.last : argv.length + ks.last;
      for (let i = ks.first; i <= last && i < argv.length; i += ks.step) out.push(i);
    } else if (ks.kind === 'keynum') {
      const n = Number(argv[ks.keynumIndex]);
      if (!Number.isInteger(n) || n < 0) continue;
      for (let i = 0; i < n; i++) {
        const pos = ks.firstKey + i * ks.step;
        if (pos >= argv.length) break;
        out.push(pos);
      }
    } else {
      out.push(...ks.find(argv));
    }
  }
  return out;
}

/** The legacy (first, last, step) triple COMMAND INFO prints. */
export function legacyKeyRange(cmd: Command): [number, number, number] {
  const range = cmd.spec.keys?.find((k) => k.kind === 'range');
  if (cmd.spec.keys?.some((k) => k.kind !== 'range')) {
    return range && range.kind === 'range' ? [range.first, range.last, range.step] : [0, 0, 0];
  }
  if (!range || range.kind !== 'range') return [0, 0, 0];
  // Merge consecutive ranges (e.g. LMOVE's two keys) into one triple as Redis does.
  const all = cmd.spec.keys!.filter((k) => k.kind === 'range') as { first: number; last: number; step: number }[];
  const last = all[all.length - 1]!;
  return [range.first, last.last, range.step];
}
