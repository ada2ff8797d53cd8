import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyWriter, type BorrowingWriter } from '../../src/protocol/reply.js';
import { QuickList } from '../../src/store/list.js';

/**
 * A socket that either takes bytes at once (a copy, like the kernel) or
 * keeps references to them, like libuv when the kernel buffer is full: what
 * it kept must still read the same after the writer goes on writing.
 */
class FakeSocket implements BorrowingWriter {
  readonly taken: Buffer[] = [];
  readonly kept: (Buffer | readonly Buffer[])[] = [];
  constructor(public keepReferences: boolean) {}
  writeBorrowed(data: Buffer | readonly Buffer[]): boolean {
    if (this.keepReferences) {
      this.kept.push(data);
      return false;
    }
    const chunks = Array.isArray(data) ? (data as readonly Buffer[]) : [data as Buffer];
    this.taken.push(Buffer.concat(chunks.map((c) => Buffer.from(c))));
    return true;
  }
  keptBytes(): string {
    return this.kept
      .map((d) => (Array.isArray(d) ? Buffer.concat(d as readonly Buffer[]) : (d as Buffer)).toString('latin1'))
      .join('');
  }
}

function bulks(w: ReplyWriter, prefix: string, count: number, size: number): string {
  let expected = '';
  for (let i = 0; i < count; i++) {
    const v = `${prefix}${i}`.padEnd(size, '.');
    w.bulk(v);
    expected += `$${v.length}\r\n${v}\r\n`;
  }
  return expected;
}

describe('ReplyWriter', () => {
  it('sends a batch that spans many chunks in order, once', () => {
    const w = new ReplyWriter();
    const socket = new FakeSocket(false);
    const expected = bulks(w, 'a', 2000, 64) + bulks(w, 'b', 3, 40_000);
    expect(w.pendingBytes).toBe(expected.length);
    expect(w.sendTo(socket)).toBe(expected.length);
    expect(w.pendingBytes).toBe(0);
    expect(w.sendTo(socket)).toBe(0);
    expect(socket.taken.map((b) => b.toString('latin1')).join('')).toBe(expected);
  });

  it('never reuses memory the socket still holds', () => {
    const w = new ReplyWriter();
    const socket = new FakeSocket(true);
    let expected = '';
    for (let round = 0; round < 5; round++) {
      expected += bulks(w, `r${round}-`, round * 150 + 1, 100);
      w.sendTo(socket);
    }
    expect(socket.keptBytes()).toBe(expected);
  });

  it('reuses its buffer after a write the kernel took whole', () => {
    const w = new ReplyWriter();
    const socket = new FakeSocket(false);
    w.ok();
    w.sendTo(socket);
    w.int(7);
    w.sendTo(socket);
    expect(socket.taken.map((b) => b.toString('latin1'))).toEqual(['+OK\r\n', ':7\r\n']);
  });

  it('same-size replies the socket still holds stay intact while later ones of that size are written', () => {
    // The view of the reply buffer is reused for replies of one size only while the buffer stays.
    const w = new ReplyWriter();
    const socket = new FakeSocket(false);
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      socket.keepReferences = i % 2 === 1;
      w.int(i);
      w.sendTo(socket);
      sent.push(`:${i}\r\n`);
    }
    expect(socket.kept.map((d) => (d as Buffer).toString('latin1'))).toEqual([sent[1], sent[3], sent[5]]);
    expect(socket.taken.map((b) => b.toString('latin1'))).toEqual([sent[0], sent[2], sent[4]]);
  });

  it('take() returns a copy and discard() drops pending output', () => {
    const w = new ReplyWriter();
    const expected = bulks(w, 'x', 500, 50);
    const copy = w.take()!;
    w.bulk('overwrites the old buffer');
    expect(copy.toString('latin1')).toBe(expected);
    w.discard();
    expect(w.pendingBytes).toBe(0);
    expect(w.take()).toBeNull();
  });

  it('a large stored value the socket still holds is not changed by a later in-place write', () => {
    const w = new ReplyWriter();
    const socket = new FakeSocket(true);
    const stored = Buffer.alloc(40_000, 'a');
    w.bulk(stored);
    w.sendTo(socket);
    stored.fill('b'); // SETRANGE / SETBIT change a Buffer value in place
    expect(socket.keptBytes()).toBe(`$40000\r\n${'a'.repeat(40_000)}\r\n`);
  });
});


describe('ReplyWriter: list ranges', () => {
  it('a range of list elements is sent as it was read, whatever the list does before the send', () => {
    for (const size of [10, 20_000]) {
      for (const keepReferences of [false, true]) {
        const values = Array.from({ length: 6 }, (_, i) => String(i).repeat(size));
        const list = QuickList.from(values);
        const w = new ReplyWriter();
        w.arrayHeader(4);
        list.encodedRange(1, 4, (bulks) => w.encoded(bulks));
        // The chunk changes under the bytes the reply was given: in place, in the middle, at the head.
        list.set(2, 'changed');
        list.removeRange(1, 2);
        list.pushHead('new');
        list.popTail();
        list.pushTail('z'.repeat(size));
        const socket = new FakeSocket(keepReferences);
        w.sendTo(socket);
        const sent = keepReferences ? socket.keptBytes() : Buffer.concat(socket.taken).toString('latin1');
        expect(sent).toBe(`*4\r\n${values.slice(1, 5).map((v) => `$${v.length}\r\n${v}\r\n`).join('')}`);
      }
    }
  });
});

describe('ReplyWriter: integers and headers', () => {
  const integer = fc.oneof(
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(0, -0, 9, 10, 99, 100, -1, -10, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, -(2 ** 60)),
  );

  it('writes integers, and array, map, set, push and bulk headers, as the decimal text of n', () => {
    fc.assert(
      fc.property(integer, fc.bigInt(), fc.nat(100_000), fc.constantFrom(2 as const, 3 as const), (n, big, len, resp) => {
        const w = new ReplyWriter();
        w.resp = resp;
        w.int(n);
        w.int(big);
        w.arrayHeader(len);
        w.mapHeader(len);
        w.setHeader(len);
        w.pushHeader(len);
        w.bulk(Buffer.alloc(len % 50, 0x61));
        const [map, set, push] = resp === 2 ? [`*${2 * len}`, `*${len}`, `*${len}`] : [`%${len}`, `~${len}`, `>${len}`];
        const expected = `:${n}\r\n:${big}\r\n*${len}\r\n${map}\r\n${set}\r\n${push}\r\n$${len % 50}\r\n${'a'.repeat(len % 50)}\r\n`;
        expect(w.take()!.toString('latin1')).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
