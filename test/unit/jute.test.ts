/**
 * Jute primitives (ZooKeeper's BinaryOutputArchive): round trips, writer buffer management, and the
 * reader's promise to throw `ProtocolError` (never a RangeError) on malformed input.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JuteReader, JuteWriter } from '../../src/client/protocol/jute.js';
import { assertProtocolError } from '../support/protocol.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('JuteWriter / JuteReader round trips', () => {
  test('int: zero, positives, negatives and the extremes', () => {
    const values = [0, 1, -1, 42, -42, 0x7fffffff, -0x80000000, 30000, -101];
    const w = new JuteWriter();
    for (const v of values) w.int(v);
    assert.equal(w.length, values.length * 4);
    const bytes = w.copy();
    assert.deepEqual(bytes.subarray(0, 4), hex('00000000'));
    assert.deepEqual(bytes.subarray(8, 12), hex('ffffffff'));
    assert.deepEqual(bytes.subarray(20, 24), hex('7fffffff'));
    assert.deepEqual(bytes.subarray(24, 28), hex('80000000'));
    const r = new JuteReader(bytes);
    for (const v of values) assert.equal(r.int(), v);
    assert.equal(r.remaining, 0);
  });

  test('long as bigint: session ids with the high byte set, zxids, negatives', () => {
    const values = [
      0n,
      1n,
      -1n,
      0x01000008189f0000n,
      0x100000002n,
      -0x8000000000000000n,
      0x7fffffffffffffffn,
      -123456789012345n,
    ];
    const w = new JuteWriter();
    for (const v of values) w.long(v);
    const bytes = w.copy();
    assert.deepEqual(bytes.subarray(24, 32), hex('01000008189f0000'), 'session id is big-endian');
    assert.deepEqual(bytes.subarray(16, 24), hex('ffffffffffffffff'), '-1n is all ones');
    const r = new JuteReader(bytes);
    for (const v of values) assert.equal(r.long(), v);
    assert.equal(r.remaining, 0);
  });

  test('long from a number equals long from the same bigint', () => {
    const values = [
      0,
      1,
      -1,
      2 ** 32,
      2 ** 32 - 1,
      2 ** 32 + 1,
      -(2 ** 32),
      -(2 ** 32) - 1,
      1_700_000_000_123,
      -1_700_000_000_123,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    for (const v of values) {
      const fromNumber = new JuteWriter();
      fromNumber.long(v);
      const fromBigint = new JuteWriter();
      fromBigint.long(BigInt(v));
      assert.deepEqual(fromNumber.copy(), fromBigint.copy(), `long(${v})`);
      assert.equal(new JuteReader(fromNumber.copy()).long(), BigInt(v), `long(${v}) read back as bigint`);
      assert.equal(new JuteReader(fromNumber.copy()).longAsNumber(), v, `long(${v}) read back as number`);
    }
  });

  test('bool: written as 0x00 / 0x01, any non-zero byte reads as true', () => {
    const w = new JuteWriter();
    w.bool(true);
    w.bool(false);
    assert.deepEqual(w.copy(), hex('0100'));
    const r = new JuteReader(hex('01 00 02 ff'));
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), false);
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), true);
    assert.equal(r.remaining, 0);
  });

  test('bytes: null (-1) and empty (0) are distinct on the wire and on reading', () => {
    const w = new JuteWriter();
    w.bytes(null);
    w.bytes(new Uint8Array(0));
    w.bytes(Buffer.from('hi'));
    w.bytes(new Uint8Array([0, 255, 1]));
    assert.deepEqual(w.copy(), hex('ffffffff 00000000 00000002 6869 00000003 00ff01'));
    const r = new JuteReader(w.copy());
    assert.equal(r.bytes(), null);
    const empty = r.bytes();
    assert.ok(empty !== null && empty.length === 0, 'empty buffer, not null');
    assert.deepEqual(r.bytes(), Buffer.from('hi'));
    assert.deepEqual(r.bytes(), Buffer.from([0, 255, 1]));
    assert.equal(r.remaining, 0);
  });

  test('bytes read back are a copy, not a view of the frame', () => {
    const frame = hex('00000003 616263');
    const value = new JuteReader(frame).bytes();
    frame.fill(0);
    assert.deepEqual(value, Buffer.from('abc'));
  });

  test('string: null vs empty vs ASCII vs multibyte UTF-8; the prefix counts bytes, not chars', () => {
    const w = new JuteWriter();
    w.string(null);
    w.string('');
    w.string('/hx');
    assert.deepEqual(w.copy(), hex('ffffffff 00000000 00000003 2f6878'));
    const samples = ['é', 'über/ñ', '日本語', '😀', 'a😀b', '한국어', 'mixed é 日 😀 \u0000 end', 'x\uFFFDy'];
    const w2 = new JuteWriter();
    for (const s of samples) w2.string(s);
    const bytes = w2.copy();
    assert.equal(bytes.readInt32BE(0), 2, "'é' is 2 UTF-8 bytes");
    const r = new JuteReader(bytes);
    for (const s of samples) assert.equal(r.string(), s);
    assert.equal(r.remaining, 0);
    const r0 = new JuteReader(w.copy());
    assert.equal(r0.string(), null);
    assert.equal(r0.string(), '');
    assert.equal(r0.string(), '/hx');
  });

  test('stringVector round trip, including an empty vector', () => {
    const w = new JuteWriter();
    w.stringVector(['a', 'bb', '日本']);
    w.stringVector([]);
    assert.deepEqual(w.copy().subarray(0, 9), hex('00000003 00000001 61'));
    const r = new JuteReader(w.copy());
    assert.deepEqual(r.stringVector(), ['a', 'bb', '日本']);
    assert.deepEqual(r.stringVector(), []);
    assert.equal(r.remaining, 0);
  });

  test('vector of records with a custom item reader', () => {
    const w = new JuteWriter();
    w.int(2);
    w.int(7);
    w.string('x');
    w.int(8);
    w.string('yz');
    const r = new JuteReader(w.copy());
    const items = r.vector((reader) => ({ n: reader.int(), s: reader.requiredString() }), 8);
    assert.deepEqual(items, [
      { n: 7, s: 'x' },
      { n: 8, s: 'yz' },
    ]);
  });
});

describe('JuteWriter buffer management', () => {
  test('grows past its initial size without losing earlier bytes', () => {
    const w = new JuteWriter(4);
    const expected: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      w.int(i);
      const b = Buffer.alloc(4);
      b.writeInt32BE(i);
      expected.push(b);
    }
    const big = Buffer.alloc(1000, 0xab);
    w.bytes(big);
    expected.push(hex('000003e8'), big);
    const text = 'ü'.repeat(300);
    w.string(text);
    const encoded = Buffer.from(text, 'utf8');
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(encoded.length);
    expected.push(prefix, encoded);
    w.long(0x01000008189f0000n);
    expected.push(hex('01000008189f0000'));
    w.bool(true);
    expected.push(hex('01'));
    const all = Buffer.concat(expected);
    assert.equal(w.length, all.length);
    assert.deepEqual(w.copy(), all);
    assert.deepEqual(Buffer.from(w.view()), all);
  });

  test('a single write far larger than double the buffer', () => {
    const w = new JuteWriter(8);
    const data = Buffer.alloc(100_000, 7);
    w.bytes(data);
    const r = new JuteReader(w.copy());
    assert.deepEqual(r.bytes(), data);
  });

  test('intAt patches an int written earlier (frame length after the body)', () => {
    const w = new JuteWriter();
    w.int(0);
    w.int(1);
    w.string('/hx');
    w.intAt(0, w.length - 4);
    assert.deepEqual(w.copy(), hex('0000000b 00000001 00000003 2f6878'));
    w.intAt(4, -2);
    assert.deepEqual(w.copy().subarray(4, 8), hex('fffffffe'));
    assert.equal(w.length, 15, 'intAt does not move the write position');
  });

  test('intAt still works after the buffer has grown', () => {
    const w = new JuteWriter(4);
    w.int(0);
    w.bytes(Buffer.alloc(50, 1));
    w.intAt(0, w.length - 4);
    const bytes = w.copy();
    assert.equal(bytes.readInt32BE(0), 54);
    assert.equal(bytes.length, 58);
  });

  test('truncate rolls back to an earlier length and writing continues from there', () => {
    const w = new JuteWriter();
    w.int(1);
    const mark = w.length;
    w.string('rejected request');
    w.long(99n);
    w.truncate(mark);
    assert.equal(w.length, 4);
    w.int(2);
    assert.deepEqual(w.copy(), hex('00000001 00000002'));
  });

  test('copy survives reset; reset starts over', () => {
    const w = new JuteWriter();
    w.int(5);
    const copy = w.copy();
    w.reset();
    assert.equal(w.length, 0);
    w.int(6);
    assert.deepEqual(copy, hex('00000005'));
    assert.deepEqual(w.copy(), hex('00000006'));
  });
});

describe('JuteReader on malformed input', () => {
  test('reading any primitive past the end throws ProtocolError', () => {
    assertProtocolError(() => new JuteReader(hex('000000')).int(), 'int');
    assertProtocolError(() => new JuteReader(hex('00000000000000')).long(), 'long');
    assertProtocolError(() => new JuteReader(hex('00000000000000')).longAsNumber(), 'longAsNumber');
    assertProtocolError(() => new JuteReader(Buffer.alloc(0)).bool(), 'bool');
    assertProtocolError(() => new JuteReader(hex('000000')).bytes(), 'bytes length');
    assertProtocolError(() => new JuteReader(hex('0000')).string(), 'string length');
    assertProtocolError(() => new JuteReader(hex('00')).stringVector(), 'vector count');
    const r = new JuteReader(hex('00000001'));
    r.int();
    assertProtocolError(() => r.int(), 'second int');
  });

  test('the reader stops at `end`, not at the end of the underlying buffer', () => {
    const buffer = hex('00000001 00000002 00000003');
    const r = new JuteReader(buffer, 4, 8);
    assert.equal(r.remaining, 4);
    assert.equal(r.int(), 2);
    assertProtocolError(() => r.int(), 'int beyond end');
    assertProtocolError(() => new JuteReader(buffer, 0, 6).long(), 'long beyond end');
    // A string whose length fits the buffer but not the [start, end) window.
    const frame = hex('00000004 61626364');
    assertProtocolError(() => new JuteReader(frame, 0, 6).string(), 'string beyond end');
    assertProtocolError(() => new JuteReader(frame, 0, 7).bytes(), 'bytes beyond end');
  });

  test('lengths below -1 throw ProtocolError', () => {
    for (const length of ['fffffffe', '80000000', 'ffffff9b']) {
      assertProtocolError(() => new JuteReader(hex(length + '00000000')).bytes(), `bytes ${length}`);
      assertProtocolError(() => new JuteReader(hex(length + '00000000')).string(), `string ${length}`);
    }
  });

  test('a length larger than the remaining bytes throws ProtocolError', () => {
    assertProtocolError(() => new JuteReader(hex('00000005 61626364')).bytes());
    assertProtocolError(() => new JuteReader(hex('00000005 61626364')).string());
    assertProtocolError(() => new JuteReader(hex('7fffffff 00')).bytes());
    assertProtocolError(() => new JuteReader(hex('7fffffff 00')).string());
  });

  test('requiredString rejects null', () => {
    assertProtocolError(() => new JuteReader(hex('ffffffff')).requiredString());
  });

  test('a vector count that cannot fit throws ProtocolError before reading or allocating items', () => {
    assertProtocolError(() => new JuteReader(hex('7fffffff 00000000')).stringVector(), 'huge string vector');
    assertProtocolError(
      () => new JuteReader(hex('00000003 00000001 61 00000001 62')).stringVector(),
      '3 strings in 10 bytes',
    );
    assertProtocolError(() => new JuteReader(hex('fffffffe')).stringVector(), 'count -2');
    assertProtocolError(() => new JuteReader(hex('80000000')).stringVector(), 'count MIN_INT');
    let calls = 0;
    const item = (reader: JuteReader) => {
      calls++;
      return reader.int();
    };
    assertProtocolError(
      () => new JuteReader(hex('7fffffff 00000000 00000000')).vector(item, 4),
      'huge record vector',
    );
    assertProtocolError(
      () => new JuteReader(hex('00000002 00000000 00000000')).vector(item, 12),
      '2 records of >= 12 bytes in 8',
    );
    assertProtocolError(() => new JuteReader(hex('fffffff0')).vector(item, 1), 'negative record vector');
    assert.equal(calls, 0, 'no item was read for a count that cannot fit');
  });

  test('a string vector with a null element is a ProtocolError', () => {
    assertProtocolError(() => new JuteReader(hex('00000001 ffffffff')).stringVector());
  });
});

describe('Java modified UTF-8 (CESU-8) strings', () => {
  test('a surrogate pair encoded as two 3-byte sequences decodes to the code point', () => {
    const r = new JuteReader(hex('00000006 eda0bd edb880'));
    assert.equal(r.string(), '😀');
    assert.equal(r.remaining, 0);
  });

  test('surrogate pairs mixed with ASCII, Hangul (also ED-led) and standard 4-byte UTF-8', () => {
    // 'a' + CESU(U+1F600) + '한' (ed 95 9c, a real ED-led BMP char) + UTF-8(U+1F601) + 'z'
    const body = Buffer.concat([
      Buffer.from('a'),
      hex('eda0bd edb880'),
      Buffer.from('한'),
      Buffer.from('😁'),
      Buffer.from('z'),
    ]);
    const frame = Buffer.concat([hex('00000000'), body]);
    frame.writeInt32BE(body.length, 0);
    assert.equal(new JuteReader(frame).string(), 'a😀한😁z');
  });

  test('two consecutive CESU-8 pairs and a trailing frame field', () => {
    const frame = hex('0000000c eda0bd edb880 eda0bd edb881 0000002a');
    const r = new JuteReader(frame);
    assert.equal(r.string(), '😀😁');
    assert.equal(r.int(), 42);
  });

  test('CESU-8 bytes after the end of the string are not consumed', () => {
    const frame = hex('00000001 61 eda0bd edb880');
    const r = new JuteReader(frame, 0, 5);
    assert.equal(r.string(), 'a');
    assert.equal(r.remaining, 0);
  });

  test('a lone encoded surrogate does not crash', () => {
    const value = new JuteReader(hex('00000004 eda0bd 41')).string();
    assert.equal(typeof value, 'string');
    assert.ok(value!.endsWith('A'));
  });
});
