import * as grpc from '@grpc/grpc-js';
import type { BusAddress } from './bus.js';

/**
 * The bus's gRPC service, defined in code (no .proto): payloads are already
 * msgpackr frames, so both directions use identity Buffer serializers.
 *
 * Push is client-streaming: the link writes one frame per message and the
 * server answers once, when the stream ends. The bus is one-way and
 * at-most-once (acknowledgements live in the protocols above it), so a bidi
 * stream would carry nothing back. The server sends its response headers as
 * soon as it accepts the stream; the link treats those headers as "ready",
 * which proves the whole path (TCP, HTTP/2, a Strata handler) rather than just
 * a READY channel.
 */
const identity = (frame: Buffer): Buffer => frame;

export const PUSH_METHOD: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/strata.Bus/Push',
  requestStream: true,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};

export const BUS_SERVICE: grpc.ServiceDefinition = { Push: PUSH_METHOD };

/** The one (empty) response a Push stream gets when it ends. */
export const EMPTY_RESPONSE = Buffer.alloc(0);

/** Keepalive pings notice a dead peer (no RST, e.g. a pulled cable) within time + timeout. */
const KEEPALIVE_TIME_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;
/** Streams one connection may open on a server; a link uses one. */
const MAX_STREAMS_PER_CONNECTION = 16;

/**
 * HTTP/2 receive window of a bus server's connections and of each stream on
 * them, in bytes (HTTP/2's default is 64 KiB). See widenReceiveWindow. It
 * is also the bound on what one connection can have a busy node hold unread:
 * the connection window caps all its streams together.
 */
export const RECEIVE_WINDOW_BYTES = 4 * 1024 * 1024;

/** Options shared by both ends: message size bound and keepalive. */
function commonOptions(maxMessageBytes: number): grpc.ChannelOptions {
  return {
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
  };
}

export function serverOptions(maxMessageBytes: number): grpc.ServerOptions {
  return { ...commonOptions(maxMessageBytes), 'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION };
}

export function clientOptions(maxMessageBytes: number): grpc.ChannelOptions {
  return {
    ...commonOptions(maxMessageBytes),
    // Each link owns its channel and TCP connection: closing or failing one link never touches another.
    'grpc.use_local_subchannel_pool': 1,
    // Cluster traffic is direct; an http_proxy variable in the environment must not reroute it.
    'grpc.enable_http_proxy': 0,
    // No retry buffering: a failed stream is the link's to handle (it reconnects; senders resend).
    'grpc.enable_retries': 0,
  };
}

/** host:port as gRPC and URIs write it: IPv6 literals in brackets (added unless the host already has them). */
export function hostPort(address: BusAddress): string {
  const { host, port } = address;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
