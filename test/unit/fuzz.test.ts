/**
 * Decoder robustness: whatever bytes a server (or something pretending to be one) sends, the
 * decoders return or throw `ProtocolError` — never a RangeError/TypeError, never a hang — and
 * never read outside their [start, end) window. Frame reassembly is exact at every split.
 *
 * The PRNG is seeded; set FUZZ_SEED=<n> to replay a run. Every failure message names the seed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPEN_ACL_UNSAFE } from '../../src/client/acl.js';
import { ProtocolError } from '../../src/client/errors.js';
import { FrameSplitter } from '../../src/client/connection/frame-splitter.js';
import { JuteReader, JuteWriter } from '../../src/client/protocol/jute.js';
import { OpCode } from '../../src/client/protocol/op-codes.js';
import {
  readAcl,
  readChildren2,
  readClientInfo,
  readConnectResponse,
  readGetData,
  readStat,
  readWatcherEvent,
  writeAcl,
  type Stat,
} from '../../src/client/protocol/records.js';
import { readMulti, readMultiRead, type ReadOp, type TransactionOp } from '../../src/client/transaction.js';
import { writeStat } from '../../src/client/protocol/records.js';
import { prng } from './fixtures.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 0x5eed_2181;

/** mulberry32: small, fast, good enough to generate test inputs reproducibly. */

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  float(): number {
    return this.next();
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  bytes(length: number): Buffer {
    const b = Buffer.alloc(length);
    for (let i = 0; i < length; i++) b[i] = this.int(256);
    return b;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Ints that make jute decoders take interesting paths: null, empty, off-by-one, huge, negative. */
const INTERESTING_INTS = [
  -1, -2, 0, 1, 2, 3, 4, 8, 9, 16, 36, 68, 0x7f, 0xff, 0x7fffffff, -0x80000000, 0x40000000, -101, 15, 5, 13,
  14,
];

const hexOf = (b: Buffer) => b.toString('hex');

// ---- valid encodings ----

const STAT: Stat = {
  czxid: 0x100000002n,
  mzxid: 0x100000003n,
  ctime: 1_700_000_000_000,
  mtime: 1_700_000_000_001,
  version: 1,
  cversion: 2,
  aversion: 0,
  ephemeralOwner: 0x01000008189f0000n,
  dataLength: 2,
  numChildren: 0,
  pzxid: 0x100000004n,
};

function encode(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(16);
  write(w);
  return w.copy();
}

function multiHeader(w: JuteWriter, type: number, done: boolean, err: number): void {
  w.int(type);
  w.bool(done);
  w.int(err);
}

const MULTI_OPS: TransactionOp[] = [
  {
    type: 'create',
    opCode: OpCode.create,
    path: '/a',
    record: { path: '/a', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 },
  },
  { type: 'set', path: '/b', data: null, version: -1 },
  { type: 'delete', path: '/c', version: -1 },
  { type: 'check', path: '/d', version: 0 },
];

const READ_OPS: ReadOp[] = [
  { type: 'getData', path: '/a' },
  { type: 'getChildren', path: '/b' },
  { type: 'getData', path: '/c' },
];

interface Decoder {
  name: string;
  decode(r: JuteReader): unknown;
  /** Valid encodings of this record. */
  samples: Buffer[];
  /** Length of a strict prefix that is itself valid (the 36-byte ConnectResponse). */
  validPrefixLengths?: number[];
}

function replyHeader(w: JuteWriter, xid: number): void {
  w.int(xid);
  w.long(0xc5n);
  w.int(0);
}

const DECODERS: Decoder[] = [
  {
    name: 'Stat',
    decode: readStat,
    samples: [encode((w) => writeStat(w, STAT))],
  },
  {
    name: 'GetData reply',
    decode: (r) => {
      r.int();
      r.long();
      r.int();
      return readGetData(r);
    },
    samples: [
      encode((w) => {
        replyHeader(w, 2);
        w.bytes(Buffer.from('hi'));
        writeStat(w, STAT);
      }),
      encode((w) => {
        replyHeader(w, 3);
        w.bytes(null);
        writeStat(w, STAT);
      }),
    ],
  },
  {
    name: 'multi reply',
    decode: (r) => readMulti(r, MULTI_OPS, (p) => p),
    samples: [
      encode((w) => {
        multiHeader(w, OpCode.create, false, 0);
        w.string('/a');
        multiHeader(w, OpCode.setData, false, 0);
        writeStat(w, STAT);
        multiHeader(w, OpCode.delete, false, 0);
        multiHeader(w, OpCode.check, false, 0);
        multiHeader(w, -1, true, -1);
      }),
      encode((w) => {
        for (const code of [0, -103, -2, -2]) {
          multiHeader(w, -1, false, code);
          w.int(code);
        }
        multiHeader(w, -1, true, -1);
      }),
    ],
  },
  {
    name: 'multiRead reply',
    decode: (r) => readMultiRead(r, READ_OPS),
    samples: [
      encode((w) => {
        multiHeader(w, OpCode.getData, false, 0);
        w.bytes(Buffer.from('data'));
        writeStat(w, STAT);
        multiHeader(w, OpCode.getChildren, false, 0);
        w.stringVector(['x', 'yy']);
        multiHeader(w, -1, false, -101);
        w.int(-101);
        multiHeader(w, -1, true, -1);
      }),
    ],
  },
  {
    name: 'ConnectResponse',
    decode: readConnectResponse,
    samples: [
      encode((w) => {
        w.int(0);
        w.int(30000);
        w.long(0x01000009b17f0014n);
        w.bytes(Buffer.alloc(16, 0x5a));
        w.bool(false);
      }),
    ],
    validPrefixLengths: [36],
  },
  {
    name: 'WatcherEvent notification',
    decode: (r) => {
      r.int();
      r.long();
      r.int();
      return readWatcherEvent(r);
    },
    samples: [
      encode((w) => {
        replyHeader(w, -1);
        w.int(3);
        w.int(3);
        w.string('/hx');
      }),
    ],
  },
  {
    name: 'children vector',
    decode: (r) => r.stringVector(),
    samples: [encode((w) => w.stringVector(['a', 'bb', 'ccc', '日本']))],
  },
  {
    name: 'getChildren2 reply',
    decode: readChildren2,
    samples: [
      encode((w) => {
        w.stringVector(['lock-0000000001', 'lock-0000000002']);
        writeStat(w, STAT);
      }),
    ],
  },
  {
    name: 'ACL',
    decode: readAcl,
    samples: [
      encode((w) => writeAcl(w, [...OPEN_ACL_UNSAFE, { perms: 1, id: { scheme: 'digest', id: 'u:x' } }])),
    ],
  },
  {
    name: 'whoAmI reply',
    decode: (r) => r.vector(readClientInfo, 8),
    samples: [
      encode((w) => {
        w.int(2);
        w.string('ip');
        w.string('127.0.0.1');
        w.string('digest');
        w.string('alice');
      }),
    ],
  },
];

type Outcome = { ok: true; value: unknown } | { ok: false; error: ProtocolError };

/** Decode `input` alone and embedded in a larger buffer; both must agree and only ProtocolError may escape. */
function decodeChecked(decoder: Decoder, input: Buffer, context: string): Outcome {
  const outcome = (buffer: Buffer, start: number, end: number): Outcome => {
    const reader = new JuteReader(buffer, start, end);
    try {
      const value = decoder.decode(reader);
      assert.ok(
        reader.remaining >= 0,
        `${context}: ${decoder.name} read past the end of its window (remaining ${reader.remaining})`,
      );
      return { ok: true, value };
    } catch (error) {
      if (error instanceof ProtocolError) return { ok: false, error };
      assert.fail(
        `${context}: ${decoder.name} threw ${(error as Error)?.name ?? typeof error} instead of ProtocolError ` +
          `for input ${hexOf(input)}: ${String((error as Error)?.stack ?? error)}`,
      );
    }
  };
  const alone = outcome(input, 0, input.length);
  // The same bytes inside a bigger frame buffer, surrounded by bytes that would "complete" a
  // truncated record: a decoder that ignores `end` would read them and succeed.
  const padding = Buffer.alloc(512, 0x01);
  const embedded = Buffer.concat([padding.subarray(0, 7), input, padding]);
  const windowed = outcome(embedded, 7, 7 + input.length);
  assert.equal(
    windowed.ok,
    alone.ok,
    `${context}: ${decoder.name} depends on bytes outside its window for input ${hexOf(input)}`,
  );
  if (alone.ok && windowed.ok)
    assert.deepEqual(windowed.value, alone.value, `${context}: ${decoder.name} windowed result differs`);
  return alone;
}

describe(`decoder fuzzing (FUZZ_SEED=${SEED})`, () => {
  test('valid samples decode', () => {
    for (const decoder of DECODERS) {
      for (const sample of decoder.samples) {
        const outcome = decodeChecked(decoder, sample, 'valid sample');
        assert.ok(
          outcome.ok,
          `${decoder.name}: valid sample ${hexOf(sample)} failed: ${outcome.ok ? '' : outcome.error.message}`,
        );
      }
    }
  });

  test('every truncation of a valid encoding throws ProtocolError', () => {
    for (const decoder of DECODERS) {
      for (const sample of decoder.samples) {
        for (let length = 0; length < sample.length; length++) {
          const outcome = decodeChecked(
            decoder,
            sample.subarray(0, length),
            `truncation to ${length}/${sample.length}`,
          );
          if (decoder.validPrefixLengths?.includes(length)) continue;
          assert.equal(
            outcome.ok,
            false,
            `${decoder.name}: truncation to ${length} of ${sample.length} bytes decoded without error`,
          );
        }
      }
    }
  });

  test('several thousand random buffers: return or ProtocolError', { timeout: 120_000 }, () => {
    const random = new Random(SEED);
    for (let i = 0; i < 4000; i++) {
      const length = random.float() < 0.2 ? random.int(12) : random.int(160);
      const input = random.bytes(length);
      // Sprinkle ints that steer the decoders into their length/count/type branches.
      const sprinkles = random.int(6);
      for (let s = 0; s < sprinkles && length >= 4; s++) {
        input.writeInt32BE(random.pick(INTERESTING_INTS), random.int(length - 3));
      }
      for (const decoder of DECODERS) decodeChecked(decoder, input, `seed ${SEED} random #${i}`);
    }
  });

  test('several thousand mutations of valid encodings: return or ProtocolError', { timeout: 120_000 }, () => {
    const random = new Random(SEED ^ 0x9e3779b9);
    for (let i = 0; i < 4000; i++) {
      const decoder = random.pick(DECODERS);
      let input = Buffer.from(random.pick(decoder.samples));
      const mutations = 1 + random.int(4);
      for (let m = 0; m < mutations; m++) {
        const kind = random.int(5);
        if (kind === 0 && input.length > 0) {
          input[random.int(input.length)] = random.int(256);
        } else if (kind === 1 && input.length >= 4) {
          input.writeInt32BE(random.pick(INTERESTING_INTS), random.int(input.length - 3));
        } else if (kind === 2) {
          input = input.subarray(0, random.int(input.length + 1));
        } else if (kind === 3) {
          input = Buffer.concat([input, random.bytes(random.int(32))]);
        } else if (input.length > 0) {
          const at = random.int(input.length);
          input = Buffer.concat([input.subarray(0, at), input.subarray(at + 1 + random.int(8))]);
        }
      }
      // Feed every decoder, not only the one the sample belongs to.
      for (const d of DECODERS) decodeChecked(d, input, `seed ${SEED} mutation #${i} of a ${decoder.name}`);
    }
  });

  test('CESU-8 fragments and invalid UTF-8 in strings never throw', () => {
    const random = new Random(SEED + 1);
    const pieces = [
      [0xed],
      [0xed, 0xa0],
      [0xed, 0xa0, 0xbd],
      [0xed, 0xb8, 0x80],
      [0xf0, 0x9f],
      [0xc3],
      [0x80],
      [0xff],
      [0x61],
      [0xed, 0x95, 0x9c],
    ];
    for (let i = 0; i < 2000; i++) {
      const parts: number[] = [];
      const count = random.int(8);
      for (let p = 0; p < count; p++) parts.push(...random.pick(pieces));
      const input = Buffer.concat([Buffer.alloc(4), Buffer.from(parts)]);
      input.writeInt32BE(parts.length, 0);
      const value = new JuteReader(input).string();
      assert.equal(typeof value, 'string', `seed ${SEED} #${i}: ${hexOf(input)}`);
    }
  });
});

// ---- frame splitting ----

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((payload) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(payload.length);
      return [prefix, payload];
    }),
  );
}

