import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { Timer, TimerHandle } from '../runtime/timer.js';
import { channelTarget } from './bind-resolver.js';
import type { BusAddress, BusConnectOptions, BusLink, BusLinkState } from './bus.js';
import type { BusCodec } from './codec.js';
import { clientOptions, hostPort, PUSH_METHOD } from './grpc-service.js';
import type { WarnThrottle } from './warn-throttle.js';

/** Reconnect delays double from the first to the last and stay there. */
export const INITIAL_BACKOFF_MS = 50;
export const MAX_BACKOFF_MS = 2000;
/** A stream not accepted by then is abandoned and retried (a blackholed SYN would otherwise hang for minutes). */
export const CONNECT_TIMEOUT_MS = 5000;

/** What every link of one GrpcBus shares. */
export interface LinkContext {
  timer: Timer;
  log: Logger;
  codec: BusCodec;
  maxQueueBytes: number;
  /** Throttles the warning for messages send() refuses as oversize. */
  oversize: WarnThrottle;
}

type PushCall = grpc.ClientWritableStream<Buffer>;

/**
 * One outgoing link: one gRPC channel (its own TCP connection) carrying one
 * Push stream at a time. A failed or ended stream closes its channel, and the
 * link opens a fresh channel after a backoff on the injected Timer, so retry
 * timing is the link's own rather than grpc-js's internal reconnect backoff.
 */
export class GrpcLink implements BusLink {
  private currentState: BusLinkState = 'connecting';
  /** Bytes accepted by send() whose gRPC write callback has not fired yet (backlog included). */
  private queued = 0;
  private client: grpc.Client | null = null;
  private call: PushCall | null = null;
  /** Frames accepted while gRPC's write buffer is full: written, in order, on 'drain'. */
  private backlog: (Buffer | undefined)[] = [];
  private backlogHead = 0;
  private blocked = false;
  /** Bumped per stream, so write callbacks from a dead stream cannot touch the next one's count. */
  private generation = 0;
  private backoffMs = INITIAL_BACKOFF_MS;
  /** Connection attempts failed since the link was last ready. */
  private failedAttempts = 0;
  private retryTimer: TimerHandle | null = null;
  private connectTimer: TimerHandle | null = null;
  private closed = false;
  private readonly target: string;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly log: Logger;

  constructor(
    to: BusAddress,
    private readonly context: LinkContext,
    private readonly options: BusConnectOptions = {},
  ) {
    const { target, options: bindOptions } = channelTarget(to, options.localAddress);
    this.target = target;
    this.channelOptions = { ...clientOptions(context.codec.maxMessageBytes), ...bindOptions };
    this.log = context.log.child({ busLink: hostPort(to) });
    this.open();
  }

