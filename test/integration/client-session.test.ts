/**
 * Session lifecycle against a real ZooKeeper 3.8: start (success, timeout, abort), close,
 * expiry and the automatic new session, resuming a session, pings, and that a closed client
 * leaves nothing behind that keeps the process alive.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import winston from 'winston';
import { ConnectionState, KeeperState, ZooKeeperClient, errors, type WatchEvent } from '../../src/index.js';
import { expireSession } from '../../src/testing/index.js';
import { findFreePort } from '../../src/testing/free-port.js';
import { connect, newClient, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { Recorder } from '../support/recorder.js';
import { runToExit, type ProcessRun } from '../support/process.js';
import { eventually, safety } from '../support/wait.js';

const server = await serverForFile();

const { AbortError, ClientClosedError, ConnectFailedError, ProtocolError, TimeoutError } = errors;

/** A stream that collects each written winston record as a line. */
function lineCollector(lines: string[]): Writable {
  return new Writable({
    objectMode: true,
    write(record: Record<string | symbol, unknown>, _encoding, done) {
      lines.push(String(record[Symbol.for('message')]));
      done();
    },
  });
}

const CLIENT_URL = new URL('../../src/index.js', import.meta.url).href;

/** Run an ESM script in a child `node`; fails (after killing it) if it has not exited within `limitMs`. */
function runChild(script: string, limitMs = 20_000): Promise<ProcessRun> {
  return runToExit(process.execPath, ['--input-type=module', '-e', script], { limitMs });
}

