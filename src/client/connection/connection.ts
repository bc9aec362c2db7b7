/**
 * One TCP (or TLS) socket to one server: the handshake, framing, the pending-reply FIFO, the
 * auth side channel, pings and the read timeout (as ZooKeeper's ClientCnxn / ClientCnxnSocketNIO do; DESIGN.md).
 *
 * The connection knows nothing about sessions, watches or chroot. It encodes requests handed
 * to it straight into one output buffer (flushed once per tick), matches replies by xid, and
 * reports notifications and its own death to the session layer through `ConnectionEvents`.
 * Errors never escape the socket reader as throws: a bad frame closes the connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'winston';
import {
  AuthFailedError,
  ConnectionLossError,
  DataTooLargeError,
  ProtocolError,
  TimeoutError,
  ZooKeeperError,
  errorFromCode,
  ErrorCode,
} from '../errors.js';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import { OpCode, Xid, MAX_FRAME_PAYLOAD } from '../protocol/op-codes.js';
import {
  readConnectResponse,
  readWatcherEvent,
  writeAuth,
  writeConnectRequest,
  writeRequestHeader,
  type ConnectRequest,
  type ConnectResponse,
  type WatcherEventRecord,
} from '../protocol/records.js';
import type { OperationContext } from '../diagnostics.js';
import { startTimer } from '../timer.js';
import { FrameSplitter } from './frame-splitter.js';
import { PendingQueue } from './pending-queue.js';

/**
 * A request as the connection sees it. The session layer creates one per call; the
 * connection assigns its xid when it writes it.
 */
export interface Request<T = unknown> {
  readonly type: number;
  /** For error messages: the operation name and the (client-visible) path. */
  readonly op: string;
  readonly path?: string | undefined;
  /** Writes the request record (the header is written by the connection). */
  write(w: JuteWriter): void;
  /** Decodes the success reply body. */
  read(r: JuteReader): T;
  /**
   * Called synchronously when the reply arrives, before any later frame is dispatched, so
   * watch bookkeeping happens in server order. Gets the server error code (0 on success) and the
   * zxid the reply carries.
   */
  onReply?(err: number, zxid: bigint): void;
  resolve(value: T): void;
  reject(error: Error): void;
  /** Present only while someone traces operations: the connection fills in xid, server, session and zxid. */
  trace?: OperationContext | undefined;
}

interface Pending {
  xid: number;
  request: Request;
}

interface PendingAuth {
  resolve(): void;
  reject(error: Error): void;
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface ConnectionOptions {
  endpoint: Endpoint;
  /** How long to wait for the TCP connect plus the ConnectResponse. */
  connectTimeout: number;
  /** Incoming frame cap; large getChildren / multiRead replies can exceed the 1 MiB request limit. */
  maxIncomingFrame: number;
  /** TLS options; plain TCP when absent. */
  tls?: tls.ConnectionOptions | undefined;
  logger: Logger;
}

export interface ConnectionEvents {
  onNotification(event: WatcherEventRecord): void;
  /** The zxid of every normal reply with zxid > 0, for `lastZxid` bookkeeping. */
  onZxid(zxid: bigint): void;
  /**
   * Called exactly once, when the connection is closed for any reason; `reason` is undefined
   * when it closed on purpose after closeSession.
   */
  onClose(reason: Error | undefined): void;
}

/** A live connection's timers, ms. */
export interface LivenessTimers {
  /** Close when nothing arrived for this long. */
  readTimeout: number;
  /** Send a ping when nothing was sent for this long. */
  pingInterval: number;
}

const MAX_XID = 0x7fffffff;

export class Connection {
  // Both grow on demand; idle sessions stay small.
  private readonly writer = new JuteWriter(1024);
  private readonly pending = new PendingQueue<Pending>(16);
  private readonly pendingAuth: PendingAuth[] = [];
  private flushScheduled = false;
  private nextXid = 1;
  private closed = false;
  private closeReason: Error | undefined;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private events: ConnectionEvents | undefined;
  private readonly splitter: FrameSplitter;
  /** The session and server mode the ConnectResponse granted (for traces). */
  private granted = { sessionId: 0n, readOnly: false };
  private handshakeWaiter:
    { resolve(response: ConnectResponse): void; reject(error: Error): void } | undefined;
  /** Settled when the socket is fully closed. */
  readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    this.splitter = new FrameSplitter(options.maxIncomingFrame, (buffer, start, end) =>
      this.onFrame(buffer, start, end),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Errors are built only when they are news (building one captures a stack trace).
    // Named after the socket's error (a refused connect is not a lost connection).
    socket.on(
      'error',
      (error) => this.closed || this.close(new ConnectionLossError({ cause: error }, error.message)),
    );
    socket.on(
      'end',
      () => this.closed || this.close(new ConnectionLossError({}, 'the server closed the connection')),
    );
    socket.on('close', () => {
      if (!this.closed) this.close(new ConnectionLossError({}, 'the connection closed'));
      this.markClosed();
    });
  }

