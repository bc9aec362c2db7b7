/**
 * One conditional write of a node's data whose outcome is always proven (DESIGN.md "Recipes",
 * `attempt-marker.ts`): set at an expected version, or create when the node is expected absent.
 * Used by SharedValue/SharedCount and DistributedAtomicLong, whose Curator counterparts write the
 * same way (`setData().withVersion(v)`, or `create()` of a missing node) but retry a lost reply
 * blindly, and by Counter (kazoo's `Counter` re-reads and adds again after a lost reply). Not
 * exported from the package.
 *
 * Each attempt is one transaction: the write plus `create(<path>/__write_op__<32hex>, ephemeral)`,
 * so the marker exists iff the attempt applied (Curator never looks at these nodes' children).
 * After a lost reply the node is read and **then** the markers checked (pipelined, answered in
 * that order): a marker → applied; no marker and the node still as expected → not applied yet,
 * tried again (at most one of the attempts can apply: they share the precondition); no marker and
 * the node moved on → not applied if every uncertain attempt was sent in this session (its
 * marker would be visible), else `OutcomeUnknownError` (the marker went with its session).
 *
 * Without markers (`markers: false`, Counter's kazoo footprint: no children) the write is a plain
 * one and a lost reply is settled by the node's version and data alone: still at the expected
 * version → retried; one version on holding other data → someone else's write, so ours cannot
 * apply any more (precondition failed); anything else (our data one version on, or further) →
 * `OutcomeUnknownError`.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  BadVersionError,
  ClientClosedError,
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  TimeoutError,
} from '../../client/errors.js';
import { parentPath } from '../../client/paths.js';
import type { Stat } from '../../client/protocol/records.js';
import { pause, retriesWithinDeadline } from '../../client/retry.js';
import { TransactionError } from '../../client/transaction.js';
import { markerPath, removeMarker } from '../attempt-marker.js';
import { requestLimits, type WaitLimits } from '../change-waiter.js';
import { OutcomeUnknownError } from '../errors.js';

/** Prefix of the per-attempt marker children. */
const WRITE_MARKER_PREFIX = '__write_op__';

/** The version a write expects: the node's current `version`, or `ABSENT` to create it. */
export const ABSENT = -1;

/** What an applied write left: the node's new version and the zxid that wrote it. */
export interface Written {
  version: number;
  mzxid: bigint;
}

interface Attempt {
  marker: string;
  session: bigint;
}

/** How `provenWrite` proves an attempt. */
export interface ProvenWriteOptions {
  /** Prefix of the marker children (default `__write_op__`). */
  markerPrefix?: string;
  /** Prove by marker children (default true); false settles a set by version and data (see the module doc). */
  markers?: boolean;
}

/**
 * Write `data` to `path` if its version is still `expected` (or create it, parents too, if
 * `expected` is `ABSENT`). Resolves with what the write left, or undefined when the precondition
 * failed (someone else wrote first). Connection loss is retried within `limits`; an attempt
 * whose outcome cannot be proven rejects with `OutcomeUnknownError`.
 */
