import type * as net from 'node:net';
import type { StreamSocket } from './transport.js';

/**
 * A StreamSocket that reads and writes through the libuv TCP handle under a
 * net.Socket, bypassing Node's Readable/Writable stream machinery. On a
 * request/reply server that machinery costs more CPU per request than the
 * command itself (measured: ~15% of a request at pipeline depth 1).
 *
 * Node's stream_wrap binding is internal; if it is missing or its shape
 * changes, `wrapHandleSocket` returns null and the plain net.Socket is used.
 * Closing always goes through net.Socket.destroy so the server's connection
 * accounting stays right.
 */
interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

interface WriteReq {
  handle: unknown;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | readonly Buffer[] | null;
}

interface TcpHandle {
  onread: (arrayBuffer: ArrayBuffer | undefined) => void;
  useUserBuffer?(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Buffer): number;
  /** allBuffers true: chunks are Buffers (not [chunk, encoding] pairs). */
  writev(req: WriteReq, chunks: readonly Buffer[], allBuffers: true): number;
  writeLatin1String(req: WriteReq, data: string): number;
  readStart(): number;
  readStop(): number;
}

let binding: StreamWrapBinding | null | undefined;

/**
 * Every socket reads into this one buffer (libuv's user-buffer mode, what
 * net.Socket's `onread` option uses) instead of a fresh allocation per read.
 * Safe because a read callback runs to completion before the next read, and
 * the parser copies whatever it did not consume (RequestParser.own).
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Views of SHARED_READ_BUFFER's first n bytes for reads of up to
 * READ_VIEW_MAX_BYTES, made once and handed out again: at pipeline depth 1
 * every read is one request of a few dozen bytes, mostly of one size, and a
 * view per read was an allocation per request. Consumers borrow the chunk
 * only for the data callback (RequestParser.own copies what it keeps).
 */
const READ_VIEW_MAX_BYTES = 1024;
const readViews: (Buffer | undefined)[] = new Array<Buffer | undefined>(READ_VIEW_MAX_BYTES + 1).fill(undefined);

function readView(n: number): Buffer {
  if (n > READ_VIEW_MAX_BYTES) return SHARED_READ_BUFFER.subarray(0, n);
  let v = readViews[n];
  if (v === undefined) readViews[n] = v = SHARED_READ_BUFFER.subarray(0, n);
  return v;
}

function streamWrap(): StreamWrapBinding | null {
  if (binding !== undefined) return binding;
  try {
    const b = (process as unknown as { binding(name: string): StreamWrapBinding }).binding('stream_wrap');
    const shapeOk =
      typeof b.WriteWrap === 'function' &&
      b.streamBaseState instanceof Int32Array &&
      typeof b.kReadBytesOrError === 'number' &&
      typeof b.kArrayBufferOffset === 'number' &&
      typeof b.kLastWriteWasAsync === 'number';
    binding = shapeOk ? b : null;
  } catch {
    binding = null;
  }
  return binding;
}

type Listener = (...args: never[]) => void;

