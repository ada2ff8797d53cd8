import * as net from 'node:net';

/**
 * A raw socket client for protocol-level tests: send exact bytes, read what
 * comes back until the server pauses or closes.
 */
export class RawClient {
  private readonly socket: net.Socket;
  private data = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Waits until the received text satisfies pred (or the socket closes), then returns and clears it. */
  async until(pred: (text: string) => boolean): Promise<string> {
    while (!pred(this.data.toString('latin1')) && !this.closed) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const text = this.data.toString('latin1');
    this.data = Buffer.alloc(0);
    return text;
  }

  /** Reads until `n` CRLF-terminated lines have arrived. */
  lines(n: number): Promise<string> {
    return this.until((t) => t.split('\r\n').length - 1 >= n);
  }

  /** Waits for the server to close the connection; returns what it sent before. */
  async closedByServer(): Promise<string> {
    return this.until(() => false);
  }

  /** Stops reading: what the server sends piles up in the kernel and then in its output buffer. */
  pause(): void {
    this.socket.pause();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Half-closes: sends FIN after what was written (as `printf ... | nc -N` does). */
  end(): void {
    this.socket.end();
  }
}
