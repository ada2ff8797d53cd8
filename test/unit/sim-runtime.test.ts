import { describe, expect, it } from 'vitest';
import type { BusLink, BusLinkState } from '../../src/transport/bus.js';
import {
  drawFaultPlan,
  FaultInjector,
  MemDisk,
  Scheduler,
  SIM_EPOCH_MS,
  SimClock,
  SimNetwork,
  simRuntime,
  SimTimer,
  seededRandom,
  type FaultEvent,
  type NetworkFaults,
  type SimNetworkOptions,
  type SimRuntime,
} from '../../sim/runtime/index.js';

const BUS_PORT = 7000;

describe('Scheduler', () => {
  it('runs events in time order, FIFO among equal times', () => {
    const s = new Scheduler();
    const ran: string[] = [];
    s.after(5, () => ran.push('b1'));
    s.after(1, () => ran.push('a'));
    s.after(5, () => ran.push('b2'));
    s.after(5, () => ran.push('b3'));
    s.after(0, () => ran.push('now'));
    expect(s.runUntilIdle(100)).toBe(5);
    expect(ran).toEqual(['now', 'a', 'b1', 'b2', 'b3']);
    expect(s.nowMs).toBe(SIM_EPOCH_MS + 5);
    expect(s.stats()).toMatchObject({ eventsRun: 5, pending: 0 });
  });

  it('cancels, runs until a time (moving the clock there) and steps', () => {
    const s = new Scheduler({ startMs: 0 });
    const ran: number[] = [];
    const cancelled = s.at(10, () => ran.push(10));
    s.at(20, () => ran.push(20));
    s.at(30, () => ran.push(30));
    cancelled.cancel();
    cancelled.cancel();
    expect(cancelled.pending).toBe(false);
    expect(s.runUntil(25)).toBe(1);
    expect(s.nowMs).toBe(25);
    expect(s.pendingCount).toBe(1);
    expect(s.step()).toBe(true);
    expect(s.step()).toBe(false);
    expect(ran).toEqual([20, 30]);
  });

  it('refuses the past, re-entrant runs, too many pending events and a livelock at one instant', () => {
    const s = new Scheduler({ startMs: 100, maxPendingEvents: 3, maxEventsAtOneInstant: 50 });
    expect(() => s.at(99, () => {})).toThrow(/before now/);
    s.at(100, () => s.runUntil(200));
    expect(() => s.step()).toThrow(/inside an event/);
    for (let i = 0; i < 3; i++) s.after(1, () => {});
    expect(() => s.after(1, () => {})).toThrow(/pending events/);
    s.runUntilIdle(10);
    const spin = (): void => void s.after(0, spin);
    spin();
    expect(() => s.runUntilIdle(1000)).toThrow(/livelock/);
  });

  it('keeps the pending bound honest when events are cancelled (compaction)', () => {
    const s = new Scheduler({ startMs: 0, maxPendingEvents: 10 });
    for (let i = 0; i < 100; i++) s.after(i + 1, () => {}).cancel();
    s.after(1, () => {});
    expect(s.pendingCount).toBe(1);
  });

  it('async runners let promise continuations run between events', async () => {
    const s = new Scheduler({ startMs: 0 });
    const order: string[] = [];
    s.at(1, () => {
      void (async () => {
        await Promise.resolve();
        order.push(`continuation@${s.nowMs}`);
      })();
    });
    s.at(2, () => order.push(`event@${s.nowMs}`));
    await s.runUntilAsync(5);
    expect(order).toEqual(['continuation@1', 'event@2']);
  });
});

