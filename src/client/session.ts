/**
 * The session shell: it runs the pure connection state machine (session-machine.ts) and executes
 * its effects — sockets, timers, reports — and owns what must be replayed on every new
 * connection: SASL and auth credentials, watches, requests queued while disconnected (DESIGN.md,
 * "Session and state machine").
 *
 * Per connection: connect → handshake with lastZxid and the session id/password → SASL → auth
 * packets → re-register watches (batched SetWatches/SetWatches2) → flush queued requests →
 * CONNECTED. Every rule about which host, how long to wait and when the session is LOST lives
 * in the machine; this file only turns its effects into I/O and I/O into its events. Events are
 * queued and applied one at a time, so an effect that reports synchronously (closing a socket)
 * never re-enters a transition. Closing is one idempotent path.
 */
import type { Logger } from 'winston';
import { logs } from './logging.js';
import {
  Connection,
  type ConnectionOptions,
  type Endpoint,
  type LivenessTimers,
  type Request,
} from './connection/connection.js';
import {
  AbortError,
  AuthFailedError,
  ClientClosedError,
  ClientNotStartedError,
  ConnectFailedError,
  ConnectionLossError,
  SessionExpiredError,
  TimeoutError,
  type HostFailure,
} from './errors.js';
import { certificateError } from './connection/certificate-error.js';
import { connectChannel, traceAsync, type ConnectContext } from './diagnostics.js';
import { fourLetterWord } from './connection/four-letter-word.js';
import { shuffled } from './hosts.js';
import { authenticateSasl, type SaslOptions } from './sasl/authenticate.js';
import {
  setWatchesOpCode,
  writeSetWatches,
  type SetWatchesRecord,
  type WatcherEventRecord,
} from './protocol/records.js';
import {
  initialState,
  transition,
  type Effect,
  type MachineState,
  type SessionEvent,
  type TimerName,
} from './session-machine.js';
import { ConnectionState, KeeperState } from './states.js';
import { startTimer, type Timer } from './timer.js';
import { sleep } from './retry.js';
import type { WatchRegistry } from './watch-registry.js';

export interface SessionOptions {
  endpoints: Endpoint[];
  randomizeHosts: boolean;
  /** Requested session timeout, ms. */
  sessionTimeout: number;
  /** Per-attempt connect timeout; default: session timeout / number of hosts (session-machine.ts). */
  connectTimeout: number | undefined;
  readOnly: boolean;
  tls: ConnectionOptions['tls'];
  maxIncomingFrame: number;
  /** Resume this session instead of starting a new one (kazoo's `client_id`). */
  sessionId: bigint | undefined;
  sessionPassword: Buffer | undefined;
  /** SASL credentials, authenticated on every connection before anything else. */
  sasl: SaslOptions | undefined;
  registry: WatchRegistry;
  logger: Logger;
}

export interface SessionListener {
  onStateChange(state: ConnectionState, keeperState: KeeperState): void;
  onNotification(event: WatcherEventRecord): void;
}

/** The Java client's SetWatches batch bound: total path characters per message (ClientCnxn `SET_WATCHES_MAX_LENGTH`). */
const SET_WATCHES_BATCH_CHARS = 128 * 1024;

/** An `addAuth` credential: sent on every connection; its caller waits until a server accepts it once. */
interface Credential {
  readonly scheme: string;
  readonly credential: Buffer;
  waiter: { resolve(): void; reject(error: Error): void } | undefined;
  /** Sent to a server at least once (it may have it): kept for later connections. */
  sent: boolean;
}

export class Session {
  lastZxid = 0n;

  private machine: MachineState;
  /** The connection of the machine's current attempt. */
  private connection: Connection | undefined;
  private readonly events: SessionEvent[] = [];
  private dispatching = false;
  private readonly timers = new Map<TimerName, Timer>();
  private started = false;
  private readonly unsent: Request[] = [];
  private readonly credentials: Credential[] = [];
  private closing: Promise<void> | undefined;
  /** The closeSession in flight when `close()` was called. */
  private closeWork: Promise<void> | undefined;
  private terminalError: Error | undefined;

