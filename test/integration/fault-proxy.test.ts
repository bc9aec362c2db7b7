/**
 * FaultProxy in front of a real ZooKeeper server, driven with raw sessions (independent of the
 * client under test): forwarding, drop, blackhole/heal, delay, refuse/accept, retarget, close;
 * then its frame faults (swallowed replies, cuts after a reply, a delayed frame, a frozen
 * direction, count-based and multi matching) as the client sees them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { JuteReader } from '../../src/client/protocol/jute.js';
import { OpCode, Xid } from '../../src/client/protocol/op-codes.js';
import {
  writePathWatch,
  writeRequestHeader,
  writeConnectRequest,
} from '../../src/client/protocol/records.js';
import { ConnectionState, errors, type ZooKeeperClient } from '../../src/index.js';
import {
  closeRawSession,
  FaultProxy,
  fourLetterWord,
  openRawSession,
  RawConnection,
  timing,
  ZooKeeperServer,
  type RawSession,
} from '../../src/testing/index.js';
import { findFreePort } from '../../src/testing/free-port.js';
import { connect, uniqueRoot } from '../support/client.js';
import { eventually, grace, probe, rejectsWithin, within } from '../support/wait.js';
import { newSessionRequest } from '../support/protocol.js';

const { ConnectionLossError } = errors;

const KIT_URL = new URL('../../src/testing/index.js', import.meta.url).href;

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
    await eventually(
      async () => !(await serverHasConnectionOf(response.sessionId)),
      'the server sees its connection closed',
    );

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
    late.send((w) => writeConnectRequest(w, newSessionRequest()));
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
    await using proxy = await FaultProxy.start(`127.0.0.1:${await findFreePort()}`);
    await assert.rejects(
      openRawSession(proxy.host, proxy.port, {}, timing(10_000)),
      /closed the connection without a ConnectResponse|ECONNRESET/,
    );
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
    await assert.rejects(RawConnection.connect(proxy.host, proxy.port, timing(10_000)), {
      code: 'ECONNREFUSED',
    });
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
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exit = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const outcome = await within(exit, 'the process to exit by itself', timing(20_000)).catch(
      (error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      },
    );
    assert.equal(outcome, 0, stderr);
  });
});

describe('FaultProxy frame faults', () => {
  let server: ZooKeeperServer;
  before(async () => {
    server = await ZooKeeperServer.start();
  });
  after(() => server?.close());

  /** Every state of `zk` and every marker a test adds, in the order they happened. */
  function timeline(zk: ZooKeeperClient): string[] {
    const events: string[] = [];
    zk.on('state', (state) => events.push(state));
    return events;
  }

  test('swallowReply: the server applies a create whose reply is lost and the connection cut; the client gets ConnectionLoss', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('swallow');
    const lost = proxy.swallowReply({ op: 'create', path });
    assert.ok(lost.active);

    await rejectsWithin(zk.create(path, 'x'), 'the create with a lost reply').then((error) =>
      assert.ok(error instanceof ConnectionLossError, String(error)),
    );
    const { request, reply } = await within(lost.happened, 'the fault fired');
    assert.deepEqual([request.op, request.paths, request.xid > 0], ['create', [path], true]);
    assert.equal(reply?.xid, request.xid);
    assert.equal(reply?.err, 0, 'the server created the node');
    assert.ok(await observer.exists(path), 'the node exists on the server');
    assert.equal(lost.fired, 1);
    assert.equal(lost.active, false, 'one-shot: the fault removed itself');

    // The client reconnects (same session) and its next create goes through untouched.
    await within(zk.create(`${path}/next`), 'a create after the fault');
    await zk.delete(path, { recursive: true });
  });

  test('swallowReply then blackhole: the connection stays open and silent until the client gives up on it', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 4_000 });
    const events = timeline(zk);
    const path = uniqueRoot('silent');
    const lost = proxy.swallowReply({ op: 'create', path }, { then: 'blackhole' });
    const create = probe(zk.create(path));
    await within(lost.happened, 'the reply was swallowed');
    assert.equal(create.settled, false, 'no reply, no close: the create is still waiting');
    await eventually(
      () => events.includes(ConnectionState.SUSPENDED),
      'the client times the silent connection out',
    );
    assert.ok((await rejectsWithin(create.promise, 'the create')) instanceof ConnectionLossError);
    await eventually(() => events.includes(ConnectionState.CONNECTED), 'a new connection works');
    assert.ok(await within(zk.exists(path), 'exists'), 'the create was applied');
    await zk.delete(path);
  });

  test("swallowReply then 'nothing': later replies flow on the same connection", async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { connection } = await openRawSession(proxy.host, proxy.port, { timeout: 10_000 }, timing(10_000));
    const lost = proxy.swallowReply({ op: 'exists', path: '/zookeeper' }, { then: 'nothing' });
    exists(connection, 1, '/zookeeper');
    exists(connection, 2, '/zookeeper');
    assert.equal(
      replyXid(await connection.nextFrame(timing(10_000))),
      2,
      'the first reply is gone, the second arrives',
    );
    assert.equal((await lost.happened).request.xid, 1);
    await closeRawSession(connection, timing(10_000));
  });

  test('a blackhole loses whole frames: after heal() the same connection is still read frame by frame', async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { connection } = await openRawSession(proxy.host, proxy.port, { timeout: 10_000 }, timing(10_000));
    proxy.blackhole();
    exists(connection, 1, '/zookeeper'); // lost
    await grace();
    proxy.heal();
    const cut = proxy.cutAfterReply({ op: 'exists', path: '/zookeeper' });
    exists(connection, 2, '/zookeeper');
    assert.equal(replyXid(await connection.nextFrame(timing(10_000))), 2);
    assert.equal(await connection.nextFrame(timing(10_000)), null, 'then the cut');
    assert.equal((await cut.happened).request.xid, 2);
  });

  test('cutAfterReply: the getData reply arrives, then the client is SUSPENDED and reconnects', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('cut');
    await zk.create(path, 'payload');
    const events = timeline(zk);
    const cut = proxy.cutAfterReply({ op: 'getData', path });
    const read = zk.get(path).then(({ data }) => {
      events.push('reply');
      return data.toString();
    });
    assert.equal(await within(read, 'the getData'), 'payload');
    await eventually(() => events.includes(ConnectionState.SUSPENDED), 'SUSPENDED after the reply');
    assert.equal(events[0], 'reply', `the reply came first: ${events.join(' → ')}`);
    assert.deepEqual((await cut.happened).request.paths, [path]);
    await eventually(() => events.includes(ConnectionState.CONNECTED), 'reconnected');
    await zk.delete(path);
  });

  test('delayFrame: one request is held back, the requests behind it wait in order, then it is off', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const [a, b] = [uniqueRoot('delay-a'), uniqueRoot('delay-b')];
    const ms = 400;
    const slow = proxy.delayFrame({ op: 'exists', path: a }, ms);
    const order: string[] = [];
    const start = performance.now();
    const first = zk.exists(a).then(() => order.push(a));
    const second = zk.exists(b).then(() => order.push(b));
    await within(Promise.all([first, second]), 'both exists');
    // Minus 2 ms for timer and clock rounding; the delay is a lower bound, never a speed check.
    assert.ok(performance.now() - start >= ms - 2, `answered after ${performance.now() - start} ms`);
    assert.deepEqual(order, [a, b], 'nothing overtook the delayed request');
    assert.deepEqual((await slow.happened).request.paths, [a]);
    assert.equal(slow.active, false);

    const slowReply = proxy.delayFrame({ op: 'getData', path: '/zookeeper' }, ms, 'reply');
    const again = performance.now();
    await within(zk.get('/zookeeper'), 'getData');
    assert.ok(performance.now() - again >= ms - 2, `reply after ${performance.now() - again} ms`);
    assert.equal((await slowReply.happened).reply?.err, 0);
    assert.throws(() => proxy.delayFrame({}, -1), RangeError);
  });

  test('freeze holds one direction without losing it; thaw delivers it in order', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('freeze');
    await zk.create(path, 'v1');

    proxy.freeze('toClient');
    const set = probe(zk.set(path, 'v2'));
    await eventually(
      async () => (await observer.get(path)).data.toString() === 'v2',
      'the request reached the server',
    );
    await grace();
    assert.equal(set.settled, false, 'its reply is held');
    proxy.thaw('toClient');
    await within(set.promise, 'the held reply is delivered');

    proxy.freeze('toServer');
    const set3 = probe(zk.set(path, 'v3'));
    await grace();
    assert.equal((await observer.get(path)).data.toString(), 'v2', 'the request is held');
    proxy.thaw();
    await within(set3.promise, 'the held request is delivered');
    assert.equal((await observer.get(path)).data.toString(), 'v3');
    assert.throws(() => proxy.freeze('sideways' as never), TypeError);
    await zk.delete(path);
  });

  test('count-based: nth picks the nth matching request; times makes a fault fire more than once; remove() disarms', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const root = uniqueRoot('count');
    await zk.create(root);
    const third = proxy.swallowReply({ op: 'create', path: (p) => p.startsWith(`${root}/`), nth: 3 });
    await zk.create(`${root}/1`);
    await zk.create(`${root}/2`);
    assert.ok(
      (await rejectsWithin(zk.create(`${root}/3`), 'the third create')) instanceof ConnectionLossError,
    );
    assert.deepEqual((await third.happened).request.paths, [`${root}/3`]);

    const twice = proxy.cutAfterReply({ op: 'exists', path: root, times: 2 });
    const events = timeline(zk);
    for (const nth of [1, 2]) {
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'connected');
      await within(zk.exists(root), `exists ${nth}`);
      // A request sent between the reply and the cut would be lost with the connection: wait for it.
      await eventually(
        () => events.filter((e) => e === ConnectionState.SUSPENDED).length === nth,
        `cut ${nth}`,
      );
    }
    assert.equal(twice.fired, 2);
    assert.equal(twice.active, false);

    const removed = proxy.swallowReply({ op: 'create', path: `${root}/4` });
    removed.remove();
    await within(zk.create(`${root}/4`), 'a create after remove()');
    assert.equal(removed.fired, 0);
    assert.throws(() => proxy.swallowReply({ nth: 0 }), RangeError);
    assert.throws(() => proxy.swallowReply({ op: 'nosuchop' as never }), TypeError);
    await zk.delete(root, { recursive: true });
  });

  test("a multi matches by any of its ops' paths and reports them all", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const [a, b] = [uniqueRoot('multi-a'), uniqueRoot('multi-b')];
    const lost = proxy.swallowReply({ op: 'multi', path: b });
    const commit = zk.transaction().create(a).create(b).commit();
    assert.ok((await rejectsWithin(commit, 'the transaction')) instanceof ConnectionLossError);
    assert.deepEqual((await lost.happened).request.paths, [a, b]);
    assert.ok((await observer.exists(a)) && (await observer.exists(b)), 'the transaction was applied');
    await observer.delete(a);
    await observer.delete(b);
  });

  test('four-letter words pass through unparsed', async () => {
    await using proxy = await FaultProxy.start(server.connectString);
    proxy.swallowReply({ op: 'ping' }, { then: 'cut' });
    assert.equal(await fourLetterWord(proxy.host, proxy.port, 'ruok', timing(10_000)), 'imok');
  });
});
