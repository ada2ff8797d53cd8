/**
 * Property and example tests for the RESP request parser (src/protocol/parser.ts)
 * against the behaviour of Redis 7.0 (networking.c processInlineBuffer /
 * processMultibulkBuffer, util.c string2ll, sds.c sdssplitargs).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseStatus, PROTO_INLINE_MAX_SIZE, RequestParser, splitArgs } from '../../src/protocol/parser.js';

const DEFAULT_MAX_BULK = 512 * 1024 * 1024;
/** Redis's PROTO_MBULK_BIG_ARG: the size at which the big-argument path starts. */
const BIG_ARG = 32 * 1024;

function newParser(maxBulkBytes = DEFAULT_MAX_BULK, requireAuth = false): RequestParser {
  return new RequestParser({ maxBulkBytes: () => maxBulkBytes, requireAuth: () => requireAuth });
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Outcome {
  commands: string[][];
  /** The error text when the parser reported Error (feeding stopped there), else null. */
  error: string | null;
}

/**
 * Feeds the chunks one by one, draining complete commands after each. Stops at
 * the first Error, as the server does (it replies and closes the connection).
 * Fails on anything that is not Command, NeedMore or Error, and on a parser
 * that keeps returning Command without consuming input.
 */
function run(chunks: Buffer[], parser: RequestParser = newParser()): Outcome {
  const commands: string[][] = [];
  let total = 0;
  for (const chunk of chunks) {
    total += chunk.length;
    parser.feed(chunk);
    for (;;) {
      const status = parser.next();
      if (status === ParseStatus.Command) {
        expect(Array.isArray(parser.command)).toBe(true);
        expect(parser.command.length).toBeGreaterThan(0);
        commands.push([...parser.command]);
        // Each command consumes at least 2 bytes ("a\n" or "*1\r\n$0\r\n\r\n").
        if (commands.length > total) throw new Error('parser produced more commands than bytes fed');
        continue;
      }
      if (status === ParseStatus.NeedMore) break;
      if (status === ParseStatus.Error) return { commands, error: parser.error };
      throw new Error(`next() returned an unknown status: ${String(status)}`);
    }
  }
  return { commands, error: null };
}

/** Outcome of feeding `input` in one piece and asking for exactly one step. */
function step(input: string, parser: RequestParser = newParser()): { status: ParseStatus; error: string; command: string[] } {
  parser.feed(bytes(input));
  const status = parser.next();
  return { status, error: parser.error, command: [...parser.command] };
}

function errorOf(input: string, parser?: RequestParser): string {
  const r = run([bytes(input)], parser);
  expect(r.error, `expected a protocol error for ${JSON.stringify(input.slice(0, 80))}`).not.toBeNull();
  return r.error!;
}

/** Splits buf at the given cut points (any integers; taken modulo length + 1). */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

function splitEvery(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  if (out.length === 0) out.push(buf);
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so big arguments are cheap to generate. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  // Sprinkle protocol-looking bytes so a parser that scans inside bulk data is caught.
  for (let i = 0; i + 1 < length; i += 997) {
    out[i] = 13;
    out[i + 1] = 10;
  }
  if (length > 3) out.write('*1\r\n', length >> 1, 'latin1');
  return out;
}

/** A chunking strategy: either random cut points or fixed-size chunks. */
const chunking = fc.oneof(
  fc.record({ kind: fc.constant('cuts' as const), cuts: fc.array(fc.nat(), { maxLength: 40 }) }),
  fc.record({ kind: fc.constant('every' as const), size: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 70_000 })) }),
);

function chunk(buf: Buffer, c: { kind: 'cuts'; cuts: number[] } | { kind: 'every'; size: number }): Buffer[] {
  return c.kind === 'cuts' ? splitAt(buf, c.cuts) : splitEvery(buf, c.size);
}

// ---------------------------------------------------------------------------
// Generators of valid requests
// ---------------------------------------------------------------------------

interface Encoded {
  wire: Buffer;
  /** The commands the wire form must parse to (none for ignored input). */
  expected: string[][];
}

const smallArg = fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a));
const protocolishArg = fc
  .array(fc.constantFrom('\r\n', '\r', '\n', '*', '$', '-1', '0', '3', '"', "'", '\\', ' ', '\0'), { maxLength: 20 })
  .map((parts) => bytes(parts.join('')));
