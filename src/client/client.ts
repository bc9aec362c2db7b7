import { EventEmitter } from 'node:events';
import type tls from 'node:tls';
import type { Logger } from 'winston';
import { logs, silentLogger } from './logging.js';
import { OPEN_ACL_UNSAFE, type ACL } from './acl.js';
import type { Endpoint, Request } from './connection/connection.js';
import {
  AbortError,
  ClientClosedError,
  ConnectionLossError,
  SessionExpiredError,
  TimeoutError,
  ErrorCode,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
  NoWatcherError,
  DataTooLargeError,
} from './errors.js';
import { endpointText, parseHosts } from './hosts.js';
import { Chroot, joinPath, parentPath, validatePath } from './paths.js';
import { AddWatchMode, CreateFlags, MAX_FRAME_PAYLOAD, OpCode, WatcherType } from './protocol/op-codes.js';
import {
  readAcl,
  readChildren2,
  readClientInfo,
  readGetData,
  readStat,
  writePathInt,
  writePathWatch,
  writeReconfig,
  writeSetAcl,
  writeSetData,
  writeCreate,
  type ClientInfo,
  type CreateRecord,
  type GetDataResult,
  type ChildrenResult,
  type Stat,
  type WatcherEventRecord,
} from './protocol/records.js';
import { RetryPolicy, type RetryOptions } from './retry.js';
import { checkSaslOptions, type SaslOptions } from './sasl/authenticate.js';
import { Session } from './session.js';
import { ConnectionState, EventType, KeeperState, eventTypeFromWire, type WatchListener } from './states.js';
import {
  Transaction,
  readMulti,
  readMultiRead,
  transactionFailure,
  writeMulti,
  writeMultiRead,
  type CreateOpOptions,
  type OpResult,
  type ReadOp,
  type ReadResult,
  type TransactionOp,
} from './transaction.js';
import { checkDuration, startTimer, type Timer } from './timer.js';
import {
  operationChannel,
  sessionStateChannel,
  traceAsync,
  type OperationContext,
  type SessionStateEvent,
} from './diagnostics.js';
import { WatchRegistry, type ServerTable, type WatchKind } from './watch-registry.js';
import { watchStream, type StreamEvent, type WatchStreamOptions } from './watch-stream.js';

/** A credential added with `addAuth` (scheme and auth bytes), re-sent after every reconnect. */
export interface AuthInfo {
  scheme: string;
  /** For `digest`: `"user:password"`. */
  credential: string | Buffer;
}

/** Options of `new ZooKeeperClient(...)`: hosts (with an optional chroot), session timeout, auth, TLS, retry and logging. */
export interface ZooKeeperClientOptions {
  /** `"host1:port1,host2:port2/optional/chroot"` or an array of `"host:port"`. */
  hosts: string | readonly string[];
  /** Requested session timeout in ms (the server clamps it). Default 10000. */
  sessionTimeout?: number;
  /** Per-host connect timeout in ms. Default: session timeout / number of hosts (the negotiated timeout once connected). */
  connectTimeout?: number;
  /** Accept a read-only server when the ensemble has lost quorum. Default false. */
  readOnly?: boolean;
  /** Credentials sent on every connection, before any request. */
  authData?: readonly AuthInfo[];
  /** ACL for nodes created without an explicit one. Default `OPEN_ACL_UNSAFE`. */
  defaultAcl?: readonly ACL[];
  /** The policy `client.retry(fn)` uses. */
  retry?: RetryOptions;
  /** A winston logger; the default is silent. */
  logger?: Logger;
  /** Shuffle the host list so a fleet spreads over the ensemble. Default true. */
  randomizeHosts?: boolean;
  /** Resume an existing session (kazoo's `client_id`). */
  session?: { id: bigint; password: Buffer };
  /** SASL credentials (kazoo's `sasl_options`): `{ mechanism: 'DIGEST-MD5', username, password }`. */
  sasl?: SaslOptions;
  /** Connect with TLS using these options (the server's secure client port). */
  tls?: tls.ConnectionOptions;
  /** Default `timeout` of every request, ms (see `RequestOptions`). Default: none (`Infinity` too). */
  requestTimeout?: number;
  /** Largest reply frame accepted, bytes. Default 16 MiB (replies are not limited by the server). */
  maxIncomingFrame?: number;
}

/** The client's events: `state` (CONNECTED / SUSPENDED / LOST / READ_ONLY) and `keeperState` (ZooKeeper's own KeeperState). */
export interface ClientEvents {
  /** The kazoo-style state changed. */
  state: [state: ConnectionState];
  /** The detailed keeper state changed. */
  keeperState: [state: KeeperState];
}

/** Options of `create`: mode flags, ACL, TTL, `makePath`, and the per-request options. */
export interface CreateOptions extends CreateOpOptions, RequestOptions {
  /** Create missing parent nodes (persistent, default ACL) first. */
  makePath?: boolean;
}

/** Per-request options of a read: the listener to leave as a one-shot watch. */
export interface WatchOptions extends RequestOptions {
  /** Called once with the next change of the node (a one-shot watch). */
  watch?: WatchListener;
}

/** Per-request options of a conditional write: the expected `version` (-1: any). */
export interface VersionOptions extends RequestOptions {
  /** Expected version; -1 (the default) matches any. */
  version?: number;
}

/**
 * Per-call options of every operation. A request made while the client is SUSPENDED waits for
 * the next connection; these bound that wait (and the wait for the reply).
 */
export interface RequestOptions {
  /** Give up after this many ms with `TimeoutError` (default: the client's `requestTimeout`, none; `Infinity`: none). */
  timeout?: number;
  /** Give up when aborted, with `AbortError`. */
  signal?: AbortSignal;
  /** Fail at once with `ConnectionLossError` instead of waiting when not connected. */
  failFast?: boolean;
  /**
   * Called with the zxid the reply carries, as it arrives, before the call settles (not for a
   * call that gave up first). A write's reply carries its own zxid; a read's, the last zxid the
   * server had applied when it answered: the state the answer shows. Compared with `lastZxid`
   * later, it tells whether any reply since has shown a later state.
   */
  onZxid?: (zxid: bigint) => void;
}

