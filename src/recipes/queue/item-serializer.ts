/**
 * Curator's queue item format (curator-recipes `queue/ItemSerializer.java`): the data of every
 * `queue-` node of a DistributedQueue / DistributedPriorityQueue / DistributedDelayQueue holds
 * one or more items (`put` writes one, `putMulti` several):
 *
 *   int32 version 0x00010001, then per item: byte 0x01, int32 length, the item's bytes;
 *   then byte 0x02 (EOF). All integers big-endian (Java's DataOutputStream).
 *
 * Curator stops reading at EOF, so bytes after it are ignored (as here).
 */
import { InvalidArgumentError } from '../../client/errors.js';

const VERSION = 0x00010001;
const ITEM_OPCODE = 0x01;
const EOF_OPCODE = 0x02;

/**
 * Encode items (each already serialized to bytes) as one Curator queue node's data.
 *
 * @example
 *   serializeItems([Buffer.from('a')]); // <00 01 00 01 01 00 00 00 01 61 02>
 */
export function serializeItems(items: readonly Uint8Array[]): Buffer {
  let size = 4 + 1;
  for (const item of items) size += 5 + item.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32BE(VERSION, 0);
  for (const item of items) {
    at = out.writeUInt8(ITEM_OPCODE, at);
    at = out.writeInt32BE(item.length, at);
    at += Buffer.from(item.buffer, item.byteOffset, item.length).copy(out, at);
  }
  out.writeUInt8(EOF_OPCODE, at);
  return out;
}

/**
 * Decode a Curator queue node's data into its items' bytes; `InvalidArgumentError` when the data
 * is not in that format (Curator logs such a node as "Corrupted queue item").
 *
 * @example
 *   deserializeItems(serializeItems([Buffer.from('a'), Buffer.from('b')])); // [<61>, <62>]
 */
export function deserializeItems(bytes: Buffer): Buffer[] {
  const corrupt = (why: string) =>
    new InvalidArgumentError(`not a Curator queue item: ${why}`, { op: 'deserializeItems' });
  if (bytes.length < 4) throw corrupt('too short');
  const version = bytes.readInt32BE(0);
  if (version !== VERSION) throw corrupt(`version ${version}, expected ${VERSION}`);
  const items: Buffer[] = [];
  for (let at = 4; ;) {
    if (at >= bytes.length) throw corrupt('no EOF opcode');
    const opcode = bytes.readInt8(at++);
    if (opcode === EOF_OPCODE) return items;
    if (opcode !== ITEM_OPCODE) throw corrupt(`opcode ${opcode}`);
    if (at + 4 > bytes.length) throw corrupt('truncated size');
    const size = bytes.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > bytes.length) throw corrupt(`bad size ${size}`);
    items.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
}