/** Large arguments around and above the big-argument threshold, up to ~100KB. */
const bigArg = fc
  .record({
    length: fc.oneof(
      fc.constantFrom(BIG_ARG - 2, BIG_ARG - 1, BIG_ARG, BIG_ARG + 1, BIG_ARG + 2, 64 * 1024, 100 * 1024),
      fc.integer({ min: 1024, max: 100 * 1024 }),
    ),
    seed: fc.integer(),
  })
  .map(({ length, seed }) => pseudoRandomBytes(length, seed));

const argArb = fc.oneof(
  { weight: 10, arbitrary: smallArg },
  { weight: 3, arbitrary: protocolishArg },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: bigArg },
);

const multibulk: fc.Arbitrary<Encoded> = fc.array(argArb, { minLength: 1, maxLength: 5 }).map((args) => {
  const parts: Buffer[] = [bytes(`*${args.length}\r\n`)];
  for (const a of args) parts.push(bytes(`$${a.length}\r\n`), a, bytes('\r\n'));
  return { wire: Buffer.concat(parts), expected: [args.map((a) => a.toString('latin1'))] };
});

/** Plain inline tokens: no quotes, no whitespace, never starting with '*'. */
const safeToken = fc.stringMatching(/^[A-Za-z0-9_:.\-@#%&+=/]{1,12}$/);
/** Any byte string, written as a double-quoted token (non-alphanumerics escaped, so no raw NUL). */
const quotedToken = fc
  .uint8Array({ maxLength: 24 })
  .map((a) => Buffer.from(a).toString('latin1'))
  .chain((s) =>
    fc.constantFrom('hex', 'escape').map((style) => {
      let q = '"';
      for (const ch of s) {
        const code = ch.charCodeAt(0);
        if (/[A-Za-z0-9 ]/.test(ch)) q += ch;
        else if (style === 'escape' && ch === '\n') q += '\\n';
        else if (style === 'escape' && ch === '\t') q += '\\t';
        else if (style === 'escape' && ch === '"') q += '\\"';
        else if (style === 'escape' && ch === '\\') q += '\\\\';
        else q += `\\x${code.toString(16).padStart(2, '0')}`;
      }
      return { text: `${q}"`, value: s };
    }),
  );
const singleQuotedToken = fc.stringMatching(/^[A-Za-z0-9 "']{0,12}$/).map((s) => ({
  text: `'${s.replace(/'/g, "\\'")}'`,
  value: s,
}));

const inline: fc.Arbitrary<Encoded> = fc
  .record({
    tokens: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: safeToken.map((t) => ({ text: t, value: t })) },
        { weight: 1, arbitrary: quotedToken },
        { weight: 1, arbitrary: singleQuotedToken },
      ),
      { minLength: 1, maxLength: 6 },
    ),
    sep: fc.constantFrom(' ', '  ', '\t', ' \t '),
    lead: fc.constantFrom('', ' ', '\t'),
    trail: fc.constantFrom('', ' '),
    eol: fc.constantFrom('\r\n', '\n'),
  })
  // The first byte of an inline request must not be '*' (it would be multibulk).
  .filter((r) => r.lead !== '' || !r.tokens[0]!.text.startsWith('*'))
  .map((r) => ({
    wire: bytes(r.lead + r.tokens.map((t) => t.text).join(r.sep) + r.trail + r.eol),
    expected: [r.tokens.map((t) => t.value)],
  }));

/** Input Redis reads and ignores: empty lines, whitespace-only lines, "*0" and negative multibulk counts. */
const ignored: fc.Arbitrary<Encoded> = fc
  .constantFrom('\r\n', '\n', '   \r\n', '\t\n', '*0\r\n', '*-1\r\n', '*-10\r\n')
  .map((s) => ({ wire: bytes(s), expected: [] }));

const stream = fc
  .array(
    fc.oneof({ weight: 5, arbitrary: multibulk }, { weight: 3, arbitrary: inline }, { weight: 1, arbitrary: ignored }),
    { minLength: 1, maxLength: 8 },
  )
  .map((reqs) => ({ wire: Buffer.concat(reqs.map((r) => r.wire)), expected: reqs.flatMap((r) => r.expected) }));