function collect(max: number): { splitter: FrameSplitter; frames: Buffer[] } {
  const frames: Buffer[] = [];
  const splitter = new FrameSplitter(max, (buffer, start, end) =>
    frames.push(Buffer.from(buffer.subarray(start, end))),
  );
  return { splitter, frames };
}

function assertFrames(actual: Buffer[], expected: Buffer[], context: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${context}: ${actual.length} frames instead of ${expected.length}`,
  );
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      actual[i]!.equals(expected[i]!),
      `${context}: frame ${i} is ${hexOf(actual[i]!)}, expected ${hexOf(expected[i]!)}`,
    );
  }
}

describe(`FrameSplitter (FUZZ_SEED=${SEED})`, () => {
  const random = new Random(SEED + 2);
  const payloads = [0, 1, 3, 4, 5, 17, 64].map((length) => random.bytes(length));
  const stream = framed(payloads);

  test('one chunk holding every frame', () => {
    const { splitter, frames } = collect(1024);
    splitter.push(stream);
    assertFrames(frames, payloads, 'single chunk');
  });

  test('two chunks, split at every possible boundary (including inside length prefixes)', () => {
    for (let split = 0; split <= stream.length; split++) {
      const { splitter, frames } = collect(1024);
      splitter.push(stream.subarray(0, split));
      splitter.push(stream.subarray(split));
      assertFrames(frames, payloads, `split at ${split}`);
    }
  });

  test('three chunks, every pair of split points', () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const { splitter, frames } = collect(1024);
        splitter.push(stream.subarray(0, a));
        splitter.push(stream.subarray(a, b));
        splitter.push(stream.subarray(b));
        assertFrames(frames, payloads, `splits at ${a}, ${b}`);
      }
    }
  });

  test('one byte at a time', () => {
    const { splitter, frames } = collect(1024);
    for (let i = 0; i < stream.length; i++) splitter.push(stream.subarray(i, i + 1));
    assertFrames(frames, payloads, 'byte at a time');
  });

  test('random chunkings of random frame sequences', () => {
    const r = new Random(SEED + 3);
    for (let i = 0; i < 500; i++) {
      const expected = Array.from({ length: r.int(10) }, () =>
        r.bytes(r.float() < 0.3 ? r.int(4) : r.int(300)),
      );
      const data = framed(expected);
      const { splitter, frames } = collect(1024);
      for (let offset = 0; offset < data.length;) {
        const size = r.int(40);
        splitter.push(data.subarray(offset, offset + size));
        offset += size;
      }
      assertFrames(frames, expected, `seed ${SEED} chunking #${i}`);
    }
  });

  test('a frame of exactly the limit is accepted; one byte more is a ProtocolError', () => {
    const ok = collect(100);
    ok.splitter.push(framed([Buffer.alloc(100, 9)]));
    assert.equal(ok.frames.length, 1);
    const tooBig = collect(100);
    assert.throws(() => tooBig.splitter.push(framed([Buffer.alloc(101, 9)])), ProtocolError);
    assert.equal(tooBig.frames.length, 0);
  });

  test('an oversized length throws as soon as the prefix is complete, without waiting for the body', () => {
    const { splitter, frames } = collect(1000);
    splitter.push(Buffer.from([0x00, 0x10]));
    assert.throws(() => splitter.push(Buffer.from([0x00, 0x00])), ProtocolError);
    assert.equal(frames.length, 0);
    assert.throws(
      () => collect(1000).splitter.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n')),
      ProtocolError,
    );
  });

  test('negative lengths throw ProtocolError, even split across chunks', () => {
    for (const prefix of ['ffffffff', '80000000', 'fffffffe']) {
      const whole = collect(1 << 20);
      assert.throws(
        () => whole.splitter.push(Buffer.from(prefix + '00000000', 'hex')),
        ProtocolError,
        prefix,
      );
      const split = collect(1 << 20);
      split.splitter.push(Buffer.from(prefix.slice(0, 4), 'hex'));
      assert.throws(
        () => split.splitter.push(Buffer.from(prefix.slice(4), 'hex')),
        ProtocolError,
        `${prefix} split`,
      );
    }
  });

  test('frames before a bad length are still delivered', () => {
    const { splitter, frames } = collect(1024);
    const data = Buffer.concat([framed([Buffer.from('ok')]), Buffer.from('ffffffff', 'hex')]);
    assert.throws(() => splitter.push(data), ProtocolError);
    assertFrames(frames, [Buffer.from('ok')], 'before the bad length');
  });

  test('random garbage chunks: frames or ProtocolError, nothing else', () => {
    const r = new Random(SEED + 4);
    for (let i = 0; i < 3000; i++) {
      const { splitter } = collect(r.pick([16, 1024, 0xfffff]));
      for (let c = 0; c < 5; c++) {
        const chunk = r.bytes(r.int(64));
        if (chunk.length >= 4 && r.float() < 0.5) chunk.writeInt32BE(r.pick(INTERESTING_INTS), 0);
        try {
          splitter.push(chunk);
        } catch (error) {
          assert.ok(
            error instanceof ProtocolError,
            `seed ${SEED} garbage #${i}: ${String((error as Error)?.stack ?? error)}`,
          );
          break;
        }
      }
    }
  });
});