export async function provenWrite(
  client: ZooKeeperClient,
  path: string,
  expected: number,
  data: Buffer,
  limits: WaitLimits,
  op: string,
  options: ProvenWriteOptions = {},
): Promise<Written | undefined> {
  const markers = options.markers ?? true;
  if (!markers && expected === ABSENT)
    throw new InvalidArgumentError('a create is proven by markers only', { op, path });
  const prefix = options.markerPrefix ?? WRITE_MARKER_PREFIX;
  const uncertain: Attempt[] = [];
  const unknown = (cause: unknown) => new OutcomeUnknownError({ op, path, cause });
  for (;;) {
    if (limits.signal?.aborted) {
      const aborted = new AbortError(limits.signal.reason, { op, path });
      throw uncertain.length > 0 ? unknown(aborted) : aborted;
    }
    if (uncertain.length > 0) {
      let settled: Written | 'retry' | 'lost' | undefined;
      try {
        settled = markers
          ? await settle(client, path, expected, uncertain, limits)
          : await settleByData(client, path, expected, data, uncertain, limits);
      } catch (error) {
        if (retriesWithinDeadline(error, limits.deadline)) {
          await pause(limits.deadline, limits.signal).catch((e: unknown) => {
            throw unknown(e);
          });
          continue;
        }
        throw unknown(error);
      }
      if (settled === 'lost') throw unknown(undefined);
      if (settled !== 'retry') return settled;
    }
    const attempt: Attempt = { marker: markerPath(path, prefix), session: client.sessionId };
    try {
      if (!markers) return await write(client, path, expected, data, limits);
      const transaction = client.transaction();
      if (expected === ABSENT) transaction.create(path, data);
      else transaction.set(path, data, { version: expected });
      const results = await transaction
        .create(attempt.marker, null, { ephemeral: true })
        .commit(requestLimits(limits));
      removeMarker(client, attempt.marker);
      for (const attempt of uncertain) removeMarker(client, attempt.marker);
      const result = results[0];
      if (result?.type === 'set') return { version: result.stat.version, mzxid: result.stat.mzxid };
      // A create in a multi returns no Stat: read it (the marker's czxid is the same zxid).
      const stat = await client.exists(path, requestLimits(limits)).catch(() => null);
      return { version: 0, mzxid: stat?.czxid ?? 0n };
    } catch (error) {
      const failure = error instanceof TransactionError ? error.error : error;
      if (failure instanceof BadVersionError || failure instanceof NodeExistsError) {
        if (uncertain.length === 0) return undefined;
        continue; // an earlier attempt may be what moved the node: settle it
      }
      if (failure instanceof NoNodeError) {
        if (expected !== ABSENT) {
          if (uncertain.length === 0) return undefined; // deleted meanwhile: precondition failed
          continue;
        }
        await client.ensurePath(parentPath(path), requestLimits(limits)).catch(() => {});
        continue;
      }
      // Never sent (it waited for a connection the session did not survive): not applied.
      if (error instanceof SessionExpiredError) continue;
      if (error instanceof ClientClosedError) throw uncertain.length > 0 ? unknown(error) : error;
      if (retriesWithinDeadline(error, limits.deadline)) {
        uncertain.push(attempt);
        continue;
      }
      if (error instanceof TimeoutError || error instanceof AbortError) throw unknown(error);
      throw error;
    }
  }
}

/** One plain versioned set (no marker): what it left. */
async function write(
  client: ZooKeeperClient,
  path: string,
  expected: number,
  data: Buffer,
  limits: WaitLimits,
): Promise<Written> {
  const stat = await client.set(path, data, { version: expected, ...requestLimits(limits) });
  return { version: stat.version, mzxid: stat.mzxid };
}

/** `settle` without markers: by the node's version and data (see the module doc). */
async function settleByData(
  client: ZooKeeperClient,
  path: string,
  expected: number,
  data: Buffer,
  uncertain: Attempt[],
  limits: WaitLimits,
): Promise<'retry' | 'lost' | undefined> {
  const node = await client.get(path, requestLimits(limits)).catch((error: unknown) => {
    if (error instanceof NoNodeError) return undefined;
    throw error;
  });
  const version = node?.stat.version ?? ABSENT;
  if (version === expected) return 'retry';
  if (node !== undefined && version === expected + 1 && !node.data.equals(data)) {
    uncertain.length = 0;
    return undefined;
  }
  return 'lost';
}

/** Decide the uncertain attempts: one applied (what it wrote), none can apply now (undefined), 'retry', or 'lost'. */
async function settle(
  client: ZooKeeperClient,
  path: string,
  expected: number,
  uncertain: Attempt[],
  limits: WaitLimits,
): Promise<Written | 'retry' | 'lost' | undefined> {
  const request = requestLimits(limits);
  // The node first, then the markers: the server answers them in this order.
  const reading = client.exists(path, request);
  const checks = uncertain.map((attempt) => client.exists(attempt.marker, request));
  reading.catch(() => {});
  for (const check of checks) check.catch(() => {});
  const stat: Stat | null = await reading;
  const markers = await Promise.all(checks);
  const session = client.sessionId;
  const applied = markers.findIndex((marker) => marker !== null);
  if (applied !== -1) {
    for (const attempt of uncertain) removeMarker(client, attempt.marker);
    return { version: expected === ABSENT ? 0 : expected + 1, mzxid: markers[applied]!.czxid };
  }
  const unchanged = expected === ABSENT ? stat === null : stat !== null && stat.version === expected;
  if (unchanged) return 'retry';
  if (uncertain.some((attempt) => attempt.session !== session)) return 'lost';
  uncertain.length = 0;
  return undefined;
}
