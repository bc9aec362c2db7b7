/**
 * The benchmark harness shared by the per-library client programs (`ours.ts`,
 * `node-zookeeper-client.ts`, `zookeeper-native.ts`): command line, timing, CPU sampling,
 * nearest-rank percentiles, the pipelined window, the JSON records and the workloads
 * themselves (defined only here: `WORKLOADS`, run by `runBenchmark`), written once against the
 * small `BenchClient` adapter each program provides for its library.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// ---- the adapter a client program implements ----

/** A connected session of the library under test. Every method maps to one library call. */
export interface BenchSession<R = unknown> {
  /** getData(path, no watch), resolving with whatever the library returns. */
  get(path: string): Promise<R>;
  /** The data bytes of a `get` result. */
  dataOf(result: R): Uint8Array | null;
  /**
   * getData(path) leaving a one-shot data watch. The library's watch callback must call
   * `listener(performance.now(), typeName)` as its first statement; `typeName` is the event type
   * as ZooKeeper names it (`NodeDataChanged`, ..., see `eventTypeName`).
   */
  getWatched(path: string, listener: WatchCallback): Promise<R>;
  set(path: string, data: Buffer, version: number): Promise<unknown>;
  /** Create with OPEN_ACL_UNSAFE; resolves with the created path. */
  create(path: string, data: Buffer, mode: CreateKind): Promise<string>;
  remove(path: string, version: number): Promise<unknown>;
  children(path: string): Promise<string[]>;
  /** Close and wait for the library's own notion of "closed". */
  close(): Promise<void>;
}

export type CreateKind = 'persistent' | 'ephemeral-sequential';
export type WatchCallback = (t1: number, type: string) => void;

