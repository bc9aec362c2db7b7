import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  InvalidArgumentError,
  NoNodeError,
  SessionExpiredError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { isRetryable, remaining } from '../../client/retry.js';
import { startTimer } from '../../client/timer.js';
import type { GetDataResult } from '../../client/protocol/records.js';
import { TransactionError } from '../../client/transaction.js';
import { AlreadyAcquiredError, NotHeldError, RecipeMismatchError } from '../errors.js';
import { deadlineOf } from '../change-waiter.js';
import { Lock } from '../lock/lock.js';

/** Options of `NonBlockingLease`: identifier and clock (`utcnow`). */
export interface NonBlockingLeaseOptions {
  /** Who holds the lease; the same identifier renews it. Default: `NonBlockingLease.defaultIdentifier`. */
  identifier?: string;
  /** The clock (kazoo's `utcnow`), for tests. Default: `() => new Date()`. */
  utcnow?: () => Date;
}

/** Per-call options of `obtain`: timeout and signal. */
export interface ObtainOptions {
  /** Give up waiting for another obtainer's critical section after this many ms: resolves `false`. */
  timeout?: number;
  /** Abort while waiting: rejects with `AbortError`; the transient lock node is removed. */
  signal?: AbortSignal;
}

/** The stored lease, as both kazoo and we read it. */
export interface LeaseData {
  version: number;
  holder: string;
  /** `YYYY-MM-DDTHH:MM:SS`, UTC without zone. */
  end: string;
}

/** The storage format this class reads and writes (kazoo's `_version`). */
export const LEASE_VERSION = 1;
const HOLDER_NODE = 'lease_holder';
const DEFAULT_IDENTIFIER = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

/** A JSON string literal exactly as Python's `json.dumps` (ensure_ascii) writes it. */
function pythonJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c >= 0x20 && c <= 0x7e) out += text[i];
    else out += '\\u' + c.toString(16).padStart(4, '0'); // UTF-16 code units: surrogate pairs, like Python
  }
  return out + '"';
}

/** The lease node's bytes, identical to kazoo's `json.dumps({...}).encode('utf-8')`. */
export function encodeLease(holder: string, end: string, version = LEASE_VERSION): Buffer {
  return Buffer.from(
    `{"version": ${version}, "holder": ${pythonJsonString(holder)}, "end": ${pythonJsonString(end)}}`,
    'utf8',
  );
}

/** Parse a lease node's bytes. Throws `RecipeMismatchError` when they are not a lease kazoo could read. */
export function decodeLease(raw: Buffer, path?: string): LeaseData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new RecipeMismatchError('the lease node does not hold JSON', { op: 'obtain', path, cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('version' in parsed)) {
    throw new RecipeMismatchError('the lease node holds no JSON object with a "version"', {
      op: 'obtain',
      path,
    });
  }
  const { version, holder, end } = parsed as Record<string, unknown>;
  // Any other version (even a non-number) is a format we do not know: kazoo refuses the lease.
  if (version !== LEASE_VERSION)
    return {
      version: typeof version === 'number' ? version : NaN,
      holder: typeof holder === 'string' ? holder : '',
      end: typeof end === 'string' ? end : '',
    };
  if (typeof holder !== 'string' || typeof end !== 'string')
    throw new RecipeMismatchError('the lease node lacks "holder" or "end"', { op: 'obtain', path });
  parseLeaseEnd(end, path);
  return { version, holder, end };
}

/** `YYYY-MM-DDTHH:MM:SS` (UTC) → epoch ms; as lenient as Python's strptime about digit counts. */
export function parseLeaseEnd(end: string, path?: string): number {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(end);
  const [year, month, day, hour, minute, second] = (match ?? []).slice(1).map(Number) as number[];
  const ms = match ? Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) : NaN;
  const valid =
    match && new Date(ms).getUTCDate() === day && month! <= 12 && hour! < 24 && minute! < 60 && second! < 60;
  if (!valid)
    throw new RecipeMismatchError(`the lease end ${JSON.stringify(end)} is not YYYY-MM-DDTHH:MM:SS`, {
      op: 'obtain',
      path,
    });
  return ms;
}

/** Epoch ms → `YYYY-MM-DDTHH:MM:SS` (UTC, truncated to the second, like strftime). */
export function formatLeaseEnd(ms: number): string {
  const iso = new Date(ms).toISOString();
  if (!/^\d{4}-/.test(iso))
    throw new InvalidArgumentError(`the lease end ${iso} is outside years 0000-9999`, { op: 'obtain' });
  return iso.slice(0, 19);
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort(new NotHeldError({}, 'the lease is not held'));
  return controller;
}

