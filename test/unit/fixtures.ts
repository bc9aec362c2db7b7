/** Helpers shared by the unit tests. */
import type { JuteWriter } from '../../src/client/protocol/jute.js';
import type { Stat } from '../../src/client/protocol/records.js';

/** Encode a Stat the way the server does (68 bytes, wire order). */
export function writeStat(w: JuteWriter, stat: Stat): void {
  w.long(stat.czxid);
  w.long(stat.mzxid);
  w.long(stat.ctime);
  w.long(stat.mtime);
  w.int(stat.version);
  w.int(stat.cversion);
  w.int(stat.aversion);
  w.long(stat.ephemeralOwner);
  w.int(stat.dataLength);
  w.int(stat.numChildren);
  w.long(stat.pzxid);
}

/** A small seeded PRNG (mulberry32) so random tests reproduce from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
