/**
 * The production bus over real loopback sockets. No timing assertions: every
 * wait polls for a condition under one generous deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { pack, Packr, Unpackr } from 'msgpackr';
import * as http2 from 'node:http2';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../src/log.js';
import { SystemTimer, type Timer, type TimerHandle } from '../../src/runtime/timer.js';
import type { BusAddress, BusLink, BusLinkState, BusMessageHandler } from '../../src/transport/bus.js';
import { BusCodec, EncodeOnce, FrameError } from '../../src/transport/codec.js';
import { GrpcBus, type GrpcBusOptions, type GrpcBusServer } from '../../src/transport/grpc-bus.js';
import { hostPort, RECEIVE_WINDOW_BYTES } from '../../src/transport/grpc-service.js';
import { WarnThrottle } from '../../src/transport/warn-throttle.js';

const LOOPBACK = '127.0.0.1';
const WAIT_LIMIT_MS = 30_000;

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Deterministic bytes (a tiny LCG), so a failing run can be replayed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** A pino logger whose lines land in an array. */
function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** The system timer, counting the timeouts still pending. */
class CountingTimer extends SystemTimer {
  readonly pending = new Set<TimerHandle>();
  override setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const handle = super.setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, delayMs);
    this.pending.add(handle);
    return handle;
  }
  override clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle);
    super.clearTimeout(handle);
  }
}

/** Timeouts that run only when the test says so. */
class ManualTimer implements Timer {
  private readonly due = new Map<TimerHandle, () => void>();
  setTimeout(fn: () => void): TimerHandle {
    const handle = {};
    this.due.set(handle, fn);
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.due.delete(handle);
  }
  /** Runs every timeout pending now (not those they schedule). */
  fireAll(): void {
    const now = [...this.due];
    this.due.clear();
    for (const [, fn] of now) fn();
  }
  get pendingCount(): number {
    return this.due.size;
  }
  setInterval(): TimerHandle {
    throw new Error('not used');
  }
  clearInterval(): void {}
  setImmediate(): TimerHandle {
    throw new Error('not used');
  }
  clearImmediate(): void {}
}

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) await cleanup();
});

function makeBus(options: Partial<GrpcBusOptions> = {}): GrpcBus {
  return new GrpcBus({ timer: new SystemTimer(), log: silentLogger(), ...options });
}

async function listen(bus: GrpcBus, onMessage: BusMessageHandler, port = 0): Promise<GrpcBusServer> {
  const server = await bus.listen({ host: LOOPBACK, port }, onMessage);
  cleanups.push(() => server.close());
  return server;
}

/** A link that records every state it passes through. */
function connect(bus: GrpcBus, to: BusAddress, localAddress?: string): { link: BusLink; states: BusLinkState[] } {
  const states: BusLinkState[] = [];
  const link = bus.connect(to, { localAddress, onStateChange: (state) => states.push(state) });
  cleanups.push(() => link.close());
  return { link, states };
}

async function readyLink(bus: GrpcBus, to: BusAddress): Promise<BusLink> {
  const { link } = connect(bus, to);
  await waitFor(() => link.state === 'ready', 'link ready');
  return link;
}

/** A port that was free a moment ago (bound, then released). */
async function freePort(): Promise<number> {
  const server = await makeBus().listen({ host: LOOPBACK, port: 0 }, () => undefined);
  await server.close();
  return server.address.port;
}