/** A mutex recipe instance: `acquire()` blocks until held. */
export interface BenchLock {
  acquire(): Promise<unknown>;
  release(): Promise<unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each library has its own result type
export type AnySession = BenchSession<any>;

export interface BenchClient<S extends AnySession = AnySession> {
  /** The `client` field of the records, e.g. `node-zookeeper-client`. */
  name: string;
  version: string;
  runtime: string;
  /** Set when the library cannot be loaded: every workload is then a `skip` with this note. */
  unavailable?: string;
  /** Construct a client for the connect string (requested session timeout 10000 ms), start it, await connected. */
  open(connect: string): Promise<S>;
  /** The library's standard mutex on `path`; absent when it has none (the lock workloads then skip). */
  lock?: (session: S, path: string) => BenchLock;
  /** The `note` of the lock workloads' records (which recipe ran, or why they skip). */
  lockNote?: string;
  isNodeExists(error: unknown): boolean;
  isNoNode(error: unknown): boolean;
}

// ---- the workloads' constants ----

export const WORKLOADS = [
  'seq_get',
  'seq_set',
  'pipelined_get',
  'pipelined_create_delete',
  'lock_uncontended',
  'lock_contended',
  'watch_latency',
  'connect',
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const SESSION_TIMEOUT_MS = 10_000;
export const WINDOW = 1000;
export const PAYLOAD = Buffer.alloc(100, 0x78);
export const EMPTY = Buffer.alloc(0);
const CONTENDERS = 8;
/** A safety net for a benchmark step that would otherwise hang (a lost watch, a dead server). */
const STEP_TIMEOUT_MS = 60_000;

/** ZooKeeper's watcher event types by wire number. */
const EVENT_TYPES: Record<number, string> = {
  [-2]: 'NotWatching',
  [-1]: 'None',
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
};

export function eventTypeName(type: number): string {
  return EVENT_TYPES[type] ?? `type ${type}`;
}

// ---- command line ----

export interface BenchArgs {
  connect: string;
  workloads: WorkloadName[];
  scale: number;
  warmup: boolean;
  /** Non-standard: peers without a lock recipe run the bench's kazoo-style recipe instead of skipping. */
  emulatedLock: boolean;
}

export class UsageError extends Error {}

/** Parse `--flag value` / `--flag=value` / boolean `--flag` arguments against the allowed names. */
export function parseFlags(
  argv: readonly string[],
  valued: readonly string[],
  booleans: readonly string[],
): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (booleans.includes(name) && eq < 0) flags.set(name, true);
    else if (valued.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return flags;
}

/** The value of `--name` as a positive integer (`fallback` when absent). */
export function positiveFlag(flags: Map<string, string | true>, name: string, fallback: number): number {
  const value = flags.get(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${String(value)}`);
  return n;
}

export function parseScale(value: string | true | undefined): number {
  if (value === undefined) return 1;
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new UsageError(`--scale must be a positive number, got ${String(value)}`);
  return scale;
}

export function parseWorkloads(value: string | true | undefined): WorkloadName[] {
  if (value === undefined || value === 'all') return [...WORKLOADS];
  const wanted = String(value)
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of wanted) {
    if (!(WORKLOADS as readonly string[]).includes(name))
      throw new UsageError(`unknown workload ${name} (known: ${WORKLOADS.join(', ')})`);
  }
  // The subset runs in the normative order.
  return WORKLOADS.filter((name) => wanted.includes(name));
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const flags = parseFlags(argv, ['connect', 'workloads', 'scale'], ['no-warmup', 'emulated-lock']);
  const connect = flags.get('connect');
  return {
    connect: typeof connect === 'string' ? connect : '127.0.0.1:2300',
    workloads: parseWorkloads(flags.get('workloads')),
    scale: parseScale(flags.get('scale')),
    warmup: !flags.has('no-warmup'),
    emulatedLock: flags.has('emulated-lock'),
  };
}

/** `count × scale`, rounded, at least 1. */
export function scaled(count: number, scale: number): number {
  return Math.max(1, Math.round(count * scale));
}

// ---- measuring ----

export const now = (): number => performance.now();

/** Nearest-rank percentile of an ascending array: `sorted[ceil(q*n)-1]`. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of nothing');
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One timed section: wall clock (monotonic) and process CPU, sampled right before and after. */
export interface Measurement {
  seconds: number;
  cpuUserS: number;
  cpuSysS: number;
}

export class Stopwatch {
  private readonly cpu = process.cpuUsage();
  private readonly started = now();

  stop(): Measurement {
    const ended = now();
    const cpu = process.cpuUsage(this.cpu);
    return { seconds: (ended - this.started) / 1000, cpuUserS: cpu.user / 1e6, cpuSysS: cpu.system / 1e6 };
  }
}

/**
 * The pipelined window: `window` lanes, each awaiting one op at a time, so at most `window`
 * are outstanding; op `i` is issued when a lane frees up, until `n` have been issued. Latency
 * (issue -> completion, ms) goes to `latencies[offset + i]`. The first failure stops further
 * issues and is rethrown once every lane has finished.
 */
export async function pipelined(
  n: number,
  window: number,
  op: (i: number) => Promise<unknown>,
  latencies: Float64Array,
  offset = 0,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < n && failure === undefined) {
      const i = next++;
      const t0 = now();
      try {
        await op(i);
      } catch (error) {
        failure ??= { error };
        return;
      }
      latencies[offset + i] = now() - t0;
    }
  };
  const lanes: Promise<void>[] = [];
  for (let k = 0; k < Math.min(window, n); k++) lanes.push(lane());
  await Promise.all(lanes);
  if (failure) throw failure.error;
}

/** `n` sequential ops: issue, await, then the next. */
export async function sequential(
  n: number,
  op: (i: number) => Promise<unknown>,
  latencies: Float64Array,
): Promise<unknown> {
  let last: unknown;
  for (let i = 0; i < n; i++) {
    const t0 = now();
    last = await op(i);
    latencies[i] = now() - t0;
  }
  return last;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- records ----

export type Status = 'ok' | 'skip' | 'error';

export interface BenchRecord {
  client: string;
  workload: string;
  status: Status;
  ops?: number;
  seconds?: number;
  ops_per_s?: number;
  p50_ms?: number | null;
  p99_ms?: number | null;
  cpu_user_s?: number;
  cpu_sys_s?: number;
  cpu_s?: number;
  cpu_us_per_op?: number;
  note?: string;
  [extra: string]: unknown;
}

export const round = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The `ok` fields for `ops` ops measured by `m`, with latency percentiles when given. */
export function okFields(
  ops: number,
  m: Measurement,
  latencies: Float64Array | null,
): Omit<BenchRecord, 'client' | 'workload'> {
  let p50: number | null = null;
  let p99: number | null = null;
  if (latencies !== null && latencies.length > 0) {
    const sorted = Float64Array.from(latencies).sort();
    p50 = round(percentile(sorted, 0.5), 4);
    p99 = round(percentile(sorted, 0.99), 4);
  }
  const cpu = m.cpuUserS + m.cpuSysS;
  return {
    status: 'ok',
    ops,
    seconds: round(m.seconds, 6),
    ops_per_s: round(ops / m.seconds, 1),
    p50_ms: p50,
    p99_ms: p99,
    cpu_user_s: round(m.cpuUserS, 6),
    cpu_sys_s: round(m.cpuSysS, 6),
    cpu_s: round(cpu, 6),
    cpu_us_per_op: round((cpu * 1e6) / ops, 2),
  };
}

/** `ZKB_RUN_ID`, or the UTC time as `YYYYMMDD-HHMMSS`. */
export function runId(): string {
  const fromEnv = process.env.ZKB_RUN_ID;
  if (fromEnv) return fromEnv;
  const iso = new Date().toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

/** `2026-11-23T01:22:03+0000` */
export function timestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}+0000`;
}

/** Prints records as JSON lines with the common fields (version, runtime, connect, scale, run id, time). */
export class RecordWriter {
  private readonly runId = runId();
  constructor(
    private readonly common: {
      client: string;
      client_version: string;
      runtime: string;
      connect: string;
      scale: number;
    },
  ) {}

  write(record: Omit<BenchRecord, 'client'>): BenchRecord {
    const full = {
      client: this.common.client,
      ...record,
      client_version: this.common.client_version,
      runtime: this.common.runtime,
      connect: this.common.connect,
      scale: this.common.scale,
      run_id: this.runId,
      ts: timestamp(),
    } as unknown as BenchRecord;
    process.stdout.write(`${JSON.stringify(full)}\n`);
    return full;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The `version` of the package.json at `url` (or "unknown"). */
export function packageVersion(url: URL | string): string {
  try {
    return String((JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** Load a CommonJS peer library; `error` says why it could not be. */
export function loadPeer<T>(specifier: string): { module: T; version: string } | { error: string } {
  const require = createRequire(import.meta.url);
  try {
    const module = require(specifier) as T;
    let version = 'unknown';
    try {
      version = packageVersion(require.resolve(`${specifier}/package.json`));
    } catch {
      // an exports map may hide package.json
    }
    return { module, version };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

/** Adapt a Node-style callback call to a promise. */
export function fromCallback<T>(call: (done: (error: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

// ---- the kazoo-style recipe, for libraries that have none (opt-in, see --emulated-lock) ----

const LOCK_MARKER = '__lock__';

/**
 * kazoo 2.8's `Lock` on a library's primitives: ensure the lock path, create an
 * ephemeral-sequential `<uuid>__lock__` child, list the children, and while not first watch the
 * predecessor (getData with a watch; NoNode = gone) and re-check. Release deletes our node.
 */
export function kazooStyleLock(
  session: AnySession,
  client: Pick<BenchClient, 'isNodeExists' | 'isNoNode'>,
  path: string,
): BenchLock {
  const prefix = `${randomUUID().replaceAll('-', '')}${LOCK_MARKER}`;
  let ensured = false;
  let node: string | undefined;
  const sequence = (name: string) => Number(name.slice(name.lastIndexOf(LOCK_MARKER) + LOCK_MARKER.length));
  return {
    async acquire() {
      if (!ensured) {
        await ensurePath(session, client, path);
        ensured = true;
      }
      const created = await session.create(`${path}/${prefix}`, EMPTY, 'ephemeral-sequential');
      node = created.slice(created.lastIndexOf('/') + 1);
      const ours = sequence(node);
      for (;;) {
        const ahead = (await session.children(path))
          .filter((name) => name.includes(LOCK_MARKER) && sequence(name) < ours)
          .sort((a, b) => sequence(a) - sequence(b));
        if (ahead.length === 0) return true;
        let wake!: () => void;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        try {
          await session.getWatched(`${path}/${ahead[ahead.length - 1]!}`, () => wake());
        } catch (error) {
          if (!client.isNoNode(error)) throw error;
          continue;
        }
        await withTimeout(woken, STEP_TIMEOUT_MS, 'lock predecessor watch');
      }
    },
    async release() {
      if (node === undefined) return false;
      const name = node;
      node = undefined;
      await session.remove(`${path}/${name}`, -1);
      return true;
    },
  };
}

async function createIfMissing(
  session: AnySession,
  client: Pick<BenchClient, 'isNodeExists'>,
  path: string,
  data: Buffer,
): Promise<void> {
  try {
    await session.create(path, data, 'persistent');
  } catch (error) {
    if (!client.isNodeExists(error)) throw error;
  }
}

async function ensurePath(
  session: AnySession,
  client: Pick<BenchClient, 'isNodeExists'>,
  path: string,
): Promise<void> {
  let current = '';
  for (const part of path.slice(1).split('/')) {
    current += `/${part}`;
    await createIfMissing(session, client, current, EMPTY);
  }
}

/** Delete `path` and everything below it (a node that vanishes meanwhile is fine). */
export async function deleteRecursive(
  session: AnySession,
  client: Pick<BenchClient, 'isNoNode'>,
  path: string,
): Promise<void> {
  let children: string[];
  try {
    children = await session.children(path);
  } catch (error) {
    if (client.isNoNode(error)) return;
    throw error;
  }
  await Promise.all(children.map((child) => deleteRecursive(session, client, `${path}/${child}`)));
  try {
    await session.remove(path, -1);
  } catch (error) {
    if (!client.isNoNode(error)) throw error;
  }
}

// ---- the workloads ----

interface Context {
  client: BenchClient;
  m: AnySession;
  root: string;
  connect: string;
  scale: number;
  lockNote: string | undefined;
  lock: ((session: AnySession, path: string) => BenchLock) | undefined;
}

type WorkloadResult = Omit<BenchRecord, 'client' | 'workload'>;

const open = (ctx: Context) => withTimeout(ctx.client.open(ctx.connect), STEP_TIMEOUT_MS, 'open a session');

const workloads: Record<WorkloadName, (ctx: Context) => Promise<WorkloadResult>> = {
  async seq_get(ctx) {
    const n = scaled(3000, ctx.scale);
    const path = `${ctx.root}/data`;
    const latencies = new Float64Array(n);
    const watch = new Stopwatch();
    const last = await sequential(n, () => ctx.m.get(path), latencies);
    const m = watch.stop();
    const length = ctx.m.dataOf(last)?.length ?? 0;
    if (length !== PAYLOAD.length)
      throw new Error(`the last getData returned ${length} bytes, expected ${PAYLOAD.length}`);
    return okFields(n, m, latencies);
  },

  async seq_set(ctx) {
    const n = scaled(2000, ctx.scale);
    const path = `${ctx.root}/data`;
    const latencies = new Float64Array(n);
    const watch = new Stopwatch();
    await sequential(n, () => ctx.m.set(path, PAYLOAD, -1), latencies);
    return okFields(n, watch.stop(), latencies);
  },

  async pipelined_get(ctx) {
    const n = scaled(50_000, ctx.scale);
    const path = `${ctx.root}/data`;
    const latencies = new Float64Array(n);
    const watch = new Stopwatch();
    await pipelined(n, WINDOW, () => ctx.m.get(path), latencies);
    return {
      ...okFields(n, watch.stop(), latencies),
      window: WINDOW,
      note: 'p50/p99 are queueing time (about window / throughput)',
    };
  },

  async pipelined_create_delete(ctx) {
    const n = scaled(10_000, ctx.scale);
    const dir = `${ctx.root}/cd`;
    const latencies = new Float64Array(2 * n);
    const watch = new Stopwatch();
    const t0 = now();
    await pipelined(n, WINDOW, (i) => ctx.m.create(`${dir}/n${i}`, EMPTY, 'persistent'), latencies);
    const t1 = now();
    await pipelined(n, WINDOW, (i) => ctx.m.remove(`${dir}/n${i}`, -1), latencies, n);
    const t2 = now();
    const m = watch.stop();
    const left = await ctx.m.children(dir);
    if (left.length !== 0) throw new Error(`${dir} still has ${left.length} children after the deletes`);
    const createS = (t1 - t0) / 1000;
    const deleteS = (t2 - t1) / 1000;
    return {
      ...okFields(2 * n, m, latencies),
      create_s: round(createS, 6),
      delete_s: round(deleteS, 6),
      create_ops_per_s: round(n / createS, 1),
      delete_ops_per_s: round(n / deleteS, 1),
      window: WINDOW,
    };
  },

  async lock_uncontended(ctx) {
    if (!ctx.lock) return { status: 'skip', note: ctx.lockNote ?? 'no lock recipe' };
    const n = scaled(500, ctx.scale);
    const lock = ctx.lock(ctx.m, `${ctx.root}/lock-u`);
    const latencies = new Float64Array(n);
    const watch = new Stopwatch();
    await sequential(
      n,
      async () => {
        await lock.acquire();
        await lock.release();
      },
      latencies,
    );
    return { ...okFields(n, watch.stop(), latencies), ...(ctx.lockNote ? { note: ctx.lockNote } : {}) };
  },

  async lock_contended(ctx) {
    if (!ctx.lock) return { status: 'skip', note: ctx.lockNote ?? 'no lock recipe' };
    const makeLock = ctx.lock;
    const iterations = scaled(50, ctx.scale);
    const sessions = await Promise.all(Array.from({ length: CONTENDERS }, () => open(ctx)));
    try {
      const locks = sessions.map((session) => makeLock(session, `${ctx.root}/lock-c`));
      const latencies = new Float64Array(CONTENDERS * iterations);
      let inside = 0;
      let count = 0;
      let violations = 0;
      let maxInside = 0;
      let go!: () => void;
      const barrier = new Promise<void>((resolve) => (go = resolve));
      const workers = locks.map(async (lock, k) => {
        await barrier;
        for (let j = 0; j < iterations; j++) {
          const t0 = now();
          await lock.acquire();
          inside += 1;
          count += 1;
          maxInside = Math.max(maxInside, inside);
          if (inside !== 1) violations += 1;
          await new Promise<void>((resolve) => setImmediate(resolve));
          inside -= 1;
          await lock.release();
          latencies[k * iterations + j] = now() - t0;
        }
      });
      const watch = new Stopwatch();
      go();
      const settled = await Promise.allSettled(workers);
      const m = watch.stop();
      const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      const ops = CONTENDERS * iterations;
      const mutexOk = violations === 0 && count === ops && maxInside === 1;
      const fields = {
        ...okFields(ops, m, latencies),
        clients: CONTENDERS,
        mutex_ok: mutexOk,
        violations,
        max_inside: maxInside,
        count,
      };
      if (!mutexOk)
        return {
          ...fields,
          status: 'error',
          note: `mutual exclusion violated (violations ${violations}, count ${count}, max_inside ${maxInside})`,
        };
      return ctx.lockNote ? { ...fields, note: ctx.lockNote } : fields;
    } finally {
      await Promise.allSettled(sessions.map((session) => session.close()));
    }
  },

  async watch_latency(ctx) {
    const n = scaled(1000, ctx.scale);
    const path = `${ctx.root}/watch`;
    const b = await open(ctx);
    try {
      let inLoop = true;
      let stray: string | undefined;
      let waiter: { resolve(t1: number): void; reject(error: Error): void } | undefined;
      const listener: WatchCallback = (t1, type) => {
        if (!inLoop) return; // B's close may deliver a Closed/None event
        const current = waiter;
        waiter = undefined;
        if (type !== 'NodeDataChanged') stray ??= `unexpected watch event ${type} during the loop`;
        else if (!current) stray ??= 'a watch event arrived with no iteration waiting for it';
        if (stray !== undefined) current?.reject(new Error(stray));
        else current?.resolve(t1);
      };
      await b.getWatched(path, listener);
      const latencies = new Float64Array(n);
      const watch = new Stopwatch();
      for (let i = 0; i < n; i++) {
        if (stray !== undefined) throw new Error(stray);
        const fired = new Promise<number>((resolve, reject) => (waiter = { resolve, reject }));
        const t0 = now();
        const setting = ctx.m.set(path, PAYLOAD, -1);
        const [t1] = await withTimeout(Promise.all([fired, setting]), STEP_TIMEOUT_MS, 'watch notification');
        latencies[i] = t1 - t0;
        await b.getWatched(path, listener);
      }
      const m = watch.stop();
      inLoop = false;
      if (stray !== undefined) throw new Error(stray);
      return okFields(n, m, latencies);
    } finally {
      await b.close();
    }
  },

  async connect(ctx) {
    const n = scaled(200, ctx.scale);
    const latencies = new Float64Array(n);
    const watch = new Stopwatch();
    await sequential(
      n,
      async () => {
        const session = await open(ctx);
        await session.close();
      },
      latencies,
    );
    return okFields(n, watch.stop(), latencies);
  },
};

async function warmUp(ctx: Context): Promise<void> {
  const path = `${ctx.root}/data`;
  await sequential(1000, () => ctx.m.get(path), new Float64Array(1000));
  await pipelined(5000, WINDOW, () => ctx.m.get(path), new Float64Array(5000));
}

/**
 * The whole program of one client: parse the command line, set up, warm up, run the selected
 * workloads in order printing one JSON line each, tear down. Exits 0 when every workload was
 * `ok` or `skip`, 1 otherwise, 2 on a usage error.
 */
export async function runBenchmark<S extends AnySession>(
  library: BenchClient<S>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<never> {
  const client = library as unknown as BenchClient;
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `${error.message}\nusage: node ${process.argv[1]} [--connect HOSTS] [--workloads all|a,b,c] [--scale F] [--no-warmup] [--emulated-lock]\n`,
    );
    process.exit(2);
  }
  const out = new RecordWriter({
    client: client.name,
    client_version: client.version,
    runtime: client.runtime,
    connect: args.connect,
    scale: args.scale,
  });
  const failAll = (note: string, status: Status): never => {
    for (const workload of args.workloads) out.write({ workload, status, note });
    process.exit(status === 'error' ? 1 : 0);
  };
  if (client.unavailable !== undefined) failAll(client.unavailable, 'skip');

  let lock = client.lock;
  let lockNote = client.lockNote;
  if (!lock && args.emulatedLock) {
    lock = (session, path) => kazooStyleLock(session, client, path);
    lockNote = `${client.name} has no lock recipe: the bench's kazoo-style recipe on its API (--emulated-lock)`;
  }

  let m: AnySession;
  try {
    m = await withTimeout(client.open(args.connect), STEP_TIMEOUT_MS, `connect to ${args.connect}`);
  } catch (error) {
    return failAll(`cannot open the main session: ${errorMessage(error)}`, 'error');
  }
  const root = `/zkbench/${client.name}-${process.pid}-${Date.now()}`;
  const ctx: Context = { client, m, root, connect: args.connect, scale: args.scale, lock, lockNote };
  let allOk = true;
  try {
    await createIfMissing(m, client, '/zkbench', EMPTY);
    await m.create(root, EMPTY, 'persistent');
    await m.create(`${root}/data`, PAYLOAD, 'persistent');
    await m.create(`${root}/cd`, EMPTY, 'persistent');
    await m.create(`${root}/watch`, PAYLOAD, 'persistent');
    if (args.warmup) await warmUp(ctx);
  } catch (error) {
    await deleteRecursive(m, client, root).catch(() => {});
    await m.close().catch(() => {});
    return failAll(`setup failed: ${errorMessage(error)}`, 'error');
  }

  for (const workload of args.workloads) {
    let result: WorkloadResult;
    try {
      result = await workloads[workload](ctx);
    } catch (error) {
      result = { status: 'error', note: errorMessage(error) };
    }
    if (result.status === 'error') allOk = false;
    out.write({ workload, ...result });
  }

  try {
    await withTimeout(deleteRecursive(m, client, root), STEP_TIMEOUT_MS, 'teardown');
    await withTimeout(m.close(), STEP_TIMEOUT_MS, 'close');
  } catch (error) {
    process.stderr.write(`${client.name}: teardown failed: ${errorMessage(error)}\n`);
  }
  process.exit(allOk ? 0 : 1);
}
