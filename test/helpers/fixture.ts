import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { RawClient } from './raw.js';
import { startServer, type TestServer } from './server.js';

/** A command argument; Buffers go to the server byte for byte (binary-safe tests need that). */
export type Arg = string | number | Buffer;

/** One way of talking to the server: ioredis, node-redis over RESP2, node-redis over RESP3. */
export interface Caller {
  name: string;
  resp: 2 | 3;
  call(...args: Arg[]): Promise<unknown>;
}

/** Formats one write notification for the `events` list. */
export type EventFormat = (db: Database, key: string, event: string) => string;

export interface FixtureOptions {
  /** redis.conf-style options for the node. */
  config?: Record<string, string>;
  /** How a write shows up in `events`; `event:key` unless given. */
  event?: EventFormat;
}

type Send = (args: Arg[]) => Promise<unknown>;
type Live = () => TestServer;

/** Clients turn numbers into text themselves but would mangle a Buffer through String(). */
function wire(a: Arg): string | Buffer {
  return Buffer.isBuffer(a) ? a : String(a);
}

/**
 * A caller whose client is made on first use: the Caller exists from the
 * start so a suite can destructure `io` or `resp3` at describe time, and
 * suites that never use it (or need AUTH first) open no connection.
 */
function lazyCaller(name: string, resp: 2 | 3, open: () => Promise<Send>): Caller {
  let send: Promise<Send> | undefined;
  return {
    name,
    resp,
    call: async (...args) => (await (send ??= open()))(args),
  };
}

/** The three client kinds every command is checked with, in the order `each` runs them. */
function makeCallers(live: Live): [io: Caller, resp2: Caller, resp3: Caller] {
  // ioredis 6 speaks RESP3 on the wire (HELLO 3) but hands replies back in RESP2 shapes (maps as flat arrays), which is what `resp` describes.
  const io = lazyCaller('ioredis', 2, async () => {
    const r = live().ioredis();
    return ([cmd, ...rest]) => r.call(String(cmd), ...rest.map(wire));
  });
  const nodeRedis = (resp: 2 | 3): Caller =>
    lazyCaller(`node-redis RESP${resp}`, resp, async () => {
      const n = await live().nodeRedis(resp);
      return (args) => n.sendCommand(args.map(wire));
    });
  return [io, nodeRedis(2), nodeRedis(3)];
}

/**
 * Registers the hooks: one node for the enclosing describe, feeding `events`,
 * and empty databases and `events` before every test (so no test depends on
 * another's leftovers). Returns the accessor of the running node.
 */
function registerHooks(options: FixtureOptions, events: string[]): Live {
  let started: TestServer | undefined;
  const format = options.event ?? ((_db, key, event) => `${event}:${key}`);
  beforeAll(async () => {
    started = await startServer(options.config);
    started.server.observeWrites((db, key, event) => events.push(format(db, key, event)));
  });
  afterAll(async () => {
    await started?.stop();
  });
  beforeEach(() => {
    for (const db of started!.server.keyspace.all()) db.clear();
    events.length = 0;
  });
  return () => {
    if (!started) throw new Error('useServer: the server starts in beforeAll; use it inside a hook or test');
    return started;
  };
}

/** Raw-socket helpers, for replies whose exact RESP bytes matter. */
function rawHelpers(live: Live) {
  return {
    /** A raw socket, switched to RESP3 (HELLO reply consumed) when asked. */
    async connect(resp: 2 | 3 = 2): Promise<RawClient> {
      const c = await RawClient.connect(live().port);
      if (resp === 3) {
        c.write('HELLO 3\r\n');
        await c.until((s) => s.includes('modules'));
        await c.until((s) => s.endsWith('*0\r\n') || s === '');
      }
      return c;
    },

    /** Raw RESP exchange on a fresh socket: sends `text`, returns what came back once `done` holds. */
    async raw(text: string, done: (s: string) => boolean): Promise<string> {
      const c = await RawClient.connect(live().port);
      c.write(text);
      const out = await c.until(done);
      c.close();
      return out;
    },
  };
}

/**
 * Starts one node for the enclosing describe (vitest hooks registered here)
 * and offers what integration suites share. Every test starts on empty
 * databases with an empty `events` list. Helpers are plain closures, so a
 * suite may destructure them: `const { io, each, fails } = t`.
 */
export function useServer(options: FixtureOptions = {}) {
  const events: string[] = [];
  const live = registerHooks(options, events);
  const callers = makeCallers(live);
  const [io, , resp3] = callers;
  return {
    get server() {
      return live().server;
    },
    get port() {
      return live().port;
    },
    /** A new ioredis client, closed when the suite ends. */
    ioredis: (opts?: { db?: number }) => live().ioredis(opts),
    /** A new node-redis client, closed when the suite ends. */
    nodeRedis: (resp?: 2 | 3) => live().nodeRedis(resp),
    /** Database `index` of the node (0 unless given). */
    db: (index = 0) => live().server.keyspace.db(index),
    io,
    resp3,
    callers: callers as readonly Caller[],
    /** Writes seen since the test (or the current `each` check) began, as formatted by options.event. */
    events,

    /** Runs `check` with every client kind, each time on an empty database 0 with empty `events`. */
    async each(check: (c: Caller) => Promise<void>): Promise<void> {
      for (const c of callers) {
        live().server.keyspace.db(0).clear();
        events.length = 0;
        await check(c);
      }
    },

    /** Expects `args` to fail on `c` with an error matching `pattern`; a failure names the client and command. */
    async fails(c: Caller, pattern: RegExp | string, ...args: Arg[]): Promise<void> {
      await expect(c.call(...args), `${c.name}: ${args.join(' ')}`).rejects.toThrow(pattern);
    },

    ...rawHelpers(live),
  };
}

export type ServerFixture = ReturnType<typeof useServer>;
