/**
 * The session: one connect loop that owns the socket's lifetime, the state machine, and what
 * must be replayed on every new connection (spec/protocol.md §2.5, §10; DESIGN.md).
 *
 * Loop: pick the next host → connect (timeout = session timeout / hosts) → handshake with
 * lastZxid and the session id/password → re-send auth → re-register watches (batched
 * SetWatches/SetWatches2) → flush requests queued while disconnected → wait for the connection
 * to die → SUSPENDED → try again. A client-side timer declares the session LOST when no server
 * has confirmed it for the negotiated timeout; the next connection then starts a new session
 * (kazoo behaviour). Closing is one idempotent path.
 */
import type { Logger } from 'winston';
import { logs } from './logging.js';
import { Connection, type ConnectionOptions, type Endpoint, type Request } from './connection/connection.js';
import {
  AbortError,
  AuthFailedError,
  ClientClosedError,
  ClientNotStartedError,
  ConnectionLossError,
  SessionExpiredError,
  TimeoutError,
} from './errors.js';
import { certificateError } from './connection/certificate-error.js';
import { fourLetterWord } from './connection/four-letter-word.js';
import { shuffled } from './hosts.js';
import { authenticateSasl, type SaslOptions } from './sasl/authenticate.js';
import { setWatchesOpCode, writeSetWatches, type ConnectResponse, type SetWatchesRecord, type WatcherEventRecord } from './protocol/records.js';
import { ConnectionState, KeeperState } from './states.js';
import { startTimer } from './timer.js';
import type { WatchRegistry } from './watch-registry.js';

export interface SessionOptions {
  endpoints: Endpoint[];
  randomizeHosts: boolean;
  /** Requested session timeout, ms. */
  sessionTimeout: number;
  /** Per-attempt connect timeout; default: session timeout / number of hosts. */
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

/** The Java client's SetWatches batch bound: total path characters per message (spec §5.6). */
const SET_WATCHES_BATCH_CHARS = 128 * 1024;
const EMPTY_PASSWORD = Buffer.alloc(16);

export class Session {
  sessionId = 0n;
  password: Buffer = EMPTY_PASSWORD;
  /** The negotiated timeout once connected; the requested one before. */
  negotiatedTimeout: number;
  lastZxid = 0n;
  keeperState: KeeperState = KeeperState.CLOSED;
  state: ConnectionState = ConnectionState.LOST;
  /** The server of the current connection, `host:port`. */
  connectedTo: string | undefined;