class HandleSocket implements StreamSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Bytes handed to the kernel asynchronously and not yet confirmed. */
  writableLength = 0;
  readonly deferWrites = true;
  private onData: ((chunk: Buffer) => void) | null = null;
  private readonly closeListeners: (() => void)[] = [];
  private readonly drainListeners: (() => void)[] = [];
  private readonly errorListeners: ((err: Error) => void)[] = [];
  private readonly endListeners: (() => void)[] = [];
  private ending = false;
  private destroyed = false;
  /** Set when reads land in SHARED_READ_BUFFER rather than a fresh ArrayBuffer. */
  private userBuffer: Buffer | null = null;

  constructor(
    private readonly socket: net.Socket,
    private readonly handle: TcpHandle,
    private readonly b: StreamWrapBinding,
  ) {
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.localAddress = socket.localAddress;
    this.localPort = socket.localPort;
    if (typeof handle.useUserBuffer === 'function') {
      handle.useUserBuffer(SHARED_READ_BUFFER);
      this.userBuffer = SHARED_READ_BUFFER;
    }
    handle.onread = (ab) => this.onRead(ab);
    socket.on('close', () => {
      this.destroyed = true;
      for (const l of this.closeListeners) l();
    });
    socket.on('error', (err) => {
      for (const l of this.errorListeners) l(err);
    });
  }

  private onRead(arrayBuffer: ArrayBuffer | undefined): void {
    const n = this.b.streamBaseState[this.b.kReadBytesOrError]!;
    if (n > 0) {
      if (this.userBuffer !== null) {
        this.onData?.(readView(n));
      } else {
        const offset = this.b.streamBaseState[this.b.kArrayBufferOffset]!;
        this.onData?.(Buffer.from(arrayBuffer!, offset, n));
      }
      return;
    }
    if (n === 0) return;
    // EOF or a read error: the peer is gone.
    for (const l of this.endListeners) l();
    this.destroy();
  }

  /** False once Node has closed the handle (destroy from any side): it must not be touched then. */
  private get usable(): boolean {
    return !this.destroyed && !this.socket.destroyed;
  }

  /**
   * A write request libuv finished synchronously is never referenced again,
   * so it is reused; one that went asynchronous is handed over and replaced.
   */
  private spareReq: WriteReq | null = null;

  private newRequest(): WriteReq {
    const req = new this.b.WriteWrap();
    req.handle = this.handle;
    req.oncomplete = (status) => this.afterWrite(req, status);
    req.async = false;
    req.buffer = null;
    return req;
  }

  write(data: Buffer | string): boolean {
    if (!this.usable) return false;
    const req = this.request();
    const err = typeof data === 'string' ? this.handle.writeLatin1String(req, data) : this.handle.writeBuffer(req, data);
    return this.dispatched(req, err, data, data.length);
  }

  /** True when the kernel took every byte at once: nothing keeps a reference to data then. */
  writeBorrowed(data: Buffer | readonly Buffer[]): boolean {
    if (!Array.isArray(data)) return this.write(data as Buffer);
    if (!this.usable) return false;
    const chunks = data as readonly Buffer[];
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    const req = this.request();
    return this.dispatched(req, this.handle.writev(req, chunks, true), chunks, bytes);
  }

  private request(): WriteReq {
    const req = this.spareReq ?? this.newRequest();
    this.spareReq = null;
    return req;
  }

  /**
   * After a write call: true if libuv completed it synchronously (the
   * request is reused). Otherwise the request holds `data` alive until done.
   */
  private dispatched(req: WriteReq, err: number, data: Buffer | string | readonly Buffer[], bytes: number): boolean {
    if (err !== 0) {
      this.destroy();
      return false;
    }
    if (this.b.streamBaseState[this.b.kLastWriteWasAsync]) {
      // The kernel buffer is full: keep the bytes alive until libuv is done with them.
      req.async = true;
      req.bytes = bytes;
      req.buffer = typeof data === 'string' ? null : data;
      this.writableLength += bytes;
      return false;
    }
    this.spareReq = req;
    return true;
  }

  private afterWrite(req: WriteReq, status: number): void {
    if (!req.async) return;
    this.writableLength -= req.bytes;
    req.buffer = null;
    if (status < 0) {
      this.destroy();
      return;
    }
    if (this.writableLength === 0) {
      if (this.ending) this.finishEnd();
      else for (const l of this.drainListeners) l();
    }
  }

  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.writableLength === 0) this.finishEnd();
  }

  /** Everything written has reached the kernel: let Node half-close and clean up. */
  private finishEnd(): void {
    if (!this.usable) return;
    this.handle.onread = ignoreRead;
    this.socket.end();
    this.socket.destroySoon();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.handle.onread = ignoreRead;
    this.socket.destroy();
  }

  pause(): void {
    if (this.usable) this.handle.readStop();
  }

  resume(): void {
    if (this.usable) this.handle.readStart();
  }

  setNoDelay(noDelay = true): void {
    this.socket.setNoDelay(noDelay);
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close' | 'drain' | 'end', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: string, listener: Listener): this {
    switch (event) {
      case 'data':
        if (this.onData !== null) throw new Error('HandleSocket supports one data listener');
        this.onData = listener as (chunk: Buffer) => void;
        break;
      case 'close':
        this.closeListeners.push(listener as () => void);
        break;
      case 'drain':
        this.drainListeners.push(listener as () => void);
        break;
      case 'end':
        this.endListeners.push(listener as () => void);
        break;
      case 'error':
        this.errorListeners.push(listener as (err: Error) => void);
        break;
      default:
        throw new Error(`HandleSocket: unsupported event ${event}`);
    }
    return this;
  }
}

/**
 * Wraps an accepted net.Socket for direct handle I/O, or returns null when
 * Node's internals do not have the expected shape (then use the net.Socket).
 * Must be called in the connection callback, before the first read.
 */
export function wrapHandleSocket(socket: net.Socket): StreamSocket | null {
  const b = streamWrap();
  const handle = (socket as unknown as { _handle?: TcpHandle })._handle;
  if (
    b === null ||
    !handle ||
    typeof handle.writeBuffer !== 'function' ||
    typeof handle.writeLatin1String !== 'function' ||
    typeof handle.writev !== 'function'
  ) {
    return null;
  }
  return new HandleSocket(socket, handle, b);
}

/** Installed once we stop reading: the handle requires onread to stay a function. */
function ignoreRead(): void {}