/** One operation as `call` takes it: the request minus how it settles. */
type RequestSpec<T> = Omit<Request<T>, 'resolve' | 'reject'> & {
  /** The reply (its server error code) of a request the call gave up on after it was sent. */
  onLateReply?(err: number): void;
};

/** Options of `start()`: how long to wait for the first connection, and a signal to give up. */
export interface StartOptions {
  /**
   * Give up (and close the client) when not connected within this many ms: `TimeoutError`, whose
   * `cause` (a `ConnectFailedError`) lists the last error per server tried. Default 15000; `Infinity`: never.
   */
  timeout?: number;
  signal?: AbortSignal;
  /**
   * Give up (and close the client) as soon as every server failed once — refused, no connect
   * response within the connect timeout, not a ZooKeeper server, TLS — with `ConnectFailedError`
   * (`hosts`: the error per server). Default false: keep trying every server until `timeout`, as
   * kazoo's `start(timeout)` and Curator's `blockUntilConnected` do (a server may be starting).
   */
  failFast?: boolean;
}

/** Which watches `removeWatches` removes (ZooKeeper's WatcherType, plus the persistent kinds). */
export type RemovableWatchType = 'data' | 'children' | 'any' | 'persistent' | 'persistentRecursive';

/** The local tables each `removeWatches` type covers. */
const REMOVABLE_KINDS: Readonly<Record<RemovableWatchType, readonly WatchKind[]>> = {
  data: ['data', 'exist'],
  children: ['child'],
  any: ['data', 'exist', 'child', 'persistent', 'persistentRecursive'],
  persistent: ['persistent'],
  persistentRecursive: ['persistentRecursive'],
};

const DEFAULT_SESSION_TIMEOUT = 10_000;
/** The largest TTL the server accepts: 2^40 - 1 ms (ZooKeeper's `EphemeralType.TTL.maxValue()`). */
const MAX_TTL = 2 ** 40 - 1;
/** The tables a watching read files its listener in (`callWatching`). */
const DATA_KINDS: readonly WatchKind[] = ['data'];
const CHILD_KINDS: readonly WatchKind[] = ['child'];
const EXISTS_KINDS: readonly WatchKind[] = ['data', 'exist'];
/** What an `exists` watch became (the Java client's `ExistsWatchRegistration`): data on a node, exist on a missing one. */
function existsWatchKind(err: number): WatchKind | undefined {
  return err === ErrorCode.Ok ? 'data' : err === ErrorCode.NoNode ? 'exist' : undefined;
}
/** The ensemble configuration node (ZooKeeper's `ZooDefs.CONFIG_NODE`): a server path, outside any chroot. */
const CONFIG_NODE = '/zookeeper/config';

/** A request's reply hook that also hands the reply's zxid to `onZxid` (RequestOptions). */
function withZxid(
  onReply: Request['onReply'],
  onZxid: (zxid: bigint) => void,
): NonNullable<Request['onReply']> {
  return (err, zxid) => {
    onReply?.(err, zxid);
    onZxid(zxid);
  };
}

function checkBoolean(name: string, value: unknown, op: string): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw new InvalidArgumentError(`${name} must be a boolean`, { op });
}

function checkVersion(value: unknown, op: string, path: string): number {
  if (value === undefined) return -1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -1 || value > 0x7fffffff) {
    throw new InvalidArgumentError(`version must be an integer >= -1, got ${String(value)}`, { op, path });
  }
  return value;
}

function checkListener(value: unknown, op: string, path: string): WatchListener | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidArgumentError('watch must be a function', { op, path });
  return value as WatchListener;
}

/** Accept Buffer / Uint8Array / string / null within the frame limit; anything else is a typed error. */
function toData(data: unknown, op: string, path: string): Uint8Array | null {
  let bytes: Uint8Array | null;
  if (data === undefined) bytes = EMPTY;
  else if (data === null) bytes = null;
  else if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) bytes = data;
  else
    throw new InvalidArgumentError(`data must be a Buffer, Uint8Array, string or null, got ${typeof data}`, {
      op,
      path,
    });
  // The exact limit (data plus the rest of the request) is enforced when the frame is encoded.
  if (bytes !== null && bytes.length > MAX_FRAME_PAYLOAD)
    throw new DataTooLargeError(bytes.length, MAX_FRAME_PAYLOAD, { op, path });
  return bytes;
}
const EMPTY = new Uint8Array(0);

function checkAcl(acl: unknown, op: string, path: string): readonly ACL[] {
  if (!Array.isArray(acl) || acl.length === 0)
    throw new InvalidArgumentError('acl must be a non-empty array', { op, path });
  for (const entry of acl as ACL[]) {
    if (
      typeof entry?.perms !== 'number' ||
      typeof entry.id?.scheme !== 'string' ||
      typeof entry.id?.id !== 'string'
    ) {
      throw new InvalidArgumentError(
        'each ACL entry must be { perms: number, id: { scheme: string, id: string } }',
        { op, path },
      );
    }
  }
  return acl as ACL[];
}

/**
 * `ZooKeeperClient`: the public, promise-based API. Each operation validates its arguments
 * (throwing a typed error before anything is queued), maps paths through the chroot, and hands
 * one `Request` to the session; watch bookkeeping happens when the reply arrives.
 *
 * @example
 *   const zk = new ZooKeeperClient({ hosts: '127.0.0.1:2181', sessionTimeout: 10_000 });
 *   await zk.start();
 *   await zk.create('/app/config', 'v1', { makePath: true });
 *   const { data } = await zk.get('/app/config', { watch: (event) => console.log(event.type) });
 *   await zk.close();
 */
export class ZooKeeperClient extends EventEmitter<ClientEvents> implements AsyncDisposable {
  readonly logger: Logger;
  readonly chroot: string;
  private readonly paths: Chroot;
  private readonly session: Session;
  private readonly registry: WatchRegistry;
  private readonly defaultAcl: readonly ACL[];
  private readonly retryPolicy: RetryPolicy;
  private readonly initialAuth: readonly AuthInfo[];
  private readonly requestTimeout: number | undefined;
  private readonly endpoints: readonly Endpoint[];

