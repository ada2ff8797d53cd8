import { parseMemory } from '../config.js';

/**
 * client-output-buffer-limit (networking.c checkClientOutputBufferLimits):
 * per client class a hard limit (close at once) and a soft limit (close
 * when exceeded continuously for soft-seconds). 0 disables a limit.
 */

export interface OutputLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

/** The classes in CONFIG GET's order; "replica" is spelled "slave" there, as in Redis 7.0. */
const CLASSES = ['normal', 'slave', 'pubsub'] as const;
export type LimitClass = (typeof CLASSES)[number];

function className(word: string): LimitClass | null {
  const w = word.toLowerCase();
  if (w === 'replica') return 'slave';
  return (CLASSES as readonly string[]).includes(w) ? (w as LimitClass) : null;
}

/** Parses "class hard soft seconds ..."; returns the limits given, or Redis's error text. */
export function parseOutputLimits(value: string): Map<LimitClass, OutputLimit> | string {
  const words = value.split(/\s+/).filter(Boolean);
  if (words.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.';
  const out = new Map<LimitClass, OutputLimit>();
  for (let i = 0; i < words.length; i += 4) {
    const cls = className(words[i]!);
    if (cls === null) return 'Invalid client class specified in buffer limit configuration.';
    const hardBytes = parseMemory(words[i + 1]!);
    const softBytes = parseMemory(words[i + 2]!);
    const softSeconds = /^\d+$/.test(words[i + 3]!) ? Number(words[i + 3]) : NaN;
    if (![hardBytes, softBytes, softSeconds].every((n) => Number.isFinite(n) && n >= 0)) {
      return 'Error in hard, soft or soft_seconds setting in buffer limit configuration.';
    }
    out.set(cls, { hardBytes, softBytes, softSeconds });
  }
  return out;
}

export function validateOutputLimits(value: string): string | null {
  const parsed = parseOutputLimits(value);
  return typeof parsed === 'string' ? parsed : null;
}

/** A partial CONFIG SET changes only the classes it names (Redis keeps the others). */
export function mergeOutputLimits(current: string, value: string): string {
  const merged = parseOutputLimits(current) as Map<LimitClass, OutputLimit>;
  for (const [cls, limit] of parseOutputLimits(value) as Map<LimitClass, OutputLimit>) merged.set(cls, limit);
  return CLASSES.map((cls) => {
    const l = merged.get(cls) ?? { hardBytes: 0, softBytes: 0, softSeconds: 0 };
    return `${cls} ${l.hardBytes} ${l.softBytes} ${l.softSeconds}`;
  }).join(' ');
}

/**
 * Whether a client holding `bytes` of unsent output must be closed now.
 * `softSinceMs` is when it went over the soft limit (0: it is not over);
 * returns the new value of it, or -1 to close.
 */
export function overLimit(limit: OutputLimit, bytes: number, softSinceMs: number, nowMs: number): number {
  if (limit.hardBytes > 0 && bytes >= limit.hardBytes) return -1;
  if (limit.softBytes === 0 || bytes < limit.softBytes) return 0;
  if (softSinceMs === 0) return nowMs;
  return nowMs - softSinceMs > limit.softSeconds * 1000 ? -1 : softSinceMs;
}
