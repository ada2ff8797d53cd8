import type { Logger } from '../log.js';
import type { Timer } from '../runtime/timer.js';
import type { Bus, BusAddress, BusConnectOptions, BusLink, BusMessageHandler } from './bus.js';
import { BusCodec, DEFAULT_MAX_MESSAGE_BYTES } from './codec.js';
import { GrpcLink, type LinkContext } from './grpc-link.js';
import { GrpcBusServer } from './grpc-server.js';
import { WarnThrottle } from './warn-throttle.js';

export { GrpcBusServer } from './grpc-server.js';
export { GrpcLink } from './grpc-link.js';

/** Default bound on the bytes one link holds before the network takes them. */
export const DEFAULT_MAX_QUEUE_BYTES = 32 * 1024 * 1024;

export interface GrpcBusOptions {
  timer: Timer;
  log: Logger;
  /** Largest encoded message, both sent and received (default 64 MiB). */
  maxMessageBytes?: number;
  /** Per link: bytes accepted by send() and not yet handed to the network (default 32 MiB). */
  maxQueueBytes?: number;
}

/**
 * The production Bus: gRPC over plain TCP (insecure credentials: the cluster
 * bus runs on a trusted network, like Redis's cluster bus), one msgpackr frame
 * per message. See grpc-service.ts for the wire shape, grpc-link.ts for the
 * sending side, grpc-server.ts for the receiving side.
 */
export class GrpcBus implements Bus {
  private readonly links: LinkContext;
  private readonly codec: BusCodec;

  constructor(private readonly options: GrpcBusOptions) {
    this.codec = new BusCodec(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.links = {
      timer: options.timer,
      log: options.log,
      codec: this.codec,
      maxQueueBytes: options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      oversize: new WarnThrottle(options.timer, options.log),
    };
  }

  get maxMessageBytes(): number {
    return this.codec.maxMessageBytes;
  }

  listen(address: BusAddress, onMessage: BusMessageHandler): Promise<GrpcBusServer> {
    return GrpcBusServer.start(address, onMessage, { timer: this.options.timer, log: this.options.log, codec: this.codec });
  }

  connect(to: BusAddress, options?: BusConnectOptions): BusLink {
    return new GrpcLink(to, this.links, options);
  }
}