  /** Open a socket to one server; call `handshake` next. */
  static connect(options: ConnectionOptions): Connection {
    const { host, port } = options.endpoint;
    const socket = options.tls ? tls.connect({ ...options.tls, host, port }) : net.connect({ host, port });
    return new Connection(socket, options);
  }

  /**
   * Send the ConnectRequest and wait for the ConnectResponse. Nothing else is written until it
   * arrives (pipelining races with the server's close of an expired session; DESIGN.md, Session and state machine).
   * Rejects when the server closes, or stays silent past `connectTimeout`.
   */
  handshake(request: ConnectRequest): Promise<ConnectResponse> {
    if (this.closed) return Promise.reject(new ConnectionLossError({}, 'the connection closed'));
    return new Promise<ConnectResponse>((resolve, reject) => {
      const timer = startTimer(this.options.connectTimeout, () =>
        this.close(
          new TimeoutError(
            `no connect response from ${this.describe()} within ${this.options.connectTimeout} ms`,
          ),
        ),
      );
      this.handshakeWaiter = {
        resolve: (response) => {
          timer.cancel();
          resolve(response);
        },
        reject: (error) => {
          timer.cancel();
          reject(error);
        },
      };
      this.writer.int(0);
      writeConnectRequest(this.writer, request);
      this.writer.intAt(0, this.writer.length - 4);
      // Over TLS, write only once the handshake is done, so a refused client certificate
      // surfaces as the server's alert rather than as a failed write.
      // (`handshake` runs right after `connect`, before any I/O: the TLS handshake is still ahead.)
      if (this.options.tls) this.socket.once('secureConnect', () => this.flush());
      else this.flush();
    });
  }

