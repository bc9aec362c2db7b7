/**
 * FaultProxy in front of a real ZooKeeper server, driven with raw sessions (independent of the
 * client under test): forwarding, drop, blackhole/heal, delay, refuse/accept, retarget, close.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { JuteReader } from '../../src/client/protocol/jute.js';
import { OpCode, Xid } from '../../src/client/protocol/op-codes.js';
import { writePathWatch, writeRequestHeader, writeConnectRequest } from '../../src/client/protocol/records.js';
import { closeRawSession, FaultProxy, openRawSession, RawConnection, timing, ZooKeeperServer, type RawSession } from '../../src/testing/index.js';
import { freePort } from './helpers.js';

const KIT_URL = new URL('../../src/testing/index.js', import.meta.url).href;

/** Wait for something that must happen; the limit only keeps a broken kit from hanging the run. */
async function eventually(condition: () => boolean | Promise<boolean>, what: string, limitMs = timing(10_000)): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await delay(20);
  }
}

/** The xid of a reply frame. */
function replyXid(frame: Buffer | null): number {
  assert.ok(frame, 'the connection closed instead of replying');
  return new JuteReader(frame).int();
}

function ping(connection: RawConnection): void {
  connection.send((w) => writeRequestHeader(w, Xid.ping, OpCode.ping));
}

function exists(connection: RawConnection, xid: number, path: string): void {
  connection.send((w) => {
    writeRequestHeader(w, xid, OpCode.exists);
    writePathWatch(w, path, false);
  });
}