  private connection: Connection | undefined;
  /** True once a connection is set up for normal traffic (handshake, SASL, auth, watches) until it dies. */
  private ready = false;
  /** A read-write server found while connected read-only: the next connection goes there. */
  private preferred: Endpoint | undefined;
  /** The session was created by a read-only server (a local session that cannot move). */
  private sessionIsReadOnlyLocal = false;
  private readonly unsent: Request[] = [];
  private readonly credentials: { scheme: string; credential: Buffer }[] = [];
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private terminalError: Error | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: SessionOptions,
    private readonly listener: SessionListener,
  ) {
    this.negotiatedTimeout = options.sessionTimeout;
    if (options.sessionId !== undefined && options.sessionPassword !== undefined) {
      this.sessionId = options.sessionId;
      this.password = options.sessionPassword;
    }
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** Start the connect loop (once) and wait until connected. */
  async start(timeout: number, signal?: AbortSignal): Promise<void> {
    if (this.closing) throw new ClientClosedError({ op: 'start' });
    if (this.terminalError) throw this.terminalError;
    this.loop ??= this.run().catch((error: unknown) => {
      this.options.logger.error(`connect loop failed: ${String(error)}`);
    });
    if (this.ready) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        this.startWaiters.delete(done);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => done(new AbortError(signal?.reason, { op: 'start' }));
      const timer = startTimer(timeout, () => done(new TimeoutError(`not connected within ${timeout} ms`, { op: 'start' })));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      else this.startWaiters.add(done);
    });
  }

  private readonly startWaiters = new Set<(error?: Error) => void>();

  /** Send now when connected, otherwise queue for the next connection (or fail, with `failFast`). */
  submit(request: Request, failFast = false): void {
    if (this.closing) request.reject(new ClientClosedError({ op: request.op, path: request.path }));
    else if (this.terminalError) request.reject(this.terminalError);
    else if (this.loop === undefined) {
      request.reject(new ClientNotStartedError({ op: request.op, path: request.path }));
    } else if (this.ready && this.connection) this.connection.send(request);
    else if (failFast) request.reject(new ConnectionLossError({ op: request.op, path: request.path }, 'not connected (failFast)'));
    else this.unsent.push(request);
  }

  /** Forget a request still waiting for a connection (its caller gave up). */
  withdraw(request: Request): void {
    const index = this.unsent.indexOf(request);
    if (index !== -1) this.unsent.splice(index, 1);
  }

  /** Add credentials for this and every later connection; resolves when the server accepts them. */
  async addAuth(scheme: string, credential: Buffer): Promise<void> {
    if (this.closing) throw new ClientClosedError({ op: 'addAuth' });
    this.credentials.push({ scheme, credential });
    if (this.ready && this.connection) await this.connection.sendAuth(scheme, credential);
  }

  private async run(): Promise<void> {
    const endpoints = this.options.randomizeHosts ? shuffled(this.options.endpoints) : [...this.options.endpoints];
    const connectTimeout = this.options.connectTimeout ?? Math.max(1000, Math.floor(this.options.sessionTimeout / endpoints.length));
    let next = 0;
    let failuresInARow = 0;
    let certificateFailures = 0;
    this.setKeeperState(KeeperState.CONNECTING);
    while (!this.closing && !this.terminalError) {
      if (failuresInARow > 0) {
        // Random back-off avoids a thundering herd; a full failed cycle adds a second.
        const cycleDone = failuresInARow % endpoints.length === 0;
        await this.pause(Math.random() * 1000 + (cycleDone ? 1000 : 0));
        if (this.closing) break;
      }
      let endpoint = endpoints[next]!;
      if (this.preferred) {
        endpoint = this.preferred; // a read-write server found while read-only
        this.preferred = undefined;
      } else {
        next = (next + 1) % endpoints.length;
      }
      if (this.sessionIsReadOnlyLocal) {
        // A session made by a read-only server is local to it and cannot move: start afresh.
        this.expire(KeeperState.EXPIRED_SESSION);
        this.sessionIsReadOnlyLocal = false;
      }
      const connection = Connection.connect({
        endpoint,
        connectTimeout,
        maxIncomingFrame: this.options.maxIncomingFrame,
        tls: this.options.tls,
        logger: this.options.logger,
      });
      this.connection = connection;
      const closed = new Promise<Error | undefined>((resolve) => (this.onConnectionClosed = resolve));
      const requestedSession = this.sessionId;
      let response;
      try {
        response = await connection.handshake({
          lastZxidSeen: this.lastZxid,
          timeout: this.options.sessionTimeout,
          sessionId: requestedSession,
          password: this.password,
          readOnly: this.options.readOnly,
        });
      } catch (error) {
        if (logs(this.options.logger, 'debug')) this.options.logger.debug(`connect to ${endpoint.host}:${endpoint.port} failed: ${(error as Error).message}`);
        connection.close(error as Error);
        failuresInARow++;
        const tlsError = certificateError(error, endpoint);
        certificateFailures = tlsError ? certificateFailures + 1 : 0;
        if (tlsError && certificateFailures >= endpoints.length) {
          // Every server rejected us, or we rejected every server: retrying cannot help.
          this.fail(tlsError, KeeperState.AUTH_FAILED);
          break;
        }
        continue;
      }
      certificateFailures = 0;
      if (this.closing) {
        connection.close(new ClientClosedError());
        break;
      }
      if (requestedSession !== 0n && this.sessionId === 0n && response.timeout > 0) {
        // The lost timer already declared this session LOST while we were re-attaching it; users
        // were told its ephemerals are gone, so end it for real and start a fresh one.
        await connection.closeSession(Math.min(response.timeout, 5000));
        continue;
      }
      if (response.timeout <= 0) {
        connection.close(new SessionExpiredError());
        this.expire(KeeperState.EXPIRED_SESSION);
        failuresInARow = 0;
        continue;
      }
      failuresInARow = 1; // after a working connection drops, the next attempt still backs off
      await this.establish(connection, response, endpoint);
      const reason = await closed;
      this.ready = false;
      this.connectedTo = undefined;
      this.connection = undefined;
      if (reason instanceof AuthFailedError) {
        this.fail(reason, KeeperState.AUTH_FAILED);
        break;
      }
      if (this.closing || reason === undefined) break;
      if (logs(this.options.logger, 'info')) this.options.logger.info(`connection to ${endpoint.host}:${endpoint.port} lost: ${reason.message}`);
      this.setKeeperState(KeeperState.CONNECTING);
      if (this.preferred) failuresInARow = 0; // switching to a read-write server: go at once
      else this.startLostTimer(connection.lastReceivedAt);
    }
  }

  private onConnectionClosed: (reason: Error | undefined) => void = () => {};

  /**
   * The handshake succeeded: authenticate (SASL, then auth packets), re-register watches,
   * flush what waited, and only then report CONNECTED. Order matters (spec §2.5): identity
   * first, so everything after runs with it.
   */
  private async establish(connection: Connection, response: ConnectResponse, endpoint: Endpoint): Promise<void> {
    const sameSession = response.sessionId === this.sessionId;
    if (!sameSession && response.readOnly) this.sessionIsReadOnlyLocal = true;
    this.sessionId = response.sessionId;
    this.password = response.password;
    this.negotiatedTimeout = response.timeout;
    this.connectedTo = `${endpoint.host}:${endpoint.port}`;
    clearTimeout(this.lostTimer);
    connection.activate(
      {
        onNotification: (event) => this.listener.onNotification(event),
        onZxid: (zxid) => {
          if (zxid > this.lastZxid) this.lastZxid = zxid;
        },
        onClose: (reason) => this.onConnectionClosed(reason),
      },
      response.timeout,
    );
    if (this.options.sasl) {
      try {
        await authenticateSasl(connection, this.options.sasl);
      } catch (error) {
        const reason = error instanceof AuthFailedError ? error : new AuthFailedError({ op: 'sasl', cause: error });
        connection.close(reason);
        return;
      }
      if (connection.isClosed) return;
    }
    for (const { scheme, credential } of this.credentials) {
      connection.sendAuth(scheme, credential).catch(() => {}); // a failure closes the connection: AUTH_FAILED
    }
    this.restoreWatches(connection, sameSession);
    for (const request of this.unsent.splice(0)) connection.send(request);
    this.ready = true;
    const keeperState = response.readOnly ? KeeperState.CONNECTED_RO : KeeperState.CONNECTED;
    if (sameSession && this.state === ConnectionState.SUSPENDED) this.options.registry.reconnected(keeperState);
    if (logs(this.options.logger, 'info')) {
      this.options.logger.info(
        `connected to ${this.connectedTo}, session 0x${response.sessionId.toString(16)}, timeout ${response.timeout} ms${response.readOnly ? ' (read-only)' : ''}`,
      );
    }
    this.setKeeperState(keeperState);
    for (const waiter of [...this.startWaiters]) waiter();
    if (response.readOnly) void this.seekReadWriteServer(connection, endpoint);
  }

  /**
   * While connected to a read-only server, probe the other servers with `isro` (100 ms, then
   * doubling up to 60 s, as the Java client does); on a read-write answer, drop this connection
   * and reconnect straight to that server.
   */
  private async seekReadWriteServer(connection: Connection, current: Endpoint): Promise<void> {
    const others = this.options.endpoints.filter((e) => e.host !== current.host || e.port !== current.port);
    let delay = 100;
    for (let i = 0; others.length > 0 && !connection.isClosed && !this.closing; i++) {
      await this.pause(delay, connection.closedPromise);
      if (connection.isClosed || this.closing) return;
      const candidate = others[i % others.length]!;
      const answer = await fourLetterWord(candidate, 'isro', 1000, this.options.tls).catch(() => '');
      if (answer.trim() === 'rw' && !connection.isClosed) {
        this.options.logger.info(`read-write server found at ${candidate.host}:${candidate.port}; switching`);
        this.preferred = candidate;
        connection.close(new ConnectionLossError({}, 'switching to a read-write server'));
        return;
      }
      delay = Math.min(delay * 2, 60_000);
    }
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
    return { relativeZxid: this.lastZxid, data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
  }

  /** SUSPENDED: if no server confirms the session within its timeout, it is LOST. */
  private startLostTimer(lastHeard: number): void {
    clearTimeout(this.lostTimer);
    const remaining = Math.max(0, lastHeard + this.negotiatedTimeout - Date.now());
    this.lostTimer = setTimeout(() => {
      if (!this.ready && !this.closing) {
        this.options.logger.warn(`no server confirmed session 0x${this.sessionId.toString(16)} within ${this.negotiatedTimeout} ms`);
        this.expire(KeeperState.EXPIRED_SESSION);
        this.setKeeperState(KeeperState.CONNECTING);
      }
    }, remaining);
    this.lostTimer.unref();
  }

  /** The session is gone: forget it, fail what waited for it, tell every watcher. */
  private expire(state: KeeperState): void {
    clearTimeout(this.lostTimer);
    if (this.sessionId === 0n) return;
    this.options.logger.warn(`session 0x${this.sessionId.toString(16)} expired`);
    this.sessionId = 0n;
    this.password = EMPTY_PASSWORD;
    this.setKeeperState(state);
    for (const request of this.unsent.splice(0)) request.reject(new SessionExpiredError({ op: request.op, path: request.path }));
    this.options.registry.sessionLost(state);
  }

  /** A terminal failure (auth failed): nothing will work again. */
  private fail(error: Error, state: KeeperState): void {
    this.terminalError = error;
    clearTimeout(this.lostTimer);
    this.setKeeperState(state);
    for (const request of this.unsent.splice(0)) request.reject(error);
    for (const waiter of [...this.startWaiters]) waiter(error);
    this.options.registry.sessionLost(state);
  }

  private setKeeperState(keeperState: KeeperState): void {
    if (keeperState === this.keeperState) return;
    this.keeperState = keeperState;
    let state: ConnectionState;
    if (keeperState === KeeperState.CONNECTED || keeperState === KeeperState.CONNECTED_RO) state = ConnectionState.CONNECTED;
    else if (keeperState === KeeperState.CONNECTING) state = this.state === ConnectionState.LOST ? ConnectionState.LOST : ConnectionState.SUSPENDED;
    else state = ConnectionState.LOST;
    this.state = state;
    this.listener.onStateChange(state, keeperState);
  }

  /** An interruptible sleep: `close()` wakes the connect loop's; `until` ends it early too. */
  private pause(ms: number, until?: Promise<unknown>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      // Not unref'd: between connections this timer is what keeps a started client's process
      // alive (a live socket does it otherwise), as it should until close().
      const timer = setTimeout(done, ms);
      if (until) until.then(done, done);
      else this.wake = done;
    });
  }

  /** Close the session (closeSession to the server) and stop for good. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.lostTimer);
    this.wake?.();
    const connection = this.connection;
    if (connection) {
      // The socket is destroyed when these return; its handle is released in this loop turn.
      if (connection.isActive) await connection.closeSession(Math.min(this.negotiatedTimeout, 5000));
      else connection.close(new ClientClosedError());
    }
    await this.loop;
    for (const request of this.unsent.splice(0)) request.reject(new ClientClosedError({ op: request.op, path: request.path }));
    if (this.startWaiters.size > 0) {
      const closed = new ClientClosedError();
      for (const waiter of [...this.startWaiters]) waiter(closed);
    }
    // A terminal failure (AUTH_FAILED) stays the reported state; closing adds nothing to it.
    if (!this.terminalError) this.setKeeperState(KeeperState.CLOSED);
  }
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