  /**
   * Start normal operation: route events, ping after `pingInterval` ms without sending, and close
   * after `readTimeout` ms without receiving (the session machine derives both from the
   * negotiated timeout, as ClientCnxn does).
   */
  activate(events: ConnectionEvents, { readTimeout, pingInterval: pingAfter }: LivenessTimers): void {
    this.events = events;
    if (this.closed) {
      // Died between the handshake and now: report it, so the session never waits on a dead socket.
      events.onClose(this.closeReason);
      return;
    }
    const tick = Math.max(50, Math.min(pingAfter / 2, 1000));
    this.lastReceived = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastReceived > readTimeout) {
        this.close(
          new ConnectionLossError(
            {},
            `no reply from the server for ${Math.round(now - this.lastReceived)} ms`,
          ),
        );
      } else if (now - this.lastSent >= pingAfter) {
        this.writePing();
      }
    }, tick);
    this.timer.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Handshake done, activated and still open: the server holds a session for this connection. */
  get isActive(): boolean {
    return this.events !== undefined && !this.closed;
  }

  /** When the last byte arrived from the server (the session is alive at least until then + timeout). */
  get lastReceivedAt(): number {
    return this.lastReceived;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Encode and queue a request; its reply settles it. */
  send(request: Request): void {
    if (this.closed) {
      request.reject(new ConnectionLossError({ op: request.op, path: request.path }));
      return;
    }
    const xid = this.nextXid;
    this.nextXid = xid === MAX_XID ? 1 : xid + 1;
    const start = this.writer.length;
    this.writer.int(0);
    writeRequestHeader(this.writer, xid, request.type);
    request.write(this.writer);
    const payload = this.writer.length - start - 4;
    if (payload > MAX_FRAME_PAYLOAD) {
      // The server would drop the connection without a reply; refuse it here instead.
      this.writer.truncate(start);
      request.reject(
        new DataTooLargeError(payload, MAX_FRAME_PAYLOAD, { op: request.op, path: request.path }),
      );
      return;
    }
    this.writer.intAt(start, payload);
    if (request.trace !== undefined) this.traceSent(request.trace, xid);
    this.pending.push({ xid, request });
    this.scheduleFlush();
  }

  private traceSent(trace: OperationContext, xid: number): void {
    trace.xid = xid;
    trace.serverAddress = this.options.endpoint.host;
    trace.serverPort = this.options.endpoint.port;
    trace.sessionId = this.granted.sessionId;
    trace.readOnly = this.granted.readOnly;
  }

  /** Send an auth packet (xid -4). Its reply is matched outside the FIFO: the server answers auth at once. */
  sendAuth(scheme: string, credential: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionLossError({ op: 'addAuth' }));
    return new Promise((resolve, reject) => {
      this.pendingAuth.push({ resolve, reject });
      const start = this.writer.length;
      this.writer.int(0);
      writeRequestHeader(this.writer, Xid.auth, OpCode.auth);
      writeAuth(this.writer, scheme, credential);
      this.writer.intAt(start, this.writer.length - start - 4);
      this.scheduleFlush();
    });
  }

  /** A ping is a bare request header with xid -2; its reply only proves the server is alive. */
  private writePing(): void {
    this.writer.int(8);
    writeRequestHeader(this.writer, Xid.ping, OpCode.ping);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Every request issued in this tick (including promise continuations) goes out in one write.
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.writer.length === 0) return;
    this.socket.write(this.writer.copy());
    this.writer.reset();
    this.lastSent = Date.now();
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    try {
      this.splitter.push(chunk);
    } catch (error) {
      this.protocolFailure(this.handshakeWaiter ? notZooKeeper(this.describe(), chunk, error) : error);
    }
  }

  private protocolFailure(error: unknown): void {
    const reason =
      error instanceof ZooKeeperError ? error : new ProtocolError(String(error), { cause: error });
    this.options.logger.error(`protocol error from ${this.describe()}: ${reason.message}`);
    this.close(new ConnectionLossError({ cause: reason }, `protocol error: ${reason.message}`));
  }

  private onFrame(buffer: Buffer, start: number, end: number): void {
    if (this.closed) return;
    const reader = new JuteReader(buffer, start, end);
    if (this.handshakeWaiter) {
      // A malformed response throws here and the close rejects `open`.
      const response = readConnectResponse(reader);
      this.granted = { sessionId: response.sessionId, readOnly: response.readOnly };
      const waiter = this.handshakeWaiter;
      this.handshakeWaiter = undefined;
      waiter.resolve(response);
      return;
    }
    const xid = reader.int();
    const zxid = reader.long();
    const err = reader.int();
    switch (xid) {
      case Xid.notification:
        this.events?.onNotification(readWatcherEvent(reader));
        return;
      case Xid.ping:
        return;
      case Xid.auth:
        this.onAuthReply(err);
        return;
    }
    const head = this.pending.peek();
    if (head === undefined || head.xid !== xid) {
      throw new ProtocolError(`reply xid ${xid} does not match the expected ${head ? head.xid : 'none'}`);
    }
    this.pending.shift();
    if (zxid > 0n) this.events?.onZxid(zxid);
    const request = head.request;
    if (request.trace !== undefined) request.trace.zxid = zxid;
    request.onReply?.(err, zxid);
    if (err !== ErrorCode.Ok) {
      request.reject(errorFromCode(err, { op: request.op, path: request.path }));
      return;
    }
    let value: unknown;
    try {
      value = request.read(reader);
    } catch (error) {
      // An unreadable reply: the call's outcome is unknown, like any lost connection.
      const reason =
        error instanceof ZooKeeperError ? error : new ProtocolError(String(error), { cause: error });
      request.reject(new ConnectionLossError({ op: request.op, path: request.path, cause: reason }));
      throw reason;
    }
    request.resolve(value);
  }

  private onAuthReply(err: number): void {
    const waiter = this.pendingAuth.shift();
    if (err === ErrorCode.Ok) {
      waiter?.resolve();
      return;
    }
    const error = errorFromCode(err, { op: 'addAuth' });
    waiter?.reject(error);
    // The server closes the connection after a failed auth; make it terminal for the session.
    this.close(error instanceof AuthFailedError ? error : new AuthFailedError({ cause: error }));
  }

  /**
   * Send closeSession and wait (at most `timeout` ms) for the server's answer, then close.
   * Ephemeral nodes are deleted by the server before it replies. A normal close builds no
   * error objects: nobody is told about a failure, because there is none.
   */
  closeSession(timeout: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.close();
        resolve();
      };
      const timer = setTimeout(done, timeout);
      this.send({
        type: OpCode.closeSession,
        op: 'closeSession',
        write: () => {},
        read: () => undefined,
        resolve: done,
        reject: done,
      });
    });
  }

  /**
   * Close the socket and fail everything outstanding with `reason` (no reason: closed on purpose
   * after closeSession). Idempotent.
   */
  close(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    clearInterval(this.timer);
    this.socket.destroy();
    const outcome = () => (reason ??= new ConnectionLossError({}, 'the session was closed'));
    const waiter = this.handshakeWaiter;
    this.handshakeWaiter = undefined;
    waiter?.reject(outcome());
    if (this.pending.size > 0 || this.pendingAuth.length > 0) this.failOutstanding(outcome());
    this.events?.onClose(reason);
  }

  /** Outstanding calls learn "connection lost" (their outcome is unknown), or "auth failed". */
  private failOutstanding(reason: Error): void {
    const cause = reason instanceof ConnectionLossError && reason.cause !== undefined ? reason.cause : reason;
    const failure = (op: string, path?: string) =>
      reason instanceof AuthFailedError
        ? new AuthFailedError({ op, path })
        : new ConnectionLossError({ op, path, cause });
    for (const { request } of this.pending.drain()) request.reject(failure(request.op, request.path));
    for (const auth of this.pendingAuth.splice(0)) auth.reject(failure('addAuth'));
  }

  describe(): string {
    return `${this.options.endpoint.host}:${this.options.endpoint.port}`;
  }
}

/**
 * The answer to our ConnectRequest was no ConnectResponse: whatever listens there (an HTTP or SSH
 * server, another protocol) is not ZooKeeper. Quote its first bytes, they usually say what it is.
 */
function notZooKeeper(server: string, chunk: Buffer, error: unknown): ProtocolError {
  const text = chunk.subarray(0, 40).toString('latin1').split(/\r?\n/)[0]!;
  const printable = /^[\x20-\x7e]+$/.test(text) ? ` (it answered ${JSON.stringify(text)})` : '';
  return new ProtocolError(`${server} is not a ZooKeeper server${printable}`, { cause: error });
}