describe('SimTimer', () => {
  it('fires timeouts in order with FIFO ties, immediates before later timers, and clamps like Node', () => {
    const s = new Scheduler({ startMs: 0 });
    const t = new SimTimer(s);
    const ran: string[] = [];
    t.setTimeout(() => ran.push('t10a'), 10);
    t.setTimeout(() => ran.push('t1'), 0); // Node: 0 -> 1 ms
    t.setTimeout(() => ran.push('t10b'), 10);
    t.setImmediate(() => ran.push('imm1'));
    t.setImmediate(() => ran.push('imm2'));
    const cleared = t.setTimeout(() => ran.push('cleared'), 5);
    t.clearTimeout(cleared);
    s.runUntilIdle(100);
    expect(ran).toEqual(['imm1', 'imm2', 't1', 't10a', 't10b']);
    expect(t.pendingCount).toBe(0);
  });

  it('repeats intervals until cleared, also from inside the callback', () => {
    const s = new Scheduler({ startMs: 0 });
    const t = new SimTimer(s);
    const times: number[] = [];
    const h = t.setInterval(() => {
      times.push(s.nowMs);
      if (times.length === 3) t.clearInterval(h);
    }, 7);
    s.runUntil(100);
    expect(times).toEqual([7, 14, 21]);
    expect(s.idle).toBe(true);
  });

  it('cancelAll drops every pending timer of one node only; halt ignores later ones', () => {
    const s = new Scheduler({ startMs: 0 });
    const a = new SimTimer(s);
    const b = new SimTimer(s);
    const ran: string[] = [];
    a.setTimeout(() => ran.push('a'), 5);
    a.setInterval(() => ran.push('a-int'), 2);
    b.setTimeout(() => ran.push('b'), 5);
    s.runUntil(3);
    expect(a.cancelAll()).toBe(2);
    a.clearTimeout(b.setTimeout(() => ran.push('b2'), 1)); // another node's handle: a no-op
    s.runUntil(50);
    expect(ran).toEqual(['a-int', 'b2', 'b']);
    a.halt();
    a.setTimeout(() => ran.push('zombie'), 1);
    s.runUntil(100);
    expect(ran).not.toContain('zombie');
  });
});

describe('SimClock', () => {
  it('reads virtual time through skew and drift; jumps move the wall clock, never the monotonic one', () => {
    const s = new Scheduler();
    const c = new SimClock(s, { offsetMs: 1500 });
    expect(c.nowMs()).toBe(SIM_EPOCH_MS + 1500);
    expect(c.nowUs()).toBe((SIM_EPOCH_MS + 1500) * 1000);
    s.runUntil(SIM_EPOCH_MS + 1000);
    expect(c.monotonicMs()).toBe(1000);
    c.jump(-5000);
    expect(c.nowMs()).toBe(SIM_EPOCH_MS + 1000 + 1500 - 5000);
    expect(c.monotonicMs()).toBe(1000);
    c.setDriftPpm(1000); // 1 ms fast per second
    s.runUntil(SIM_EPOCH_MS + 11_000);
    expect(c.monotonicMs()).toBeCloseTo(11_010, 6);
    expect(c.skewMs()).toBeCloseTo(1500 - 5000 + 10, 6);
    expect(() => c.setDriftPpm(2_000_000)).toThrow(RangeError);
  });
});

/** N nodes, each listening at `${name}:7000`, each with links to every other node. */
function cluster(
  names: readonly string[],
  seed: number,
  faults: Partial<NetworkFaults> = {},
  options: SimNetworkOptions = {},
): { s: Scheduler; net: SimNetwork; rt: Map<string, SimRuntime>; links: Map<string, BusLink>; inbox: string[] } {
  const s = new Scheduler();
  const net = new SimNetwork(s, seededRandom(seed, 'network'), { ...options, faults });
  const rt = new Map<string, SimRuntime>();
  const links = new Map<string, BusLink>();
  const inbox: string[] = [];
  for (const name of names) {
    const r = simRuntime(name, s, net, seed);
    rt.set(name, r);
    void r.bus.listen({ host: name, port: BUS_PORT }, (msg, peer) => {
      inbox.push(`${s.nowMs - SIM_EPOCH_MS} ${peer.split(':')[0]}->${name} ${JSON.stringify(msg)}`);
    });
  }
  for (const from of names) {
    for (const to of names) {
      if (from !== to) links.set(`${from}>${to}`, rt.get(from)!.bus.connect({ host: to, port: BUS_PORT }));
    }
  }
  return { s, net, rt, links, inbox };
}

