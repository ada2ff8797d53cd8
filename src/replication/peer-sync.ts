/**
 * Catching up before serving. A node that starts (with an empty memory, or
 * from a disk that may lag what it acknowledged and replicated) holds only
 * part of its group's data. Writes it acknowledged on that partial state
 * could lose against versions it has not seen yet: an INCR on the bottom
 * version of a key a peer holds a SET for, an SADD creating a set whose
 * RESTOREd version a peer holds (simulator, cluster seed 40036). So until a
 * complete anti-entropy round with some peer has been merged here, clients
 * get -LOADING, which is what Redis answers while it loads its dataset.
 * Peers that stay unreachable do not keep the node down: after timeoutMs
 * without anything from a peer that brings data it serves what it has.
 */
export class PeerSync {
  private startedMs = 0;
  private timeoutMs = 0;
  private progressMs = -Infinity;
  private waiting = false;

  /** True from start() until the first complete round, or the timeout. */
  get active(): boolean {
    return this.waiting;
  }

  /** Starts waiting for a round (a timeout of 0: serve at once, nothing to wait for). */
  start(nowMs: number, timeoutMs: number): void {
    if (!(timeoutMs >= 0)) throw new Error(`peer sync timeout must be >= 0, got ${timeoutMs}`);
    this.startedMs = nowMs;
    this.timeoutMs = timeoutMs;
    this.waiting = timeoutMs > 0;
  }

  /** Caught up, or given up: clients are served from now on. */
  finish(): void {
    this.waiting = false;
  }

  /** How long the node has been catching up. */
  elapsedMs(nowMs: number): number {
    return nowMs - this.startedMs;
  }

  /** A peer sent something that brings data (an anti-entropy step, deltas): the wait is making progress. */
  progressed(nowMs: number): void {
    this.progressMs = nowMs;
  }

  /**
   * Whether waiting is over for lack of anything to wait for: no peers left,
   * or nothing came from any peer for timeoutMs (rounds still bringing data
   * are waited for however long they take, as Redis loads a big file).
   */
  givesUp(nowMs: number, peers: number): boolean {
    if (!this.active) return false;
    return peers === 0 || nowMs - Math.max(this.startedMs, this.progressMs) >= this.timeoutMs;
  }
}
