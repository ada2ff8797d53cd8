import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Maps redis loglevel names onto pino's. */
const LEVELS: Record<string, string> = { debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'silent' };

/**
 * The node's logger: JSON lines for machines, pretty output when stdout is a
 * terminal, or to `logfile` when one is configured.
 */
export function createLogger(options: { level: string; file?: string; pretty?: boolean }): Logger {
  const level = LEVELS[options.level] ?? 'info';
  if (options.file) return pino({ level }, pino.destination({ dest: options.file, sync: false, mkdir: true }));
  if (options.pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ level });
}

/** A logger that drops everything (tests, the simulator). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