/** Every node sends a numbered message to a random peer at random intervals drawn from its own Random. */
function chatter(c: ReturnType<typeof cluster>, names: readonly string[]): void {
  for (const name of names) {
    const r = c.rt.get(name)!;
    let n = 0;
    const tick = (): void => {
      const to = names.filter((x) => x !== name)[r.random.int(names.length - 1)]!;
      c.links.get(`${name}>${to}`)!.send({ from: name, n: n++, blob: Buffer.from([n & 0xff]) });
      r.timer.setTimeout(tick, 1 + r.random.int(20));
    };
    r.timer.setTimeout(tick, 50);
  }
}

function chattyRun(seed: number): { trace: string[]; counters: object } {
  const names = ['a', 'b', 'c'];
  const c = cluster(names, seed, {
    lossProbability: 0.1,
    duplicateProbability: 0.05,
    reorderProbability: 0.2,
    reorderMaxExtraMs: 30,
    latencyMinMs: 1,
    latencyMaxMs: 15,
  });
  chatter(c, names);
  c.s.runUntil(SIM_EPOCH_MS + 2_000);
  return { trace: c.inbox, counters: c.net.counters() };
}

describe('SimNetwork', () => {
  it('delivers msgpack-decoded copies after the drawn latency, in order per link', () => {
    const c = cluster(['a', 'b'], 1, { latencyMinMs: 5, latencyMaxMs: 10 });
    c.s.runUntil(SIM_EPOCH_MS + 100);
    const link = c.links.get('a>b')!;
    expect(link.state).toBe('ready');
    const msg = { kind: 'delta', n: 1, bytes: Buffer.from('xyz') };
    for (let i = 0; i < 20; i++) expect(link.send({ ...msg, n: i })).toBe(true);
    expect(link.queuedBytes).toBeGreaterThan(0);
    c.s.runUntil(SIM_EPOCH_MS + 200);
    expect(c.inbox.map((line) => JSON.parse(line.split(' ')[2]!).n)).toEqual([...Array(20).keys()]);
    expect(c.inbox[0]).toContain('"bytes":{"type":"Buffer"'); // a real Buffer came off the wire
    expect(link.queuedBytes).toBe(0);
    expect(c.net.counters()).toMatchObject({ messagesSent: 20, delivered: 20 });
  });

  it('same seed gives the same delivery trace; another seed another', () => {
    const first = chattyRun(42);
    const again = chattyRun(42);
    const other = chattyRun(43);
    expect(first.trace.length).toBeGreaterThan(100);
    expect(again.trace).toEqual(first.trace);
    expect(again.counters).toEqual(first.counters);
    expect(other.trace).not.toEqual(first.trace);
    expect(first.counters).toMatchObject({
      droppedByLoss: expect.any(Number),
      duplicated: expect.any(Number),
      reordered: expect.any(Number),
    });
    const counts = first.counters as Record<string, number>;
    for (const key of ['droppedByLoss', 'duplicated', 'reordered']) expect(counts[key]).toBeGreaterThan(0);
  });

  it('a symmetric partition drops both ways; a one-way cut only its direction', () => {
    const c = cluster(['a', 'b', 'c'], 2);
    c.s.runUntil(SIM_EPOCH_MS + 100);
    const p = c.net.partition(['a'], ['b', 'c']);
    const cut = c.net.cut('b', 'c');
    for (const key of ['a>b', 'b>a', 'c>a', 'b>c', 'c>b']) c.links.get(key)!.send({ key });
    c.s.runUntil(SIM_EPOCH_MS + 200);
    expect(c.inbox.map((line) => line.split(' ')[1])).toEqual(['c->b']);
    expect(c.net.counters().droppedByPartition).toBe(4);
    expect(c.net.canReach('c', 'b')).toBe(true);
    expect(c.net.canReach('b', 'c')).toBe(false);
    p.heal();
    cut.heal();
    expect(c.net.disruptedPairs()).toEqual({ cut: 0, clogged: 0 });
  });

  it('a partition also drops what is already in flight', () => {
    const c = cluster(['a', 'b'], 3, { latencyMinMs: 50, latencyMaxMs: 50 });
    c.s.runUntil(SIM_EPOCH_MS + 1_000);
    c.links.get('a>b')!.send('in flight');
    c.s.runUntil(SIM_EPOCH_MS + 1_010);
    c.net.partition(['a'], ['b']);
    c.s.runUntil(SIM_EPOCH_MS + 1_100);
    expect(c.inbox).toEqual([]);
    expect(c.net.counters().droppedByPartition).toBe(1);
  });

  it('links go down, then connecting, and ready again after the partition heals', () => {
    const s = new Scheduler();
    const net = new SimNetwork(s, seededRandom(4, 'network'), {
      faults: { linkTimeoutMs: 1_000 },
      linkTiming: { initialBackoffMs: 100, maxBackoffMs: 100, connectTimeoutMs: 500 },
    });
    const a = simRuntime('a', s, net, 4);
    const b = simRuntime('b', s, net, 4);
    void b.bus.listen({ host: '0.0.0.0', port: BUS_PORT }, () => {});
    const states: string[] = [];
    const onStateChange = (st: BusLinkState): number => states.push(`${st}@${s.nowMs - SIM_EPOCH_MS}`);
    const link = a.bus.connect({ host: 'b', port: BUS_PORT }, { onStateChange });
    expect(link.state).toBe('connecting');
    s.runUntil(SIM_EPOCH_MS + 100);
    const p = net.partition(['a'], ['b']);
    s.runUntil(SIM_EPOCH_MS + 2_950);
    expect(link.state).toBe('down');
    expect(link.send('refused')).toBe(false);
    p.heal();
    s.runUntil(SIM_EPOCH_MS + 3_200);
    // Detected by the keepalive timeout, then handshakes hang into the partition until the connect timeout.
    expect(states).toEqual(
      ['ready@2', 'down@1100', 'connecting@1200', 'down@1700', 'connecting@1800', 'down@2300', 'connecting@2400']
        .concat(states.slice(7)),
    );
    const readyAgainMs = Number(states.at(-1)!.replace('ready@', ''));
    expect(readyAgainMs).toBeGreaterThan(3_000);
    expect(readyAgainMs).toBeLessThanOrEqual(3_200);
    expect(link.state).toBe('ready');
    expect(net.counters()).toMatchObject({ linkDowns: 1, linkReadies: 2, sendsRefused: 1 });
    link.close();
    expect(states.at(-1)).toMatch(/^down@/);
  });

  it('a crash drops in-flight messages both ways and kills its links; peers reconnect after the restart', () => {
    const timing = { initialBackoffMs: 50, maxBackoffMs: 50 };
    const c = cluster(['a', 'b'], 5, { latencyMinMs: 20, latencyMaxMs: 20 }, { linkTiming: timing });
    c.s.runUntil(SIM_EPOCH_MS + 100);
    const states: BusLinkState[] = [];
    const aToB = c.rt.get('a')!.bus.connect({ host: 'b', port: BUS_PORT }, { onStateChange: (st) => states.push(st) });
    c.s.runUntil(SIM_EPOCH_MS + 200);
    aToB.send('to b');
    c.links.get('b>a')!.send('from b');
    c.net.crash('b');
    c.rt.get('b')!.halt();
    expect(c.links.get('b>a')!.state).toBe('down');
    c.s.runUntil(SIM_EPOCH_MS + 500);
    expect(c.inbox).toEqual([]);
    expect(c.net.counters().droppedByCrash).toBe(2);
    expect(aToB.state).toBe('down'); // refused attempts, backing off
    expect(() => simRuntime('b', c.s, c.net, 5)).toThrow(/crashed/);
    c.net.restart('b');
    const b2 = simRuntime('b', c.s, c.net, 5);
    expect(b2.random.next()).not.toBe(seededRandom(5, 'node:b#0').next()); // a new life draws anew
    void b2.bus.listen({ host: 'b', port: BUS_PORT }, (msg) => c.inbox.push(String(msg)));
    c.s.runUntil(SIM_EPOCH_MS + 700);
    expect(states.slice(0, 3)).toEqual(['ready', 'down', 'connecting']);
    expect(states.at(-1)).toBe('ready');
    expect(aToB.send('again')).toBe(true);
    c.s.runUntil(SIM_EPOCH_MS + 800);
    expect(c.inbox).toEqual(['again']);
  });

  it('a clog holds messages (bounded by the link queue) and releases them in order', () => {
    const s = new Scheduler();
    const net = new SimNetwork(s, seededRandom(6, 'network'), { maxQueueBytes: 100, maxMessageBytes: 150 });
    const a = simRuntime('a', s, net, 6);
    const b = simRuntime('b', s, net, 6);
    const got: number[] = [];
    void b.bus.listen({ host: 'b', port: BUS_PORT }, (msg) => got.push(msg as number));
    const link = a.bus.connect({ host: 'b', port: BUS_PORT });
    s.runUntil(SIM_EPOCH_MS + 10);
    const clog = net.clog('a', 'b');
    let accepted = 0;
    while (link.send(accepted)) accepted++;
    expect(accepted).toBe(100); // one byte each: small ints are one msgpack byte
    expect(link.queuedBytes).toBe(100);
    s.runUntil(SIM_EPOCH_MS + 1_000);
    expect(got).toEqual([]);
    clog.heal();
    s.runUntil(SIM_EPOCH_MS + 1_100);
    expect(got).toEqual([...Array(100).keys()]);
    expect(net.counters()).toMatchObject({ clogged: 100, sendsRefused: 1, delivered: 100, clogs: 1 });
    expect(link.send(Buffer.alloc(120))).toBe(true); // an empty queue takes any one message, as in GrpcLink
    expect(link.send(Buffer.alloc(200))).toBe(false); // oversize: refused, not thrown
  });

  it('rejects a taken address and assigns ports for port 0', async () => {
    const s = new Scheduler();
    const net = new SimNetwork(s, seededRandom(7, 'network'));
    const a = simRuntime('a', s, net, 7);
    const server = await a.bus.listen({ host: 'a', port: 0 }, () => {});
    expect(server.address.port).toBeGreaterThan(0);
    await expect(a.bus.listen(server.address, () => {})).rejects.toThrow(/EADDRINUSE/);
    await server.close();
    await expect(a.bus.listen(server.address, () => {})).resolves.toBeDefined();
  });
});

