import type { StreamSocket } from '../src/runtime/transport.js';
import type { Server } from '../src/server/server.js';

/**
 * A simulated client connection: an in-process StreamSocket handed to the
 * node's real connection code, so commands travel the real request path
 * (parser, command table, handlers, reply writer). Commands run
 * synchronously inside the data callback, so `call` returns the reply.
 */
export type Reply = string | number | null | ReplyError | Reply[];

export class ReplyError {
  constructor(readonly message: string) {}
}

/**
 * The client end of an in-process connection handed to Server.accept: what
 * the node writes goes to `onOutput`, `send` delivers bytes to the node.
 */
export class InProcessSocket implements StreamSocket {
  readonly remotePort = 50000;
  readonly writableLength = 0;
  private onData: ((chunk: Buffer) => void) | null = null;
  private onClose: (() => void) | null = null;
  closed = false;

  constructor(
    readonly remoteAddress: string,
    private readonly onOutput: (b: Buffer) => void,
  ) {}

  write(data: Buffer | string): boolean {
    if (!this.closed) this.onOutput(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
    return true;
  }
  end(): void {
    this.destroy();
  }
  destroySoon(): void {
    this.destroy();
  }
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }
  pause(): void {}
  resume(): void {}
  on(event: string, listener: (...args: never[]) => void): this {
    if (event === 'data') this.onData = listener as (chunk: Buffer) => void;
    if (event === 'close') this.onClose = listener as () => void;
    return this;
  }
  send(chunk: Buffer): void {
    this.onData!(chunk);
  }
}

export class SimClient {
  private output: Buffer[] = [];
  private readonly socket = new InProcessSocket('10.0.0.1', (b) => this.output.push(b));

  constructor(server: Server) {
    server.accept(this.socket);
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  /** Sends one command and returns its reply (RESP2). */
  call(...args: (string | number)[]): Reply {
    let frame = `*${args.length}\r\n`;
    for (const a of args) {
      const s = String(a);
      frame += `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
    }
    if (this.socket.closed) throw new Error('connection closed');
    this.output = [];
    this.socket.send(Buffer.from(frame, 'latin1'));
    const out = Buffer.concat(this.output);
    const [reply, end] = parseReply(out, 0);
    if (end !== out.length) throw new Error(`expected one reply, got ${JSON.stringify(out.toString('latin1'))}`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parses one RESP2 reply at `at`; returns it and where it ends. */
function parseReply(b: Buffer, at: number): [Reply, number] {
  const eol = b.indexOf('\r\n', at, 'latin1');
  if (eol < 0) throw new Error('incomplete reply');
  const line = b.toString('latin1', at + 1, eol);
  switch (b[at]) {
    case 0x2b: // +
      return [line, eol + 2];
    case 0x2d: // -
      return [new ReplyError(line), eol + 2];
    case 0x3a: // :
      return [Number(line), eol + 2];
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      return [b.toString('latin1', eol + 2, eol + 2 + n), eol + 4 + n];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      const items: Reply[] = [];
      let pos = eol + 2;
      for (let i = 0; i < n; i++) {
        const [item, next] = parseReply(b, pos);
        items.push(item);
        pos = next;
      }
      return [items, pos];
    }
    default:
      throw new Error(`bad reply type ${b[at]}`);
  }
}
