/**
 * `Connection` against a fake server on 127.0.0.1: the handshake, request/reply matching,
 * write batching, pings and the read timeout, and — above all — that a server sending bad
 * bytes gets the connection closed cleanly (pending calls fail with ConnectionLossError caused
 * by a ProtocolError, onClose fires once) and never crashes the process.
 */
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import winston from 'winston';
import { Connection, type ConnectionEvents, type Request } from '../../src/client/connection/connection.js';
import {
  AuthFailedError,
  ConnectionLossError,
  DataTooLargeError,
  NoNodeError,
  ProtocolError,
  TimeoutError,
} from '../../src/client/errors.js';
import { OpCode } from '../../src/client/protocol/op-codes.js';
import {
  readGetData,
  writePathWatch,
  type GetDataResult,
  type Stat,
  type WatcherEventRecord,
} from '../../src/client/protocol/records.js';
import { connectionTimers } from '../../src/client/session-machine.js';
import { prng } from '../support/random.js';
import { within } from '../support/wait.js';
import { newSessionRequest } from '../support/protocol.js';

const logger = winston.createLogger({ silent: true });

// ---- crash detection: anything escaping to the process is a failure ----

const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);
process.on('uncaughtException', onEscape);
process.on('unhandledRejection', onEscape);
after(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

// ---- wire helpers (independent of the code under test) ----

const SESSION_ID = 0x01000009b17f0014n;
const PASSWORD = Buffer.alloc(16, 0x42);

const NEW_SESSION = newSessionRequest(30_000);

function withLength(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.length);
  return Buffer.concat([prefix, payload]);
}

/** A 37-byte ConnectResponse (with the readOnly byte), framed. */
function connectResponse(timeout: number): Buffer {
  const payload = Buffer.alloc(37);
  payload.writeInt32BE(0, 0);
  payload.writeInt32BE(timeout, 4);
  payload.writeBigInt64BE(SESSION_ID, 8);
  payload.writeInt32BE(16, 16);
  PASSWORD.copy(payload, 20);
  payload[36] = 0;
  return withLength(payload);
}

function replyFrame(xid: number, zxid: bigint, err: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32BE(xid, 0);
  header.writeBigInt64BE(zxid, 4);
  header.writeInt32BE(err, 12);
  return withLength(Buffer.concat([header, body]));
}

const STAT: Stat = {
  czxid: 0xc5n,
  mzxid: 0xc5n,
  ctime: 1_700_000_000_000,
  mtime: 1_700_000_000_000,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: SESSION_ID,
  dataLength: 2,
  numChildren: 0,
  pzxid: 0xc5n,
};

function statBytes(stat: Stat): Buffer {
  const b = Buffer.alloc(68);
  b.writeBigInt64BE(stat.czxid, 0);
  b.writeBigInt64BE(stat.mzxid, 8);
  b.writeBigInt64BE(BigInt(stat.ctime), 16);
  b.writeBigInt64BE(BigInt(stat.mtime), 24);
  b.writeInt32BE(stat.version, 32);
  b.writeInt32BE(stat.cversion, 36);
  b.writeInt32BE(stat.aversion, 40);
  b.writeBigInt64BE(stat.ephemeralOwner, 44);
  b.writeInt32BE(stat.dataLength, 52);
  b.writeInt32BE(stat.numChildren, 56);
  b.writeBigInt64BE(stat.pzxid, 60);
  return b;
}

function getDataReplyBody(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(data.length);
  return Buffer.concat([length, data, statBytes(STAT)]);
}

