import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { Timer } from '../runtime/timer.js';
import type { BusAddress, BusMessageHandler, BusServer } from './bus.js';
import { FrameError, type BusCodec } from './codec.js';
import { BUS_SERVICE, EMPTY_RESPONSE, hostPort, RECEIVE_WINDOW_BYTES, serverOptions } from './grpc-service.js';
import { widenReceiveWindow } from './receive-window.js';
import { WarnThrottle } from './warn-throttle.js';

/** How long close() lets streams and connections end gracefully before forcing them. */
export const SHUTDOWN_GRACE_MS = 1000;

export interface ServerContext {
  timer: Timer;
  log: Logger;
  codec: BusCodec;
}

type PushStream = grpc.ServerReadableStream<Buffer, Buffer>;

/**
 * The receiving end of the bus. Each Push stream delivers its frames in
 * order; a frame that is oversize or not MessagePack is dropped and logged
 * (throttled per peer) and the stream carries on, so a hostile or buggy
 * sender costs only its own frames.
 */
export class GrpcBusServer implements BusServer {
  private readonly server: grpc.Server;
  /** Each open stream's graceful "respond and end" function. */
  private readonly openStreams = new Set<() => void>();
  private readonly dropped: WarnThrottle;
  private readonly handlerErrors: WarnThrottle;
  private closing: Promise<void> | null = null;
  private boundAddress: BusAddress = { host: '', port: 0 };

  private constructor(
    private readonly context: ServerContext,
    private readonly onMessage: BusMessageHandler,
  ) {
    this.server = new grpc.Server(serverOptions(context.codec.maxMessageBytes));
    widenReceiveWindow(this.server, RECEIVE_WINDOW_BYTES, context.log);
    this.server.addService(BUS_SERVICE, { Push: (call: PushStream, respond: grpc.sendUnaryData<Buffer>) => this.accept(call, respond) });
    this.dropped = new WarnThrottle(context.timer, context.log);
    this.handlerErrors = new WarnThrottle(context.timer, context.log, 'error');
  }

  static async start(address: BusAddress, onMessage: BusMessageHandler, context: ServerContext): Promise<GrpcBusServer> {
    const bus = new GrpcBusServer(context, onMessage);
    const port = await new Promise<number>((resolve, reject) => {
      bus.server.bindAsync(hostPort(address), grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(error);
        else resolve(boundPort);
      });
    }).catch((error: unknown) => {
      bus.server.forceShutdown();
      throw error;
    });
    bus.boundAddress = { host: address.host, port };
    return bus;
  }

  /** Where the server listens (the real port when 0 was asked for). */
  get address(): BusAddress {
    return this.boundAddress;
  }

  /** Inbound frames dropped so far (oversize or undecodable), over all peers. */
  get droppedFrames(): number {
    return this.dropped.total;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Answering every open stream lets tryShutdown finish quickly instead of waiting out the grace period.
    for (const respond of [...this.openStreams]) respond();
    await new Promise<void>((resolve) => {
      const timer = this.context.timer.setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        this.context.timer.clearTimeout(timer);
        resolve();
      });
    });
    this.dropped.close();
    this.handlerErrors.close();
  }

  private accept(call: PushStream, respond: grpc.sendUnaryData<Buffer>): void {
    const peer = call.getPeer();
    let answered = false;
    const finish = (): void => {
      if (answered) return;
      answered = true;
      this.openStreams.delete(finish);
      respond(null, EMPTY_RESPONSE);
    };
    this.openStreams.add(finish);
    call.on('data', (frame: Buffer) => this.deliver(frame, peer));
    call.on('end', finish);
    // Closed without a half-close: nothing left to answer.
    call.on('close', () => this.openStreams.delete(finish));
    // grpc-js gives no reason here. Besides a peer going away, this is how a frame over
    // maxMessageBytes shows up: grpc-js refuses it from its length prefix, before buffering
    // it, and ends that one stream with RESOURCE_EXHAUSTED (the sending link logs the status).
    call.on('cancelled', () => this.context.log.debug({ peer }, 'bus stream cancelled'));
    call.on('error', (error: Error) => this.context.log.debug({ peer, err: error }, 'bus stream error'));
    // The link counts its stream as ready when these headers arrive.
    call.sendMetadata(new grpc.Metadata());
  }

  private deliver(frame: Buffer, peer: string): void {
    let message: unknown;
    try {
      message = this.context.codec.decode(frame);
    } catch (error) {
      const reason = error instanceof FrameError ? error.reason : 'undecodable';
      const detail = error instanceof Error ? error.message : String(error);
      this.dropped.report(peer, { peer, reason, bytes: frame.length, detail }, 'bus: dropped inbound frame');
      return;
    }
    try {
      this.onMessage(message, peer);
    } catch (error) {
      // The handler's bug, but a throw here would surface in a grpc-js callback and end the process.
      this.handlerErrors.report(peer, { peer, err: error }, 'bus message handler threw');
    }
  }
}
