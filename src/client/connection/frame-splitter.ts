/**
 * Splits a TCP byte stream into ZooKeeper frames: a 4-byte big-endian length, then that many
 * bytes (spec/protocol.md §1.1). Chunks may hold several frames or a fraction of one, even a
 * fraction of the length prefix. Frames are handed out as (buffer, start, end) views so the
 * common case, a chunk of whole frames, is decoded in place without copying.
 */
import { ProtocolError } from '../errors.js';

export type FrameHandler = (buffer: Buffer, start: number, end: number) => void;

export class FrameSplitter {
  /** Bytes of an incomplete frame carried over from earlier chunks. */
  private partial: Buffer | null = null;

  constructor(
    private readonly maxFrameLength: number,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Feed one chunk; calls `onFrame` for every complete frame. Throws `ProtocolError` on a bad length. */
  push(chunk: Buffer): void {
    let buffer = chunk;
    if (this.partial !== null) {
      buffer = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = buffer.readInt32BE(offset);
      if (length < 0 || length > this.maxFrameLength) {
        throw new ProtocolError(`invalid frame length ${length} (limit ${this.maxFrameLength})`);
      }
      const end = offset + 4 + length;
      if (end > buffer.length) break;
      this.onFrame(buffer, offset + 4, end);
      offset = end;
    }
    if (offset < buffer.length) this.partial = buffer.subarray(offset);
  }
}