/**
 * NonBlockingLease: a time-bounded, renewable, exclusive claim ("I run this job for the next
 * N minutes") that never waits for the lease itself: you get it now or you don't. Wire-compatible
 * with kazoo's `NonBlockingLease` — a kazoo process and this class honour each other's leases.
 * Relies on roughly synchronised clocks (UTC; clock skew between holders shifts the expiry).
 *
 * Znode layout (kazoo 2.8):
 * - `<path>`: persistent, empty; also a kazoo `Lock` directory — while deciding, an obtainer
 *   holds `Lock(<path>, identifier)`, so transient `<32hex>__lock__<seq>` nodes appear there.
 * - `<path>/lease_holder`: **persistent**, data = the JSON Python's `json.dumps` writes, byte for
 *   byte: `{"version": 1, "holder": "<identifier>", "end": "YYYY-MM-DDTHH:MM:SS"}` (keys in this
 *   order, `", "` and `": "` separators, non-ASCII as `\uXXXX`; `end` = now + duration in UTC,
 *   no zone suffix, seconds truncated).
 *
 * Algorithm (kazoo's): take the lock (waiting for another obtainer's short critical section —
 * the only wait there is); if `lease_holder` exists and its version is not 1 → refused (a newer
 * format owns it); if it names another holder and has not ended → refused; otherwise (free,
 * expired, or ours: renewal) replace it with a lease ending at now + duration; release the lock.
 * Renewal always resets the end, so it can shorten a lease. We replace the node with one
 * transaction (check our lock node, delete, create): atomic, where kazoo deletes then creates.
 *
 * Identity: holders are told apart by `identifier` only, and the same identifier renews. kazoo
 * defaults it to the host name, so two processes on one host both "hold" the lease (pitfall
 * P10). Our default is unique per process — `<hostname>-<pid>-<8 hex>`
 * (`NonBlockingLease.defaultIdentifier`) — so every lease object of one process renews the
 * process's lease and no other process shares it. Pass an explicit identifier to renew across
 * restarts, or to share a lease with a kazoo peer on purpose. An empty identifier means the
 * default (kazoo's `identifier or gethostname()`).
 *
 * SUSPENDED / LOST: the lease is data with an expiry, not tied to a session: losing the
 * connection or the session ends nothing. There is no release: a lease ends at `end`. During
 * `obtain()`, connection loss is retried (kazoo raises); a commit whose reply was lost is
 * recognised by re-reading the node. The transient lock node is removed on every path.
 *
 * @example
 *   const lease = await NonBlockingLease.obtain(zk, '/leases/hourly-cleanup', 70 * 60_000);
 *   if (lease.isHeld) await cleanUp(); // until lease.end
 */
export class NonBlockingLease {
  /** This process's default identifier: `<hostname>-<pid>-<8 hex>`, fixed for the process. */
  static readonly defaultIdentifier: string = DEFAULT_IDENTIFIER;