/** Split a byte stream into frame payloads (test-side, deliberately simple). */
function splitFrames(data: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let offset = 0;
  while (data.length - offset >= 4) {
    const length = data.readInt32BE(offset);
    if (length < 0 || data.length - offset - 4 < length) break;
    frames.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { frames, rest: data.subarray(offset) };
}

// ---- the fake server ----

interface ServerSide {
  socket: net.Socket;
  connectRequest: Buffer | undefined;
  /** Raw chunks received after the ConnectRequest frame, as TCP delivered them. */
  chunks: Buffer[];
  /** Request frame payloads received after the handshake. */
  frames: Buffer[];
}

interface FakeServerOptions {
  /** What to do with the ConnectRequest. Default: answer with a valid 37-byte response. */
  handshake?: 'reply' | 'close' | 'silent' | ((side: ServerSide) => void);
  /** The negotiated timeout in the ConnectResponse. */
  negotiatedTimeout?: number;
  /** Called for every request frame after the handshake (payload without length prefix). */
  onFrame?: (frame: Buffer, side: ServerSide) => void;
}

interface FakeServer {
  port: number;
  sides: ServerSide[];
  close(): Promise<void>;
}

async function startServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const sides: ServerSide[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const side: ServerSide = { socket, connectRequest: undefined, chunks: [], frames: [] };
    sides.push(side);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (side.connectRequest !== undefined) side.chunks.push(Buffer.from(chunk));
      buffered = Buffer.concat([buffered, chunk]);
      const { frames, rest } = splitFrames(buffered);
      buffered = Buffer.from(rest);
      for (const frame of frames) {
        if (side.connectRequest === undefined) {
          side.connectRequest = Buffer.from(frame);
          const mode = options.handshake ?? 'reply';
          if (mode === 'reply') socket.write(connectResponse(options.negotiatedTimeout ?? 30000));
          else if (mode === 'close') socket.destroy();
          else if (typeof mode === 'function') mode(side);
          continue;
        }
        side.frames.push(Buffer.from(frame));
        options.onFrame?.(Buffer.from(frame), side);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    sides,
    close: async () => {
      for (const side of sides) side.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- client-side helpers ----

function open(
  port: number,
  overrides: { connectTimeout?: number; maxIncomingFrame?: number } = {},
): Connection {
  return Connection.connect({
    endpoint: { host: '127.0.0.1', port },
    connectTimeout: overrides.connectTimeout ?? 3000,
    maxIncomingFrame: overrides.maxIncomingFrame ?? 0xfffff,
    logger,
  });
}

interface Recorder extends ConnectionEvents {
  closes: (Error | undefined)[];
  zxids: bigint[];
  notifications: WatcherEventRecord[];
  closed: Promise<Error | undefined>;
}

function recorder(): Recorder {
  let signal!: (reason: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (signal = resolve));
  const r: Recorder = {
    closes: [],
    zxids: [],
    notifications: [],
    closed,
    onNotification: (event) => r.notifications.push(event),
    onZxid: (zxid) => r.zxids.push(zxid),
    onClose: (reason) => {
      r.closes.push(reason);
      signal(reason);
    },
  };
  return r;
}

/** A getData request whose outcome is captured as a settled promise. */
function getData(
  connection: Connection,
  path: string,
): { promise: Promise<GetDataResult>; replies: number[] } {
  const replies: number[] = [];
  const promise = new Promise<GetDataResult>((resolve, reject) => {
    const request: Request<GetDataResult> = {
      type: OpCode.getData,
      op: 'getData',
      path,
      write: (w) => writePathWatch(w, path, false),
      read: readGetData,
      onReply: (err) => replies.push(err),
      resolve,
      reject,
    };
    connection.send(request as Request);
  });
  // Keep the rejection observed so it can never count as unhandled while a test awaits something else.
  promise.catch(() => {});
  return { promise, replies };
}

async function rejection(promise: Promise<unknown>, what: string): Promise<Error> {
  const outcome = await within(
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    what,
    5000,
  );
  assert.equal(
    outcome.ok,
    false,
    `${what} resolved instead of rejecting: ${JSON.stringify(outcome, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
  );
  assert.ok(!outcome.ok && outcome.error instanceof Error, `${what} rejected with a non-Error`);
  return (outcome as { error: Error }).error;
}

function describeChain(error: unknown): string {
  const names: string[] = [];
  for (let e: unknown = error; e instanceof Error && names.length < 6; e = e.cause)
    names.push(`${e.name}(${e.message})`);
  return names.join(' <- cause: ');
}

/** Tests in this file own a server and a connection; both are torn down and escapes checked. */
async function withConnection(
  serverOptions: FakeServerOptions,
  body: (
    server: FakeServer,
    connect: (overrides?: { connectTimeout?: number; maxIncomingFrame?: number }) => Connection,
  ) => Promise<void>,
): Promise<void> {
  const server = await startServer(serverOptions);
  const connections: Connection[] = [];
  const escapedBefore = escaped.length;
  try {
    await body(server, (overrides) => {
      const c = open(server.port, overrides);
      connections.push(c);
      return c;
    });
    await delay(30);
    assert.deepEqual(escaped.slice(escapedBefore), [], 'an error escaped to the process');
  } finally {
    for (const c of connections) c.close(new ConnectionLossError({}, 'test teardown'));
    await server.close();
  }
}

async function handshakeAndActivate(connection: Connection): Promise<Recorder> {
  const response = await within(connection.handshake(NEW_SESSION), 'handshake', 5000);
  assert.equal(response.sessionId, SESSION_ID);
  assert.deepEqual(response.password, PASSWORD);
  const events = recorder();
  connection.activate(events, connectionTimers(response.timeout));
  return events;
}

/**
 * Drive one misbehaviour: after the handshake, send a getData; the server answers it with
 * `misbehave`. Then check the clean-close contract.
 */
async function assertCleanProtocolClose(
  misbehave: (side: ServerSide, xid: number) => void,
  options: { maxIncomingFrame?: number } = {},
): Promise<void> {
  await withConnection(
    {
      onFrame: (frame, side) => {
        const xid = frame.readInt32BE(0);
        if (xid === -2) return; // pings
        misbehave(side, xid);
      },
    },
    async (_server, connect) => {
      const connection = connect(options);
      const events = await handshakeAndActivate(connection);
      const { promise } = getData(connection, '/hx');
      const error = await rejection(promise, 'the pending getData');
      const reason = await within(events.closed, 'onClose', 5000);
      await within(connection.closedPromise, 'socket close', 5000);
      await delay(20);

      assert.equal(connection.isClosed, true, 'the connection is closed');
      assert.equal(events.closes.length, 1, `onClose called ${events.closes.length} times`);
      assert.equal(connection.pendingCount, 0, 'nothing left pending');
      assert.ok(reason instanceof ConnectionLossError, `onClose reason: ${describeChain(reason)}`);
      assert.ok(
        reason.cause instanceof ProtocolError,
        `onClose reason's cause should be a ProtocolError: ${describeChain(reason)}`,
      );
      // A call made after the close fails at once with ConnectionLoss.
      const late = await rejection(getData(connection, '/late').promise, 'a request after close');
      assert.ok(late instanceof ConnectionLossError, `late request: ${describeChain(late)}`);

      assert.ok(
        error instanceof ConnectionLossError,
        `the pending request should fail with ConnectionLossError, got ${describeChain(error)}`,
      );
      assert.equal((error as ConnectionLossError).op, 'getData');
      assert.equal((error as ConnectionLossError).path, '/hx');
      assert.ok(
        error.cause instanceof ProtocolError,
        `the pending request's cause should be a ProtocolError, got ${describeChain(error)}`,
      );
    },
  );
}

describe('Connection: handshake', () => {
  test('a valid 37-byte ConnectResponse completes the handshake; the request is the 49-byte ConnectRequest', async () => {
    await withConnection({}, async (server, connect) => {
      const connection = connect();
      const response = await within(connection.handshake(NEW_SESSION), 'handshake', 5000);
      assert.deepEqual(response, {
        timeout: 30000,
        sessionId: SESSION_ID,
        password: PASSWORD,
        readOnly: false,
      });
      assert.equal(server.sides[0]!.connectRequest!.length, 45);
      assert.equal(server.sides[0]!.connectRequest!.readInt32BE(12), 30000);
      assert.equal(connection.isClosed, false);
    });
  });

  test('the server closing without replying rejects the handshake', async () => {
    await withConnection({ handshake: 'close' }, async (_server, connect) => {
      const connection = connect();
      const error = await rejection(connection.handshake(NEW_SESSION), 'handshake');
      assert.ok(error instanceof ConnectionLossError, describeChain(error));
      assert.equal(connection.isClosed, true);
    });
  });

  test('a server that never replies triggers connectTimeout (TimeoutError)', async () => {
    await withConnection({ handshake: 'silent' }, async (server, connect) => {
      const connection = connect({ connectTimeout: 300 });
      const error = await rejection(connection.handshake(NEW_SESSION), 'handshake');
      assert.ok(error instanceof TimeoutError, describeChain(error));
      assert.ok(server.sides[0]?.connectRequest !== undefined, 'the server did get the ConnectRequest');
      await within(connection.closedPromise, 'socket close', 5000);
      assert.equal(connection.isClosed, true);
    });
  });

  test('a ConnectResponse shorter than 36 bytes rejects the handshake with a protocol error', async () => {
    await withConnection(
      { handshake: (side) => side.socket.write(withLength(Buffer.alloc(20))) },
      async (_server, connect) => {
        const connection = connect();
        const error = await rejection(connection.handshake(NEW_SESSION), 'handshake');
        assert.ok(error instanceof ConnectionLossError, describeChain(error));
        assert.ok(error.cause instanceof ProtocolError, describeChain(error));
        assert.equal(connection.isClosed, true);
      },
    );
  });

  test('nothing listening: the handshake rejects with ConnectionLossError', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    const connection = open(port);
    const error = await rejection(connection.handshake(NEW_SESSION), 'handshake');
    assert.ok(error instanceof ConnectionLossError, describeChain(error));
  });

  test('activate after the connection died reports onClose once', async () => {
    await withConnection({}, async (server, connect) => {
      const connection = connect();
      const response = await within(connection.handshake(NEW_SESSION), 'handshake', 5000);
      server.sides[0]!.socket.destroy();
      await within(connection.closedPromise, 'socket close', 5000);
      const events = recorder();
      connection.activate(events, connectionTimers(response.timeout));
      await delay(20);
      assert.equal(events.closes.length, 1);
      assert.ok(events.closes[0] instanceof ConnectionLossError);
    });
  });
});

describe('Connection: replies', () => {
  test('a well-behaved reply (err 0) resolves the request and reports the zxid', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid === -2) return;
          assert.equal(frame.readInt32BE(4), OpCode.getData);
          side.socket.write(replyFrame(xid, 0xc5n, 0, getDataReplyBody(Buffer.from('hi'))));
        },
      },
      async (_server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        const { promise, replies } = getData(connection, '/hx');
        const result = await within(promise, 'getData', 5000);
        assert.deepEqual(result.data, Buffer.from('hi'));
        assert.deepEqual(result.stat, STAT);
        assert.deepEqual(replies, [0]);
        assert.deepEqual(events.zxids, [0xc5n]);
        assert.equal(connection.pendingCount, 0);
        assert.equal(connection.isClosed, false);
        assert.equal(events.closes.length, 0);
      },
    );
  });

  test('an error reply (err -101) rejects with NoNodeError carrying op and path; the connection stays up', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid === -2) return;
          const path = frame.subarray(12, 12 + frame.readInt32BE(8)).toString();
          side.socket.write(
            path === '/nope'
              ? replyFrame(xid, 0xc5n, -101)
              : replyFrame(xid, 0xc6n, 0, getDataReplyBody(Buffer.from('ok'))),
          );
        },
      },
      async (_server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        const { promise, replies } = getData(connection, '/nope');
        const error = await rejection(promise, 'getData /nope');
        assert.ok(error instanceof NoNodeError, describeChain(error));
        assert.equal(error.op, 'getData');
        assert.equal(error.path, '/nope');
        assert.equal(error.code, -101);
        assert.deepEqual(replies, [-101]);
        assert.equal(connection.isClosed, false);
        const next = await within(getData(connection, '/ok').promise, 'getData /ok', 5000);
        assert.deepEqual(next.data, Buffer.from('ok'));
        assert.equal(events.closes.length, 0);
      },
    );
  });

  test('notifications are routed to onNotification without disturbing the pending queue', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid === -2) return;
          const path = Buffer.from('/hx');
          const event = Buffer.alloc(12 + path.length);
          event.writeInt32BE(3, 0);
          event.writeInt32BE(3, 4);
          event.writeInt32BE(path.length, 8);
          path.copy(event, 12);
          side.socket.write(
            Buffer.concat([
              replyFrame(-1, -1n, 0, event),
              replyFrame(xid, 0xc5n, 0, getDataReplyBody(Buffer.from('hi'))),
            ]),
          );
        },
      },
      async (_server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        await within(getData(connection, '/hx').promise, 'getData', 5000);
        assert.deepEqual(events.notifications, [{ type: 3, state: 3, path: '/hx' }]);
        assert.deepEqual(events.zxids, [0xc5n], 'the notification zxid (-1) is not reported');
      },
    );
  });

  test('two requests sent in the same tick arrive at the server in one TCP chunk', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid === -2) return;
          side.socket.write(replyFrame(xid, 0xc5n, 0, getDataReplyBody(Buffer.from('hi'))));
        },
      },
      async (server, connect) => {
        const connection = connect();
        await handshakeAndActivate(connection);
        const a = getData(connection, '/a');
        const b = getData(connection, '/b');
        await within(Promise.all([a.promise, b.promise]), 'both replies', 5000);
        const side = server.sides[0]!;
        assert.ok(side.chunks.length >= 1, 'the server received data');
        const { frames, rest } = splitFrames(side.chunks[0]!);
        assert.equal(
          frames.length,
          2,
          `first chunk holds ${frames.length} frame(s) (${side.chunks.length} chunks in all)`,
        );
        assert.equal(rest.length, 0);
        assert.deepEqual(
          frames.map((f) => [f.readInt32BE(0), f.readInt32BE(4)]),
          [
            [1, OpCode.getData],
            [2, OpCode.getData],
          ],
        );
      },
    );
  });
});