describe('faults', () => {
  it('draws a different plan per seed, replayably, and some seeds switch faults off', () => {
    const plans = Array.from({ length: 40 }, (_, seed) => drawFaultPlan(seededRandom(seed, 'faults')));
    expect(drawFaultPlan(seededRandom(3, 'faults'))).toEqual(plans[3]);
    expect(new Set(plans.map((p) => JSON.stringify(p))).size).toBe(40);
    expect(plans.some((p) => p.network.lossProbability === 0)).toBe(true);
    expect(plans.some((p) => p.network.lossProbability > 0)).toBe(true);
    expect(plans.some((p) => p.crashMeanIntervalMs === 0)).toBe(true);
    for (const p of plans) {
      expect(p.network.lossProbability).toBeLessThanOrEqual(0.2);
      expect(p.clockSkewMaxMs).toBeLessThanOrEqual(3_000);
    }
  });

  function injectedRun(seed: number): { events: FaultEvent[]; summary: object; downAfterHeal: string[] } {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const c = cluster(names, seed);
    const clocks = new Map(names.map((n) => [n, c.rt.get(n)!.clock]));
    const events: FaultEvent[] = [];
    const plan = {
      ...drawFaultPlan(seededRandom(seed, 'faults')),
      partitionMeanIntervalMs: 1_000,
      oneWayCutShare: 0.5,
      clogMeanIntervalMs: 1_000,
      crashMeanIntervalMs: 2_000,
      clockJumpMeanIntervalMs: 1_000,
    };
    const injector = new FaultInjector({
      scheduler: c.s,
      network: c.net,
      plan,
      random: seededRandom(seed, 'injector'),
      nodes: names,
      clockOf: (n) => clocks.get(n),
      onCrash: (n) => c.rt.get(n)!.halt(),
      onRestart: (n) => {
        const r = simRuntime(n, c.s, c.net, seed, { clock: clocks.get(n) });
        c.rt.set(n, r);
        void r.bus.listen({ host: n, port: BUS_PORT }, () => {});
      },
      onFault: (e) => events.push(e),
    });
    chatter(c, names);
    injector.start();
    c.s.runUntil(SIM_EPOCH_MS + 20_000);
    injector.healAll();
    const downAfterHeal = names.filter((n) => !c.net.isUp(n));
    c.s.runUntil(SIM_EPOCH_MS + 30_000);
    const summary = { faults: injector.counters(), net: c.net.counters(), pairs: c.net.disruptedPairs() };
    return { events, summary, downAfterHeal };
  }

  it('the injector injects every kind of fault, replayably, and healAll undoes them', () => {
    const run = injectedRun(11);
    if (process.env.SIM_DEBUG) console.log(JSON.stringify(run.summary, null, 1), run.events.slice(0, 30));
    expect(injectedRun(11)).toEqual(run);
    const kinds = new Set(run.events.map((e) => e.kind));
    for (const kind of ['partition', 'cut', 'clog', 'crash', 'restart', 'clockJump'] as const) {
      expect(kinds).toContain(kind);
    }
    expect(run.downAfterHeal).toEqual([]);
    expect(run.summary).toMatchObject({ pairs: { cut: 0, clogged: 0 } });
    const faults = (run.summary as { faults: Record<string, number> }).faults;
    expect(faults.crashes).toBe(faults.restarts);
  });
});

