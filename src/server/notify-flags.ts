/**
 * notify-keyspace-events flags (notify.c): which classes of keyspace events
 * are published, and whether on __keyspace@db__ (K), __keyevent@db__ (E) or
 * both. Bits as Redis numbers them.
 */
export const NOTIFY = {
  keyspace: 1 << 0, // K
  keyevent: 1 << 1, // E
  generic: 1 << 2, // g
  string: 1 << 3, // $
  list: 1 << 4, // l
  set: 1 << 5, // s
  hash: 1 << 6, // h
  zset: 1 << 7, // z
  expired: 1 << 8, // x
  evicted: 1 << 9, // e
  stream: 1 << 10, // t
  keyMiss: 1 << 11, // m, not part of A
  module: 1 << 13, // d
  new: 1 << 14, // n, not part of A
} as const;

const ALL =
  NOTIFY.generic | NOTIFY.string | NOTIFY.list | NOTIFY.set | NOTIFY.hash | NOTIFY.zset | NOTIFY.expired | NOTIFY.evicted | NOTIFY.stream | NOTIFY.module;

const BY_CHAR: Record<string, number> = {
  A: ALL,
  g: NOTIFY.generic,
  $: NOTIFY.string,
  l: NOTIFY.list,
  s: NOTIFY.set,
  h: NOTIFY.hash,
  z: NOTIFY.zset,
  x: NOTIFY.expired,
  e: NOTIFY.evicted,
  K: NOTIFY.keyspace,
  E: NOTIFY.keyevent,
  t: NOTIFY.stream,
  m: NOTIFY.keyMiss,
  d: NOTIFY.module,
  n: NOTIFY.new,
};

/** The flags of a class string, or -1 when it holds an unknown character. */
export function notifyFlags(classes: string): number {
  let flags = 0;
  for (const ch of classes) {
    const bit = BY_CHAR[ch];
    if (bit === undefined) return -1;
    flags |= bit;
  }
  return flags;
}

/** The class characters in the order CONFIG GET shows them, "A" standing for all of its classes. */
const ORDER: [string, number][] = [
  ['g', NOTIFY.generic],
  ['$', NOTIFY.string],
  ['l', NOTIFY.list],
  ['s', NOTIFY.set],
  ['h', NOTIFY.hash],
  ['z', NOTIFY.zset],
  ['x', NOTIFY.expired],
  ['e', NOTIFY.evicted],
  ['t', NOTIFY.stream],
  ['d', NOTIFY.module],
  ['n', NOTIFY.new],
];

export function notifyFlagsText(flags: number): string {
  let out = '';
  if ((flags & ALL) === ALL) {
    out = 'A';
    if (flags & NOTIFY.new) out += 'n';
  } else {
    for (const [ch, bit] of ORDER) if (flags & bit) out += ch;
  }
  if (flags & NOTIFY.keyspace) out += 'K';
  if (flags & NOTIFY.keyevent) out += 'E';
  if (flags & NOTIFY.keyMiss) out += 'm';
  return out;
}

export function validateNotifyFlags(value: string): string | null {
  return notifyFlags(value) === -1 ? 'Invalid event class character. Use \'Ag$lshzxeKEtmdn\'.' : null;
}

export function canonicalNotifyFlags(value: string): string {
  return notifyFlagsText(notifyFlags(value));
}