describe('Connection: local limits, auth and closeSession', () => {
  test('a request over the frame limit is refused with DataTooLargeError and the next request still works', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid === -2) return;
          side.socket.write(replyFrame(xid, 0xc5n, 0, getDataReplyBody(Buffer.from('ok'))));
        },
      },
      async (server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        const big = Buffer.alloc(0x100000, 1);
        const tooLarge = new Promise<unknown>((resolve, reject) =>
          connection.send({
            type: OpCode.setData,
            op: 'setData',
            path: '/big',
            write: (w) => {
              w.string('/big');
              w.bytes(big);
              w.int(-1);
            },
            read: () => undefined,
            resolve,
            reject,
          }),
        );
        const error = await rejection(tooLarge, 'the oversized setData');
        assert.ok(error instanceof DataTooLargeError, describeChain(error));
        assert.equal((error as DataTooLargeError).path, '/big');
        const ok = await within(getData(connection, '/after').promise, 'the next request', 5000);
        assert.deepEqual(ok.data, Buffer.from('ok'));
        // The rolled-back bytes never reached the server: it saw exactly one, well-formed request.
        assert.equal(server.sides[0]!.frames.filter((f) => f.readInt32BE(0) !== -2).length, 1);
        assert.equal(events.closes.length, 0);
      },
    );
  });

  test('auth success resolves; the reply is matched outside the FIFO', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid === -4) side.socket.write(replyFrame(-4, 0n, 0));
        },
      },
      async (server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        await within(connection.sendAuth('digest', Buffer.from('u:p')), 'auth', 5000);
        const frame = server.sides[0]!.frames.find((f) => f.readInt32BE(0) === -4)!;
        assert.deepEqual(
          frame,
          Buffer.from(
            'fffffffc 00000064 00000000 00000006 64696765 7374 00000003 753a70'.replace(/ /g, ''),
            'hex',
          ),
        );
        assert.equal(events.closes.length, 0);
      },
    );
  });

  test('auth failure (-115) rejects with AuthFailedError, closes, and fails pending calls with AuthFailedError', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          if (frame.readInt32BE(0) === -4) side.socket.write(replyFrame(-4, 0n, -115));
        },
      },
      async (_server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        const pending = getData(connection, '/x');
        const error = await rejection(connection.sendAuth('digest', Buffer.from('u:p')), 'auth');
        assert.ok(error instanceof AuthFailedError, describeChain(error));
        const pendingError = await rejection(pending.promise, 'the pending getData');
        assert.ok(pendingError instanceof AuthFailedError, describeChain(pendingError));
        await within(events.closed, 'onClose', 5000);
        await delay(20);
        assert.equal(events.closes.length, 1);
        assert.ok(events.closes[0] instanceof AuthFailedError);
      },
    );
  });

  test('closeSession sends op -11, waits for the reply, then closes once', async () => {
    await withConnection(
      {
        onFrame: (frame, side) => {
          const xid = frame.readInt32BE(0);
          if (xid !== -2 && frame.readInt32BE(4) === OpCode.closeSession)
            side.socket.write(replyFrame(xid, 0xc9n, 0));
        },
      },
      async (server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        await within(connection.closeSession(5000), 'closeSession', 5000);
        assert.equal(connection.isClosed, true);
        assert.ok(server.sides[0]!.frames.some((f) => f.readInt32BE(4) === OpCode.closeSession));
        await delay(20);
        assert.equal(events.closes.length, 1);
        assert.equal(events.closes[0], undefined, 'a session closed on purpose reports no failure');
      },
    );
  });

  test('closeSession gives up after its timeout when the server stays silent, and fails what is pending', async () => {
    await withConnection({ onFrame: () => {} }, async (_server, connect) => {
      const connection = connect();
      const events = await handshakeAndActivate(connection);
      const pending = getData(connection, '/x');
      const started = performance.now();
      await within(connection.closeSession(200), 'closeSession', 5000);
      assert.ok(performance.now() - started >= 190, 'waited for the reply until the timeout');
      assert.equal(connection.isClosed, true);
      const error = await rejection(pending.promise, 'the pending getData');
      assert.ok(error instanceof ConnectionLossError, describeChain(error));
      assert.equal(events.closes.length, 1);
    });
  });
});

