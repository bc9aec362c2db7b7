/**
 * Jute, ZooKeeper's serialization format: big-endian primitives, length-prefixed buffers,
 * strings and vectors, with -1 as the "null" length. See ZooKeeper's BinaryOutputArchive/BinaryInputArchive.
 *
 * `JuteWriter` appends to one growable buffer that is reused across requests (the
 * connection's output buffer), so encoding a request allocates nothing on the hot path.
 * `JuteReader` decodes in place from a frame and throws `ProtocolError` instead of reading
 * past the end, so a truncated or malformed frame can never crash the process.
 */
import { ProtocolError } from '../errors.js';

export class JuteWriter {
  private buffer: Buffer;
  private offset = 0;

  constructor(initialSize = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written since the last `reset`. */
  get length(): number {
    return this.offset;
  }

  /** A view of the bytes written so far (valid until the next write or reset). */
  view(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }

  /** A copy of the bytes written so far; safe to keep after a reset. */
  copy(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.offset));
  }

  reset(): void {
    this.offset = 0;
  }

  /** Forget everything written after `length` (used to roll back a rejected request). */
  truncate(length: number): void {
    this.offset = length;
  }

  private ensure(extra: number): void {
    const needed = this.offset + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  int(value: number): void {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.offset);
    this.offset += 4;
  }

  /** Overwrite an int written earlier (frame lengths are patched in after the body). */
  intAt(position: number, value: number): void {
    this.buffer.writeInt32BE(value, position);
  }

  long(value: bigint | number): void {
    this.ensure(8);
    if (typeof value === 'number') {
      // Small non-negative numbers (versions, ttl) avoid BigInt allocation.
      this.buffer.writeInt32BE(Math.floor(value / 0x1_0000_0000), this.offset);
      this.buffer.writeUInt32BE(value >>> 0, this.offset + 4);
    } else {
      this.buffer.writeBigInt64BE(value, this.offset);
    }
    this.offset += 8;
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buffer[this.offset++] = value ? 1 : 0;
  }

  /** A length-prefixed byte buffer; `null` is written as length -1. */
  bytes(value: Uint8Array | null): void {
    if (value === null) {
      this.int(-1);
      return;
    }
    this.ensure(4 + value.length);
    this.buffer.writeInt32BE(value.length, this.offset);
    this.buffer.set(value, this.offset + 4);
    this.offset += 4 + value.length;
  }

  /** A length-prefixed UTF-8 string; `null` is written as length -1. */
  string(value: string | null): void {
    if (value === null) {
      this.int(-1);
      return;
    }
    const maxBytes = value.length * 3;
    this.ensure(4 + maxBytes);
    const written = this.buffer.write(value, this.offset + 4, maxBytes, 'utf8');
    this.buffer.writeInt32BE(written, this.offset);
    this.offset += 4 + written;
  }

  stringVector(values: readonly string[]): void {
    this.int(values.length);
    for (const value of values) this.string(value);
  }
}

export class JuteReader {
  private offset: number;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
    private readonly end = buffer.length,
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(bytes: number, what: string): void {
    if (this.offset + bytes > this.end) {
      throw new ProtocolError(
        `truncated frame: need ${bytes} bytes for ${what}, ${this.end - this.offset} left`,
      );
    }
  }

  int(): number {
    this.need(4, 'int');
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  long(): bigint {
    this.need(8, 'long');
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  /** A long known to fit in a double (timestamps, TTLs): avoids BigInt on the hot path. */
  longAsNumber(): number {
    this.need(8, 'long');
    const high = this.buffer.readInt32BE(this.offset);
    const low = this.buffer.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return high * 0x1_0000_0000 + low;
  }

  bool(): boolean {
    this.need(1, 'boolean');
    return this.buffer[this.offset++] !== 0;
  }

  private length(what: string): number {
    const length = this.int();
    if (length < -1) throw new ProtocolError(`negative ${what} length ${length}`);
    if (length > this.end - this.offset) {
      throw new ProtocolError(
        `${what} length ${length} exceeds the ${this.end - this.offset} bytes left in the frame`,
      );
    }
    return length;
  }

  /** A length-prefixed buffer, or null for length -1. The result is a copy the caller may keep. */
  bytes(): Buffer | null {
    const length = this.length('buffer');
    if (length === -1) return null;
    const value = Buffer.from(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  string(): string | null {
    const length = this.length('string');
    if (length === -1) return null;
    const value = decodeJavaUtf8(this.buffer, this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A string field the server never sends as null; null is a protocol violation. */
  requiredString(): string {
    const value = this.string();
    if (value === null) throw new ProtocolError('unexpected null string');
    return value;
  }

  stringVector(): string[] {
    const count = this.int();
    if (count === -1) return [];
    // Each element takes at least 4 bytes, which bounds a corrupt count before allocating.
    if (count < 0 || count * 4 > this.end - this.offset) {
      throw new ProtocolError(`vector count ${count} does not fit in the frame`);
    }
    const values = new Array<string>(count);
    for (let i = 0; i < count; i++) values[i] = this.requiredString();
    return values;
  }

  /** A vector of records, each read by `readItem`. */
  vector<T>(readItem: (reader: JuteReader) => T, minItemBytes: number): T[] {
    const count = this.int();
    if (count === -1) return [];
    if (count < 0 || count * minItemBytes > this.end - this.offset) {
      throw new ProtocolError(`vector count ${count} does not fit in the frame`);
    }
    const values = new Array<T>(count);
    for (let i = 0; i < count; i++) values[i] = readItem(this);
    return values;
  }
}

/**
 * Decode UTF-8 as Java writes it: the server encodes characters outside the BMP as two
 * 3-byte surrogate sequences (CESU-8). Node would turn each into U+FFFD, so rebuild the pair.
 */
function decodeJavaUtf8(buffer: Buffer, start: number, end: number): string {
  const text = buffer.toString('utf8', start, end);
  if (!text.includes('\uFFFD') || buffer.indexOf(0xed, start) === -1 || buffer.indexOf(0xed, start) >= end) {
    return text;
  }
  let out = '';
  let i = start;
  let plainFrom = start;
  while (i + 2 < end) {
    const b0 = buffer[i]!;
    const b1 = buffer[i + 1]!;
    if (b0 === 0xed && b1 >= 0xa0 && b1 <= 0xbf && (buffer[i + 2]! & 0xc0) === 0x80) {
      out += buffer.toString('utf8', plainFrom, i);
      const unit = 0xd000 | ((b1 & 0x3f) << 6) | (buffer[i + 2]! & 0x3f);
      out += String.fromCharCode(unit);
      i += 3;
      plainFrom = i;
    } else {
      i++;
    }
  }
  out += buffer.toString('utf8', plainFrom, end);
  return out;
}
