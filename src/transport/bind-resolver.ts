import * as grpc from '@grpc/grpc-js';
import { experimental } from '@grpc/grpc-js';
import type { BusAddress } from './bus.js';
import { hostPort } from './grpc-service.js';

/**
 * bind-source-addr for gRPC links: the outgoing TCP connection originates
 * from a chosen local IP.
 *
 * grpc-js (1.14) has no channel option for this. It does, however, hand each
 * resolved subchannel address object unchanged to `net.connect(address)`
 * (Http2SubchannelConnector.tcpConnect), and net.connect honours a
 * `localAddress` field. So this resolver wraps the standard DNS resolver
 * (which also accepts IP literals) and adds `localAddress` to every address it
 * yields. It relies on that pass-through, which is internal to grpc-js; the
 * localAddress test in test/unit/grpc-bus.test.ts fails if an upgrade breaks it.
 */
const SCHEME = 'strata-bind';
/** Channel option carrying the local address to the resolver (grpc-js passes unknown options through). */
const LOCAL_ADDRESS_OPTION = 'strata.local_address';

type ResolverListener = experimental.ResolverListener;
type ResolvedEndpoints = Parameters<ResolverListener>[0];

function withLocalAddress(endpoints: ResolvedEndpoints, localAddress: string): ResolvedEndpoints {
  if (!endpoints.ok) return endpoints;
  const bound = endpoints.value.map((endpoint) => ({
    ...endpoint,
    addresses: endpoint.addresses.map((address) => ('port' in address ? { ...address, localAddress } : address)),
  }));
  return { ok: true, value: bound };
}

class BindResolver implements experimental.Resolver {
  private readonly dns: experimental.Resolver;

  constructor(target: experimental.GrpcUri, listener: ResolverListener, options: grpc.ChannelOptions) {
    const localAddress = String(options[LOCAL_ADDRESS_OPTION]);
    const bound: ResolverListener = (endpoints, attributes, serviceConfig, resolutionNote) =>
      listener(withLocalAddress(endpoints, localAddress), attributes, serviceConfig, resolutionNote);
    this.dns = experimental.createResolver({ scheme: 'dns', path: target.path }, bound, options);
  }

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path;
  }

  updateResolution(): void {
    this.dns.updateResolution();
  }

  destroy(): void {
    this.dns.destroy();
  }
}

let registered = false;

/** The target and extra channel options for a channel to `to`, bound to `localAddress` when given. */
export function channelTarget(to: BusAddress, localAddress?: string): { target: string; options: grpc.ChannelOptions } {
  if (localAddress === undefined) return { target: `dns:${hostPort(to)}`, options: {} };
  if (!registered) {
    experimental.registerResolver(SCHEME, BindResolver);
    registered = true;
  }
  return { target: `${SCHEME}:${hostPort(to)}`, options: { [LOCAL_ADDRESS_OPTION]: localAddress } };
}
