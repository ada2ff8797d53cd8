import type { Logger } from '../log.js';
import type { Timer, TimerHandle } from '../runtime/timer.js';

/** How long one key stays quiet after a logged line. */
export const WARN_WINDOW_MS = 1000;

interface QuietWindow {
  timer: TimerHandle;
  /** Events seen since the last logged line. */
  suppressed: number;
}

/**
 * Logs a repeated warning (or error) at most once per window per key (e.g. per peer),
 * counting the events it swallows and logging that count when the window
 * ends. A hostile peer sending garbage at line rate therefore costs one log
 * line a second, not one per frame. Uses only the injected Timer, so it needs
 * no clock; the map holds only keys with a window open.
 */
export class WarnThrottle {
  private readonly windows = new Map<string, QuietWindow>();
  /** Every event reported, logged or not. */
  total = 0;

  constructor(
    private readonly timer: Timer,
    private readonly log: Logger,
    private readonly level: 'warn' | 'error' = 'warn',
    private readonly windowMs = WARN_WINDOW_MS,
  ) {}

  report(key: string, fields: Record<string, unknown>, message: string): void {
    this.total++;
    const open = this.windows.get(key);
    if (open) {
      open.suppressed++;
      return;
    }
    this.log[this.level]({ ...fields, key }, message);
    this.openWindow(key, message);
  }

  /** Cancels every pending window (their suppressed counts are logged now). */
  close(): void {
    for (const [key, window] of this.windows) {
      this.timer.clearTimeout(window.timer);
      if (window.suppressed > 0) this.log[this.level]({ key, suppressed: window.suppressed }, 'more of the same suppressed');
    }
    this.windows.clear();
  }

  private openWindow(key: string, message: string): void {
    const timer = this.timer.setTimeout(() => this.closeWindow(key, message), this.windowMs);
    timer.unref?.();
    this.windows.set(key, { timer, suppressed: 0 });
  }

  private closeWindow(key: string, message: string): void {
    const window = this.windows.get(key);
    this.windows.delete(key);
    if (!window || window.suppressed === 0) return;
    this.log[this.level]({ key, suppressed: window.suppressed }, `${message} (throttled)`);
    // Keep throttling while the events continue.
    this.openWindow(key, message);
  }
}