describe('simRuntime', () => {
  it('builds a deterministic Runtime whose client transport refuses and whose disk is memory', async () => {
    const s = new Scheduler();
    const net = new SimNetwork(s, seededRandom(8, 'network'));
    const r1 = simRuntime('n1', s, net, 8);
    const r2 = simRuntime('n2', s, net, 8);
    expect(r1.random.next()).toBe(seededRandom(8, 'node:n1#0').next());
    expect(r1.random.next()).not.toBe(r2.random.next());
    expect(r1.clock.nowMs()).toBe(SIM_EPOCH_MS);
    const elsewhere = new Scheduler();
    const sameNodeElsewhere = simRuntime('n1', elsewhere, new SimNetwork(elsewhere, seededRandom(0, 'x')), 8);
    expect(r1.process.pid).toBe(sameNodeElsewhere.process.pid);
    const listener = await r1.transport.listen({ host: '127.0.0.1', port: 0 }, () => {});
    expect(listener.port).toBeGreaterThan(0);
    await expect(r1.transport.connect({ host: 'n2', port: 6379 })).rejects.toThrow(/ECONNREFUSED/);

    const disk = r1.disk;
    expect(disk).toBeInstanceOf(MemDisk);
    disk.mkdirp('/data');
    disk.writeFileAtomic('/data/snap', 'abc');
    const fd = disk.openAppend('/data/aof');
    disk.append(fd, Buffer.from('x'));
    disk.append(fd, Buffer.from('yz'));
    disk.close(fd);
    disk.rename('/data/aof', '/data/aof.1');
    expect(disk.readFile('/data/aof.1').toString()).toBe('xyz');
    expect(disk.size('/data/snap')).toBe(3);
    expect(disk.exists('/data/aof')).toBe(false);
    expect(() => disk.readFile('/nope')).toThrow(/ENOENT/);
  });
});