describe('GrpcBus delivery', () => {
  it('delivers 10,000 messages in order', async () => {
    const bus = makeBus();
    const received: unknown[] = [];
    const server = await listen(bus, (message) => received.push(message));
    const link = await readyLink(bus, server.address);
    const sent = Array.from({ length: 10_000 }, (_, seq) => ({ seq, key: `k${seq}`, ops: [seq, 'x'] }));
    const accepted = sent.map((message) => link.send(message));
    expect(accepted.every(Boolean)).toBe(true);
    await waitFor(() => received.length >= sent.length, 'all messages');
    expect(received).toEqual(sent);
    await waitFor(() => link.queuedBytes === 0, 'queue drained');
  });

  it('delivers one EncodeOnce message on two links to two servers', async () => {
    const bus = makeBus();
    const got: unknown[][] = [[], []];
    const servers = [await listen(bus, (m) => got[0]!.push(m)), await listen(bus, (m) => got[1]!.push(m))];
    const links = [await readyLink(bus, servers[0]!.address), await readyLink(bus, servers[1]!.address)];
    const message = { k: 'deltas', first: 1, last: 2, s: ['a', 'b'] };
    const once = new EncodeOnce(message);
    expect(links.map((link) => link.send(once))).toEqual([true, true]);
    await waitFor(() => got[0]!.length === 1 && got[1]!.length === 1, 'both deliveries');
    expect(got).toEqual([[message], [message]]);
  });

  it('delivers a 5 MB message intact', async () => {
    const bus = makeBus();
    const received: unknown[] = [];
    const server = await listen(bus, (message) => received.push(message));
    const link = await readyLink(bus, server.address);
    const blob = pseudoRandomBytes(5 * 1024 * 1024, 7);
    expect(link.send({ blob, tag: 'big' })).toBe(true);
    await waitFor(() => received.length === 1, 'the big message');
    const message = received[0] as { blob: Buffer; tag: string };
    expect(message.tag).toBe('big');
    expect(Buffer.from(message.blob).equals(blob)).toBe(true);
  });

  it('reports the peer address with each message', async () => {
    const bus = makeBus();
    const peers: string[] = [];
    const server = await listen(bus, (_message, peer) => peers.push(peer));
    const link = await readyLink(bus, server.address);
    link.send('hello');
    await waitFor(() => peers.length === 1, 'one message');
    expect(peers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

describe('GrpcBus link lifecycle', () => {
  it('refuses sends while not ready, then connects once the server starts', async () => {
    const port = await freePort();
    const bus = makeBus();
    const { link, states } = connect(bus, { host: LOOPBACK, port });
    expect(link.state).not.toBe('ready');
    expect(link.send({ early: true })).toBe(false);
    expect(link.queuedBytes).toBe(0);
    await waitFor(() => states.includes('down'), 'a failed attempt');

    const received: unknown[] = [];
    await listen(bus, (message) => received.push(message), port);
    await waitFor(() => link.state === 'ready', 'link ready after the server started');
    expect(states.slice(0, 2)).toEqual(['down', 'connecting']);
    for (let seq = 0; seq < 100; seq++) expect(link.send({ seq })).toBe(true);
    await waitFor(() => received.length === 100, 'messages sent after ready');
    expect(received).toEqual(Array.from({ length: 100 }, (_, seq) => ({ seq })));
  });

  it('reconnects after the server restarts and delivers again', async () => {
    const bus = makeBus();
    const received: unknown[] = [];
    const first = await bus.listen({ host: LOOPBACK, port: 0 }, (message) => received.push(message));
    const { link, states } = connect(bus, first.address);
    await waitFor(() => link.state === 'ready', 'first ready');
    await first.close();
    await waitFor(() => link.state !== 'ready', 'link notices the shutdown');
    expect(link.send('lost')).toBe(false);

    await listen(bus, (message) => received.push(message), first.address.port);
    await waitFor(() => link.state === 'ready', 'ready again');
    expect(states[0]).toBe('ready');
    expect(states).toContain('down');
    expect(states.at(-1)).toBe('ready');
    expect(link.send('after restart')).toBe(true);
    await waitFor(() => received.includes('after restart'), 'delivery after restart');
  });

  it('close() stops reconnecting and leaves no timer behind', async () => {
    const timer = new CountingTimer();
    const bus = makeBus({ timer });
    const { link, states } = connect(bus, { host: LOOPBACK, port: await freePort() });
    await waitFor(() => states.filter((state) => state === 'down').length >= 3, 'several failed attempts');
    link.close();
    expect(link.state).toBe('down');
    expect(timer.pending.size).toBe(0);
    const seen = states.length;
    link.close();
    expect(states.length).toBe(seen);
    expect(link.send('after close')).toBe(false);
  });

  it('close() of a ready link flushes what it accepted, then ends; the server serves others', async () => {
    const bus = makeBus();
    const received: unknown[] = [];
    const server = await listen(bus, (message) => received.push(message));
    const closing = await readyLink(bus, server.address);
    for (let seq = 0; seq < 2000; seq++) closing.send({ seq, pad: 'x'.repeat(200) });
    closing.close();
    expect(closing.state).toBe('down');
    await waitFor(() => received.length === 2000, 'messages accepted before close');
    const other = await readyLink(bus, server.address);
    other.send('other');
    await waitFor(() => received.includes('other'), 'the other link delivers');
  });
});

describe('GrpcBus listen', () => {
  it('rejects a port already in use, and the first server keeps serving', async () => {
    const bus = makeBus();
    const received: unknown[] = [];
    const server = await listen(bus, (message) => received.push(message));
    await expect(bus.listen({ host: LOOPBACK, port: server.address.port }, () => undefined)).rejects.toThrow();
    const link = await readyLink(bus, server.address);
    link.send('still here');
    await waitFor(() => received.includes('still here'), 'delivery to the first server');
  });

  it('writes IPv6 hosts in brackets, once', () => {
    expect(hostPort({ host: '::1', port: 7000 })).toBe('[::1]:7000');
    expect(hostPort({ host: '[::1]', port: 7000 })).toBe('[::1]:7000');
    expect(hostPort({ host: 'node-a', port: 17000 })).toBe('node-a:17000');
  });
});

describe('GrpcBus limits', () => {
  it('refuses a message over maxMessageBytes without harming the link', async () => {
    const { log, lines } = capturingLogger();
    const bus = makeBus({ log, maxMessageBytes: 64 * 1024 });
    const received: unknown[] = [];
    const server = await listen(bus, (message) => received.push(message));
    const link = await readyLink(bus, server.address);
    expect(link.send({ blob: Buffer.alloc(100 * 1024) })).toBe(false);
    expect(link.send({ blob: Buffer.alloc(100 * 1024) })).toBe(false);
    expect(link.state).toBe('ready');
    expect(link.queuedBytes).toBe(0);
    expect(lines.filter((line) => line.msg === 'bus: refused oversize message')).toHaveLength(1);
    expect(link.send('small')).toBe(true);
    await waitFor(() => received.includes('small'), 'the small message');
  });

  it('an oversize frame from a peer with a larger bound ends only that stream', async () => {
    const receiving = makeBus({ maxMessageBytes: 64 * 1024 });
    const received: unknown[] = [];
    const server = await listen(receiving, (message) => received.push(message));
    const sender = makeBus({ maxMessageBytes: 1024 * 1024 });
    const { link: big, states } = connect(sender, server.address);
    const good = await readyLink(receiving, server.address);
    await waitFor(() => big.state === 'ready', 'big link ready');
    expect(big.send({ blob: Buffer.alloc(100 * 1024) })).toBe(true);
    await waitFor(() => states.includes('down'), 'the big link is reset');
    good.send('still fine');
    await waitFor(() => received.includes('still fine'), 'the other link delivers');
    await waitFor(() => big.state === 'ready', 'the big link reconnects');
    big.send('small again');
    await waitFor(() => received.includes('small again'), 'the reconnected link delivers');
  });

  it('bounds the queue: refuses sends over maxQueueBytes and drains to zero', async () => {
    const bus = makeBus({ maxQueueBytes: 256 * 1024 });
    const received: { seq: number }[] = [];
    const server = await listen(bus, (message) => received.push(message as { seq: number }));
    const link = await readyLink(bus, server.address);
    const accepted: number[] = [];
    let peakBytes = 0;
    for (let seq = 0; seq < 64; seq++) {
      if (link.send({ seq, blob: Buffer.alloc(64 * 1024) })) accepted.push(seq);
      peakBytes = Math.max(peakBytes, link.queuedBytes);
    }
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(64);
    expect(peakBytes).toBeLessThanOrEqual(256 * 1024);
    await waitFor(() => received.length === accepted.length, 'accepted messages');
    expect(received.map((message) => message.seq)).toEqual(accepted);
    await waitFor(() => link.queuedBytes === 0, 'queue drained');
  });
});

describe('GrpcBus hostile input', () => {
  /** A raw client stream on the bus method: it writes whatever bytes it is given as frames. */
  async function rawStream(address: BusAddress): Promise<grpc.ClientWritableStream<Buffer>> {
    const client = new grpc.Client(`${address.host}:${address.port}`, grpc.credentials.createInsecure());
    const identity = (frame: Buffer): Buffer => frame;
    const call = client.makeClientStreamRequest('/strata.Bus/Push', identity, identity, () => undefined);
    call.on('error', () => undefined);
    cleanups.push(() => {
      call.cancel();
      client.close();
    });
    await new Promise((resolve) => call.once('metadata', resolve));
    return call;
  }

  function garbageFrames(): Buffer[] {
    const valid = pack({ op: 'set', key: 'k', value: 'v'.repeat(50) });
    const frames = [
      valid.subarray(0, valid.length - 3), // truncated
      Buffer.concat([valid, Buffer.from([0x01])]), // trailing bytes
      Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 claiming 4G items, no items
      Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x41]), // str32 claiming 2 GB
      Buffer.from([0xd6, 0x69, 0, 0, 0, 1, 0x90]), // structured-clone reference extension
      Buffer.concat([Buffer.alloc(200_000, 0x91), Buffer.from([0x00])]), // nesting deep enough to overflow the stack
      Buffer.alloc(0),
    ];
    for (let seed = 1; seed <= 200; seed++) frames.push(pseudoRandomBytes(1 + (seed % 97), seed));
    return frames;
  }

  it('drops undecodable frames, logs them throttled, and keeps serving other links', async () => {
    const { log, lines } = capturingLogger();
    const bus = makeBus({ log });
    const good: unknown[] = [];
    const server = await listen(bus, (message) => {
      if (typeof message === 'object' && message !== null && (message as { good?: unknown }).good === true) good.push(message);
    });
    const link = await readyLink(bus, server.address);
    const hostile = await rawStream(server.address);
    const garbage = garbageFrames();
    for (let seq = 0; seq < 1000; seq++) {
      if (seq < garbage.length) hostile.write(garbage[seq]);
      expect(link.send({ good: true, seq })).toBe(true);
    }
    await waitFor(() => good.length === 1000, 'every good message');
    expect(good).toEqual(Array.from({ length: 1000 }, (_, seq) => ({ good: true, seq })));
    // At least the seven crafted frames fail; random ones may happen to decode.
    await waitFor(() => server.droppedFrames >= 7, 'garbage dropped');
    // Throttled per peer (the exact cadence is WarnThrottle's own test, on a manual timer).
    const dropLines = lines.filter((line) => line.msg === 'bus: dropped inbound frame');
    expect(dropLines.length).toBeGreaterThanOrEqual(1);
    expect(dropLines.length).toBeLessThan(server.droppedFrames);
    expect(link.state).toBe('ready');

    // The hostile stream itself was not killed by its garbage: its valid frames still arrive.
    hostile.write(pack({ good: true, seq: 1000 }));
    await waitFor(() => good.length === 1001, 'a valid frame on the hostile stream');
  });

  it('survives a handler that throws', async () => {
    const bus = makeBus();
    const received: unknown[] = [];
    const server = await listen(bus, (message) => {
      if (message === 'boom') throw new Error('handler bug');
      received.push(message);
    });
    const link = await readyLink(bus, server.address);
    link.send('boom');
    link.send('after');
    await waitFor(() => received.includes('after'), 'the message after the throw');
    expect(link.state).toBe('ready');
  });
});

describe('GrpcBus receive window', () => {
  // A sender may run RECEIVE_WINDOW_BYTES ahead of a busy peer, not HTTP/2's 64 KiB (receive-window.ts).
  it('grants each connection and each stream RECEIVE_WINDOW_BYTES', async () => {
    const server = await listen(makeBus(), () => undefined);
    const session = http2.connect(`http://${hostPort(server.address)}`);
    cleanups.push(() => new Promise<void>((resolve) => session.close(() => resolve())));
    session.on('error', () => undefined);
    await waitFor(() => session.remoteSettings.initialWindowSize === RECEIVE_WINDOW_BYTES, 'the stream window in SETTINGS');
    await waitFor(() => session.state.remoteWindowSize === RECEIVE_WINDOW_BYTES, 'the connection window update');
  });
});

describe('GrpcBus localAddress', () => {
  it('originates the connection from the given local address', async () => {
    const bus = makeBus();
    const peers: string[] = [];
    const server = await listen(bus, (_message, peer) => peers.push(peer));
    const { link } = connect(bus, server.address, '127.0.0.2');
    await waitFor(() => link.state === 'ready', 'bound link ready');
    link.send('from 127.0.0.2');
    await waitFor(() => peers.length === 1, 'one message');
    expect(peers[0]).toMatch(/^127\.0\.0\.2:\d+$/);
  });
});

describe('BusCodec', () => {
  const codec = new BusCodec(1024);

  it('round-trips plain data and writes maps any decoder reads', () => {
    const message = { op: 'hset', key: 'h', fields: { a: 1, b: [1.5, 'x', null, true] }, raw: Buffer.from([0, 1, 255]), big: 2n ** 60n };
    const frame = codec.encode(message);
    expect(codec.decode(frame)).toEqual(message);
    // A stock decoder (records off) sees standard maps, not msgpackr record extensions.
    expect(new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(frame)).toEqual(message);
    expect(new Packr().unpack(frame)).toBeInstanceOf(Map);
  });

  it('rejects oversize, truncated and trailing-byte frames with FrameError', () => {
    const frame = codec.encode({ key: 'k', value: 'v' });
    const reasonOf = (bytes: Uint8Array): string => {
      try {
        codec.decode(bytes);
        return 'decoded';
      } catch (error) {
        return error instanceof FrameError ? error.reason : 'other';
      }
    };
    expect(reasonOf(Buffer.alloc(1025))).toBe('oversize');
    expect(reasonOf(frame.subarray(0, frame.length - 1))).toBe('undecodable');
    expect(reasonOf(Buffer.concat([frame, Buffer.from([0])]))).toBe('undecodable');
  });

  it('encodes an EncodeOnce message once, whichever links send it, to the frame of its message', () => {
    const message = { k: 'deltas', s: [0, 'key', 1.5, null] };
    const once = new EncodeOnce(message);
    const first = codec.encode(once);
    expect(new BusCodec(1024).encode(once)).toBe(first);
    expect(codec.decode(first)).toEqual(message);
    expect(first.equals(codec.encode(message))).toBe(true);
  });

  it('cannot be steered into Object.prototype by a __proto__ key', () => {
    const frame = new Packr({ useRecords: false }).pack(JSON.parse('{"__proto__": {"polluted": 1}}'));
    const decoded = codec.decode(frame) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('WarnThrottle', () => {
  it('logs once per window per key and then the suppressed count', () => {
    const timer = new ManualTimer();
    const { log, lines } = capturingLogger();
    const throttle = new WarnThrottle(timer, log);
    for (let i = 0; i < 5; i++) throttle.report('peer-a', { i }, 'dropped');
    throttle.report('peer-b', {}, 'dropped');
    expect(lines.map((line) => line.key)).toEqual(['peer-a', 'peer-b']);
    timer.fireAll();
    expect(lines.slice(2).map((line) => [line.key, line.suppressed])).toEqual([['peer-a', 4]]);
    expect(timer.pendingCount).toBe(1); // peer-a is still being throttled; peer-b was quiet
    timer.fireAll();
    expect(timer.pendingCount).toBe(0);
    throttle.report('peer-a', {}, 'dropped');
    expect(lines).toHaveLength(4);
    expect(throttle.total).toBe(7);
    throttle.close();
    expect(timer.pendingCount).toBe(0);
  });
});
