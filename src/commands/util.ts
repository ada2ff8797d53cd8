import type { Client } from '../server/client.js';
import type { Entry, TypeName } from '../store/entry.js';

/** Redis's shared error replies, verbatim. */
export const ERR = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  syntax: 'ERR syntax error',
  noSuchKey: 'ERR no such key',
  dbIndex: 'ERR DB index is out of range',
  outOfRange: 'ERR index out of range',
  overflow: 'ERR increment or decrement would overflow',
  bitOffset: 'ERR bit offset is not an integer or out of range',
  bitValue: 'ERR bit is not an integer or out of range',
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  positive: 'ERR value is out of range, must be positive',
} as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Redis's string2ll grammar: optional '-', no '+', no leading zeros, no
 * spaces, within int64. Returns the exact value, or null.
 */
export function parseInt64(s: string): bigint | null {
  if (!isIntegerText(s)) return null;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/**
 * Same grammar as parseInt64, as a number (exact up to 2^53, approximate
 * beyond, which is fine for counts, indexes and offsets). Null if invalid.
 */
export function parseInteger(s: string): number | null {
  if (s.length < 16) {
    if (!isIntegerText(s)) return null;
    return Number(s);
  }
  const v = parseInt64(s);
  return v === null ? null : Number(v);
}

function isIntegerText(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  if (n === 1) return s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57;
  let i = 0;
  if (s.charCodeAt(0) === 45) i = 1;
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return false;
  for (i++; i < n; i++) {
    const d = s.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return true;
}

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const INF_RE = /^[+-]?inf(?:inity)?$/i;

/**
 * s as a number when it is an optionally signed run of at most 15 digits
 * (leading zeros allowed, as strtod reads them), else null. Such a value is
 * exact in a double, so summing digits equals Number(s); it skips the
 * regular expression and the string-to-number conversion for the usual
 * integer scores.
 */
function smallInteger(s: string): number | null {
  const n = s.length;
  let i = s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 ? 1 : 0;
  if (i === n || n - i > 15) return null;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return s.charCodeAt(0) === 45 ? -v : v;
}

/** Redis's string2d / strtod: decimal floats and inf/-inf; no spaces, no NaN. Null if invalid. */
export function parseDouble(s: string): number | null {
  if (s.length === 0 || s.length > 5000) return null;
  const whole = smallInteger(s);
  if (whole !== null) return whole;
  if (FLOAT_RE.test(s)) return Number(s);
  if (INF_RE.test(s)) return s.charCodeAt(0) === 45 ? -Infinity : Infinity;
  return null;
}

/** Parses an integer argument or replies with `error`; returns null when it replied. */
export function intArg(c: Client, s: string, error: string = ERR.notInteger): number | null {
  const v = parseInteger(s);
  if (v === null) c.error(error);
  return v;
}

/**
 * Read lookup (lookupKeyRead): counts keyspace hits/misses and records the
 * access unless the client asked for NO-TOUCH.
 */
export function lookupRead(c: Client, key: string): Entry | undefined {
  return countedLookup(c, key, c.noTouch ? c.db.lookup(key) : c.db.lookupTouch(key));
}

/** A read lookup's outcome: keyspace hit/miss statistics and, on a miss, the "keymiss" event. */
export function countedLookup(c: Client, key: string, e: Entry | undefined): Entry | undefined {
  if (e === undefined) {
    c.server.stats.keyspaceMisses++;
    c.server.keyEvents.missed(c.db, key);
  } else c.server.stats.keyspaceHits++;
  return e;
}

/**
 * Before a multi-key command walks its keys one by one: reads argv[first],
 * argv[first + step], ... into the CPU cache together (KeyPrefetch), so
 * their memory misses overlap instead of adding up.
 */
export function prefetchKeys(c: Client, argv: readonly string[], first: number, step: number): void {
  const batch = c.server.keyPrefetch;
  batch.use(c.db);
  for (let j = first; j < argv.length; j += step) batch.addKey(argv[j]!);
  batch.run();
}

/** Write lookup (lookupKeyWrite): expires the key if due, no hit/miss stats. */
export function lookupWrite(c: Client, key: string): Entry | undefined {
  return c.db.lookup(key);
}

/**
 * Read lookup that checks the type: returns the entry, undefined when
 * missing, or null after replying WRONGTYPE.
 */
export function readOfType(c: Client, key: string, type: TypeName): Entry | undefined | null {
  const e = lookupRead(c, key);
  if (e !== undefined && e.type !== type) {
    c.error(ERR.wrongType);
    return null;
  }
  return e;
}

/** Write lookup with type check; same contract as readOfType. */
export function writeOfType(c: Client, key: string, type: TypeName): Entry | undefined | null {
  const e = lookupWrite(c, key);
  if (e !== undefined && e.type !== type) {
    c.error(ERR.wrongType);
    return null;
  }
  return e;
}

/** Case-insensitive comparison of an argument against an uppercase keyword. */
export function isArg(arg: string, keyword: string): boolean {
  return arg.length === keyword.length && arg.toUpperCase() === keyword;
}

/** Redis's stringmatchlen: glob matching with * ? [abc] [^a] [a-z] and \ escapes, optionally case-insensitive. */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  return matchAt(pattern, 0, text, 0, nocase, 0, { skipLonger: false });
}

/**
 * Set once the pattern after some '*' matched nowhere in the rest of the
 * text: then no earlier '*' can help by matching more, so every pending
 * '*' gives up (Redis's skipLongerMatches; keeps "a*a*a*...b" linear-ish).
 */
interface MatchState {
  skipLonger: boolean;
}

function matchAt(p: string, pi: number, s: string, si: number, nocase: boolean, depth: number, st: MatchState): boolean {
  if (depth > 1000) return false; // Redis bounds recursion the same way against pathological patterns
  while (pi < p.length && si <= s.length) {
    const pc = p[pi]!;
    switch (pc) {
      case '*': {
        while (p[pi + 1] === '*') pi++;
        if (pi + 1 === p.length) return true;
        for (let k = si; k <= s.length; k++) {
          if (matchAt(p, pi + 1, s, k, nocase, depth + 1, st)) return true;
          if (st.skipLonger) return false;
        }
        st.skipLonger = true;
        return false;
      }
      case '?':
        if (si >= s.length) return false;
        si++;
        break;
      case '[': {
        if (si >= s.length) return false;
        pi++;
        const not = p[pi] === '^';
        if (not) pi++;
        let match = false;
        for (;;) {
          if (pi >= p.length) {
            pi--;
            break;
          }
          if (p[pi] === '\\' && pi + 1 < p.length) {
            pi++;
            if (eqChar(p[pi]!, s[si]!, nocase)) match = true;
          } else if (p[pi] === ']') {
            break;
          } else if (p[pi + 1] === '-' && pi + 2 < p.length) {
            let start = p.charCodeAt(pi);
            let end = p.charCodeAt(pi + 2);
            let ch = s.charCodeAt(si);
            if (start > end) [start, end] = [end, start];
            if (nocase) {
              start = lower(start);
              end = lower(end);
              ch = lower(ch);
            }
            pi += 2;
            if (ch >= start && ch <= end) match = true;
          } else if (eqChar(p[pi]!, s[si]!, nocase)) {
            match = true;
          }
          pi++;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        break;
      }
      default:
        if (pc === '\\' && pi + 1 < p.length) pi++;
        if (si >= s.length || !eqChar(p[pi]!, s[si]!, nocase)) return false;
        si++;
        break;
    }
    pi++;
    if (si >= s.length) {
      while (p[pi] === '*') pi++;
      break;
    }
  }
  return pi >= p.length && si >= s.length;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function eqChar(a: string, b: string, nocase: boolean): boolean {
  return nocase ? lower(a.charCodeAt(0)) === lower(b.charCodeAt(0)) : a === b;
}