  constructor(options: ZooKeeperClientOptions) {
    super();
    // Every recipe instance follows the state: dozens of listeners are normal, not a leak.
    this.setMaxListeners(0);
    if (typeof options !== 'object' || options === null)
      throw new InvalidArgumentError('options must be an object');
    const { endpoints, chroot } = parseHosts(options.hosts);
    this.endpoints = endpoints;
    const sessionTimeout = options.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT;
    for (const [name, value] of [
      ['sessionTimeout', sessionTimeout],
      ['connectTimeout', options.connectTimeout],
      ['maxIncomingFrame', options.maxIncomingFrame],
    ] as const) {
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
        throw new InvalidArgumentError(`${name} must be a positive number, got ${String(value)}`);
      }
    }
    if (
      options.requestTimeout !== undefined &&
      checkDuration(options.requestTimeout, {}, 'requestTimeout') === 0
    ) {
      throw new InvalidArgumentError('requestTimeout must be > 0 ms (Infinity: none)');
    }
    checkBoolean('readOnly', options.readOnly, 'constructor');
    checkBoolean('randomizeHosts', options.randomizeHosts, 'constructor');
    if (options.session !== undefined) {
      if (
        typeof options.session.id !== 'bigint' ||
        !Buffer.isBuffer(options.session.password) ||
        options.session.password.length !== 16
      ) {
        throw new InvalidArgumentError('session must be { id: bigint, password: 16-byte Buffer }');
      }
    }
    if (options.sasl !== undefined) checkSaslOptions(options.sasl);
    this.logger = options.logger ?? silentLogger();
    this.requestTimeout = options.requestTimeout;
    this.chroot = chroot;
    this.paths = new Chroot(chroot);
    this.defaultAcl =
      options.defaultAcl === undefined ? OPEN_ACL_UNSAFE : checkAcl(options.defaultAcl, 'constructor', '');
    this.retryPolicy = new RetryPolicy(options.retry);
    this.initialAuth = options.authData ?? [];
    this.registry = new WatchRegistry(
      this.logger,
      (path) => this.paths.toClient(path),
      () => this.session.sessionId,
    );
    this.session = new Session(
      {
        endpoints,
        randomizeHosts: options.randomizeHosts ?? true,
        sessionTimeout,
        connectTimeout: options.connectTimeout,
        readOnly: options.readOnly ?? false,
        tls: options.tls,
        sasl: options.sasl,
        maxIncomingFrame: options.maxIncomingFrame ?? 16 * 1024 * 1024,
        sessionId: options.session?.id,
        sessionPassword: options.session?.password,
        registry: this.registry,
        logger: this.logger,
      },
      {
        onStateChange: (state, keeperState) => this.onStateChange(state, keeperState),
        onNotification: (record) => this.onNotification(record),
      },
    );
  }

  // ---- lifecycle and state ----

  /**
   * Connect; resolves when CONNECTED. On timeout, abort or (with `failFast`) every server failing,
   * the client is closed and the call rejects; the error says why each server failed.
   *
   * @example
   *   try { await zk.start({ timeout: 5000 }); }
   *   catch (error) {
   *     if (error instanceof TimeoutError && error.cause instanceof ConnectFailedError)
   *       for (const { host, port, error: why } of error.cause.hosts) log(`${host}:${port}: ${why.message}`);
   *   }
   */
  async start(options: StartOptions = {}): Promise<void> {
    const timeout = checkDuration(options.timeout ?? 15_000, { op: 'start' });
    if (!this.startedAuth) {
      this.startedAuth = true;
      for (const { scheme, credential } of this.initialAuth)
        void this.addAuth(scheme, credential).catch(() => {});
    }
    try {
      await this.session.start(timeout, options.signal, options.failFast);
    } catch (error) {
      await this.close();
      throw error;
    }
  }
  private startedAuth = false;

  /** Send closeSession (ephemerals go at once), close the socket, fail what is pending. Idempotent. */
  async close(): Promise<void> {
    await this.session.close();
    await this.registry.idle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** CONNECTED, SUSPENDED or LOST (kazoo's model). LOST before `start()` and after `close()`. */
  get state(): ConnectionState {
    return this.session.state;
  }

  get keeperState(): KeeperState {
    return this.session.keeperState;
  }

  /** The session id (0n when there is none). */
  get sessionId(): bigint {
    return this.session.sessionId;
  }

  /** The 16-byte session password; with `sessionId` it can resume the session elsewhere. */
  get sessionPassword(): Buffer {
    return this.session.password;
  }

  /** The negotiated session timeout (the requested one until connected). */
  get sessionTimeout(): number {
    return this.session.negotiatedTimeout;
  }

  /** The largest zxid seen in a reply. */
  get lastZxid(): bigint {
    return this.session.lastZxid;
  }

  /** `host:port` of the server currently connected to. */
  get connectedServer(): string | undefined {
    return this.session.connectedTo;
  }

  /**
   * `host:port` of every server of the connect string, in the order given (an IPv6 host in
   * brackets): the members of the ensemble this client may connect to.
   */
  get servers(): string[] {
    return this.endpoints.map(endpointText);
  }

  get closed(): boolean {
    return this.session.isClosed;
  }

  private onStateChange(state: ConnectionState, keeperState: KeeperState): void {
    if (logs(this.logger, 'debug')) this.logger.debug(`state ${state} (${keeperState})`);
    if (sessionStateChannel.hasSubscribers) {
      const event: SessionStateEvent = {
        from: this.lastEmittedState,
        to: state,
        keeperState,
        sessionId: this.session.sessionId,
      };
      sessionStateChannel.publish(event);
    }
    this.emit('keeperState', keeperState);
    if (state !== this.lastEmittedState) {
      this.lastEmittedState = state;
      this.emit('state', state);
    }
  }
  private lastEmittedState: ConnectionState = ConnectionState.LOST;

  private onNotification(record: WatcherEventRecord): void {
    const type = eventTypeFromWire[record.type];
    if (type === undefined) {
      this.logger.warn(`ignoring notification of unknown type ${record.type}`);
      return;
    }
    this.registry.dispatch({ type, state: this.session.keeperState, path: record.path });
  }

  /** Run `fn` with the client's retry policy (ConnectionLoss and OperationTimeout are retried). */
  async retry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.retryPolicy.run(fn, signal);
  }

  // ---- the request path ----

  /**
   * Submit one request. Without `timeout`/`signal` this is the lean hot path; with them, giving
   * up withdraws a request still waiting for a connection, or stops waiting for one already sent
   * (its outcome is then unknown, and a watch it would set is not registered: `onLateReply`).
   */
  private call<T>(
    spec: RequestSpec<T>,
    options: RequestOptions = {},
    submitted?: (request: Request) => void,
    trace?: OperationContext,
  ): Promise<T> {
    // Traced only while someone subscribes (DESIGN.md, Observability): one property read otherwise.
    if (trace !== undefined || operationChannel.hasSubscribers) {
      const ctx = trace ?? this.traceOf(spec.op, spec.path);
      return traceAsync(operationChannel, ctx, () =>
        this.submit({ ...spec, trace: ctx }, options, submitted),
      );
    }
    return this.submit(spec, options, submitted);
  }

  /** A request's trace context, as far as the client knows it (the connection adds the rest). */
  private traceOf(operation: string, path: string | undefined, batchSize?: number): OperationContext {
    const ctx: OperationContext = {
      operation,
      path,
      chroot: this.chroot,
      sessionId: this.session.sessionId,
      xid: undefined,
      serverAddress: undefined,
      serverPort: undefined,
      readOnly: this.session.keeperState === KeeperState.CONNECTED_RO,
    };
    if (batchSize !== undefined) ctx.batchSize = batchSize;
    return ctx;
  }

  private submit<T>(
    spec: RequestSpec<T>,
    options: RequestOptions,
    submitted: ((request: Request) => void) | undefined,
  ): Promise<T> {
    if (options.onZxid !== undefined && typeof options.onZxid !== 'function')
      return Promise.reject(
        new InvalidArgumentError('onZxid must be a function', { op: spec.op, path: spec.path }),
      );
    const given = options.timeout ?? this.requestTimeout;
    const timeout = given === Infinity ? undefined : given; // Infinity: no timer, so the lean path
    const { signal, failFast = false } = options;
    if (timeout === undefined && signal === undefined) {
      return new Promise<T>((resolve, reject) => {
        // An explicit literal, not `{ ...spec }`: object spread costs microseconds per request here.
        const request = {
          type: spec.type,
          op: spec.op,
          path: spec.path,
          write: spec.write,
          read: spec.read,
          onReply: options.onZxid ? withZxid(spec.onReply, options.onZxid) : spec.onReply,
          trace: spec.trace,
          resolve,
          reject,
        } as Request;
        submitted?.(request);
        this.session.submit(request, failFast);
      });
    }
    return new Promise<T>((resolve, reject) => {
      const { op, path } = spec;
      const { onLateReply, ...rest } = spec;
      const onReply = options.onZxid ? withZxid(spec.onReply, options.onZxid) : spec.onReply;
      if (options.timeout !== undefined) checkDuration(options.timeout, { op, path });
      if (signal?.aborted) {
        reject(new AbortError(signal.reason, { op, path }));
        return;
      }
      let settled = false;
      let timer: Timer | undefined;
      const settle = () => {
        settled = true;
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
      };
      const request: Request<T> = {
        ...rest,
        onReply:
          onReply || onLateReply
            ? (err, zxid) => (settled ? onLateReply?.(err) : onReply?.(err, zxid))
            : undefined,
        resolve: (value) => settled || (settle(), resolve(value)),
        reject: (error) => settled || (settle(), reject(error)),
      };
      // Abandoned after it was sent, the request may still be applied: its outcome is unknown.
      const giveUp = (error: (outcomeUnknown: boolean) => Error) => {
        if (settled) return;
        request.reject(error(!this.session.withdraw(request as Request)));
      };
      const onAbort = () =>
        giveUp((outcomeUnknown) => new AbortError(signal?.reason, { op, path, outcomeUnknown }));
      if (timeout !== undefined)
        timer = startTimer(timeout, () =>
          giveUp(
            (outcomeUnknown) =>
              new TimeoutError(`no reply within ${timeout} ms`, { op, path, outcomeUnknown }),
          ),
        );
      signal?.addEventListener('abort', onAbort, { once: true });
      submitted?.(request as Request);
      this.session.submit(request as Request, failFast);
    });
  }

  private checkOpen(op: string, path?: string): void {
    if (this.session.isClosed) throw new ClientClosedError({ op, path });
  }

  /** Validate a path and return its server form. */
  private serverPath(path: unknown, op: string, sequential = false): string {
    validatePath(path, op, sequential);
    this.checkOpen(op, path);
    return this.paths.toServer(path);
  }

  // ---- create ----

  private createRecord(
    path: string,
    data: unknown,
    options: CreateOpOptions = {},
    op = 'create',
  ): { opCode: number; record: CreateRecord } {
    if (typeof options !== 'object' || options === null)
      throw new InvalidArgumentError('options must be an object', { op, path });
    const { ephemeral = false, sequence = false, container = false, ttl } = options;
    checkBoolean('ephemeral', ephemeral, op);
    checkBoolean('sequence', sequence, op);
    checkBoolean('container', container, op);
    const serverPath = this.serverPath(path, op, sequence);
    const acl = options.acl === undefined ? this.defaultAcl : checkAcl(options.acl, op, path);
    const bytes = toData(data, op, path);
    if (container) {
      if (ephemeral || sequence || ttl !== undefined) {
        throw new InvalidArgumentError('a container node cannot be ephemeral, sequential or have a TTL', {
          op,
          path,
        });
      }
      return {
        opCode: OpCode.createContainer,
        record: { path: serverPath, data: bytes, acl, flags: CreateFlags.container },
      };
    }
    if (ttl !== undefined) {
      // Validated strictly: a malformed createTTL can crash a 3.8 server (its TTL checks cover TTL modes only, ZOOKEEPER-2797).
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL) {
        throw new InvalidArgumentError(`ttl must be an integer from 1 to ${MAX_TTL} ms, got ${String(ttl)}`, {
          op,
          path,
        });
      }
      if (ephemeral) throw new InvalidArgumentError('a TTL node cannot be ephemeral', { op, path });
      const flags = sequence ? CreateFlags.persistentSequentialWithTtl : CreateFlags.persistentWithTtl;
      return { opCode: OpCode.createTTL, record: { path: serverPath, data: bytes, acl, flags, ttl } };
    }
    const flags = (ephemeral ? CreateFlags.ephemeral : 0) + (sequence ? CreateFlags.persistentSequential : 0);
    return { opCode: OpCode.create, record: { path: serverPath, data: bytes, acl, flags } };
  }

  /**
   * Create a node; resolves with its path (with the sequence suffix for sequential nodes).
   *
   * @example
   *   const path = await zk.create('/jobs/job-', 'payload', { sequence: true, makePath: true });
   */
  async create(
    path: string,
    data?: Buffer | Uint8Array | string | null,
    options: CreateOptions = {},
  ): Promise<string> {
    return (await this.createNode(path, data, options, false)).path;
  }

  /** Like `create`, but also returns the new node's Stat (create2). */
  async createWithStat(
    path: string,
    data?: Buffer | Uint8Array | string | null,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    return this.createNode(path, data, options, true) as Promise<{ path: string; stat: Stat }>;
  }

  private async createNode(
    path: string,
    data: unknown,
    options: CreateOptions,
    withStat: boolean,
  ): Promise<{ path: string; stat?: Stat }> {
    const op = withStat ? 'createWithStat' : 'create';
    const { opCode, record } = this.createRecord(path, data, options, op);
    checkBoolean('makePath', options.makePath, op);
    // Container and TTL creates always answer with a Stat; plain create uses op 15 only when asked.
    const type = opCode === OpCode.create && withStat ? OpCode.create2 : opCode;
    const send = () =>
      this.call(
        {
          type,
          op,
          path,
          write: (w) => writeCreate(w, record),
          read: (r) => {
            const created = this.paths.toClient(r.requiredString());
            return type === OpCode.create ? { path: created } : { path: created, stat: readStat(r) };
          },
        },
        options,
      );
    if (!options.makePath) return send();
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      await this.ensurePath(parentPath(path), {
        timeout: options.timeout,
        signal: options.signal,
        failFast: options.failFast,
      });
      return send();
    }
  }

  /**
   * Create `path` and whichever of its ancestors are missing (persistent, empty data — kazoo
   * reads null data as `None` —, default ACL unless given); existing nodes are fine. Like kazoo's
   * `ensure_path` it writes only the missing nodes: `exists` from `path` up to the first node
   * that exists, then the missing ones created top down, pipelined (a session's requests are
   * handled in order, so each parent is there before its child's create). With `container`, the
   * missing nodes are container nodes (Curator's `creatingParentContainersIfNeeded`): the server
   * deletes each once its last child is gone.
   */
  async ensurePath(
    path: string,
    options: RequestOptions & { acl?: readonly ACL[]; container?: boolean } = {},
  ): Promise<void> {
    validatePath(path, 'ensurePath');
    const missing: string[] = [];
    for (
      let node = path;
      node !== '/' && (await this.exists(node, options)) === null;
      node = parentPath(node)
    )
      missing.push(node);
    await Promise.all(
      missing.reverse().map((node) =>
        this.create(node, EMPTY, { ...options, acl: options.acl, container: options.container }).catch(
          (error: unknown) => {
            if (!(error instanceof NodeExistsError)) throw error;
          },
        ),
      ),
    );
  }

  // ---- reads ----

  /** The node's Stat, or null when it does not exist. A `watch` fires on create, change or delete. */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    const serverPath = this.serverPath(path, 'exists');
    const listener = checkListener(options.watch, 'exists', path);
    try {
      return await this.callWatching(
        {
          type: OpCode.exists,
          op: 'exists',
          path,
          write: (w) => writePathWatch(w, serverPath, listener !== undefined),
          read: readStat,
        },
        options,
        // The server sets a watch when the node exists and when it does not; the Java client's
        // `ExistsWatchRegistration` files it as a data watch, or an exist watch on a missing node.
        listener,
        serverPath,
        EXISTS_KINDS,
        existsWatchKind,
      );
    } catch (error) {
      if (error instanceof NoNodeError) return null;
      throw error;
    }
  }

  /** The node's data (an empty Buffer when it has none) and Stat. A `watch` fires on change or delete. */
  async get(path: string, options: WatchOptions = {}): Promise<GetDataResult> {
    const serverPath = this.serverPath(path, 'get');
    const listener = checkListener(options.watch, 'get', path);
    return this.callWatching(
      {
        type: OpCode.getData,
        op: 'get',
        path,
        write: (w) => writePathWatch(w, serverPath, listener !== undefined),
        read: readGetData,
      },
      options,
      listener,
      serverPath,
      DATA_KINDS,
    );
  }

  /** The names of the node's children (unsorted). A `watch` fires when a child is added or removed, or the node is deleted. */
  async getChildren(path: string, options: WatchOptions = {}): Promise<string[]> {
    const serverPath = this.serverPath(path, 'getChildren');
    const listener = checkListener(options.watch, 'getChildren', path);
    return this.callWatching(
      {
        type: OpCode.getChildren,
        op: 'getChildren',
        path,
        write: (w) => writePathWatch(w, serverPath, listener !== undefined),
        read: (r) => r.stringVector(),
      },
      options,
      listener,
      serverPath,
      CHILD_KINDS,
    );
  }

  /** Children plus the parent's Stat (getChildren2). */
  async getChildrenWithStat(path: string, options: WatchOptions = {}): Promise<ChildrenResult> {
    const serverPath = this.serverPath(path, 'getChildrenWithStat');
    const listener = checkListener(options.watch, 'getChildrenWithStat', path);
    return this.callWatching(
      {
        type: OpCode.getChildren2,
        op: 'getChildrenWithStat',
        path,
        write: (w) => writePathWatch(w, serverPath, listener !== undefined),
        read: readChildren2,
      },
      options,
      listener,
      serverPath,
      CHILD_KINDS,
    );
  }

  /**
   * `call` for a request that sets a watch for `listener` (when there is one): the registry
   * counts it in flight from now until its reply (which registers the listener with the kind
   * `kindOf` the reply code, by default the only kind on success) or its failure.
   */
  private callWatching<T>(
    spec: RequestSpec<T>,
    options: RequestOptions,
    listener: WatchListener | undefined,
    serverPath: string,
    kinds: readonly WatchKind[],
    kindOf?: (err: number) => WatchKind | undefined,
  ): Promise<T> {
    // Without a watch this is the plain hot path: nothing is allocated for the registry.
    if (listener === undefined) return this.call(spec, options);
    let request: Request | undefined;
    const pending = this.registry.expect(
      kinds,
      { server: serverPath, client: spec.path ?? serverPath },
      listener,
      () => {
        // Its listener was removed before it was sent (queued while disconnected), so the server
        // must not set a watch nobody needs. A read still goes, without its watch flag (every
        // watching request but addWatch is a path + watch flag, writePathWatch); an addWatch is
        // withdrawn (not sent: nothing applied).
        if (request === undefined || !this.session.isQueued(request)) return;
        if (spec.type !== OpCode.addWatch) request.write = (w) => writePathWatch(w, serverPath, false);
        else if (this.session.withdraw(request))
          request.reject(
            new AbortError('its watch was removed before it was sent', {
              op: spec.op,
              path: spec.path,
              outcomeUnknown: false,
            }),
          );
      },
    );
    const onReply = kindOf ?? ((err: number) => (err === ErrorCode.Ok ? kinds[0] : undefined));
    const trace = operationChannel.hasSubscribers ? this.traceOf(spec.op, spec.path) : undefined;
    const result = this.call(
      {
        ...spec,
        onReply: (err) => {
          const kind = onReply(err);
          if (trace !== undefined && kind !== undefined) trace.watch = kind;
          pending.settle(kind);
        },
        // Given up on: its listener was not registered, but the server may have set the watch,
        // shared per (path, table) by the session's listeners. Removed unless a listener
        // registered or in flight meanwhile needs it; else an addWatch's would send events
        // for the connection's life, and a one-shot's stays until its node changes — on a
        // quiet node as long; the removal costs a round trip on this rare path only.
        // Submitted now, before any later request, so it cannot remove a watch set after it.
        onLateReply: (err) => {
          const kind = onReply(err);
          if (kind === undefined) return;
          const unused = this.registry.unused([kind], serverPath);
          this.removeServerWatches(spec.path ?? serverPath, serverPath, unused, {}).catch(
            (error: unknown) => {
              if (!(error instanceof ClientClosedError))
                this.logger.warn(
                  `removing the watch of an abandoned ${spec.op} on ${spec.path}: ${String(error)}`,
                );
            },
          );
        },
      },
      options,
      (submitted) => (request = submitted),
      trace,
    );
    // A failure without a reply (connection loss, timeout, abort, bad option) registers nothing.
    // Settled a microtask late at most: meanwhile the watch still counts as needed, the safe side.
    result.then(undefined, () => pending.settle());
    return result;
  }

  /** The node's ACL and Stat. */
  async getAcl(path: string, options: RequestOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    const serverPath = this.serverPath(path, 'getAcl');
    return this.call(
      {
        type: OpCode.getACL,
        op: 'getAcl',
        path,
        write: (w) => w.string(serverPath),
        read: (r) => ({ acl: readAcl(r), stat: readStat(r) }),
      },
      options,
    );
  }

  /** Number of all descendants of the node (not counting itself). */
  async getAllChildrenNumber(path: string, options: RequestOptions = {}): Promise<number> {
    const serverPath = this.serverPath(path, 'getAllChildrenNumber');
    return this.call(
      {
        type: OpCode.getAllChildrenNumber,
        op: 'getAllChildrenNumber',
        path,
        write: (w) => w.string(serverPath),
        read: (r) => r.int(),
      },
      options,
    );
  }

  /** This session's ephemeral nodes whose path starts with `prefix` (a string prefix, not a subtree). */
  async getEphemerals(prefix = '/', options: RequestOptions = {}): Promise<string[]> {
    if (typeof prefix !== 'string' || !prefix.startsWith('/'))
      throw new InvalidArgumentError('prefix must be a string starting with /', { op: 'getEphemerals' });
    this.checkOpen('getEphemerals', prefix);
    const serverPrefix = this.chroot + prefix;
    return this.call(
      {
        type: OpCode.getEphemerals,
        op: 'getEphemerals',
        path: prefix,
        write: (w) => w.string(serverPrefix),
        read: (r) => r.stringVector().map((path) => this.paths.toClient(path)),
      },
      options,
    );
  }

  /** Read several nodes in one round trip; each result is independent (not atomic). */
  async multiRead(ops: readonly ReadOp[], options: RequestOptions = {}): Promise<ReadResult[]> {
    if (!Array.isArray(ops)) throw new InvalidArgumentError('ops must be an array', { op: 'multiRead' });
    const serverOps = ops.map((op): ReadOp => {
      if (op?.type !== 'getData' && op?.type !== 'getChildren')
        throw new InvalidArgumentError('each op must be { type: "getData" | "getChildren", path }', {
          op: 'multiRead',
        });
      return { type: op.type, path: this.serverPath(op.path, 'multiRead') };
    });
    return this.call(
      {
        type: OpCode.multiRead,
        op: 'multiRead',
        write: (w) => writeMultiRead(w, serverOps),
        read: (r) => readMultiRead(r, ops),
      },
      options,
      undefined,
      operationChannel.hasSubscribers ? this.traceOf('multiRead', undefined, ops.length) : undefined,
    );
  }

  /** The identities the server associates with this session. */
  async whoAmI(options: RequestOptions = {}): Promise<ClientInfo[]> {
    this.checkOpen('whoAmI');
    return this.call(
      { type: OpCode.whoAmI, op: 'whoAmI', write: () => {}, read: (r) => r.vector(readClientInfo, 8) },
      options,
    );
  }

  /** The ensemble configuration (`/zookeeper/config`, never under the chroot). */
  async getConfig(options: WatchOptions = {}): Promise<GetDataResult> {
    this.checkOpen('getConfig');
    const path = CONFIG_NODE;
    const listener = checkListener(options.watch, 'getConfig', path);
    // Its watch is on the server path itself, never under the chroot (Session.restoreWatches
    // re-registers exactly this path; its events carry it unchanged).
    return this.callWatching(
      {
        type: OpCode.getData,
        op: 'getConfig',
        path,
        write: (w) => writePathWatch(w, path, listener !== undefined),
        read: readGetData,
      },
      options,
      listener,
      path,
      DATA_KINDS,
    );
  }

  /** Wait until the server this client talks to has caught up with the leader for `path`. */
  async sync(path: string, options: RequestOptions = {}): Promise<string> {
    const serverPath = this.serverPath(path, 'sync');
    return this.call(
      {
        type: OpCode.sync,
        op: 'sync',
        path,
        write: (w) => w.string(serverPath),
        read: (r) => this.paths.toClient(r.requiredString()),
      },
      options,
    );
  }

  // ---- writes ----

  /** Replace the node's data; resolves with the new Stat. */
  async set(
    path: string,
    data: Buffer | Uint8Array | string | null,
    options: VersionOptions = {},
  ): Promise<Stat> {
    const serverPath = this.serverPath(path, 'set');
    const bytes = toData(data, 'set', path);
    const version = checkVersion(options.version, 'set', path);
    return this.call(
      {
        type: OpCode.setData,
        op: 'set',
        path,
        write: (w) => writeSetData(w, serverPath, bytes, version),
        read: readStat,
      },
      options,
    );
  }

  /**
   * Delete the node. With `recursive`, its descendants first (a node that vanishes meanwhile is fine;
   * `version` then applies to `path` itself).
   */
  async delete(path: string, options: VersionOptions & { recursive?: boolean } = {}): Promise<void> {
    const serverPath = this.serverPath(path, 'delete');
    const version = checkVersion(options.version, 'delete', path);
    checkBoolean('recursive', options.recursive, 'delete');
    if (options.recursive) {
      let children: string[];
      try {
        children = await this.getChildren(path, {
          timeout: options.timeout,
          signal: options.signal,
          failFast: options.failFast,
        });
      } catch (error) {
        if (error instanceof NoNodeError) return;
        throw error;
      }
      await Promise.all(
        children.map((child) =>
          this.delete(joinPath(path, child), {
            recursive: true,
            timeout: options.timeout,
            signal: options.signal,
            failFast: options.failFast,
          }),
        ),
      );
    }
    try {
      await this.call(
        {
          type: OpCode.delete,
          op: 'delete',
          path,
          write: (w) => writePathInt(w, serverPath, version),
          read: () => undefined,
        },
        options,
      );
    } catch (error) {
      if (options.recursive && error instanceof NoNodeError) return;
      throw error;
    }
  }

  /** Replace the node's ACL; `version` is the ACL version (`aversion`). */
  async setAcl(path: string, acl: readonly ACL[], options: VersionOptions = {}): Promise<Stat> {
    const serverPath = this.serverPath(path, 'setAcl');
    const checked = checkAcl(acl, 'setAcl', path);
    const version = checkVersion(options.version, 'setAcl', path);
    return this.call(
      {
        type: OpCode.setACL,
        op: 'setAcl',
        path,
        write: (w) => writeSetAcl(w, serverPath, checked, version),
        read: readStat,
      },
      options,
    );
  }

  /**
   * Add credentials to the session (and to every later reconnect). Resolves once a server accepted
   * them — while disconnected, on the next connection; rejects with `AuthFailedError` (the client is
   * then AUTH_FAILED) or `ClientClosedError` if the client closes first. `signal` stops the wait
   * with `AbortError`: credentials not sent yet are dropped (`outcomeUnknown` false); once sent, a
   * server may have them, so they are kept for later connections (`outcomeUnknown` true).
   *
   * @example
   *   await zk.addAuth('digest', 'bob:secret', { signal: AbortSignal.timeout(5000) });
   */
  async addAuth(
    scheme: string,
    credential: string | Buffer,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (typeof scheme !== 'string' || scheme === '')
      throw new InvalidArgumentError('scheme must be a non-empty string', { op: 'addAuth' });
    if (typeof credential !== 'string' && !Buffer.isBuffer(credential))
      throw new InvalidArgumentError('credential must be a string or Buffer', { op: 'addAuth' });
    this.checkOpen('addAuth');
    return this.session.addAuth(scheme, Buffer.from(credential), options.signal);
  }

  /** Change the ensemble membership (dynamic reconfig; the server must allow it). */
  async reconfig(
    options: RequestOptions & {
      joining?: string;
      leaving?: string;
      newMembers?: string;
      fromConfig?: bigint;
    },
  ): Promise<GetDataResult> {
    this.checkOpen('reconfig');
    const { joining = null, leaving = null, newMembers = null, fromConfig = -1n } = options;
    return this.call(
      {
        type: OpCode.reconfig,
        op: 'reconfig',
        write: (w) => writeReconfig(w, joining, leaving, newMembers, fromConfig),
        read: readGetData,
      },
      options,
    );
  }

  // ---- transactions ----

  /** Start a transaction: chain `create`, `delete`, `set`, `check`, then `commit()`. */
  transaction(): Transaction {
    this.checkOpen('transaction');
    return new Transaction({
      createOp: (path, data, options) => {
        const { opCode, record } = this.createRecord(path, data, options, 'transaction.create');
        return { type: 'create', opCode, record, path: record.path };
      },
      versionedOp: (type, path, version) => ({
        type,
        path: this.serverPath(path, `transaction.${type}`),
        version: checkVersion(version, `transaction.${type}`, path),
      }),
      setOp: (path, data, version) => ({
        type: 'set',
        path: this.serverPath(path, 'transaction.set'),
        data: toData(data, 'transaction.set', path),
        version: checkVersion(version, 'transaction.set', path),
      }),
      multi: (ops, options) => this.multi(ops, options),
    });
  }

  private async multi(ops: TransactionOp[], options: RequestOptions): Promise<OpResult[]> {
    if (ops.length === 0) return []; // the server would accept it and burn a zxid
    const spec: RequestSpec<OpResult[]> = {
      type: OpCode.multi,
      op: 'transaction',
      write: (w) => writeMulti(w, ops),
      read: (r) => readMulti(r, ops, (path) => this.paths.toClient(path)),
    };
    // Traced as one 'multi' whose outcome is the transaction's (a failed op fails the trace).
    const commit = (request: RequestSpec<OpResult[]>) =>
      this.submit(request, options, undefined).then((results) => {
        const failure = transactionFailure(results);
        if (failure) throw failure;
        return results;
      });
    if (!operationChannel.hasSubscribers) return commit(spec);
    const ctx = this.traceOf('multi', undefined, ops.length);
    return traceAsync(operationChannel, ctx, () => commit({ ...spec, trace: ctx }));
  }

  // ---- persistent watches ----

  /**
   * Watch `path` until removed: every create, change and delete of the node (and, with
   * `recursive`, of every descendant), plus child changes for a non-recursive watch.
   *
   * @example
   *   await zk.addWatch('/config', (event) => reload(event.path), { recursive: true });
   */
  async addWatch(
    path: string,
    listener: WatchListener,
    options: RequestOptions & { recursive?: boolean } = {},
  ): Promise<void> {
    const serverPath = this.serverPath(path, 'addWatch');
    checkListener(listener, 'addWatch', path);
    if (listener === undefined)
      throw new InvalidArgumentError('listener is required', { op: 'addWatch', path });
    checkBoolean('recursive', options.recursive, 'addWatch');
    const kind: WatchKind = options.recursive ? 'persistentRecursive' : 'persistent';
    const mode = options.recursive ? AddWatchMode.persistentRecursive : AddWatchMode.persistent;
    return this.callWatching(
      {
        type: OpCode.addWatch,
        op: 'addWatch',
        path,
        write: (w) => writePathInt(w, serverPath, mode),
        read: () => undefined,
      },
      options,
      listener,
      serverPath,
      [kind],
    );
  }

  /**
   * Remove watches on `path`: one `listener`, or every listener of `type`, including listeners
   * whose watch-setting request is still in flight (their reply then registers nothing). The
   * listeners go at once, connected or not; the server's watch, shared by every listener of the
   * session on that path and table, is removed only when no listener still registered or in
   * flight needs it (DESIGN.md, Watches). Each removed listener receives a `*WatchRemoved`
   * event. Rejects with `NoWatcherError` when nothing matched.
   */
  async removeWatches(
    path: string,
    type: RemovableWatchType,
    listener?: WatchListener,
    options: RequestOptions = {},
  ): Promise<void> {
    const serverPath = this.serverPath(path, 'removeWatches');
    checkListener(listener, 'removeWatches', path);
    const selected = Object.hasOwn(REMOVABLE_KINDS, type) ? REMOVABLE_KINDS[type] : undefined;
    if (selected === undefined)
      throw new InvalidArgumentError(`unknown watch type ${String(type)}`, { op: 'removeWatches', path });
    const { removed, unused } = this.registry.remove(selected, serverPath, listener);
    if (removed.length === 0) throw new NoWatcherError({ op: 'removeWatches', path });
    try {
      await this.removeServerWatches(path, serverPath, unused, options);
    } finally {
      const byEvent = new Map<EventType, [WatchListener, string][]>();
      for (const { kind, listener: removedListener, path: registeredAs } of removed) {
        const eventType =
          kind === 'child'
            ? EventType.ChildWatchRemoved
            : kind === 'data' || kind === 'exist'
              ? EventType.DataWatchRemoved
              : EventType.PersistentWatchRemoved;
        const targets = byEvent.get(eventType);
        if (targets === undefined) byEvent.set(eventType, [[removedListener, registeredAs]]);
        else targets.push([removedListener, registeredAs]);
      }
      for (const [eventType, targets] of byEvent)
        this.registry.deliverAll(targets, eventType, this.session.keeperState);
    }
  }

  /**
   * Remove the session's server watches in `tables` at `serverPath` (removeWatches, op 18). The
   * local removal stands whatever happens to the server's; resolves when the server has none.
   */
  private async removeServerWatches(
    path: string,
    serverPath: string,
    tables: readonly ServerTable[],
    options: RequestOptions,
  ): Promise<void> {
    // Servers up to 3.8 know Children, Data and Any: Any removes both tables, persistent
    // watches included (ZooKeeper's DataTree.removeWatch).
    let wireType = 0;
    for (const table of tables) wireType |= table === 'child' ? WatcherType.children : WatcherType.data;
    if (wireType === 0) return;
    // failFast: not connected, the server's watches went with the connection, and a reconnect
    // re-registers only what the registry holds (Session.restoreWatches), so nothing is sent.
    try {
      await this.call(
        {
          type: OpCode.removeWatches,
          op: 'removeWatches',
          path,
          write: (w) => writePathInt(w, serverPath, wireType),
          read: () => undefined,
        },
        { ...options, failFast: true },
      );
    } catch (error) {
      // NoWatcher: the server dropped it already (it fired). ConnectionLoss / SessionExpired: it
      // went with the connection or the session.
      if (!(
        error instanceof NoWatcherError ||
        error instanceof ConnectionLossError ||
        error instanceof SessionExpiredError
      ))
        throw error;
    }
  }

  /**
   * Watch a subtree (or, with `recursive: false`, a node and its children) as an async
   * iterator of events, plus `{ type: 'resync' }` after a reconnect or session loss.
   *
   * @example
   *   for await (const event of zk.watch('/config', { signal })) {
   *     if (event.type === 'resync') await reloadAll();
   *     else await reload(event.path);
   *   }
   */
  watch(path: string, options: WatchStreamOptions = {}): AsyncIterableIterator<StreamEvent> {
    validatePath(path, 'watch');
    this.checkOpen('watch', path);
    return watchStream(this, path, options);
  }

  /** Number of locally registered watch listeners (diagnostics). */
  get watchCount(): number {
    return this.registry.size;
  }
}
