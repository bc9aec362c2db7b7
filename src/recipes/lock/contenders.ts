/**
 * Contender naming and ordering, exactly as kazoo does it (kazoo/recipe/lock.py, `Lock._get_sorted_children`): a child
 * is a contender when its name matches `(?:NAME1|NAME2…)(-?\d{10})$`, and contenders are ordered
 * by that captured suffix compared as a *string*. Numeric order would disagree with kazoo after
 * the sequence counter wraps negative and could give two processes the same lock.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { NoNodeError } from '../../client/errors.js';
import { childrenData } from '../child-data.js';

/** Node-name markers: kazoo's writer and reader markers, and Curator's `-lock-`. */
export const LOCK_NAME = '__lock__';
export const READ_LOCK_NAME = '__rlock__';
export const CURATOR_LOCK_NAME = '-lock-';
/** Curator's InterProcessReadWriteLock markers (`READ_LOCK_NAME` / `WRITE_LOCK_NAME` there). */
export const CURATOR_READ_NAME = '__READ__';
export const CURATOR_WRITE_NAME = '__WRIT__';
/** Curator's LeaderLatch candidates: `_c_<uuid>-latch-<seq>`. */
export const CURATOR_LATCH_NAME = '-latch-';

/** The markers of Curator's sequential recipes (mutex, read-write lock, leader latch). */
export const CURATOR_MARKERS: readonly string[] = [
  CURATOR_LOCK_NAME,
  CURATOR_READ_NAME,
  CURATOR_WRITE_NAME,
  CURATOR_LATCH_NAME,
];
/** Every marker either library puts on a sequential recipe node. */
export const ALL_MARKERS: readonly string[] = [LOCK_NAME, READ_LOCK_NAME, ...CURATOR_MARKERS];

/**
 * The nodes of another recipe's layout that a lock kind must not share a path with: markers it
 * does not honour, of `candidates`. Undefined when there are none.
 */
export function foreignPattern(
  candidates: readonly string[],
  honoured: readonly string[],
): RegExp | undefined {
  const foreign = candidates.filter((marker) => !honoured.includes(marker));
  return foreign.length === 0 ? undefined : contenderPattern(foreign);
}

export interface Contender {
  /** The child's name (no path). */
  name: string;
  /** The captured sequence suffix, e.g. `0000000042` or `-2147483648`. */
  sequence: string;
}

/** kazoo inserts the names unescaped into the regex; so do we, to recognise exactly the same nodes. */
export function contenderPattern(names: readonly string[]): RegExp {
  return new RegExp(`(?:${names.join('|')})(-?\\d{10})$`);
}

/** The children matching `pattern`, ordered by their sequence string (kazoo's order). */
export function sortedContenders(children: readonly string[], pattern: RegExp): Contender[] {
  const contenders: Contender[] = [];
  for (const name of children) {
    const match = pattern.exec(name);
    if (match) contenders.push({ name, sequence: match[1]! });
  }
  return contenders.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
}

const KNOWN_MARKERS = contenderPattern(ALL_MARKERS);

/**
 * The sequence suffix of one of our nodes, read the way the contender regex reads it: after
 * Curator's `-lock-` the `-` belongs to the marker, not to the number.
 */
export function sequenceOf(node: string): string {
  const match = KNOWN_MARKERS.exec(node) ?? /(-?\d{10})$/.exec(node);
  if (!match) throw new Error(`not a sequential node name: ${node}`);
  return match[1]!;
}

/**
 * The contenders ahead of `ownSequence` that block it, nearest last. With `maxHolders` > 1
 * (several concurrent holders on one layout), a node holds while fewer than that are ahead.
 */
export function blockersAhead(
  children: readonly string[],
  blocking: RegExp,
  ownSequence: string,
): Contender[] {
  return sortedContenders(children, blocking).filter((contender) => contender.sequence < ownSequence);
}

/**
 * The data of every contender of `path` matching `pattern`, in kazoo's order (kazoo's
 * `Lock.contenders()`, Curator's `getParticipantNodes`); a missing `path` has none.
 */
export async function contenderData(
  client: ZooKeeperClient,
  path: string,
  pattern: RegExp,
): Promise<string[]> {
  const children = await client.getChildren(path).catch((error: unknown) => {
    if (error instanceof NoNodeError) return [];
    throw error;
  });
  const names = sortedContenders(children, pattern).map(({ name }) => name);
  return childrenData(client, path, names);
}
