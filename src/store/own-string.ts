/**
 * Strings decoded by msgpackr's native extractor (the bus, the persistence
 * files) are slices of one string made for many of them: kept in the
 * keyspace, a 16-byte key keeps the whole message's text alive. A peer of
 * 100k keys that had received 3M overwrites held 1080 bytes per key that way,
 * 220 with strings of its own. What a merge or a load keeps (keys, values,
 * origins, element names) goes through ownString first.
 */

/** V8 copies substrings shorter than this instead of slicing (SlicedString::kMinLength). */
const MIN_SLICE_CHARS = 13;
/** Strings up to this many chars are copied through one reused buffer (UTF-8: at most 3 bytes a char). */
const SCRATCH_CHARS = 16 * 1024;
const scratch = Buffer.allocUnsafe(3 * SCRATCH_CHARS);

/** s, or a copy of it that shares nothing with another string. */
export function ownString(s: string): string {
  if (s.length < MIN_SLICE_CHARS) return s;
  if (s.length > SCRATCH_CHARS) return Buffer.from(s, 'utf8').utf8Slice();
  return scratch.utf8Slice(0, scratch.utf8Write(s, 0));
}

/** Interned copies of node ids: every key a peer wrote shares one string, not one per message. */
const owned = new Map<string, string>();
const MAX_OWNED = 4096;

/** ownString for the few strings repeated across many keys (origins: node ids). */
export function ownInterned(s: string): string {
  let o = owned.get(s);
  if (o === undefined) {
    if (owned.size >= MAX_OWNED) owned.clear();
    o = ownString(s);
    owned.set(o, o);
  }
  return o;
}

/**
 * ownString of every string in a decoded structure of arrays (element
 * states), in place; returns it. A string already interned (an origin the
 * message's table named) becomes the interned copy, so elements share it.
 */
export function ownStrings<T>(x: T): T {
  if (!Array.isArray(x)) return x;
  for (let i = 0; i < x.length; i++) {
    const v: unknown = x[i];
    if (typeof v === 'string') x[i] = v.length < MIN_SLICE_CHARS ? v : (owned.get(v) ?? ownString(v));
    else if (Array.isArray(v)) ownStrings(v);
  }
  return x;
}

/**
 * A decoded type name as the literal the keyspace compares against: a
 * decoded copy would be kept on every entry, and compared by content.
 * Anything else is returned as it is (the caller refuses it).
 */
export function ownTypeName(t: unknown): string {
  switch (t) {
    case 'string':
      return 'string';
    case 'hash':
      return 'hash';
    case 'set':
      return 'set';
    case 'zset':
      return 'zset';
    case 'list':
      return 'list';
    case 'stream':
      return 'stream';
    default:
      return t as string;
  }
}
