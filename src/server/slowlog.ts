import type { Config } from '../config.js';
import type { Client } from './client.js';
import { redactArgs } from './monitor.js';
import type { Server } from './server.js';

/** Redis keeps at most 32 arguments per entry, each at most 128 chars. */
const MAX_ARGC = 32;
const MAX_ARG_CHARS = 128;

export interface SlowLogEntry {
  id: number;
  timestampSec: number;
  durationUs: number;
  argv: string[];
  peer: string;
  clientName: string;
}

/** SLOWLOG: commands slower than slowlog-log-slower-than, newest first, bounded by slowlog-max-len. */
export class SlowLog {
  entries: SlowLogEntry[] = [];
  private nextId = 0;

  /** slowlog-log-slower-than, cached: it is read after every command. */
  private thresholdUs = -1;

  /** Follows the config so the per-command check reads a field, not the option table. */
  bind(config: Config): void {
    this.thresholdUs = config.int('slowlog-log-slower-than');
    config.onChange((name) => {
      if (name === 'slowlog-log-slower-than') this.thresholdUs = config.int(name);
    });
  }

  maybeAdd(server: Server, c: Client, argv: readonly string[], durationUs: number): void {
    const threshold = this.thresholdUs;
    if (threshold < 0 || durationUs < threshold) return;
    const maxLen = server.config.int('slowlog-max-len');
    this.entries.unshift({
      id: this.nextId++,
      timestampSec: Math.floor(server.nowMs() / 1000),
      durationUs,
      argv: trimArgv(redactArgs(argv)),
      peer: c.remoteAddress,
      clientName: c.name,
    });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}

function trimArgv(argv: readonly string[]): string[] {
  const n = Math.min(argv.length, MAX_ARGC);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i === MAX_ARGC - 1 && argv.length > MAX_ARGC) {
      out.push(`... (${argv.length - MAX_ARGC + 1} more arguments)`);
      break;
    }
    const a = argv[i]!;
    out.push(a.length > MAX_ARG_CHARS ? `${a.slice(0, MAX_ARG_CHARS)}... (${a.length - MAX_ARG_CHARS} more bytes)` : a);
  }
  return out;
}
