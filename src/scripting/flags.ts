/** Script flags: what `#!lua flags=...` (EVAL) and register_function's flags (FUNCTION) declare. */
export interface ScriptFlags {
  /** No shebang: EVAL's pre-7.0 behaviour (the command's own flags apply). */
  compat: boolean;
  noWrites: boolean;
  allowOom: boolean;
  allowStale: boolean;
  noCluster: boolean;
  allowCrossSlot: boolean;
}

export const FLAG_NAMES: Record<string, keyof ScriptFlags> = {
  'no-writes': 'noWrites',
  'allow-oom': 'allowOom',
  'allow-stale': 'allowStale',
  'no-cluster': 'noCluster',
  'allow-cross-slot-keys': 'allowCrossSlot',
};

export function noFlags(compat: boolean): ScriptFlags {
  return { compat, noWrites: false, allowOom: false, allowStale: false, noCluster: false, allowCrossSlot: false };
}

/** Flag names in Redis's order (FUNCTION LIST). */
export function flagNames(f: ScriptFlags): string[] {
  return Object.entries(FLAG_NAMES)
    .filter(([, key]) => f[key])
    .map(([name]) => name);
}

/** Splits a shebang line as sdssplitargs does: blank-separated words, "double" (with \ escapes) or 'single' quoted parts. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"']+)|(\s+)/g;
  let word: string | null = null;
  for (const m of line.matchAll(re)) {
    if (m[4] !== undefined) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    const part = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!);
    word = (word ?? '') + part;
  }
  if (word !== null) words.push(word);
  return words;
}

/**
 * Parses an EVAL body's shebang line: its flags and where the code starts
 * (the newline is kept so line numbers stay right), or Redis's error text.
 */
export function parseShebang(body: string): { flags: ScriptFlags; skip: number } | string {
  if (!body.startsWith('#!')) return { flags: noFlags(true), skip: 0 };
  const end = body.indexOf('\n');
  if (end < 0) return 'Invalid script shebang';
  const parts = splitWords(body.slice(0, end));
  if (parts.length === 0) return 'Invalid engine in script shebang';
  if (parts[0] !== '#!lua') return `Unexpected engine in script shebang: ${parts[0]}`;
  const flags = noFlags(false);
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return `Unknown lua shebang option: ${part}`;
    for (const name of part.slice(6).split(',')) {
      const key = FLAG_NAMES[name];
      if (key === undefined) return `Unexpected flag in script shebang: ${name}`;
      flags[key] = true;
    }
  }
  return { flags, skip: end };
}
