import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError, NodeExistsError, NoNodeError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import type { Stat } from '../../client/protocol/records.js';
import { RecipeMismatchError } from '../errors.js';
import { checkInt32, decodeInt32, encodeInt32 } from '../values/curator-codec.js';
import { withinDeadline } from '../../client/retry.js';
import { provenWrite } from '../values/proven-write.js';
import { deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';

/** How a Counter stores its value: an integer, a float (kazoo's repr) or Curator's 8-byte long. */
export type CounterType = 'int' | 'float';

/** Options of `new Counter(...)`: the default value, the value type and Curator's encoding. */
export interface CounterOptions {
  /** The value of a counter whose node is empty (new). Default 0. */
  default?: number;
  /** `'int'` (safe integers) or `'float'`. Default: `'int'` unless `default` is fractional. */
  type?: CounterType;
  /**
   * Curator `SharedCount` encoding: 4-byte big-endian int32 (int counters only); the node is
   * created holding `default` (Curator's seed), so a `SharedCount` can read it at once.
   */
  curator?: boolean;
  /** Prove exactly-once with per-attempt marker nodes (default true); see the module doc. */
  markers?: boolean;
}

/** Per-call options of a Counter's calls: timeout and signal. */
export interface CounterCallOptions {
  /** Give up after this many ms: `TimeoutError`, or `OutcomeUnknownError` if an attempt is uncertain. */
  timeout?: number;
  signal?: AbortSignal;
}

/** The values before and after one update. */
export interface CounterChange {
  pre: number;
  post: number;
}

/** Prefix of the per-attempt marker children (see the module doc). */
export const COUNTER_MARKER_PREFIX = '__counter_op__';

/**
 * Counter: a shared number updated with optimistic concurrency, wire-compatible with kazoo's
 * `Counter` (and, with `curator: true`, with Curator's `SharedCount`).
 *
 * Znode layout and encoding (kazoo 2.8): `<path>` persistent, created empty (empty data reads
 * as `default`); with `curator: true` created holding the encoded `default`, as Curator's
 * `SharedCount` seeds it (Curator cannot read an empty node). Data is ASCII of Python's `repr(value)`: an `'int'` counter writes plain decimal
 * digits (`5`, `-1`; kazoo's int counters reject `3.0`), a `'float'` counter writes Python's
 * shortest round-trip spelling (`3.0`, `2.1`, `1e+16`, `1.0000000000000002e+16`, `1e-05`, `inf`,
 * `nan`). Reading accepts whatever Python's `int()`/`float()` accept. With `curator: true` the
 * data is a 4-byte big-endian signed int32 (out-of-range results throw `InvalidArgumentError` before
 * anything is written).
 *
 * Exactly-once updates (kazoo applies a change twice when the reply of its `set` is lost: it
 * re-reads the already-updated value and adds again), through the recipes' one proven versioned
 * write (`values/proven-write.ts`, also SharedValue's). Each attempt is one transaction:
 * `set(<path>, new, version = v)` + `create(<path>/__counter_op__<32hex>, ephemeral)` — the
 * marker is unique per attempt, exists iff the attempt was applied, and is deleted right after
 * (kazoo and Curator never look at the counter's children). When a reply is lost
 * (`ConnectionLossError`, or a request timeout) the attempt becomes *uncertain*, and the next
 * round first reads the counter and **then** (pipelined, so the server handles them in that
 * order) checks the markers of the uncertain attempts:
 * 1. a marker exists → that attempt was applied: done (its pre/post are the result);
 * 2. no marker, counter version ≠ the attempt's `v` → it was not applied before the read (in
 *    its own session its marker would be visible) and can never apply later (versions only
 *    grow, and it requires `v`): forget it;
 * 3. no marker, version = `v` → not applied yet; it may still be in flight, but the next
 *    attempt uses the same `v`, so at most one of the two can apply, and if the old one wins
 *    the next round finds its marker.
 * So every attempt is either proven applied (once: all attempts of one call are mutually
 * exclusive by version or detected by marker) or proven dead. This needs no assumption on
 * request ordering across reconnects. **Where it cannot be proven:** the marker is ephemeral, so
 * when the session ends while an attempt is uncertain and the version has moved past its `v`,
 * the attempt may have been applied before the session ended: the call rejects with
 * `OutcomeUnknownError` instead of guessing. The same error reports an uncertain attempt
 * abandoned by `timeout`/`signal`. (Also outside the proof: someone deleting and re-creating the
 * counter node, which restarts its version.)
 *
 * `markers: false` keeps the counter node childless (exactly kazoo's footprint) and decides by
 * version and value only: after a lost reply, version = `v` → retried under the same `v` as
 * above; version = `v + 1` with data ≠ our new value → someone else's write: not ours, retried;
 * anything else (our value at `v + 1`, or the version moved further) → `OutcomeUnknownError`.
 *
 * SUSPENDED: updates wait for the reconnect and resolve the uncertainty as above. LOST: no
 * ephemeral state besides markers; updates continue in the new session.
 *
 * @example
 *   const hits = new Counter(zk, '/stats/hits');            // int, default 0
 *   const { pre, post } = await hits.add(1);
 *   const ratio = new Counter(zk, '/stats/ratio', { type: 'float' });
 *   await ratio.subtract(0.5);
 *   console.log(await ratio.value);                        // e.g. -0.5
 */
export class Counter {
  readonly path: string;
  readonly type: CounterType;
  readonly curator: boolean;
  readonly default: number;
  readonly markers: boolean;
  /** Value before the last successful change (kazoo's `pre_value`); undefined before the first. */
  preValue: number | undefined;
  /** Value after the last successful change (kazoo's `post_value`); reset on a version conflict. */
  postValue: number | undefined;
  private pathEnsured = false;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: CounterOptions = {},
  ) {
    validatePath(path, 'Counter');
    this.path = path;
    const fallback = options.default ?? 0;
    if (typeof fallback !== 'number')
      throw new InvalidArgumentError('default must be a number', { op: 'Counter', path });
    this.type = options.type ?? (Number.isInteger(fallback) ? 'int' : 'float');
    if (this.type !== 'int' && this.type !== 'float')
      throw new InvalidArgumentError(`type must be 'int' or 'float', got ${String(this.type)}`, {
        op: 'Counter',
        path,
      });
    this.curator = options.curator ?? false;
    if (this.type === 'int' && !Number.isSafeInteger(fallback)) {
      throw new InvalidArgumentError(
        `the default of an int counter must be a safe integer, got ${fallback}`,
        { op: 'Counter', path },
      );
    }
    if (this.curator && this.type !== 'int') {
      throw new InvalidArgumentError('with curator: true the counter must be an int counter', {
        op: 'Counter',
        path,
      });
    }
    if (this.curator) checkInt32(fallback);
    this.default = fallback;
    this.markers = options.markers ?? true;
  }

  /** The current value, read from ZooKeeper (kazoo's `value` property). Same as `get()`. */
  get value(): Promise<number> {
    return this.get();
  }

  /** Read the current value (the node is created on first use: empty as kazoo does, or seeded in curator mode). */
  async get(options: CounterCallOptions = {}): Promise<number> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    const { data } = await this.read(limits);
    return this.decode(data);
  }

  /** Add `delta` exactly once; resolves with the values before and after. */
  add(delta: number, options: CounterCallOptions = {}): Promise<CounterChange> {
    this.checkDelta(delta);
    return this.change(delta, options);
  }

  /** Subtract `delta` exactly once; resolves with the values before and after. */
  subtract(delta: number, options: CounterCallOptions = {}): Promise<CounterChange> {
    this.checkDelta(delta);
    return this.change(-delta, options);
  }

  private checkDelta(delta: unknown): asserts delta is number {
    const ok = typeof delta === 'number' && (this.type === 'float' || Number.isSafeInteger(delta));
    if (!ok)
      throw new InvalidArgumentError(
        `invalid type for value change: expected ${this.type === 'int' ? 'a safe integer' : 'a number'}, got ${String(delta)}`,
        { op: 'add', path: this.path },
      );
  }

  private async ensure(limits: WaitLimits): Promise<void> {
    if (this.pathEnsured) return;
    await withinDeadline(() => this.createNode(requestLimits(limits)), limits);
    this.pathEnsured = true;
  }

  /**
   * kazoo creates the node empty (empty data reads as `default`). Curator's `SharedValue.start()`
   * creates it with the seed (`create().creatingParentContainersIfNeeded().forPath(path, seed)`,
   * NodeExists ignored), and `SharedCount` cannot read empty data (`BufferUnderflowException`):
   * in curator mode the node is created holding the encoded `default`.
   */
  private async createNode(request: { timeout?: number; signal?: AbortSignal }): Promise<void> {
    if (!this.curator) return this.client.ensurePath(this.path, request);
    try {
      await this.client.create(this.path, this.encode(this.default), { ...request, makePath: true });
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  private async read(limits: WaitLimits): Promise<{ data: Buffer; stat: Stat }> {
    for (;;) {
      await this.ensure(limits);
      try {
        return await withinDeadline(() => this.client.get(this.path, requestLimits(limits)), limits);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        this.pathEnsured = false; // deleted meanwhile: create it again
      }
    }
  }

  private async change(delta: number, options: CounterCallOptions): Promise<CounterChange> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    const proof = { markers: this.markers, markerPrefix: COUNTER_MARKER_PREFIX };
    for (;;) {
      const { data, stat } = await this.read(limits);
      const pre = this.decode(data);
      const post = pre + delta;
      // Proven exactly once at this version (see this file's header); undefined: someone else wrote first.
      const written = await provenWrite(
        this.client,
        this.path,
        stat.version,
        this.encode(post),
        limits,
        'add',
        proof,
      );
      if (written) {
        this.preValue = pre;
        this.postValue = post;
        return { pre, post };
      }
      this.postValue = undefined; // kazoo resets post_value on a conflict
    }
  }

  /** The counter's data for `value` (kazoo `repr` text or Curator int32). */
  encode(value: number): Buffer {
    return encodeCounterValue(value, this.type, this.curator);
  }

  /** The value stored as `data` (empty → `default`). */
  decode(data: Buffer): number {
    return decodeCounterValue(data, this.type, this.curator, this.default, this.path);
  }
}