  get state(): BusLinkState {
    return this.currentState;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  /**
   * Returns false (dropping the message) when the link is not ready, when the
   * queue is over maxQueueBytes, or when the encoded message exceeds
   * maxMessageBytes. Oversize is refused rather than thrown: its size depends
   * on user data (one huge value), and a throw here would escape into the
   * write path; it is logged (throttled) because retrying will not help.
   * A message that is not plain data throws from the encoder: a caller bug.
   */
  send(message: unknown): boolean {
    const call = this.call;
    if (this.currentState !== 'ready' || call === null) return false;
    const frame = this.context.codec.encode(message);
    if (frame.length > this.context.codec.maxMessageBytes) {
      this.context.oversize.report(this.target, { bytes: frame.length, maxMessageBytes: this.context.codec.maxMessageBytes }, 'bus: refused oversize message');
      return false;
    }
    // An empty queue takes any one message, so a message between maxQueueBytes and maxMessageBytes is still sendable.
    if (this.queued > 0 && this.queued + frame.length > this.context.maxQueueBytes) return false;
    this.queued += frame.length;
    if (this.blocked) this.backlog.push(frame);
    else this.write(call, frame);
    return true;
  }

  /** Stops reconnecting; ends the stream after handing it what was already accepted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) this.context.timer.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const call = this.call;
    if (call) {
      // The Writable buffers beyond its high-water mark; ending flushes it before the half-close.
      for (let i = this.backlogHead; i < this.backlog.length; i++) call.write(this.backlog[i]!);
      call.end();
    }
    this.detach();
    this.setState('down');
  }

  private open(): void {
    this.setState('connecting');
    // onStateChange may have closed the link.
    if (this.closed) return;
    const client = new grpc.Client(this.target, grpc.credentials.createInsecure(), this.channelOptions);
    const call: PushCall = client.makeClientStreamRequest(
      PUSH_METHOD.path,
      PUSH_METHOD.requestSerialize,
      PUSH_METHOD.responseDeserialize,
      new grpc.Metadata(),
      {},
      (error) => this.streamEnded(call, error),
    );
    this.client = client;
    this.call = call;
    this.generation++;
    call.on('metadata', () => this.streamAccepted(call));
    call.on('drain', () => this.drained(call));
    // Writable-level errors (e.g. a write racing destruction); also keeps 'error' from being unhandled.
    call.on('error', (error: Error) => this.streamEnded(call, error));
    this.connectTimer = this.context.timer.setTimeout(() => this.connectTimedOut(call), CONNECT_TIMEOUT_MS);
    this.connectTimer.unref?.();
  }

  /** The server sent its response headers: it runs a Push handler for this stream. */
  private streamAccepted(call: PushCall): void {
    if (call !== this.call) return;
    this.clearConnectTimer();
    this.backoffMs = INITIAL_BACKOFF_MS;
    this.failedAttempts = 0;
    this.setState('ready');
  }

  private connectTimedOut(call: PushCall): void {
    this.connectTimer = null;
    if (call !== this.call) return;
    this.streamEnded(call, new Error(`not accepted within ${CONNECT_TIMEOUT_MS} ms`));
    call.cancel();
  }

  /** Any end of a stream (status OK included, e.g. the server shutting down) means reconnect. */
  private streamEnded(call: PushCall, error: Error | null): void {
    if (call !== this.call) return;
    const wasReady = this.currentState === 'ready';
    this.detach();
    const reason = error ? error.message : 'stream ended by the server';
    // One line per outage at info or above (a wrong localAddress must be visible); retries at debug.
    if (wasReady) this.log.warn({ reason }, 'bus link down');
    else if (this.failedAttempts === 0) this.log.info({ reason }, 'bus link cannot connect yet');
    else this.log.debug({ reason, failedAttempts: this.failedAttempts }, 'bus link attempt failed');
    this.failedAttempts++;
    this.setState('down');
    if (!this.closed) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(delayMs * 2, MAX_BACKOFF_MS);
    this.retryTimer = this.context.timer.setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.open();
    }, delayMs);
    this.retryTimer.unref?.();
  }

  /** Forgets the current stream and its queue (undelivered frames are lost: the bus is at-most-once). */
  private detach(): void {
    this.clearConnectTimer();
    this.call = null;
    // Calls already under way finish on their own; a channel close only cancels calls still waiting to start.
    this.client?.close();
    this.client = null;
    this.generation++;
    this.backlog = [];
    this.backlogHead = 0;
    this.blocked = false;
    this.queued = 0;
  }

  private write(call: PushCall, frame: Buffer): void {
    const generation = this.generation;
    const bytes = frame.length;
    if (!call.write(frame, () => this.written(generation, bytes))) this.blocked = true;
  }

  private written(generation: number, bytes: number): void {
    if (generation === this.generation) this.queued -= bytes;
  }

  private drained(call: PushCall): void {
    if (call !== this.call) return;
    this.blocked = false;
    while (!this.blocked && this.backlogHead < this.backlog.length) {
      const frame = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined;
      this.write(call, frame);
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) this.context.timer.clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private setState(state: BusLinkState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    try {
      this.options.onStateChange?.(state);
    } catch (error) {
      // A throw here would surface inside a grpc-js event callback and take the process down.
      this.log.error({ err: error }, 'bus link onStateChange threw');
    }
  }
}