describe('FaultProxy', () => {
  let server: ZooKeeperServer;
  before(async () => {
    server = await ZooKeeperServer.start();
  });
  after(() => server?.close());

  async function sessionThrough(proxy: FaultProxy): Promise<RawSession> {
    const session = await openRawSession(proxy.host, proxy.port, { timeout: 10_000 }, timing(10_000));
    assert.ok(session.response.timeout > 0, 'the server accepted the session');
    return session;
  }

  /** Whether the server lists a connection of this session (`cons`). */
  async function serverHasConnectionOf(sessionId: bigint): Promise<boolean> {
    const cons = await server.fourLetterWord('cons');
    return cons.includes(`sid=0x${BigInt.asUintN(64, sessionId).toString(16)}`);
  }

  test('forwards a session handshake and requests', async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    assert.equal(proxy.connectString, `127.0.0.1:${proxy.port}`);
    assert.notEqual(proxy.port, server.port);
    const { connection, response } = await sessionThrough(proxy);
    assert.equal(proxy.connections, 1);
    assert.ok(await serverHasConnectionOf(response.sessionId));
    ping(connection);
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), Xid.ping);
    await closeRawSession(connection, timing(10_000));
    await eventually(() => proxy.connections === 0, 'the pair is gone after the server closed it');
  });

  test('drop() closes the client and the server side; new connections still work', async () => {
    await using proxy = await FaultProxy.start({ host: server.host, port: server.port });
    const { connection, response } = await sessionThrough(proxy);
    proxy.drop();
    assert.equal(proxy.connections, 0);
    await eventually(() => connection.closed, 'the client sees its connection closed');
    await eventually(async () => !(await serverHasConnectionOf(response.sessionId)), 'the server sees its connection closed');

    const again = await sessionThrough(proxy);
    await closeRawSession(again.connection, timing(10_000));
  });

  test('blackhole() forwards nothing but keeps sockets open; heal() lets new traffic through', async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { connection } = await sessionThrough(proxy);
    proxy.blackhole();
    ping(connection);
    await assert.rejects(connection.nextFrame(timing(1_500)), /no frame/);
    assert.equal(connection.closed, false);
    assert.equal(proxy.connections, 1);

    // A new connection is accepted, but its handshake goes nowhere.
    const late = await RawConnection.connect(proxy.host, proxy.port, timing(10_000));
    late.send((w) => writeConnectRequest(w, { lastZxidSeen: 0n, timeout: 10_000, sessionId: 0n, password: Buffer.alloc(16), readOnly: false }));
    await assert.rejects(late.nextFrame(timing(1_000)), /no frame/);
    assert.equal(late.closed, false);
    assert.equal(proxy.connections, 2);

    proxy.heal();
    // The ping sent during the partition is lost; a new one gets the one reply.
    ping(connection);
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), Xid.ping);
    exists(connection, 7, '/zookeeper');
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), 7);
    late.close();
    await closeRawSession(connection, timing(10_000));
  });

  test('setDelay() adds latency each way and keeps the order', async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { connection } = await sessionThrough(proxy);
    const delayMs = 300;
    proxy.setDelay(delayMs);
    const start = performance.now();
    ping(connection);
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), Xid.ping);
    // Request and reply are each held back by the delay (minus 1 ms per hop for clock rounding).
    assert.ok(performance.now() - start >= 2 * delayMs - 2, `round trip ${performance.now() - start} ms`);

    // A chunk sent with no delay must not overtake one still held back. (The proxy runs in this
    // process: give it a moment to receive request 1 under the long delay before shortening it.)
    proxy.setDelay(timing(1_000));
    exists(connection, 1, '/zookeeper');
    await delay(100);
    proxy.setDelay(0);
    exists(connection, 2, '/zookeeper');
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), 1);
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), 2);
    assert.throws(() => proxy.setDelay(-1), RangeError);
    await closeRawSession(connection, timing(10_000));
  });

  test('refuse() closes new connections at once; accept() undoes it', async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    const existing = await sessionThrough(proxy);
    proxy.refuse();
    await assert.rejects(openRawSession(proxy.host, proxy.port, {}, timing(10_000)), (error: Error) => {
      assert.match(error.message, /closed the connection without a ConnectResponse|ECONNRESET|EPIPE/);
      return true;
    });
    // Connections made before keep working.
    ping(existing.connection);
    assert.equal(replyXid(await existing.connection.nextFrame(timing(10_000))), Xid.ping);

    proxy.accept();
    const again = await sessionThrough(proxy);
    await closeRawSession(again.connection, timing(10_000));
    await closeRawSession(existing.connection, timing(10_000));
  });

  test('retarget() sends new connections elsewhere', async () => {
    // Nothing listens on this port: the proxy accepts, fails upstream and closes the client.
    await using proxy = await FaultProxy.start(`127.0.0.1:${await freePort()}`);
    await assert.rejects(openRawSession(proxy.host, proxy.port, {}, timing(10_000)), /closed the connection without a ConnectResponse|ECONNRESET/);
    await eventually(() => proxy.connections === 0, 'the failed pair is gone');

    proxy.retarget(server.connectString);
    const { connection } = await sessionThrough(proxy);
    await closeRawSession(connection, timing(10_000));
  });

  test('close() ends every connection, stops listening and is idempotent', async () => {
    const proxy = await FaultProxy.start(server.connectString);
    const { connection } = await sessionThrough(proxy);
    await proxy.close();
    assert.equal(proxy.connections, 0);
    await eventually(() => connection.closed, 'the client sees its connection closed');
    await assert.rejects(RawConnection.connect(proxy.host, proxy.port, timing(10_000)), { code: 'ECONNREFUSED' });
    await proxy.close();
  });

  test('neither a closed proxy nor a forgotten idle one keeps the process alive', async () => {
    const script = `
      import { FaultProxy, openRawSession } from ${JSON.stringify(KIT_URL)};
      const proxy = await FaultProxy.start(${JSON.stringify(server.connectString)});
      proxy.setDelay(50);
      const { connection } = await openRawSession(proxy.host, proxy.port);
      await proxy.close();
      await FaultProxy.start(${JSON.stringify(server.connectString)}); // never closed
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    const limit = delay(timing(20_000), 'still running' as const, { ref: false });
    const outcome = await Promise.race([exit, limit]);
    if (outcome === 'still running') child.kill('SIGKILL');
    assert.equal(outcome, 0, stderr);
  });
});
