import * as net from 'node:net';
import { wrapHandleSocket } from './handle-socket.js';

/**
 * A byte stream to a peer. node's net.Socket satisfies it structurally, so the
 * production path pays no wrapper; the simulator supplies its own implementation.
 */
export interface StreamSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly writableLength: number;
  write(data: Buffer | string): boolean;
  /** Half-closes after pending output; pair with destroySoon to close fully. */
  end(): void;
  /** Closes fully once pending output is written (net.Socket#destroySoon). */
  destroySoon?(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(noDelay?: boolean): void;
  /**
   * True where reads of many connections arrive in one I/O round (a real
   * event loop): the server then holds replies until the round ends and
   * writes them in one burst (Server.flushLater). Absent or false: replies
   * are written as soon as the input is processed (the simulator's
   * in-process sockets, whose callers read the reply synchronously).
   */
  readonly deferWrites?: boolean;
  /**
   * Writes bytes whose memory the caller wants back: returns true when the
   * socket no longer references them (the kernel took them all, or they were
   * copied), false when it holds them until the write completes, and the
   * caller must then never modify them. Absent on net.Socket, which gives no
   * such promise: callers write a copy with write() instead.
   */
  writeBorrowed?(data: Buffer | readonly Buffer[]): boolean;
  /** The chunk is only valid during the call: its memory may be reused for the next read. */
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'drain', listener: () => void): this;
  on(event: 'end', listener: () => void): this;
}

export interface Listener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Kernel accept backlog (tcp-backlog). */
  backlog?: number;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Local address outgoing connections originate from (bind-source-addr). */
  localAddress?: string;
}

export interface Transport {
  listen(options: ListenOptions, onConnection: (socket: StreamSocket) => void): Promise<Listener>;
  connect(options: ConnectOptions): Promise<StreamSocket>;
}

export class TcpTransport implements Transport {
  /** directIo: read/write accepted sockets through their libuv handle (see handle-socket.ts). */
  constructor(private readonly directIo = process.env.STRATA_STREAM_IO !== '1') {}

  listen(options: ListenOptions, onConnection: (socket: StreamSocket) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (socket) => {
        onConnection((this.directIo && wrapHandleSocket(socket)) || socket);
      });
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port, backlog: options.backlog ?? 511 }, () => {
        server.off('error', reject);
        const addr = server.address() as net.AddressInfo;
        resolve({
          port: addr.port,
          host: addr.address,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
            }),
        });
      });
    });
  }

  connect(options: ConnectOptions): Promise<StreamSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  }
}
