/**
 * The protocol layer end to end over real sockets: malformed input gets the
 * Redis 7.0 error reply and a closed connection, while the node keeps serving
 * other clients with their data intact (networking.c processInputBuffer,
 * tests/unit/protocol.tcl).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SENTINEL_KEY = 'protocol:sentinel:8c1f2e';
const SENTINEL_VALUE = Buffer.from([0, 1, 2, 13, 10, 0x2a, 0x24, 0xff, 0x80, 0x41, 0x42]);

/** Deterministic pseudo-random bytes (xorshift32). */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 0 || 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const bulk = (s: string): string => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const command = (...args: string[]): string => `*${args.length}\r\n${args.map(bulk).join('')}`;

describe('protocol over real sockets', () => {
  let t: TestServer;
  /** A long-lived, well-behaved client that must keep working throughout. */
  let observer: Redis;

  beforeAll(async () => {
    t = await startServer();
    observer = t.ioredis();
    expect(await observer.set(SENTINEL_KEY, SENTINEL_VALUE)).toBe('OK');
  });
  afterAll(async () => {
    await t.stop();
  });

  /** The node still serves the long-lived client and a brand-new one, and the sentinel value is intact. */
  async function expectNodeHealthy(): Promise<void> {
    expect(await observer.ping()).toBe('PONG');
    expect((await observer.getBuffer(SENTINEL_KEY))!.equals(SENTINEL_VALUE)).toBe(true);
    const fresh = await RawClient.connect(t.port);
    fresh.write(command('GET', SENTINEL_KEY));
    const expected = `$${SENTINEL_VALUE.length}\r\n${SENTINEL_VALUE.toString('latin1')}\r\n`;
    expect(await fresh.until((s) => s.length >= expected.length)).toBe(expected);
    fresh.close();
  }

  /** Sends `input`, expects exactly `replies` then a close by the server, then checks the node is healthy. */
  async function expectClosedWith(input: string | Buffer, replies: string): Promise<void> {
    const c = await RawClient.connect(t.port);
    c.write(input);
    const text = await c.closedByServer();
    expect(text).toBe(replies);
    expect(c.closed).toBe(true);
    await expectNodeHealthy();
  }

  describe('bad input: Redis error, then the connection is closed', () => {
    it('invalid multibulk length', async () => {
      await expectClosedWith('*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n');
      await expectClosedWith('*3000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n');
    });

    it('a 2 GB bulk length', async () => {
      await expectClosedWith('*2\r\n$3\r\nGET\r\n$2147483648\r\n', '-ERR Protocol error: invalid bulk length\r\n');
      await expectClosedWith(
        '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n',
        '-ERR Protocol error: invalid bulk length\r\n',
      );
    });

    it('negative and non-numeric bulk lengths', async () => {
      await expectClosedWith('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n', '-ERR Protocol error: invalid bulk length\r\n');
      await expectClosedWith('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n', '-ERR Protocol error: invalid bulk length\r\n');
    });

    it("expected '$'", async () => {
      await expectClosedWith('*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n', "-ERR Protocol error: expected '$', got 'f'\r\n");
      await expectClosedWith('*1\r\nfoo\r\n', "-ERR Protocol error: expected '$', got 'f'\r\n");
      // A CR where '$' belongs is sent as a space (Redis maps \r and \n in error texts to spaces).
      await expectClosedWith('*1\r\n\r\n', "-ERR Protocol error: expected '$', got ' '\r\n");
    });

    it('unbalanced quotes in an inline request', async () => {
      await expectClosedWith(
        'set """test-key""" test-value\r\nping\r\n',
        '-ERR Protocol error: unbalanced quotes in request\r\n',
      );
      await expectClosedWith('SET k "abc\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n');
    });

    it('lines over 64KB without a newline', async () => {
      await expectClosedWith(`*${'1'.repeat(70_000)}`, '-ERR Protocol error: too big mbulk count string\r\n');
      await expectClosedWith(`*1\r\n$${'1'.repeat(70_000)}`, '-ERR Protocol error: too big bulk count string\r\n');
      await expectClosedWith('A'.repeat(70_000), '-ERR Protocol error: too big inline request\r\n');
    });

    it('replies to the commands before the bad one, and runs nothing after it', async () => {
      await expectClosedWith(
        `PING\r\n${command('SET', 'proto:before', '1')}*x\r\n${command('SET', 'proto:after', '1')}`,
        '+PONG\r\n+OK\r\n-ERR Protocol error: invalid multibulk length\r\n',
      );
      expect(await observer.get('proto:before')).toBe('1');
      expect(await observer.exists('proto:after')).toBe(0);
    });

    it('random bytes after a multibulk header: the exact error for the byte found instead of $', async () => {
      for (let seed = 1; seed <= 20; seed++) {
        const tail = pseudoRandomBytes(512, seed);
        let c = tail[0]!;
        if (c === 0x24 || c === 0x0d || c === 0x0a || c === 0x00) c = 0x21; // not '$', CR, LF or NUL
        const input = Buffer.concat([Buffer.from('*2\r\n', 'latin1'), Buffer.from([c]), Buffer.from('\r\n'), tail]);
        await expectClosedWith(input, `-ERR Protocol error: expected '$', got '${String.fromCharCode(c)}'\r\n`);
      }
    });
  });

  describe('proto-max-bulk-len', () => {
    it('a smaller limit set with CONFIG SET applies to new and existing connections', async () => {
      const limit = 1024 * 1024;
      const c = await RawClient.connect(t.port);
      try {
        c.write(command('CONFIG', 'SET', 'proto-max-bulk-len', String(limit)));
        expect(await c.lines(1)).toBe('+OK\r\n');

        // Exactly the limit is accepted.
        const ok = await RawClient.connect(t.port);
        ok.write(`*3\r\n$3\r\nSET\r\n$13\r\nproto:atlimit\r\n$${limit}\r\n`);
        ok.write(Buffer.alloc(limit, 0x61));
        ok.write('\r\n');
        expect(await ok.lines(1)).toBe('+OK\r\n');
        ok.close();
        expect(await observer.strlen('proto:atlimit')).toBe(limit);

        // One byte more is a protocol error on a new connection ...
        await expectClosedWith(
          `*3\r\n$3\r\nSET\r\n$9\r\nproto:big\r\n$${limit + 1}\r\n`,
          '-ERR Protocol error: invalid bulk length\r\n',
        );
        // ... and on the connection that lowered the limit (Redis reads server.proto_max_bulk_len per header).
        // (The value follows the header so that a server accepting it answers instead of waiting.)
        c.write(`*3\r\n$3\r\nSET\r\n$9\r\nproto:big\r\n$${limit + 1}\r\n`);
        c.write(Buffer.alloc(limit + 1, 0x62));
        c.write('\r\n');
        expect(await c.lines(1)).toBe('-ERR Protocol error: invalid bulk length\r\n');
        expect(await c.closedByServer()).toBe('');
        expect(await observer.exists('proto:big')).toBe(0);
        await expectNodeHealthy();
      } finally {
        c.close();
        expect(await observer.config('SET', 'proto-max-bulk-len', '536870912')).toBe('OK');
      }
    });
  });

  describe('incomplete and abandoned commands', () => {
    it('10,000 commands each missing its last argument, in one write: one error, nothing executed', async () => {
      // Each SET announces 3 arguments but carries 2, so the '*' of the next
      // command arrives where the third '$' is expected.
      const unterminated = '*3\r\n$3\r\nSET\r\n$14\r\nproto:unterm:k\r\n';
      await expectClosedWith(unterminated.repeat(10_000), "-ERR Protocol error: expected '$', got '*'\r\n");
      expect(await observer.exists('proto:unterm:k')).toBe(0);
    });

    it('10,000 pipelined commands ending in an unterminated one: all replies, then the node waits for the rest', async () => {
      const c = await RawClient.connect(t.port);
      c.write(`${command('INCR', 'proto:unterm:n').repeat(10_000)}*3\r\n$3\r\nSET\r\n$14\r\nproto:unterm:n\r\n$5\r\nab`);
      const text = await c.until((s) => s.endsWith(':10000\r\n'));
      expect(text.split('\r\n').length - 1).toBe(10_000);
      expect(c.closed).toBe(false);
      // The rest of the last command arrives: it runs.
      c.write('cde\r\n');
      expect(await c.lines(1)).toBe('+OK\r\n');
      c.close();
      expect(await observer.get('proto:unterm:n')).toBe('abcde');
    });

    it('a client closing in the middle of a bulk argument, then another client works', async () => {
      const c = await RawClient.connect(t.port);
      c.write(`*3\r\n$3\r\nSET\r\n$10\r\nproto:half\r\n$10\r\nhalf`);
      c.close();
      await expectNodeHealthy();
      expect(await observer.exists('proto:half')).toBe(0);

      // The same with half of a big (big-argument path) value.
      const big = await RawClient.connect(t.port);
      big.write(`*3\r\n$3\r\nSET\r\n$10\r\nproto:half\r\n$${4 * 1024 * 1024}\r\n`);
      big.write(pseudoRandomBytes(1024 * 1024, 99));
      big.close();
      await expectNodeHealthy();
      expect(await observer.exists('proto:half')).toBe(0);

      // And a client closing after the multibulk header only.
      const header = await RawClient.connect(t.port);
      header.write('*3\r\n');
      header.close();
      await expectNodeHealthy();
    });
  });

  describe('well-formed traffic', () => {
    it('1,000 pipelined commands in one write get 1,000 replies in order', async () => {
      const c = await RawClient.connect(t.port);
      let input = '';
      let expected = '';
      for (let i = 0; i < 1000; i++) {
        input += command('ECHO', `reply-${i}`);
        expected += bulk(`reply-${i}`);
      }
      c.write(input);
      expect(await c.until((s) => s.length >= expected.length)).toBe(expected);
      c.close();
    });

    it('pipelined INCRs mixed inline and multibulk keep their order', async () => {
      const c = await RawClient.connect(t.port);
      let input = '';
      let expected = '';
      for (let i = 1; i <= 1000; i++) {
        input += i % 2 === 0 ? 'INCR proto:pipe:counter\r\n' : command('INCR', 'proto:pipe:counter');
        expected += `:${i}\r\n`;
      }
      c.write(input);
      expect(await c.until((s) => s.length >= expected.length)).toBe(expected);
      c.close();
    });

    it('inline commands: PING, SET with quotes and escapes, GET', async () => {
      const c = await RawClient.connect(t.port);
      c.write('PING\r\n');
      expect(await c.lines(1)).toBe('+PONG\r\n');
      c.write(`SET "proto inline key" 'it\\'s "quoted"'\r\nGET "proto inline key"\r\n`);
      const value = `it's "quoted"`;
      expect(await c.lines(3)).toBe(`+OK\r\n$${value.length}\r\n${value}\r\n`);
      c.write('SET proto:inline:hex "\\x41\\x42\\n"\nGET proto:inline:hex\n');
      expect(await c.lines(3)).toBe('+OK\r\n$3\r\nAB\n\r\n');
      c.close();
      expect(await observer.get('proto inline key')).toBe(value);
    });

    it('empty lines, "*0" and "*-1" are ignored', async () => {
      const c = await RawClient.connect(t.port);
      c.write('\r\n');
      c.write('\n   \r\n*0\r\n*-1\r\n*-10\r\n');
      c.write(`PING\r\n${command('ECHO', 'end')}`);
      expect(await c.lines(3)).toBe('+PONG\r\n$3\r\nend\r\n');
      c.close();
    });

    it('a 10 MB value written in many small chunks arrives intact', async () => {
      const value = pseudoRandomBytes(10 * 1024 * 1024, 7);
      const wire = Buffer.concat([
        Buffer.from(`*3\r\n$3\r\nSET\r\n$11\r\nproto:big10\r\n$${value.length}\r\n`, 'latin1'),
        value,
        Buffer.from('\r\n', 'latin1'),
      ]);
      const c = await RawClient.connect(t.port);
      // Uneven chunk sizes, from 1 byte to ~16KB, so headers and data straddle chunk boundaries.
      const sizes = [1, 3, 7, 100, 1000, 4096, 16_381, 9];
      for (let i = 0, k = 0; i < wire.length; k++) {
        const n = sizes[k % sizes.length]!;
        c.write(wire.subarray(i, i + n));
        i += n;
      }
      expect(await c.lines(1)).toBe('+OK\r\n');
      c.close();
      const back = await observer.getBuffer('proto:big10');
      expect(back!.length).toBe(value.length);
      expect(back!.equals(value)).toBe(true);
      expect(await observer.del('proto:big10')).toBe(1);
    });
  });

  describe('hostile input the node must survive', () => {
    it('100,000 empty lines and "*0" in one write, then PING', async () => {
      const c = await RawClient.connect(t.port);
      c.write(`${'\r\n'.repeat(100_000)}${'*0\r\n'.repeat(100_000)}PING\r\n`);
      expect(await c.lines(1)).toBe('+PONG\r\n');
      c.close();
      await expectNodeHealthy();
    });

    it('an inline request with a NUL byte: Redis finds no newline before the NUL and fails at 64KB', async () => {
      // processInlineBuffer searches '\n' with strchr, which stops at the NUL.
      await expectClosedWith(`ECHO a\0b\r\n${'A'.repeat(70_000)}`, '-ERR Protocol error: too big inline request\r\n');
    });

    it('random bytes: whatever the server replies, the node keeps serving other clients', async () => {
      for (let seed = 1; seed <= 40; seed++) {
        const c = await RawClient.connect(t.port);
        c.write(pseudoRandomBytes(256 + seed * 97, seed * 7919));
        // The node answers another client while this one's garbage is buffered or rejected.
        await expectNodeHealthy();
        c.close();
      }
      await expectNodeHealthy();
    });

    it('commands that arrive together with the end of the connection still run', async () => {
      // Input waits for the end of the I/O round (Server.inputLater); the EOF read in the same round must not drop it.
      for (let round = 0; round < 20; round++) {
        const c = await RawClient.connect(t.port);
        let pipeline = '';
        for (let i = 0; i < 50; i++) pipeline += command('RPUSH', `eof:${round}`, String(i));
        c.write(pipeline);
        c.end();
        await c.closedByServer();
        for (;;) {
          const n = await observer.llen(`eof:${round}`);
          if (n === 50) break;
          // Never more than was sent, and nothing after the server closed may be missing for long.
          expect(n).toBeLessThan(50);
          await new Promise((r) => setImmediate(r));
        }
        expect(await observer.lrange(`eof:${round}`, 0, -1)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
      }
    });

    it('random bytes then an invalid multibulk header: error and close', async () => {
      for (let seed = 1; seed <= 20; seed++) {
        // Random bytes that parse as inline lines (no '*' first, newline-terminated, no NUL or quotes),
        // followed by a bad multibulk header.
        const junk = Buffer.from(
          pseudoRandomBytes(200, seed).map((b) => (b === 0 || b === 0x2a || b === 0x22 || b === 0x27 || b === 0x0a ? 0x20 : b)),
        );
        const c = await RawClient.connect(t.port);
        c.write(Buffer.concat([junk, Buffer.from('\n*-x\r\n', 'latin1')]));
        const text = await c.closedByServer();
        expect(text.endsWith('-ERR Protocol error: invalid multibulk length\r\n')).toBe(true);
        // Everything before it was answered with one reply (an error for an unknown command) per line.
        for (const line of text.split('\r\n').slice(0, -1)) expect(line.startsWith('-ERR ')).toBe(true);
        await expectNodeHealthy();
      }
    });
  });
});