  constructor(
    private readonly options: SessionOptions,
    private readonly listener: SessionListener,
  ) {
    const endpoints = options.randomizeHosts ? shuffled(options.endpoints) : [...options.endpoints];
    const resume =
      options.sessionId !== undefined && options.sessionPassword !== undefined
        ? { id: options.sessionId, password: options.sessionPassword }
        : undefined;
    this.distinctHosts = new Set(endpoints.map(({ host, port }) => `${host}:${port}`)).size;
    this.machine = initialState(
      { endpoints, sessionTimeout: options.sessionTimeout, connectTimeout: options.connectTimeout },
      resume,
    );
  }

  get sessionId(): bigint {
    return this.machine.sessionId;
  }

  get password(): Buffer {
    return this.machine.password;
  }

  /** The negotiated timeout once connected; the requested one before. */
  get negotiatedTimeout(): number {
    return this.machine.negotiatedTimeout ?? this.options.sessionTimeout;
  }

  get keeperState(): KeeperState {
    return this.machine.keeperState;
  }

  get state(): ConnectionState {
    return this.machine.state;
  }

  /** The server of the current connection, `host:port`. */
  get connectedTo(): string | undefined {
    const { phase } = this.machine;
    return phase.name === 'handshaking' || phase.name === 'connected'
      ? `${phase.endpoint.host}:${phase.endpoint.port}`
      : undefined;
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** Set up for normal traffic (handshake, SASL, auth, watches done) until the connection dies. */
  private get ready(): boolean {
    return this.machine.phase.name === 'connected';
  }

  /**
   * Start connecting (once) and wait until connected. A timeout or abort says why no server was
   * reached (`cause`: `ConnectFailedError`); with `failFast`, reject as soon as every server
   * failed once.
   */
  async start(timeout: number, signal?: AbortSignal, failFast = false): Promise<void> {
    if (this.closing) throw new ClientClosedError({ op: 'start' });
    if (this.terminalError) throw this.terminalError;
    if (!this.started) {
      this.started = true;
      this.dispatch({ type: 'start' });
    }
    if (this.ready) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        this.startWaiters.delete(done);
        this.failFastWaiters.delete(done);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () =>
        done(new AbortError(signal?.reason, { op: 'start', cause: this.connectFailure() }));
      const timer = startTimer(timeout, () => {
        const cause = this.connectFailure();
        const why = cause ? `: ${cause.message}` : '';
        done(new TimeoutError(`not connected within ${timeout} ms${why}`, { op: 'start', cause }));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      else {
        this.startWaiters.add(done);
        if (failFast) this.failFastWaiters.add(done);
      }
    });
  }

  /** Why no connection worked since the last one that did: the last error per host tried. */
  private connectFailure(op?: string): ConnectFailedError | undefined {
    return this.hostFailures.size === 0
      ? undefined
      : new ConnectFailedError([...this.hostFailures.values()], { op });
  }

  /** Record why connecting to `endpoint` failed; reject `failFast` starts once every host failed. */
  private hostFailed(endpoint: Endpoint, error: Error): void {
    // A socket error (ECONNREFUSED, ENOTFOUND…) says more than the connection loss it caused.
    const reason = error instanceof ConnectionLossError && error.cause instanceof Error ? error.cause : error;
    this.hostFailures.set(`${endpoint.host}:${endpoint.port}`, { ...endpoint, error: reason });
    if (this.failFastWaiters.size > 0 && this.hostFailures.size >= this.distinctHosts) {
      const failure = this.connectFailure('start')!;
      for (const waiter of [...this.failFastWaiters]) waiter(failure);
    }
  }

  /** The last connect error per host (`host:port`) since a connection last worked. */
  private readonly hostFailures = new Map<string, HostFailure>();
  private readonly failFastWaiters = new Set<(error?: Error) => void>();
  private readonly distinctHosts: number;

  private readonly startWaiters = new Set<(error?: Error) => void>();
  /** A connection was ready once: later connect attempts are reconnects (for traces). */
  private everConnected = false;

  /** Send now when connected, otherwise queue for the next connection (or fail, with `failFast`). */
  submit(request: Request, failFast = false): void {
    if (this.closing) request.reject(new ClientClosedError({ op: request.op, path: request.path }));
    else if (this.terminalError) request.reject(this.terminalError);
    else if (!this.started) {
      request.reject(new ClientNotStartedError({ op: request.op, path: request.path }));
    } else if (this.ready && this.connection) this.connection.send(request);
    else if (failFast)
      request.reject(
        new ConnectionLossError(
          { op: request.op, path: request.path, outcomeUnknown: false },
          'not connected (failFast)',
        ),
      );
    else this.unsent.push(request);
  }

  /** Whether `request` is still waiting for a connection (not sent yet). */
  isQueued(request: Request): boolean {
    return this.unsent.includes(request);
  }

  /**
   * Forget a request still waiting for a connection (its caller gave up). False when it was
   * already sent: its outcome is then unknown.
   */
  withdraw(request: Request): boolean {
    const index = this.unsent.indexOf(request);
    if (index !== -1) this.unsent.splice(index, 1);
    return index !== -1;
  }

  /**
   * Add credentials for this and every later connection. Resolves once a server accepted them:
   * at once when connected, else on the next connection (a connection lost before the answer
   * sends them again). Rejects with `AuthFailedError` when a server refuses them (the client is
   * then AUTH_FAILED), or `ClientClosedError` when the client closes first.
   */
  addAuth(scheme: string, credential: Buffer, signal?: AbortSignal): Promise<void> {
    if (this.closing) return Promise.reject(new ClientClosedError({ op: 'addAuth' }));
    if (this.terminalError) return Promise.reject(this.terminalError);
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason, { op: 'addAuth' }));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (entry.waiter === undefined) return;
        entry.waiter = undefined;
        // Never sent: withdrawn, no server will see it. Sent: a server may have it (auth is per
        // connection), so later connections get it too, and the outcome is unknown.
        if (!entry.sent) this.credentials.splice(this.credentials.indexOf(entry), 1);
        reject(new AbortError(signal?.reason, { op: 'addAuth', outcomeUnknown: entry.sent }));
      };
      const settled = () => signal?.removeEventListener('abort', onAbort);
      const entry: Credential = {
        scheme,
        credential,
        sent: false,
        waiter: {
          resolve: () => (settled(), resolve()),
          reject: (error) => (settled(), reject(error)),
        },
      };
      this.credentials.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.ready && this.connection) this.sendCredential(this.connection, entry);
    });
  }

  private sendCredential(connection: Connection, entry: Credential): void {
    entry.sent = true;
    connection.sendAuth(entry.scheme, entry.credential).then(
      () => settleCredential(entry),
      (error: Error) => {
        // Lost with the connection: the next connection sends it again. Anything else is the answer.
        if (!(error instanceof ConnectionLossError)) settleCredential(entry, error);
      },
    );
  }

  // ---- the machine and its effects ----

  /** Apply `event`, then any event an effect reported meanwhile, one at a time. */
  private dispatch(event: SessionEvent): void {
    this.events.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.events.shift(); next !== undefined; next = this.events.shift()) {
        const { state, effects } = transition(this.machine, next);
        this.machine = state;
        for (const effect of effects) {
          try {
            this.execute(effect);
          } catch (error) {
            // A throwing state listener must not leave the machine half-applied.
            this.options.logger.error(`session effect ${effect.type} failed: ${String(error)}`);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private execute(effect: Effect): void {
    switch (effect.type) {
      case 'connect':
        this.connect(effect);
        return;
      case 'activate':
        this.activate(this.connection!, effect.attempt, effect.timers);
        return;
      case 'establish':
        void this.establish(this.connection!, effect.attempt, effect.sameSession);
        return;
      case 'ready':
        this.onReady(this.connection!, effect.readOnly, effect.reconnected);
        return;
      case 'closeConnection':
        this.connection?.close(
          effect.reason === 'expired'
            ? new SessionExpiredError()
            : effect.reason === 'switching'
              ? new ConnectionLossError({}, 'switching to a read-write server')
              : new ClientClosedError(),
        );
        return;
      case 'closeSession':
        this.closeSession(this.connection!, effect.attempt);
        return;
      case 'startTimer':
        this.startTimer(effect.timer, effect.ms);
        return;
      case 'cancelTimer':
        this.timers.get(effect.timer)?.cancel();
        this.timers.delete(effect.timer);
        return;
      case 'expire':
        this.options.logger.warn(`session 0x${effect.sessionId.toString(16)} expired`);
        for (const request of this.unsent.splice(0))
          request.reject(new SessionExpiredError({ op: request.op, path: request.path }));
        this.options.registry.sessionLost(KeeperState.EXPIRED_SESSION);
        return;
      case 'fail':
        this.fail(effect.error);
        return;
      case 'emit':
        this.listener.onStateChange(effect.state, effect.keeperState);
        return;
    }
  }

  private connect(effect: Extract<Effect, { type: 'connect' }>): void {
    const { attempt, endpoint } = effect;
    const connection = Connection.connect({
      endpoint,
      connectTimeout: effect.timeoutMs,
      maxIncomingFrame: this.options.maxIncomingFrame,
      tls: this.options.tls,
      logger: this.options.logger,
    });
    this.connection = connection;
    const handshake = () =>
      connection.handshake({
        lastZxidSeen: this.lastZxid,
        timeout: effect.sessionTimeout,
        sessionId: effect.sessionId,
        password: effect.password,
        readOnly: this.options.readOnly,
      });
    (connectChannel.hasSubscribers ? this.traceConnect(effect, handshake) : handshake()).then(
      (response) => this.dispatch({ type: 'connectResponse', attempt, ...response }),
      (error: Error) => {
        if (logs(this.options.logger, 'debug'))
          this.options.logger.debug(`connect to ${endpoint.host}:${endpoint.port} failed: ${error.message}`);
        connection.close(error);
        const tlsError = certificateError(error, endpoint);
        this.hostFailed(endpoint, tlsError ?? error);
        this.dispatch({ ...this.closedEvent(connection, attempt, error), certificateError: tlsError });
      },
    );
  }

  /** One connect trace: this attempt's server and session, and what the server granted. */
  private traceConnect(
    effect: Extract<Effect, { type: 'connect' }>,
    handshake: () => ReturnType<Connection['handshake']>,
  ): ReturnType<Connection['handshake']> {
    const ctx: ConnectContext = {
      serverAddress: effect.endpoint.host,
      serverPort: effect.endpoint.port,
      attempt: effect.attempt,
      reconnect: this.everConnected,
      tls: this.options.tls !== undefined,
      sessionId: effect.sessionId,
    };
    return traceAsync(connectChannel, ctx, handshake, (done, response) => {
      done.sessionId = response.sessionId;
      done.sessionTimeout = response.timeout; // 0: the session had expired
      done.readOnly = response.readOnly;
    });
  }

  private closedEvent(
    connection: Connection,
    attempt: number,
    reason: Error | undefined,
  ): Extract<SessionEvent, { type: 'connectionClosed' }> {
    const kind = reason === undefined ? 'closed' : reason instanceof AuthFailedError ? 'authFailed' : 'lost';
    return {
      type: 'connectionClosed',
      attempt,
      kind,
      error: reason,
      lastReceivedAt: connection.lastReceivedAt,
      now: Date.now(),
      random: Math.random(),
    };
  }

  private activate(connection: Connection, attempt: number, timers: LivenessTimers): void {
    connection.activate(
      {
        onNotification: (event) => this.listener.onNotification(event),
        onZxid: (zxid) => {
          if (zxid > this.lastZxid) this.lastZxid = zxid;
        },
        onClose: (reason) => {
          if (reason && !this.closing && logs(this.options.logger, 'info'))
            this.options.logger.info(`connection to ${connection.describe()} lost: ${reason.message}`);
          this.dispatch(this.closedEvent(connection, attempt, reason));
        },
      },
      timers,
    );
  }

  /**
   * The handshake succeeded: authenticate (SASL, then auth packets), re-register watches,
   * flush what waited, and only then report CONNECTED. Order matters: identity first, so
   * everything after runs with it (the Java client's `primeConnection` does the same).
   */
  private async establish(connection: Connection, attempt: number, sameSession: boolean): Promise<void> {
    if (this.options.sasl) {
      try {
        await authenticateSasl(connection, this.options.sasl);
      } catch (error) {
        const reason =
          error instanceof AuthFailedError ? error : new AuthFailedError({ op: 'sasl', cause: error });
        connection.close(reason);
        return;
      }
      if (connection.isClosed) return;
    }
    for (const entry of this.credentials) this.sendCredential(connection, entry); // a refusal closes the connection: AUTH_FAILED
    this.restoreWatches(connection, sameSession);
    for (const request of this.unsent.splice(0)) connection.send(request);
    this.dispatch({ type: 'established', attempt });
  }

  private onReady(connection: Connection, readOnly: boolean, reconnected: boolean): void {
    this.everConnected = true;
    if (reconnected)
      this.options.registry.reconnected(readOnly ? KeeperState.CONNECTED_RO : KeeperState.CONNECTED);
    if (logs(this.options.logger, 'info')) {
      this.options.logger.info(
        `connected to ${this.connectedTo}, session 0x${this.sessionId.toString(16)}, timeout ${this.negotiatedTimeout} ms${readOnly ? ' (read-only)' : ''}`,
      );
    }
    this.hostFailures.clear();
    for (const waiter of [...this.startWaiters]) waiter();
    if (readOnly) void this.seekReadWriteServer(connection);
  }

  /**
   * While connected to a read-only server, probe the other servers with `isro` (100 ms, then
   * doubling up to 60 s, as the Java client's `pingRwServer` does); on a read-write answer, tell
   * the machine, which drops this connection and reconnects straight to that server.
   */
  private async seekReadWriteServer(connection: Connection): Promise<void> {
    const { phase } = this.machine;
    if (phase.name !== 'connected') return;
    const { attempt, endpoint: current } = phase;
    const others = this.options.endpoints.filter((e) => e.host !== current.host || e.port !== current.port);
    let delay = 100;
    const closed = new AbortController();
    void connection.closedPromise.then(() => closed.abort());
    for (let i = 0; others.length > 0 && !connection.isClosed; i++) {
      await sleep(delay, closed.signal).catch(() => {}); // cut short when the connection closes
      if (connection.isClosed) return;
      const candidate = others[i % others.length]!;
      const answer = await fourLetterWord(candidate, 'isro', 1000, this.options.tls).catch(() => '');
      if (answer.trim() === 'rw' && !connection.isClosed) {
        this.options.logger.info(`read-write server found at ${candidate.host}:${candidate.port}; switching`);
        this.dispatch({ type: 'readWriteServerFound', attempt, endpoint: candidate });
        return;
      }
      delay = Math.min(delay * 2, 60_000);
    }
  }

  /** closeSession (the server deletes the session's ephemerals before it answers), then the socket goes. */
  private closeSession(connection: Connection, attempt: number): void {
    this.closeWork = connection
      .closeSession(Math.min(this.negotiatedTimeout, 5000))
      .then(() => this.dispatch(this.closedEvent(connection, attempt, undefined)));
  }

  private startTimer(name: TimerName, ms: number): void {
    this.timers.get(name)?.cancel();
    const fire = () => {
      this.timers.delete(name);
      if (name === 'lost')
        this.options.logger.warn(
          `no server confirmed session 0x${this.sessionId.toString(16)} within ${this.negotiatedTimeout} ms`,
        );
      this.dispatch({ type: 'timerFired', timer: name });
    };
    // The back-off timer is what keeps a started client's process alive between connections (a
    // live socket does it otherwise), as it should until close(); the LOST timer never runs alone.
    this.timers.set(name, startTimer(ms, fire, { unref: name === 'lost' }));
  }

  /**
   * Re-register watches: everything on a re-attached session (the server fires what was missed
   * since lastZxid), only persistent ones on a new session (one-shot ones were dropped at LOST).
   */
  private restoreWatches(connection: Connection, sameSession: boolean): void {
    const paths = this.options.registry.paths(); // server paths (DESIGN.md, Watches)
    const lists: (keyof Omit<SetWatchesRecord, 'relativeZxid'>)[] = sameSession
      ? ['data', 'exist', 'child', 'persistent', 'persistentRecursive']
      : ['persistent', 'persistentRecursive'];
    let batch = this.emptyBatch();
    let chars = 0;
    const send = () => {
      connection.send(setWatchesRequest(batch, this.options.logger));
      batch = this.emptyBatch();
      chars = 0;
    };
    for (const list of lists) {
      for (const serverPath of paths[list]) {
        batch[list].push(serverPath);
        chars += serverPath.length;
        if (chars >= SET_WATCHES_BATCH_CHARS) send();
      }
    }
    if (chars > 0) send();
  }

  private emptyBatch(): SetWatchesRecord {
    return {
      relativeZxid: this.lastZxid,
      data: [],
      exist: [],
      child: [],
      persistent: [],
      persistentRecursive: [],
    };
  }

  /** A terminal failure (auth failed): nothing will work again. */
  private fail(error: Error): void {
    this.terminalError = error;
    for (const request of this.unsent.splice(0)) request.reject(error);
    for (const waiter of [...this.startWaiters]) waiter(error);
    this.rejectCredentials(error);
    this.options.registry.sessionLost(KeeperState.AUTH_FAILED);
  }

  private rejectCredentials(error: Error): void {
    for (const entry of this.credentials) settleCredential(entry, error);
  }

  /** Close the session (closeSession to the server) and stop for good. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.dispatch({ type: 'close' });
    // The socket is destroyed when this settles; its handle is released in this loop turn.
    await this.closeWork;
    // Errors are built only for someone to tell (each captures a stack: a normal close builds none).
    for (const request of this.unsent.splice(0))
      request.reject(new ClientClosedError({ op: request.op, path: request.path }));
    if (this.startWaiters.size > 0) {
      const closed = new ClientClosedError();
      for (const waiter of [...this.startWaiters]) waiter(closed);
    }
    if (this.credentials.some((entry) => entry.waiter !== undefined))
      this.rejectCredentials(new ClientClosedError({ op: 'addAuth' }));
    this.dispatch({ type: 'closed' });
  }
}

function settleCredential(entry: Credential, error?: Error): void {
  const waiter = entry.waiter;
  entry.waiter = undefined;
  if (error) waiter?.reject(error);
  else waiter?.resolve();
}

function setWatchesRequest(record: SetWatchesRecord, logger: Logger): Request<void> {
  return {
    type: setWatchesOpCode(record),
    op: 'setWatches',
    write: (w) => writeSetWatches(w, record),
    read: () => undefined,
    resolve: () => {},
    reject: (error) => logger.warn(`re-registering watches failed: ${error.message}`),
  };
}
