/**
 * Splits a TCP byte stream into ZooKeeper frames: a 4-byte big-endian length, then that many
 * bytes (ClientCnxnSocketNIO: a 4-byte length, then the body). Chunks may hold several frames or a fraction of one, even a
 * fraction of the length prefix. Frames are handed out as (buffer, start, end) views so the
 * common case, a chunk of whole frames, is decoded in place without copying.
 */
import { ProtocolError } from '../errors.js';

export type FrameHandler = (buffer: Buffer, start: number, end: number) => void;

export class FrameSplitter {
  /** Chunks of an incomplete frame, joined once the frame is complete (not once per chunk). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Bytes needed to finish the incomplete frame (prefix included), or 0 while the prefix itself is incomplete. */
  private needed = 0;

  constructor(
    private readonly maxFrameLength: number,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Feed one chunk; calls `onFrame` for every complete frame. Throws `ProtocolError` on a bad length. */
  push(chunk: Buffer): void {
    let buffer = chunk;
    if (this.partialBytes > 0) {
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
      if (this.needed === 0 && this.partialBytes >= 4)
        this.needed = 4 + this.frameLength(Buffer.concat(this.partial, 4), 0);
      if (this.needed === 0 || this.partialBytes < this.needed) return;
      buffer = Buffer.concat(this.partial, this.partialBytes);
      this.partial = [];
      this.partialBytes = 0;
      this.needed = 0;
    }
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const end = offset + 4 + this.frameLength(buffer, offset);
      if (end > buffer.length) {
        this.needed = end - offset;
        break;
      }
      this.onFrame(buffer, offset + 4, end);
      offset = end;
    }
    if (offset < buffer.length) {
      this.partial = [buffer.subarray(offset)];
      this.partialBytes = buffer.length - offset;
    }
  }

  private frameLength(buffer: Buffer, offset: number): number {
    const length = buffer.readInt32BE(offset);
    if (length < 0 || length > this.maxFrameLength) {
      throw new ProtocolError(`invalid frame length ${length} (limit ${this.maxFrameLength})`);
    }
    return length;
  }
}