/** Encode a counter value exactly as kazoo 2.8 does (or as Curator's SharedCount with `curator`). */
export function encodeCounterValue(value: number, type: CounterType, curator = false): Buffer {
  if (curator) return encodeInt32(value);
  if (type === 'int') {
    if (!Number.isSafeInteger(value))
      throw new InvalidArgumentError(`an int counter holds safe integers; ${value} is out of range`);
    return Buffer.from(String(value), 'ascii'); // plain digits: |value| < 2^53 never uses an exponent
  }
  return Buffer.from(pythonFloatRepr(value), 'ascii');
}

/** Decode counter data written by kazoo, Curator or us; empty data is `fallback`. */
export function decodeCounterValue(
  data: Buffer,
  type: CounterType,
  curator: boolean,
  fallback: number,
  path?: string,
): number {
  if (data.length === 0) return fallback;
  if (curator) return decodeInt32(data, path);
  const text = data.toString('latin1');
  const value = type === 'int' ? parsePythonInt(text) : parsePythonFloat(text);
  if (value === undefined)
    throw new RecipeMismatchError(
      `counter data ${JSON.stringify(text)} is not ${type === 'int' ? 'an int' : 'a float'} (as Python's ${type}() reads it)`,
      { op: 'Counter', path },
    );
  return value;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent when the point is < -4 or > 16 places away. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without digits gives the shortest digits that round-trip, like repr.
  const [mantissa, exponentText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const point = exponent + 1; // x = 0.<digits> × 10^point
  if (point <= -4 || point > 16) {
    const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const PY_INT = /^[+-]?\d+(?:_\d+)*$/;
const PY_FLOAT = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;

/** Python's `int(text)` for decimal text (surrounding whitespace and `_` separators allowed); undefined if invalid. */
export function parsePythonInt(text: string): number | undefined {
  const trimmed = text.trim();
  if (!PY_INT.test(trimmed)) return undefined;
  const value = Number(trimmed.replaceAll('_', ''));
  if (!Number.isSafeInteger(value))
    throw new RecipeMismatchError(`counter value ${trimmed} is outside the safe integer range`);
  return value;
}

/** Python's `float(text)`: decimal/exponent forms plus `inf`, `infinity`, `nan` (any case, signed). */
export function parsePythonFloat(text: string): number | undefined {
  const trimmed = text.trim();
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(trimmed);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!PY_FLOAT.test(trimmed)) return undefined;
  return Number(trimmed.replaceAll('_', ''));
}