  readonly path: string;
  readonly durationMs: number;
  readonly identifier: string;
  /** `<path>/lease_holder`. */
  readonly holderPath: string;
  private readonly utcnow: () => Date;
  private obtainedLease = false;
  private seenHolder: string | undefined;
  private seenEnd: string | undefined;
  private obtaining = false;
  private token: bigint | undefined;
  private expiry = abortedController();

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    durationMs: number,
    options: NonBlockingLeaseOptions = {},
  ) {
    validatePath(path, 'NonBlockingLease');
    if (path === '/')
      throw new InvalidArgumentError('a NonBlockingLease cannot use the root node', {
        op: 'NonBlockingLease',
        path,
      });
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
      throw new InvalidArgumentError(`durationMs must be a non-negative number, got ${String(durationMs)}`, {
        op: 'NonBlockingLease',
        path,
      });
    }
    this.path = path;
    this.durationMs = durationMs;
    this.identifier = options.identifier || DEFAULT_IDENTIFIER;
    this.holderPath = joinPath(path, HOLDER_NODE);
    this.utcnow = options.utcnow ?? (() => new Date());
  }

  /** Construct and `obtain()` in one call (kazoo does the work in its constructor). */
  static async obtain(
    client: ZooKeeperClient,
    path: string,
    durationMs: number,
    options: NonBlockingLeaseOptions & ObtainOptions = {},
  ): Promise<NonBlockingLease> {
    const lease = new NonBlockingLease(client, path, durationMs, options);
    await lease.obtain(options);
    return lease;
  }

  /** The last `obtain()` got (or renewed) the lease (kazoo's `obtained` / truthiness). */
  get obtained(): boolean {
    return this.obtainedLease;
  }

  /** The last `obtain()` got the lease and, by our clock, it has not ended yet. */
  get isHeld(): boolean {
    return (
      this.obtainedLease &&
      this.seenEnd !== undefined &&
      this.utcnow().getTime() < parseLeaseEnd(this.seenEnd)
    );
  }

  /** The holder seen by the last `obtain()`: ours when obtained, else whoever holds it (undefined when unknown). */
  get holder(): string | undefined {
    return this.seenHolder;
  }

  /** When the lease seen by the last `obtain()` ends (undefined when unknown). */
  get end(): Date | undefined {
    return this.seenEnd === undefined ? undefined : new Date(parseLeaseEnd(this.seenEnd));
  }

  /**
   * Try to get, or renew, the lease now. Resolves `true` when it is ours until `end`, `false`
   * when someone else holds an unexpired lease (or one in a newer format), or `timeout` passed
   * while another obtainer held the lock. Rejects with `AbortError` when `signal` aborts, with
   * `RecipeMismatchError` when `lease_holder` is not a lease, and with `AlreadyAcquiredError`
   * when an `obtain()` of this object is still running.
   */
  async obtain(options: ObtainOptions = {}): Promise<boolean> {
    if (this.obtaining)
      throw new AlreadyAcquiredError(
        { op: 'obtain', path: this.path },
        'obtain() is already running on this lease object',
      );
    const { signal, timeout } = options;
    if (signal?.aborted) throw new AbortError(signal.reason, { op: 'obtain', path: this.path });
    const deadline = deadlineOf(timeout, { op: 'obtain', path: this.path });
    this.obtaining = true;
    this.obtainedLease = false;
    try {
      for (;;) {
        const left = remaining(deadline);
        if (left !== undefined && left <= 0) return false;
        const lock = new Lock(this.client, this.path, { identifier: this.identifier });
        // The Lock creates <path> (persistent, empty) like kazoo's ensure_path.
        if (!(await lock.acquire({ timeout: left, signal }))) return false;
        try {
          const decided = await this.decide(lock, signal);
          if (decided !== undefined) {
            this.obtainedLease = decided;
            return decided;
          }
        } finally {
          await lock.release();
        }
      }
    } finally {
      this.obtaining = false;
    }
  }

  /** With the lock held: read, decide, write. `undefined` when the lock was lost (start over). */
  private async decide(lock: Lock, signal: AbortSignal | undefined): Promise<boolean | undefined> {
    let written: { data: Buffer; end: string } | undefined;
    for (;;) {
      if (!lock.isAcquired) return undefined;
      try {
        const now = this.utcnow().getTime();
        let current: GetDataResult | undefined;
        try {
          current = await this.client.get(this.holderPath, { signal });
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
        if (current && written?.data.equals(current.data))
          return this.accept(written.end, current.stat.czxid); // our commit applied; its reply was lost
        const transaction = lock.transaction();
        if (current) {
          const lease = decodeLease(current.data, this.holderPath);
          if (lease.version !== LEASE_VERSION) return this.refuse(lease);
          if (lease.holder !== this.identifier && now < parseLeaseEnd(lease.end, this.holderPath))
            return this.refuse(lease);
          transaction.delete(this.holderPath, { version: current.stat.version });
        }
        const end = formatLeaseEnd(now + this.durationMs);
        written = { data: encodeLease(this.identifier, end), end };
        // Not abortable: once sent, its outcome would be unknown.
        await transaction.create(this.holderPath, written.data).commit();
        // A create inside a multi answers with its path only, no Stat: read the czxid for the fencing token.
        const stat = await this.client.exists(this.holderPath).catch(() => null);
        return this.accept(end, stat?.czxid);
      } catch (error) {
        if (isRetryable(error) || error instanceof TimeoutError) continue; // look again
        // NotHeldError: lock.transaction() after LOST took our lock node.
        if (error instanceof SessionExpiredError || error instanceof NotHeldError) return undefined;
        if (error instanceof TransactionError) {
          if (error.failedIndex === 0) return undefined; // our lock node is gone
          continue; // the node changed under us (a writer that ignores the lock): look again
        }
        throw error;
      }
    }
  }

  private accept(end: string, token: bigint | undefined): true {
    this.seenHolder = this.identifier;
    this.seenEnd = end;
    this.token = token;
    // The lease is ours until `end` (by our clock); the signal says when to stop relying on it.
    this.expiry.abort(new NotHeldError({ path: this.path }, 'the lease was renewed'));
    this.expiry = new AbortController();
    const expiry = this.expiry;
    startTimer(
      Math.max(0, parseLeaseEnd(end) - this.utcnow().getTime()),
      () => expiry.abort(new NotHeldError({ path: this.path }, 'the lease ended')),
      { unref: true },
    );
    return true;
  }

  /**
   * Aborts when the lease obtained last ends (by our clock), or is renewed (take the new
   * `signal`), or another `obtain()` found it held by someone else. Already aborted when not held.
   */
  get signal(): AbortSignal {
    return this.expiry.signal;
  }

  /** Grows with every new lease on this path (the lease node's czxid): pass it downstream. */
  get fencingToken(): bigint | undefined {
    return this.obtainedLease ? this.token : undefined;
  }

  private refuse(lease: LeaseData): false {
    this.expiry.abort(new NotHeldError({ path: this.path }, `the lease is held by ${lease.holder}`));
    this.seenHolder = lease.holder;
    this.seenEnd = lease.version === LEASE_VERSION ? lease.end : undefined;
    return false;
  }
}