/** A KeyPeekSink that keeps the argv[1..3] it is handed. */
function recordingSink(): { commands: string[][]; addCommand: (buf: Uint8Array, spans: Int32Array) => void } {
  const commands: string[][] = [];
  return {
    commands,
    addCommand(buf, spans) {
      const args: string[] = [];
      for (let a = 0; a < 3 && spans[2 * a]! >= 0; a++) args.push(Buffer.from(buf.subarray(spans[2 * a]!, spans[2 * a + 1]!)).toString('latin1'));
      commands.push(args);
    },
  };
}

// ---------------------------------------------------------------------------
// (a) valid streams, arbitrarily chunked
// ---------------------------------------------------------------------------

describe('RequestParser: valid command streams in arbitrary chunks', () => {
  it('parses to exactly the commands that were encoded, whatever the chunking', () => {
    fc.assert(
      fc.property(stream, chunking, ({ wire, expected }, how) => {
        const outcome = run(chunk(wire, how));
        expect(outcome.error).toBeNull();
        expect(outcome.commands).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same commands when every chunk arrives in one reused buffer that is overwritten after own()', () => {
    // The transport reads every socket into one shared buffer: whatever the
    // parser keeps across reads must be its own copy.
    fc.assert(
      fc.property(stream, chunking, ({ wire, expected }, how) => {
        const parser = newParser();
        const scratch = Buffer.alloc(wire.length + 1);
        const commands: string[][] = [];
        for (const piece of chunk(wire, how)) {
          piece.copy(scratch);
          parser.feed(scratch.subarray(0, piece.length));
          while (parser.next() === ParseStatus.Command) commands.push([...parser.command]);
          parser.own();
          scratch.fill(0x21);
        }
        expect(commands).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same commands when input is owned before it is parsed (a read deferred to the end of the I/O round)', () => {
    // Server.inputLater: the chunk is owned at once and parsed after later
    // reads have overwritten the shared buffer, sometimes before and
    // sometimes after the parser's spare buffer has been reused.
    fc.assert(
      fc.property(stream, chunking, fc.array(fc.boolean(), { minLength: 1 }), ({ wire, expected }, how, defer) => {
        const parser = newParser();
        const scratch = Buffer.alloc(wire.length + 1);
        const commands: string[][] = [];
        let i = 0;
        for (const piece of chunk(wire, how)) {
          piece.copy(scratch);
          parser.feed(scratch.subarray(0, piece.length));
          if (defer[i++ % defer.length]!) {
            parser.own();
            scratch.fill(0x21);
            while (parser.next() === ParseStatus.Command) commands.push([...parser.command]);
          } else {
            while (parser.next() === ParseStatus.Command) commands.push([...parser.command]);
            parser.own();
            scratch.fill(0x21);
          }
        }
        expect(commands).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('parses byte-by-byte feeding of small streams', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.array(smallArg, { minLength: 1, maxLength: 4 }).map((args) => args), fc.constant(null)), {
          minLength: 1,
          maxLength: 6,
        }),
        (cmds) => {
          const parts: Buffer[] = [];
          const expected: string[][] = [];
          for (const args of cmds) {
            if (args === null) {
              parts.push(bytes('PING\r\n'));
              expected.push(['PING']);
              continue;
            }
            parts.push(bytes(`*${args.length}\r\n`));
            for (const a of args) parts.push(bytes(`$${a.length}\r\n`), a, bytes('\r\n'));
            expected.push(args.map((a) => a.toString('latin1')));
          }
          const outcome = run(splitEvery(Buffer.concat(parts), 1));
          expect(outcome).toEqual({ commands: expected, error: null });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('assembles a 1 MB argument fed in 1000-byte chunks, with commands before and after it', () => {
    const value = pseudoRandomBytes(1024 * 1024, 42);
    const wire = Buffer.concat([
      bytes('PING\r\n*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n'),
      bytes(`$${value.length}\r\n`),
      value,
      bytes('\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'),
    ]);
    const outcome = run(splitEvery(wire, 1000));
    expect(outcome.error).toBeNull();
    expect(outcome.commands.length).toBe(3);
    expect(outcome.commands[0]).toEqual(['PING']);
    expect(outcome.commands[1]![0]).toBe('SET');
    expect(outcome.commands[1]![2]!.length).toBe(value.length);
    expect(Buffer.from(outcome.commands[1]![2]!, 'latin1').equals(value)).toBe(true);
    expect(outcome.commands[2]).toEqual(['GET', 'big']);
  });

  it('parses a big argument followed by another argument of the same command in the same chunk', () => {
    const a = pseudoRandomBytes(BIG_ARG + 10, 7);
    const wire = Buffer.concat([bytes(`*3\r\n$3\r\nSET\r\n$${a.length}\r\n`), a, bytes('\r\n$1\r\nv\r\nPING\r\n')]);
    // Header in the first chunk, then everything else at once: the big argument
    // is completed by a chunk that also carries the rest of the command.
    const outcome = run([wire.subarray(0, 20), wire.subarray(20, 100), wire.subarray(100)]);
    expect(outcome.error).toBeNull();
    expect(outcome.commands).toEqual([['SET', a.toString('latin1'), 'v'], ['PING']]);
  });

  it('counts buffered bytes of an incomplete big argument as pending', () => {
    const p = newParser();
    p.feed(bytes('*1\r\n$100000\r\n'));
    expect(p.next()).toBe(ParseStatus.NeedMore);
    p.feed(Buffer.alloc(50_000, 0x61));
    expect(p.next()).toBe(ParseStatus.NeedMore);
    expect(p.pendingBytes).toBeGreaterThanOrEqual(50_000);
    p.feed(Buffer.alloc(50_000, 0x62));
    p.feed(bytes('\r\n'));
    expect(p.next()).toBe(ParseStatus.Command);
    expect(p.command.length).toBe(1);
    expect(p.command[0]).toBe('a'.repeat(50_000) + 'b'.repeat(50_000));
    expect(p.next()).toBe(ParseStatus.NeedMore);
    expect(p.pendingBytes).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// (b) arbitrary bytes never throw
// ---------------------------------------------------------------------------

const KNOWN_ERRORS = [
  /^Protocol error: invalid multibulk length$/,
  /^Protocol error: invalid bulk length$/,
  /^Protocol error: expected '\$', got '[\s\S]'$/,
  /^Protocol error: unbalanced quotes in request$/,
  /^Protocol error: too big mbulk count string$/,
  /^Protocol error: too big inline request$/,
  /^Protocol error: too big bulk count string$/,
  /^Protocol error: unauthenticated (multi)?bulk length$/,
];

/** Byte soup biased towards protocol tokens so the parser goes deep, not just into inline lines. */
const protocolSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '*',
        '$',
        '\r\n',
        '\r',
        '\n',
        '0',
        '1',
        '2',
        '3',
        '-',
        '-1',
        '01',
        '"',
        "'",
        '\\',
        '\\x4',
        'x',
        ' ',
        'PING',
        '*1\r\n',
        '*2\r\n',
        '$0\r\n',
        '$1\r\n',
        '$3\r\n',
        '*2\r\n$3\r\nGET\r\n',
        '$40000\r\n',
        '*-1\r\n',
        '*0\r\n',
      ),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a).toString('latin1')),
    ),
    { maxLength: 60 },
  )
  .map((parts) => bytes(parts.join('')));

const arbitraryInput = fc.oneof(fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)), protocolSoup);

describe('RequestParser.peekKeys', () => {
  it("hands argv[1..3] of the commands next() returns next, in order, and changes nothing", () => {
    fc.assert(
      fc.property(stream, chunking, fc.integer({ min: 1, max: 6 }), ({ wire, expected }, how, maxCommands) => {
        const parser = newParser();
        const commands: string[][] = [];
        for (const piece of chunk(wire, how)) {
          parser.feed(piece);
          for (;;) {
            const sink = recordingSink();
            const seen = parser.peekKeys(sink, maxCommands);
            expect(seen).toBeLessThanOrEqual(maxCommands);
            const upcoming = expected.slice(commands.length, commands.length + seen);
            expect(upcoming.length).toBe(seen);
            const handed = upcoming.filter((argv) => argv.length >= 2).map((argv) => argv.slice(1, 4));
            expect(handed.slice(0, sink.commands.length)).toEqual(sink.commands);
            expect(sink.commands).toEqual(handed);
            if (parser.next() !== ParseStatus.Command) break;
            commands.push([...parser.command]);
          }
          parser.own();
        }
        expect(commands).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on arbitrary bytes and never claims more commands than next() then returns', () => {
    fc.assert(
      fc.property(arbitraryInput, chunking, (input, how) => {
        const parser = newParser();
        for (const piece of chunk(input, how)) {
          parser.feed(piece);
          for (;;) {
            const seen = parser.peekKeys(recordingSink(), 64);
            let returned = 0;
            let status = parser.next();
            while (status === ParseStatus.Command && returned < seen) {
              returned++;
              if (returned < seen) status = parser.next();
            }
            if (returned < seen) expect(status).not.toBe(ParseStatus.NeedMore);
            if (status !== ParseStatus.Command) return;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('RequestParser: arbitrary bytes', () => {
  it('never throws; every step is Command, NeedMore or a known protocol error', () => {
    fc.assert(
      fc.property(arbitraryInput, chunking, fc.boolean(), (input, how, auth) => {
        const outcome = run(chunk(input, how), newParser(DEFAULT_MAX_BULK, auth));
        if (outcome.error !== null) {
          expect(KNOWN_ERRORS.some((re) => re.test(outcome.error!)), outcome.error).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same commands and the same error whatever the chunking (inputs under 64KB)', () => {
    fc.assert(
      fc.property(arbitraryInput, chunking, (input, how) => {
        const whole = run([input]);
        const chunked = run(chunk(input, how));
        expect(chunked).toEqual(whole);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on random bytes after a valid prefix, fed in random chunks', () => {
    fc.assert(
      fc.property(stream, arbitraryInput, chunking, ({ wire, expected }, junk, how) => {
        const outcome = run(chunk(Buffer.concat([wire, junk]), how));
        // The valid prefix always parses to its commands, whatever follows.
        expect(outcome.commands.slice(0, expected.length)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------
// (c) exact Redis 7.0 error texts and edge cases
// ---------------------------------------------------------------------------

describe('RequestParser: Redis 7.0 protocol errors', () => {
  it('invalid multibulk length', () => {
    expect(errorOf('*abc\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*3000000000\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*2147483648\r\n')).toBe('Protocol error: invalid multibulk length'); // INT_MAX + 1
    expect(errorOf('*\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*1x\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('* 1\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*99999999999999999999999\r\n')).toBe('Protocol error: invalid multibulk length');
  });

  it('multibulk lengths are read with string2ll: no leading zeros, no "+", no "-0"', () => {
    // util.c string2ll: "First digit should be 1-9, otherwise the string should just be 0."
    expect(errorOf('*01\r\n$4\r\nPING\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*+1\r\n$4\r\nPING\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*-0\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(errorOf('*-\r\n')).toBe('Protocol error: invalid multibulk length');
  });

  it('accepts any multibulk length up to INT_MAX (Redis 7.0 checks ll > INT_MAX only)', () => {
    for (const n of ['1073741825', '2147483647']) {
      const r = step(`*${n}\r\n`);
      expect(r.status, `*${n}`).toBe(ParseStatus.NeedMore);
    }
  });

  it('invalid bulk length', () => {
    expect(errorOf('*1\r\n$-5\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$-1\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$abc\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$2147483648\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$99999999999999999999999\r\n')).toBe('Protocol error: invalid bulk length');
  });

  it('bulk lengths are read with string2ll: no leading zeros, no "+", no "-0"', () => {
    expect(errorOf('*1\r\n$04\r\nPING\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$+4\r\nPING\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$-0\r\n\r\n')).toBe('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$00\r\n\r\n')).toBe('Protocol error: invalid bulk length');
  });

  it('a bulk length over proto-max-bulk-len is invalid; exactly the limit is accepted', () => {
    const limit = 1024 * 1024;
    expect(errorOf(`*1\r\n$${limit + 1}\r\n`, newParser(limit))).toBe('Protocol error: invalid bulk length');
    const ok = newParser(limit);
    ok.feed(bytes(`*1\r\n$${limit}\r\n`));
    expect(ok.next()).toBe(ParseStatus.NeedMore);
    ok.feed(Buffer.alloc(limit, 0x7a));
    ok.feed(bytes('\r\n'));
    expect(ok.next()).toBe(ParseStatus.Command);
    expect(ok.command[0]!.length).toBe(limit);
  });

  it("expected '$', got 'x'", () => {
    expect(errorOf('*1\r\nx\r\n')).toBe("Protocol error: expected '$', got 'x'");
    expect(errorOf('*1\r\nfoo\r\n')).toBe("Protocol error: expected '$', got 'f'");
    expect(errorOf('*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n')).toBe("Protocol error: expected '$', got 'f'");
    // The next command's header where an argument was expected.
    expect(errorOf('*2\r\n$3\r\nGET\r\n*2\r\n$3\r\nGET\r\n')).toBe("Protocol error: expected '$', got '*'");
  });

  it("reports expected '$' only once the line is complete (Redis waits for \\r and one more byte)", () => {
    expect(run([bytes('*1\r\nx')]).error).toBeNull();
    expect(run([bytes('*1\r\nx\r')]).error).toBeNull();
    expect(run([bytes('*1\r\nx'), bytes('\r'), bytes('\n')]).error).toBe("Protocol error: expected '$', got 'x'");
  });

  it('too big mbulk count string: a multibulk header over 64KB without \\r', () => {
    const justFits = `*${'1'.repeat(PROTO_INLINE_MAX_SIZE - 1)}`; // 64KB exactly
    expect(run([bytes(justFits)]).error).toBeNull();
    expect(errorOf(`${justFits}1`)).toBe('Protocol error: too big mbulk count string');
    // Arriving in small pieces is the same.
    expect(run(splitEvery(bytes(`${justFits}1`), 1000)).error).toBe('Protocol error: too big mbulk count string');
  });

  it('too big inline request: an inline line over 64KB without \\n', () => {
    const justFits = 'a'.repeat(PROTO_INLINE_MAX_SIZE);
    expect(run([bytes(justFits)]).error).toBeNull();
    expect(errorOf(`${justFits}a`)).toBe('Protocol error: too big inline request');
    expect(run(splitEvery(bytes(`${justFits}a`), 4096)).error).toBe('Protocol error: too big inline request');
    // A long line that does end within the chunk is a command.
    expect(run([bytes(`ECHO ${'b'.repeat(70_000)}\r\n`)]).commands).toEqual([['ECHO', 'b'.repeat(70_000)]]);
  });

  it('too big bulk count string: a bulk header over 64KB without \\r', () => {
    const justFits = `$${'1'.repeat(PROTO_INLINE_MAX_SIZE - 1)}`;
    expect(run([bytes(`*1\r\n${justFits}`)]).error).toBeNull();
    expect(errorOf(`*1\r\n${justFits}1`)).toBe('Protocol error: too big bulk count string');
    expect(run(splitEvery(bytes(`*1\r\n${justFits}1`), 3000)).error).toBe('Protocol error: too big bulk count string');
  });

  it('unbalanced quotes in inline requests', () => {
    const msg = 'Protocol error: unbalanced quotes in request';
    expect(errorOf('SET "foo bar\r\n')).toBe(msg);
    expect(errorOf("SET 'foo bar\r\n")).toBe(msg);
    expect(errorOf('SET "a"b\r\n')).toBe(msg); // closing quote not followed by a space
    expect(errorOf("SET 'a'b\r\n")).toBe(msg);
    expect(errorOf('set """test-key""" test-value\r\nping\r\n')).toBe(msg);
    expect(errorOf('SET k "abc\\"\r\n')).toBe(msg); // the escaped quote does not close
    expect(errorOf('ECHO "x\\\r\n')).toBe(msg); // trailing backslash
  });

  it('commands before the error are parsed, nothing after it', () => {
    const outcome = run([bytes('PING\r\n*1\r\n$4\r\nPING\r\n*abc\r\nPING\r\n')]);
    expect(outcome).toEqual({ commands: [['PING'], ['PING']], error: 'Protocol error: invalid multibulk length' });
  });

  it('unauthenticated limits: multibulk length > 10 and bulk length > 16384 before AUTH', () => {
    expect(errorOf('*11\r\n', newParser(DEFAULT_MAX_BULK, true))).toBe('Protocol error: unauthenticated multibulk length');
    expect(step('*10\r\n', newParser(DEFAULT_MAX_BULK, true)).status).toBe(ParseStatus.NeedMore);
    expect(errorOf('*1\r\n$16385\r\n', newParser(DEFAULT_MAX_BULK, true))).toBe('Protocol error: unauthenticated bulk length');
    expect(step('*1\r\n$16384\r\n', newParser(DEFAULT_MAX_BULK, true)).status).toBe(ParseStatus.NeedMore);
  });
});

describe('RequestParser: what Redis 7.0 ignores or tolerates', () => {
  it('ignores empty lines, "*0" and "*-1"', () => {
    expect(run([bytes('\r\n\n*0\r\n*-1\r\n*-10\r\n   \r\nPING\r\n')]).commands).toEqual([['PING']]);
  });

  it('ignores 100,000 empty lines in one chunk without overflowing the stack', () => {
    const outcome = run([bytes(`${'\r\n'.repeat(100_000)}PING\r\n`)]);
    expect(outcome).toEqual({ commands: [['PING']], error: null });
  });

  it('ignores 100,000 "*0" requests in one chunk without overflowing the stack', () => {
    const outcome = run([bytes(`${'*0\r\n'.repeat(100_000)}PING\r\n`)]);
    expect(outcome).toEqual({ commands: [['PING']], error: null });
  });

  it('ignores 100,000 "*-1" requests in one chunk without overflowing the stack', () => {
    const outcome = run([bytes(`${'*-1\r\n'.repeat(100_000)}PING\r\n`)]);
    expect(outcome).toEqual({ commands: [['PING']], error: null });
  });

  it('does not check the two bytes after bulk data (Redis skips them)', () => {
    expect(run([bytes('*1\r\n$4\r\nPINGxy*1\r\n$4\r\nECHO\r\n')]).commands).toEqual([['PING'], ['ECHO']]);
  });

  it('accepts an empty bulk argument and binary arguments', () => {
    const bin = Buffer.from([0, 1, 2, 13, 10, 0xff, 0x80, 0x2a, 0x24]);
    const wire = Buffer.concat([bytes('*3\r\n$4\r\nECHO\r\n$0\r\n\r\n$9\r\n'), bin, bytes('\r\n')]);
    expect(run([wire]).commands).toEqual([['ECHO', '', bin.toString('latin1')]]);
  });

  it('an inline request with a NUL byte neither hangs nor crashes the parser', () => {
    const outcome = run([bytes('ECHO a\0b\r\nPING\r\n')]);
    expect(outcome.commands.length).toBeLessThanOrEqual(2);
  });

  it('an inline request with a NUL byte before the newline waits, then is too big (Redis strchr stops at NUL)', () => {
    // processInlineBuffer looks for '\n' with strchr, which stops at the NUL:
    // no newline is found, so Redis waits for more and fails at 64KB.
    const p = newParser();
    expect(run([bytes('ECHO a\0b\r\n')], p)).toEqual({ commands: [], error: null });
    expect(run([Buffer.alloc(PROTO_INLINE_MAX_SIZE, 0x61)], p).error).toBe('Protocol error: too big inline request');
  });

  it('reads inline lines ending in \\n alone or \\r\\n', () => {
    expect(run([bytes('PING\nECHO a\r\nECHO b\n')]).commands).toEqual([['PING'], ['ECHO', 'a'], ['ECHO', 'b']]);
  });
});

// ---------------------------------------------------------------------------
// Inline splitting: splitArgs vs sdssplitargs
// ---------------------------------------------------------------------------

/**
 * An independent model of Redis 7.0 sds.c sdssplitargs over a string of
 * latin1 chars; a NUL char ends the input, as it ends a C string. Returns
 * null on error.
 */
function sdssplitargsModel(line: string): string[] | null {
  const at = (i: number): string => (i < line.length ? line[i]! : '\0');
  const cIsSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
  const isHex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);
  const out: string[] = [];
  let p = 0;
  for (;;) {
    while (at(p) !== '\0' && cIsSpace(at(p))) p++;
    if (at(p) === '\0') return out;
    let inq = false;
    let insq = false;
    let done = false;
    let cur = '';
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === '\\' && at(p + 1) === 'x' && isHex(at(p + 2)) && isHex(at(p + 3))) {
          cur += String.fromCharCode(parseInt(at(p + 2) + at(p + 3), 16));
          p += 3;
        } else if (c === '\\' && at(p + 1) !== '\0') {
          p++;
          const e = at(p);
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (at(p + 1) !== '\0' && !cIsSpace(at(p + 1))) return null;
          done = true;
        } else if (c === '\0') {
          return null;
        } else cur += c;
      } else if (insq) {
        if (c === '\\' && at(p + 1) === "'") {
          p++;
          cur += "'";
        } else if (c === "'") {
          if (at(p + 1) !== '\0' && !cIsSpace(at(p + 1))) return null;
          done = true;
        } else if (c === '\0') {
          return null;
        } else cur += c;
      } else if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\0') {
        done = true;
      } else if (c === '"') {
        inq = true;
      } else if (c === "'") {
        insq = true;
      } else cur += c;
      if (at(p) !== '\0') p++;
    }
    out.push(cur);
  }
}

describe('splitArgs (inline requests) matches sdssplitargs', () => {
  it('examples', () => {
    expect(splitArgs('SET "\\x41" x')).toEqual(['SET', 'A', 'x']);
    expect(splitArgs('"\\x4a\\x4B"')).toEqual(['JK']);
    expect(splitArgs('"\\xZZ"')).toEqual(['xZZ']); // not hex: the backslash escapes the x
    expect(splitArgs('"\\x4"')).toEqual(['x4']);
    expect(splitArgs('ECHO "a\\nb"')).toEqual(['ECHO', 'a\nb']);
    expect(splitArgs('"\\r\\t\\b\\a\\\\\\"\\q"')).toEqual(['\r\t\b\x07\\"q']);
    expect(splitArgs("SET k 'it\\'s'")).toEqual(['SET', 'k', "it's"]);
    expect(splitArgs("'a\\nb'")).toEqual(['a\\nb']); // single quotes keep backslashes
    expect(splitArgs('\'say "hi"\'')).toEqual(['say "hi"']);
    expect(splitArgs('"it\'s"')).toEqual(["it's"]);
    expect(splitArgs('"" \'\'')).toEqual(['', '']);
    expect(splitArgs('ab"cd"')).toEqual(['abcd']); // a quote inside a bare token opens quoting
    expect(splitArgs('  a \t b  ')).toEqual(['a', 'b']);
    expect(splitArgs('a\x0bb')).toEqual(['a\x0bb']); // \v skipped between tokens but not a token separator
    expect(splitArgs('\x0b a')).toEqual(['a']);
    expect(splitArgs('"a"\x0bb')).toEqual(['a', 'b']); // isspace after a closing quote includes \v
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('   ')).toEqual([]);
    expect(splitArgs('"abc')).toBeNull();
    expect(splitArgs("'abc")).toBeNull();
    expect(splitArgs('"a"b')).toBeNull();
    expect(splitArgs("'a'b")).toBeNull();
    expect(splitArgs('"a\\"')).toBeNull();
  });

  it('stops at a NUL byte like the C string sdssplitargs reads (and terminates)', () => {
    expect(splitArgs('a\0b')).toEqual(['a']);
    expect(splitArgs('SET k v\0 x')).toEqual(['SET', 'k', 'v']);
    expect(splitArgs('\0abc')).toEqual([]);
    expect(splitArgs('"a"\0')).toEqual(['a']);
    expect(splitArgs('"a\0"')).toBeNull();
  });

  it('agrees with the sdssplitargs model on random quote/escape soup', () => {
    const soup = fc
      .array(fc.constantFrom('a', 'b', 'x', '4', 'F', 'n', ' ', '\t', '\r', '\n', '\x0b', '\f', '"', "'", '\\', '\xe9', '\0'), {
        maxLength: 30,
      })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(soup, (line) => {
        expect(splitArgs(line)).toEqual(sdssplitargsModel(line));
      }),
      { numRuns: 5000 },
    );
  });

  it('inline requests through the parser split the same way', () => {
    expect(run([bytes('SET k "hello world"\r\n')]).commands).toEqual([['SET', 'k', 'hello world']]);
    expect(run([bytes("SET k 'it\\'s'\r\n")]).commands).toEqual([['SET', 'k', "it's"]]);
    expect(run([bytes('SET k "\\x41\\n"\r\n')]).commands).toEqual([['SET', 'k', 'A\n']]);
  });
});