describe('ZooKeeperClient session', () => {
  describe('start', () => {
    test('start() resolves CONNECTED and emits a single state event', async (t) => {
      const zk = newClient(t, server, { sessionTimeout: 10_000 });
      assert.equal(zk.state, ConnectionState.LOST);
      const states: string[] = [];
      zk.on('state', (state) => states.push(state));
      await zk.start();
      assert.equal(zk.state, 'CONNECTED');
      assert.equal(zk.keeperState, KeeperState.CONNECTED);
      assert.notEqual(zk.sessionId, 0n);
      assert.equal(zk.sessionPassword.length, 16);
      assert.equal(zk.sessionTimeout, 10_000);
      assert.equal(zk.connectedServer, server.connectString);
      assert.ok(await zk.exists('/'));
      await zk.start(); // already connected: resolves at once, no new event
      assert.deepEqual(states, ['CONNECTED']);
    });

    test("any session timeout: one beyond the ConnectRequest's int32 (and Node's timer limit) connects, with the server's maximum", async (t) => {
      // The kit's server allows at most 60 s. Before: the request could not be encoded and the client never connected.
      const zk = await connect(t, server, { sessionTimeout: 2 ** 40 });
      assert.equal(zk.sessionTimeout, 60_000);
      assert.ok(await zk.exists('/'));
    });

    test('start({ timeout }) against a port nobody listens on rejects with TimeoutError and closes the client', async (t) => {
      const port = await findFreePort();
      const zk = newClient(t, `127.0.0.1:${port}`);
      await assert.rejects(zk.start({ timeout: 500 }), TimeoutError);
      assert.equal(zk.closed, true);
      assert.equal(zk.state, 'LOST');
      assert.equal(zk.keeperState, 'CLOSED');
      await assert.rejects(async () => zk.get('/'), ClientClosedError); // (sync throw vs rejection: see client-operations)
    });

    test('start() says why: the TimeoutError names ECONNREFUSED per host, and the log does not call it a lost connection', async (t) => {
      const port = await findFreePort();
      const lines: string[] = [];
      const logger = winston.createLogger({
        level: 'debug',
        format: winston.format.printf(({ level, message }) => `${level} ${String(message)}`),
        transports: [new winston.transports.Stream({ stream: lineCollector(lines) })],
      });
      const zk = newClient(t, `127.0.0.1:${port}`, { logger });
      const error: unknown = await zk.start({ timeout: 1500 }).then(
        () => assert.fail('connected to a closed port'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(
        error.message,
        /not connected within 1500 ms: could not connect to 127\.0\.0\.1:\d+ \(connect ECONNREFUSED/,
      );
      assert.ok(error.cause instanceof ConnectFailedError, String(error.cause));
      assert.deepEqual(
        error.cause.hosts.map(({ host, port, error }) => [host, port, (error as NodeJS.ErrnoException).code]),
        [['127.0.0.1', port, 'ECONNREFUSED']],
      );
      assert.ok(
        lines.some((line) => line.includes(`connect to 127.0.0.1:${port} failed: connect ECONNREFUSED`)),
        lines.join('\n'),
      );
      assert.ok(!lines.some((line) => /lost/.test(line)), lines.join('\n'));
    });

    test('start({ failFast: true }) rejects with ConnectFailedError once every host refused, and closes the client', async (t) => {
      const ports = [await findFreePort(), await findFreePort()];
      const zk = newClient(t, ports.map((port) => `127.0.0.1:${port}`).join(','));
      // No timeout: only failFast can end this start.
      const error: unknown = await zk.start({ failFast: true, timeout: Infinity }).then(
        () => assert.fail('connected to a closed port'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof ConnectFailedError, String(error));
      assert.equal(error.code, 'ZK_CONNECT_FAILED');
      assert.deepEqual(
        error.hosts.map(({ port, error }) => [port, (error as NodeJS.ErrnoException).code]).sort(),
        ports.map((port) => [port, 'ECONNREFUSED']).sort(),
      );
      assert.equal(zk.closed, true);
    });

    test('start() against a port that speaks HTTP says it is not a ZooKeeper server', async (t) => {
      const http = createHttpServer((_request, response) => response.end('hello'));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      t.after(() => new Promise((resolve) => http.close(resolve)));
      const { port } = http.address() as AddressInfo;
      const zk = newClient(t, `127.0.0.1:${port}`);
      const error: unknown = await zk.start({ failFast: true, timeout: Infinity }).then(
        () => assert.fail('connected to an HTTP server'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof ConnectFailedError, String(error));
      const [failure] = error.hosts;
      assert.ok(failure?.error instanceof ProtocolError, String(failure?.error));
      assert.match(
        failure.error.message,
        /^127\.0\.0\.1:\d+ is not a ZooKeeper server \(it answered "HTTP\/1\.1 400 Bad Request"\)$/,
      );
      assert.match(error.message, /is not a ZooKeeper server/);
    });

    test('start({ signal }) rejects with AbortError when aborted', async (t) => {
      // Aborted while connecting (nothing listens, so it cannot connect first).
      const port = await findFreePort();
      const connecting = newClient(t, `127.0.0.1:${port}`);
      const controller = new AbortController();
      const started = connecting.start({ signal: controller.signal, timeout: safety() });
      controller.abort(new Error('changed my mind'));
      await assert.rejects(started, AbortError);
      assert.equal(connecting.closed, true);

      // Already aborted, against a live server.
      const live = newClient(t, server);
      await assert.rejects(live.start({ signal: AbortSignal.abort() }), AbortError);
      assert.equal(live.closed, true);
      assert.equal(live.state, 'LOST');
    });
  });

  describe('close', () => {
    test('close() is idempotent and leaves state LOST / keeperState CLOSED', async (t) => {
      const zk = await connect(t, server);
      const states: string[] = [];
      const keeperStates: string[] = [];
      zk.on('state', (state) => states.push(state));
      zk.on('keeperState', (state) => keeperStates.push(state));
      const first = zk.close();
      const second = zk.close();
      await Promise.all([first, second]);
      await zk.close();
      assert.equal(zk.closed, true);
      assert.equal(zk.state, ConnectionState.LOST);
      assert.equal(zk.keeperState, KeeperState.CLOSED);
      assert.deepEqual(states, ['LOST']);
      assert.deepEqual(keeperStates, ['CLOSED']);
    });

    test('close() removes the session: its ephemeral nodes are gone', async (t) => {
      const zk = await connect(t, server);
      const observer = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await zk.create(`${root}/eph`, 'x', { ephemeral: true });
      await zk.create(`${root}/eph-seq-`, null, { ephemeral: true, sequence: true });
      const deleted = new Recorder<WatchEvent>();
      assert.ok(await observer.exists(`${root}/eph`, { watch: deleted.listener }));
      assert.equal((await observer.getChildren(root)).length, 2);
      await zk.close();
      assert.equal(await observer.exists(`${root}/eph`), null);
      assert.deepEqual(await observer.getChildren(root), []);
      assert.deepEqual(await deleted.nth(1), {
        type: 'NodeDeleted',
        state: 'CONNECTED',
        path: `${root}/eph`,
      });
    });

    test('close() fails requests still waiting for a connection with ClientClosedError', async (t) => {
      const port = await findFreePort();
      const zk = newClient(t, `127.0.0.1:${port}`);
      const started = zk.start({ timeout: safety() });
      const queued = zk.get('/');
      await zk.close();
      await assert.rejects(queued, ClientClosedError);
      await assert.rejects(started, ClientClosedError);
    });
  });

  describe('expiry', () => {
    test('an expired session goes LOST, loses its ephemerals, fires None, then a new session starts', async (t) => {
      const zk = await connect(t, server, { sessionTimeout: 4000 });
      const observer = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'v0');
      await zk.create(`${root}/eph`, null, { ephemeral: true });
      const oneShot = new Recorder<WatchEvent>();
      await zk.get(root, { watch: oneShot.listener });
      const persistent = new Recorder<WatchEvent>();
      await zk.addWatch(`${root}/p`, persistent.listener);
      const states: string[] = [];
      zk.on('state', (state) => states.push(state));
      const lost = nextState(zk, ConnectionState.LOST, 30_000);
      const oldSession = zk.sessionId;

      await server.expireSession({ sessionId: zk.sessionId, sessionPassword: zk.sessionPassword });
      await lost;
      assert.equal(await observer.exists(`${root}/eph`), null, 'the ephemeral node is gone on the server');
      const none: WatchEvent = await oneShot.nth(1);
      assert.equal(none.type, 'None');
      assert.equal(none.path, root);
      assert.equal(none.state, KeeperState.EXPIRED_SESSION);

      // The client starts a new session by itself.
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'a new session (CONNECTED)', 30_000);
      assert.deepEqual(states, ['SUSPENDED', 'LOST', 'CONNECTED']);
      assert.notEqual(zk.sessionId, 0n);
      assert.notEqual(zk.sessionId, oldSession);
      const { stat } = await zk.createWithStat(`${root}/eph`, null, { ephemeral: true });
      assert.equal(stat.ephemeralOwner, zk.sessionId);

      // The one-shot watch is gone for good; the persistent one carries over to the new session.
      await observer.set(root, 'v1');
      await observer.create(`${root}/p`);
      const persistentEvents = await persistent.waitForCount(2);
      assert.equal(persistentEvents[0]?.type, 'None');
      assert.deepEqual(persistentEvents[1], { type: 'NodeCreated', state: 'CONNECTED', path: `${root}/p` });
      assert.deepEqual(
        oneShot.calls.map((e) => e.type),
        ['None'],
      );
    });

    test('expireSession(connectString, ...) works the same for a chrooted client', async (t) => {
      const plain = await connect(t, server);
      const chroot = uniqueRoot('chroot');
      await plain.create(chroot);
      const zk = await connect(t, `${server.connectString}${chroot}`, { sessionTimeout: 4000 });
      await zk.create('/eph', null, { ephemeral: true });
      const lost = nextState(zk, ConnectionState.LOST, 30_000);
      await expireSession(`${server.connectString}${chroot}`, {
        sessionId: zk.sessionId,
        sessionPassword: zk.sessionPassword,
      });
      await lost;
      assert.equal(await plain.exists(`${chroot}/eph`), null);
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'a new session', 30_000);
      assert.equal(await zk.create('/eph', null, { ephemeral: true }), '/eph');
    });
  });

  describe('resume and keep-alive', () => {
    test("the session option resumes another live client's session", async (t) => {
      const owner = await connect(t, server, { sessionTimeout: 10_000 });
      const observer = await connect(t, server);
      const root = uniqueRoot();
      await owner.create(root);
      await owner.create(`${root}/eph`, null, { ephemeral: true });
      const sessionId = owner.sessionId;

      const resumed = await connect(t, server, {
        sessionTimeout: 10_000,
        session: { id: owner.sessionId, password: owner.sessionPassword },
        retry: { maxTries: 20, delay: 50 },
      });
      assert.equal(resumed.sessionId, sessionId);
      assert.equal(resumed.state, 'CONNECTED');
      // Both clients now share one session (and may take its connection from each other).
      assert.deepEqual(await resumed.retry(() => resumed.getEphemerals(root)), [`${root}/eph`]);
      // The other client may take the connection back between the create and its reply: the retry
      // then finds the node made, and reads whose it is.
      const created = await resumed.retry(() =>
        resumed
          .createWithStat(`${root}/eph2`, null, { ephemeral: true })
          .then(({ stat }) => stat)
          .catch(async (error: unknown) => {
            if (!(error instanceof errors.NodeExistsError)) throw error;
            return (await resumed.exists(`${root}/eph2`))!;
          }),
      );
      assert.equal(created.ephemeralOwner, sessionId);

      // Closing the resumed client closes the shared session: both ephemerals go.
      await resumed.close();
      assert.equal(await observer.exists(`${root}/eph`), null);
      assert.equal(await observer.exists(`${root}/eph2`), null);
    });

    test('pings keep an idle session alive', async (t) => {
      const zk = await connect(t, server, { sessionTimeout: 2000 });
      const observer = await connect(t, server);
      assert.equal(zk.sessionTimeout, 2000);
      const root = uniqueRoot();
      await zk.create(root);
      await zk.create(`${root}/eph`, null, { ephemeral: true });
      const sessionId = zk.sessionId;
      const states: string[] = [];
      zk.on('state', (state) => states.push(state));
      // Idle for 2.5 session timeouts: only pings can keep the session alive (a generous margin, not a speed check).
      await new Promise((resolve) => setTimeout(resolve, 5000));
      assert.deepEqual(states, [], 'no state change while idle');
      assert.equal(zk.state, 'CONNECTED');
      assert.equal(zk.sessionId, sessionId);
      const stat = await observer.exists(`${root}/eph`);
      assert.ok(stat, 'the ephemeral node survived');
      assert.equal(stat.ephemeralOwner, sessionId);
    });
  });

  describe('process lifetime', () => {
    test('a closed client leaves no handle that keeps the process alive', async () => {
      const root = uniqueRoot();
      const script = `
        import { ZooKeeperClient } from ${JSON.stringify(CLIENT_URL)};
        const zk = new ZooKeeperClient({ hosts: ${JSON.stringify(server.connectString)}, sessionTimeout: 4000 });
        await zk.start();
        await zk.create(${JSON.stringify(root)}, 'x');
        await zk.create(${JSON.stringify(`${root}/eph`)}, null, { ephemeral: true });
        await zk.get(${JSON.stringify(root)}, { watch: () => {} });
        await zk.exists(${JSON.stringify(`${root}/missing`)}, { watch: () => {} });
        await zk.getChildren(${JSON.stringify(root)}, { watch: () => {} });
        await zk.addWatch(${JSON.stringify(root)}, () => {}, { recursive: true });
        await zk.transaction().set(${JSON.stringify(root)}, 'y').commit();
        await zk.close();
        process.stdout.write('closed ' + zk.keeperState + '\\n');
      `;
      const { code, signal, stdout, stderr } = await runChild(script);
      assert.equal(signal, null, stderr);
      assert.equal(code, 0, stderr);
      assert.equal(stdout.trim(), 'closed CLOSED');
      // The child really talked to the server: its node is there, its ephemeral is gone.
      const zk = new ZooKeeperClient({ hosts: server.connectString });
      try {
        await zk.start({ timeout: safety() });
        assert.equal((await zk.get(root)).data.toString(), 'y');
        assert.equal(await zk.exists(`${root}/eph`), null);
      } finally {
        await zk.close();
      }
    });

    test('a client whose start() timed out leaves no handle that keeps the process alive', async () => {
      const port = await findFreePort();
      const script = `
        import { ZooKeeperClient, errors } from ${JSON.stringify(CLIENT_URL)};
        const zk = new ZooKeeperClient({ hosts: '127.0.0.1:${port}' });
        try {
          await zk.start({ timeout: 500 });
          process.stdout.write('connected?!\\n');
        } catch (error) {
          process.stdout.write((error instanceof errors.TimeoutError ? 'timeout' : String(error)) + '\\n');
        }
      `;
      const { code, stdout, stderr } = await runChild(script);
      assert.equal(code, 0, stderr);
      assert.equal(stdout.trim(), 'timeout');
    });
  });
});
