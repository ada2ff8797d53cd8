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
  /** The bytes are copied, so the node may reuse their memory at once. */
  writeBorrowed(data: Buffer | readonly Buffer[]): boolean {
    if (Array.isArray(data)) for (const chunk of data as readonly Buffer[]) this.write(chunk);
    else this.write(data as Buffer);
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
    if (this.socket.closed) throw new Error('connection closed');
    this.output = [];
    this.socket.send(encode(args));
    const out = Buffer.concat(this.output);
    const parsed = parseReply(out, 0);
    if (parsed === null) throw new Error('incomplete reply');
    const [reply, end] = parsed;
    if (end !== out.length) throw new Error(`expected one reply, got ${JSON.stringify(out.toString('latin1'))}`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A command as a RESP2 multibulk frame. */
export function encode(args: (string | number)[]): Buffer {
  let frame = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    frame += `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
  }
  return Buffer.from(frame, 'latin1');
}

/** One RESP2 reply at `at` and where it ends, or null when incomplete. */
export function parseReply(b: Buffer, at: number): [Reply, number] | null {
  const eol = b.indexOf('\r\n', at, 'latin1');
  if (eol < 0) return null;
  const line = b.toString('latin1', at + 1, eol);
  switch (b[at]) {
    case 0x2b: // +
      return [line, eol + 2];
    case 0x2d: // -
      return [new ReplyError(line), eol + 2];
    case 0x3a: // :
      return [Number(line), eol + 2];
    case 0x24: // $
      return parseBulk(b, Number(line), eol + 2);
    case 0x2a: // *
      return parseArray(b, Number(line), eol + 2);
    default:
      throw new Error(`bad reply type ${b[at]}`);
  }
}

function parseBulk(b: Buffer, n: number, from: number): [Reply, number] | null {
  if (n < 0) return [null, from];
  if (b.length < from + n + 2) return null;
  return [b.toString('latin1', from, from + n), from + n + 2];
}

function parseArray(b: Buffer, n: number, from: number): [Reply, number] | null {
  if (n < 0) return [null, from];
  const items: Reply[] = [];
  let pos = from;
  for (let i = 0; i < n; i++) {
    const r = parseReply(b, pos);
    if (r === null) return null;
    items.push(r[0]);
    pos = r[1];
  }
  return [items, pos];
}

