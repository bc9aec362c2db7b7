/**
 * A bare-bones ZooKeeper connection for test tooling: open a socket, do the session handshake,
 * read whole frames and close the session. It is independent of the real client on purpose, so the
 * test server's readiness check and `expireSession` work even while the client is broken.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions as TlsOptions } from 'node:tls';
import { JuteReader, JuteWriter } from '../client/protocol/jute.js';
import { OpCode } from '../client/protocol/op-codes.js';
import {
  readConnectResponse,
  writeConnectRequest,
  writeRequestHeader,
  type ConnectRequest,
  type ConnectResponse,
} from '../client/protocol/records.js';

/** Far above anything a handshake or a closeSession reply needs; guards against garbage lengths. */
const MAX_FRAME = 16 * 1024 * 1024;

/** A TCP connection to a ZooKeeper server that speaks length-prefixed frames. */
export class RawConnection {
  private pending: Buffer = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => {
      this.failure ??= error;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  /**
   * Open a TCP connection, or a TLS one with `options.tls` (e.g. `{ ca, cert, key, servername }`,
   * as `ZooKeeperServer.tls` provides). A TLS handshake is not proof of acceptance (a rejected
   * client certificate can surface only later: with TLS 1.3 the server checks it after the client's
   * handshake is done): only a ConnectResponse is.
   */
  static async connect(
    host: string,
    port: number,
    timeoutMs: number,
    options: RawConnectOptions = {},
  ): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = options.tls ? connectTls({ ...options.tls, host, port }) : connect({ host, port });
      const timer = setTimeout(
        () => socket.destroy(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RawConnection(socket));
      });
    });
  }

  /** True once the server (or we) closed the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /** Send one frame: `build` writes the payload, the 4-byte length prefix is added here. */
  send(build: (w: JuteWriter) => void): void {
    const w = new JuteWriter(256);
    w.int(0); // length placeholder, patched below
    build(w);
    w.intAt(0, w.length - 4);
    this.socket.write(w.copy());
  }

  /** The next frame's payload, or `null` when the connection closed first. */
  async nextFrame(timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame from the server within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32BE(0);
      if (length < 0 || length > MAX_FRAME) {
        this.socket.destroy(new Error(`bad frame length ${length} from the server`));
        return;
      }
      if (this.pending.length < 4 + length) break;
      this.frames.push(this.pending.subarray(4, 4 + length));
      this.pending = this.pending.subarray(4 + length);
    }
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * The server closed the connection before answering the ConnectRequest: it refused the client
 * (a read-only server and a client that does not accept one, a client that has seen a newer zxid),
 * or another connection re-attached the same session first and the server closed this one
 * (ZooKeeper's `ZooKeeperServer.processConnectRequest` closes every other connection of a
 * re-attached session, even one whose ConnectResponse is not written yet).
 */
export class NoConnectResponseError extends Error {
  constructor(host: string, port: number) {
    super(`${host}:${port} closed the connection without a ConnectResponse`);
    this.name = 'NoConnectResponseError';
  }
}

/** Options of a raw connection: TLS. */
export interface RawConnectOptions {
  /** Connect with TLS using these options (host and port are filled in). Default: plain TCP. */
  tls?: TlsOptions;
}

/** What to put in the ConnectRequest; omitted fields ask for a brand-new session. */
export interface RawSessionRequest {
  sessionId?: bigint;
  password?: Buffer;
  /** Requested session timeout in ms (the server clamps it). Default 10000. */
  timeout?: number;
  /**
   * Accept a read-only server (ConnectRequest.readOnly). Default false: a read-only server then
   * closes the connection without a ConnectResponse (ZooKeeper's `ZooKeeperServer.processConnectRequest`).
   */
  readOnly?: boolean;
}

/** A session opened on a bare connection: the connection and the server's ConnectResponse. */
export interface RawSession {
  connection: RawConnection;
  /** The server's answer; `timeout <= 0` means the session is expired or unknown (the server then closes the socket). */
  response: ConnectResponse;
}

/**
 * Connect and do the handshake (ConnectRequest, then ConnectResponse, as ZooKeeper's `ClientCnxn`
 * does): nothing else is sent before the ConnectResponse arrives. Rejects with
 * `NoConnectResponseError` if the server closes the socket without answering.
 *
 * @example
 * ```ts
 * const { connection, response } = await openRawSession('127.0.0.1', port);
 * await closeRawSession(connection);
 * ```
 */
export async function openRawSession(
  host: string,
  port: number,
  request: RawSessionRequest = {},
  timeoutMs = 10_000,
  options: RawConnectOptions = {},
): Promise<RawSession> {
  const connectRequest: ConnectRequest = {
    lastZxidSeen: 0n,
    timeout: request.timeout ?? 10_000,
    sessionId: request.sessionId ?? 0n,
    password: request.password ?? Buffer.alloc(16),
    readOnly: request.readOnly ?? false,
  };
  const connection = await RawConnection.connect(host, port, timeoutMs, options);
  try {
    connection.send((w) => writeConnectRequest(w, connectRequest));
    const frame = await connection.nextFrame(timeoutMs);
    if (frame === null) throw new NoConnectResponseError(host, port);
    return { connection, response: readConnectResponse(new JuteReader(frame)) };
  } catch (error) {
    connection.close();
    throw error;
  }
}

/**
 * Close the session on `connection` (closeSession, op -11: ZooKeeper's `ZooDefs.OpCode`) and wait until
 * the server replies or closes the socket. The session's ephemeral nodes are gone afterwards.
 */
export async function closeRawSession(connection: RawConnection, timeoutMs = 10_000): Promise<void> {
  try {
    if (connection.closed) throw new Error('cannot close the session: the connection is already closed');
    connection.send((w) => writeRequestHeader(w, 1, OpCode.closeSession));
    const reply = await connection.nextFrame(timeoutMs);
    if (reply !== null) {
      // ReplyHeader: xid int, zxid long, err int.
      const header = new JuteReader(reply);
      header.int();
      header.long();
      const err = header.int();
      if (err !== 0) throw new Error(`closeSession failed with error code ${err}`);
    }
  } finally {
    connection.close();
  }
}
