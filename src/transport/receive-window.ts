import type * as grpc from '@grpc/grpc-js';
import type * as http2 from 'node:http2';
import type { Logger } from '../log.js';

/** The grpc-js Server method that makes each listener's HTTP/2 server (not public API). */
type CreateHttp2Server = (credentials: grpc.ServerCredentials) => http2.Http2Server;

/**
 * Raises the HTTP/2 receive window of every connection `server` accepts,
 * and of each stream on them, to `windowBytes`.
 *
 * Why: with HTTP/2's 64 KiB a sender may put only 64 KiB on the wire, then
 * waits for the receiver's WINDOW_UPDATE, which a peer busy applying a
 * batch sends only when its event loop comes back to the socket. Under SET
 * P=16 on one node of three (2 cores), the link's queue grew to its 32 MiB
 * bound, the peers trailed by 3.4 s when the load stopped, and the writer
 * re-read the states of the batches it had to drop. With 4 MiB the queue
 * stayed under 400 KB and the peers were level 20 ms after the load.
 *
 * grpc-js 1.14 reads no server option for this (its client has
 * grpc-node.flow_control_window; the server's is grpc-node pull request
 * 3058, still open), so this wraps the server's createHttp2Server. That is
 * not public API: without it the bus still works at 64 KiB, said once in
 * the log, and test/unit/grpc-bus.test.ts fails, so an upgrade of grpc-js
 * that renames it is caught.
 */
export function widenReceiveWindow(server: grpc.Server, windowBytes: number, log: Logger): void {
  const internals = server as unknown as { createHttp2Server?: CreateHttp2Server };
  const create = internals.createHttp2Server;
  if (typeof create !== 'function') {
    log.warn({ windowBytes }, 'bus: this grpc-js has no createHttp2Server; peer connections keep the 64 KiB HTTP/2 window');
    return;
  }
  internals.createHttp2Server = (credentials) => {
    const http2Server = create.call(server, credentials);
    // Every stream's window, in the SETTINGS a new connection gets first.
    http2Server.updateSettings({ initialWindowSize: windowBytes });
    // The connection's own window, which SETTINGS cannot change: a WINDOW_UPDATE on stream 0.
    http2Server.on('session', (session: http2.ServerHttp2Session) => {
      // A throw in this listener would end the process; a connection left at 64 KiB only runs slower.
      try {
        session.setLocalWindowSize(windowBytes);
      } catch (error) {
        log.debug({ err: error }, 'bus: could not widen a connection window');
      }
    });
    return http2Server;
  };
}