describe('Connection: a misbehaving server closes the connection cleanly', () => {
  test('a truncated reply body (data length larger than the frame)', async () => {
    await assertCleanProtocolClose((side, xid) => {
      const body = Buffer.alloc(6);
      body.writeInt32BE(1000, 0);
      body.write('hi', 4);
      side.socket.write(replyFrame(xid, 0xc5n, 0, body));
    });
  });

  test('a reply body missing its Stat', async () => {
    await assertCleanProtocolClose((side, xid) => {
      side.socket.write(replyFrame(xid, 0xc5n, 0, Buffer.from('00000002686900', 'hex')));
    });
  });

  test('a reply whose xid does not match the head of the queue', async () => {
    await assertCleanProtocolClose((side, xid) => {
      side.socket.write(replyFrame(xid + 7, 0xc5n, 0, getDataReplyBody(Buffer.from('hi'))));
    });
  });

  test('a frame with a negative length', async () => {
    await assertCleanProtocolClose((side) => {
      side.socket.write(Buffer.from('fffffff0 00000001 00000000'.replace(/ /g, ''), 'hex'));
    });
  });

  test('a frame longer than maxIncomingFrame', async () => {
    await assertCleanProtocolClose(
      (side, xid) => {
        side.socket.write(replyFrame(xid, 0xc5n, 0, getDataReplyBody(Buffer.alloc(2000, 1))));
      },
      { maxIncomingFrame: 1024 },
    );
  });

  test('text instead of frames (an HTTP server on the port)', async () => {
    await assertCleanProtocolClose((side) => {
      side.socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
  });

  for (const seed of [1, 2, 3, 0xdecaf, 0x2181]) {
    test(`random garbage (seed ${seed})`, async () => {
      await assertCleanProtocolClose((side) => {
        const random = prng(seed);
        let sent = 0;
        // Stream garbage until the client hangs up: some length prefix is soon negative,
        // oversized or followed by a bogus reply header.
        const pump = () => {
          if (side.socket.destroyed || sent > 8 * 1024 * 1024) return;
          const chunk = Buffer.alloc(4096);
          for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(random() * 256);
          sent += chunk.length;
          side.socket.write(chunk, () => setImmediate(pump));
        };
        pump();
      });
    });
  }
});

describe('Connection: liveness', () => {
  test('with a negotiated timeout of 300 ms and no traffic, the server receives a ping (xid -2, type 11)', async () => {
    let gotPing!: (frame: Buffer) => void;
    const ping = new Promise<Buffer>((resolve) => (gotPing = resolve));
    await withConnection(
      {
        negotiatedTimeout: 300,
        onFrame: (frame, side) => {
          if (frame.readInt32BE(0) === -2) {
            gotPing(frame);
            side.socket.write(replyFrame(-2, 0xc4n, 0));
          }
        },
      },
      async (_server, connect) => {
        const connection = connect();
        const events = await handshakeAndActivate(connection);
        const frame = await within(ping, 'a ping', 5000);
        assert.deepEqual(frame, Buffer.from('fffffffe0000000b', 'hex'));
        assert.equal(events.closes.length, 0);
      },
    );
  });

  test('a server that never answers pings gets the connection closed with ConnectionLossError', async () => {
    await withConnection({ negotiatedTimeout: 300 }, async (server, connect) => {
      const connection = connect();
      const events = await handshakeAndActivate(connection);
      const { promise } = getData(connection, '/silent');
      const reason = await within(events.closed, 'the read timeout', 5000);
      assert.ok(reason instanceof ConnectionLossError, describeChain(reason));
      const error = await rejection(promise, 'the unanswered getData');
      assert.ok(error instanceof ConnectionLossError, describeChain(error));
      assert.equal(connection.isClosed, true);
      await delay(20);
      assert.equal(events.closes.length, 1);
      assert.ok(
        server.sides[0]!.frames.some((f) => f.readInt32BE(0) === -2),
        'the client pinged before giving up',
      );
    });
  });
});
