/**
 * Curator's number encodings, in one place: `SharedCount` stores a 4-byte big-endian signed int
 * (`SharedCount.toBytes`: `ByteBuffer.putInt`), `DistributedAtomicLong` an 8-byte big-endian
 * signed long (`DistributedAtomicLong.valueToBytes`: `ByteBuffer.putLong`). Used by `SharedCount`,
 * `Counter({ curator: true })` and `DistributedAtomicLong`.
 */
import { InvalidArgumentError } from '../../client/errors.js';
import { RecipeMismatchError } from '../errors.js';

/** A SharedCount value: a 32-bit signed integer (else `InvalidArgumentError`). */
export function checkInt32(value: unknown, what = 'a curator counter'): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new InvalidArgumentError(`${what} holds a 32-bit signed integer; ${String(value)} is out of range`);
  }
}

/** SharedCount's data for `value`: int32 big-endian. */
export function encodeInt32(value: number): Buffer {
  checkInt32(value);
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

/** A SharedCount value from its data: exactly 4 bytes (else `RecipeMismatchError`). */
export function decodeInt32(data: Buffer, path?: string): number {
  if (data.length !== 4)
    throw new RecipeMismatchError(`a curator counter holds 4 bytes, found ${data.length}`, { path });
  return data.readInt32BE(0);
}

/** A DistributedAtomicLong value: a 64-bit signed integer (else `InvalidArgumentError`). */
export function checkInt64(value: unknown, what = 'a DistributedAtomicLong'): asserts value is bigint {
  if (typeof value !== 'bigint' || BigInt.asIntN(64, value) !== value)
    throw new InvalidArgumentError(`${what} holds a 64-bit signed integer (a bigint); got ${String(value)}`);
}

/** DistributedAtomicLong's data for `value`: int64 big-endian. */
export function encodeInt64(value: bigint): Buffer {
  checkInt64(value);
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(value);
  return buffer;
}

/**
 * A DistributedAtomicLong value from its data: empty is 0 (Curator's `bytesToValue` reads a
 * missing or empty node as 0), else exactly 8 bytes (else `RecipeMismatchError`).
 */
export function decodeInt64(data: Buffer, path?: string): bigint {
  if (data.length === 0) return 0n;
  if (data.length !== 8)
    throw new RecipeMismatchError(`a DistributedAtomicLong holds 8 bytes, found ${data.length}`, { path });
  return data.readBigInt64BE(0);
}
