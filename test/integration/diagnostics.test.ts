/**
 * diagnostics_channel against a real ZooKeeper 3.8: every channel of `CHANNELS` seen through
 * real operations — a request's trace (fields, zxid, the numeric error code, a multi's batch
 * size, never node data), connection attempts, session state through a FaultProxy cut and a
 * real expiry, watch triggers and resyncs, retries, and the recipes' lock hand-over, leader and
 * queue events — and that nothing is published once nobody subscribes.
 */
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import {
  CHANNELS,
  ConnectionState,
  Election,
  Lock,
  LockingQueue,
  Queue,
  errors,
  type ZooKeeperClient,
  type ConnectContext,
  type LockAcquireContext,
  type LockEvent,
  type OperationContext,
} from '../../src/index.js';
import { FaultProxy, ZooKeeperServer, expireSession } from '../../src/testing/index.js';
import { connect, nextState, uniqueRoot } from '../support/client.js';
import { Deferred, eventually, within } from '../support/wait.js';

const TRACES = ['operation', 'connect', 'lockAcquire'] as const;
const PHASES = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

interface Recorded {
  channel: string;
  phase?: (typeof PHASES)[number];
  /** The context object itself (to tell traces apart) and a copy as it was when published. */
  ctx: object;
  seen: Record<string, unknown>;
}

/** Subscribes to every channel of CHANNELS and records what is published, until `stop()`. */
class ChannelRecorder {
  readonly events: Recorded[] = [];
  private readonly stops: (() => void)[] = [];

  constructor() {
    for (const name of TRACES) {
      const channel = diagnostics_channel.tracingChannel(CHANNELS[name]);
      const handlers = Object.fromEntries(
        PHASES.map((phase) => [
          phase,
          (ctx: object) => this.events.push({ channel: name, phase, ctx, seen: { ...ctx } }),
        ]),
      ) as unknown as diagnostics_channel.TracingChannelSubscribers<object>;
      channel.subscribe(handlers);
      this.stops.push(() => channel.unsubscribe(handlers));
    }
    for (const name of Object.keys(CHANNELS) as (keyof typeof CHANNELS)[]) {
      if ((TRACES as readonly string[]).includes(name)) continue;
      const onMessage = (message: unknown) =>
        this.events.push({ channel: name, ctx: message as object, seen: { ...(message as object) } });
      diagnostics_channel.subscribe(CHANNELS[name], onMessage);
      this.stops.push(() => diagnostics_channel.unsubscribe(CHANNELS[name], onMessage));
    }
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** The completed traces of `channel` (their asyncEnd), as last seen. */
  completed<C>(channel: (typeof TRACES)[number], where: (ctx: C) => boolean = () => true): C[] {
    return this.events
      .filter((e) => e.channel === channel && e.phase === 'asyncEnd')
      .map((e) => e.seen as C)
      .filter(where);
  }

  /** The phases one trace went through, in order. */
  phasesOf(ctx: object): string[] {
    return this.events.filter((e) => e.ctx === ctx).map((e) => e.phase!);
  }

  /** The original context object of a completed trace copy. */
  contextOf(channel: string, where: (seen: Record<string, unknown>) => boolean): object {
    const found = this.events.find((e) => e.channel === channel && e.phase === 'asyncEnd' && where(e.seen));
    assert.ok(found, `a completed ${channel} trace`);
    return found.ctx;
  }

  messages<E>(channel: keyof typeof CHANNELS): E[] {
    return this.events.filter((e) => e.channel === channel).map((e) => e.seen as E);
  }
}

/** A ChannelRecorder for one test, stopped when it ends. */
function record(t: { after(fn: () => void): void }): ChannelRecorder {
  const recorder = new ChannelRecorder();
  t.after(() => recorder.stop());
  return recorder;
}

describe('diagnostics_channel', () => {
  let server: ZooKeeperServer;

  before(async () => {
    server = await ZooKeeperServer.start();
  });
  after(async () => {
    await server?.stop();
  });

  /** Expire `zk`'s session for real and wait until the client says LOST. */
  async function expire(zk: ZooKeeperClient): Promise<void> {
    const lost = nextState(zk, ConnectionState.LOST);
    await expireSession(server.connectString, {
      sessionId: zk.sessionId,
      sessionPassword: zk.sessionPassword,
    });
    await lost;
  }

  test('operation: a trace per request with its session, server, xid and zxid; never the data read', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('diag');
    const recorder = record(t);
    const secret = 'the-node-data-secret';
    await zk.create(path, secret);
    const { data } = await zk.get(path);
    assert.equal(data.toString(), secret);
    await zk.getChildren(path);

    const [create] = recorder.completed<OperationContext>('operation', (c) => c.operation === 'create');
    const [get] = recorder.completed<OperationContext>('operation', (c) => c.operation === 'get');
    const [children] = recorder.completed<OperationContext>(
      'operation',
      (c) => c.operation === 'getChildren',
    );
    for (const ctx of [create!, get!, children!]) {
      assert.equal(ctx.path, path);
      assert.equal(ctx.chroot, '');
      assert.equal(ctx.sessionId, zk.sessionId);
      assert.equal(typeof ctx.xid, 'number');
      assert.equal(`${ctx.serverAddress}:${ctx.serverPort}`, zk.connectedServer);
      assert.equal(ctx.readOnly, false);
      assert.equal(typeof ctx.zxid, 'bigint');
      assert.equal(ctx.errorCode, undefined);
      assert.equal(ctx.error, undefined);
    }
    assert.ok(get!.xid! > create!.xid!, 'xids grow');
    assert.ok(create!.zxid! > 0n);
    // Nothing of the data read (or written) is in any context: no result, no Buffer, no string of it.
    for (const event of recorder.events.filter((e) => e.channel === 'operation')) {
      assert.ok(!('result' in event.ctx), 'no result on the context');
      for (const value of Object.values(event.ctx)) {
        assert.ok(!Buffer.isBuffer(value) && !(value instanceof Uint8Array));
        assert.ok(!String(value).includes(secret));
      }
    }
    const getCtx = recorder.contextOf('operation', (s) => s.operation === 'get');
    assert.deepEqual(recorder.phasesOf(getCtx), ['start', 'end', 'asyncStart', 'asyncEnd']);
  });

  test('operation: a failure carries the numeric ZooKeeper code (NoNode = -101) and publishes error once', async (t) => {
    const zk = await connect(t, server);
    const recorder = record(t);
    const path = uniqueRoot('missing');
    await assert.rejects(zk.get(path), errors.NoNodeError);
    assert.equal(await zk.exists(path), null); // a NoNode the client turns into null is still the request's outcome
    const [get] = recorder.completed<OperationContext>('operation', (c) => c.operation === 'get');
    assert.equal(get!.errorCode, -101);
    assert.ok(get!.error instanceof errors.NoNodeError);
    const ctx = recorder.contextOf('operation', (s) => s.operation === 'get');
    assert.deepEqual(recorder.phasesOf(ctx), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const [exists] = recorder.completed<OperationContext>('operation', (c) => c.operation === 'exists');
    assert.equal(exists!.errorCode, -101);
  });

  test('operation: a multi is one trace with its batch size; a failed one carries the failing op’s code', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('multi');
    const recorder = record(t);
    await zk.transaction().create(path).create(`${path}/a`).set(path, 'x').commit();
    await assert.rejects(
      zk.transaction().create(`${path}/b`).delete(`${path}/none`).commit(),
      errors.TransactionError,
    );
    await zk.multiRead([{ type: 'getData', path }]);
    const multis = recorder.completed<OperationContext>('operation', (c) => c.operation === 'multi');
    assert.equal(multis.length, 2);
    assert.equal(multis[0]!.batchSize, 3);
    assert.equal(multis[0]!.errorCode, undefined);
    assert.equal(typeof multis[0]!.zxid, 'bigint');
    assert.equal(multis[1]!.batchSize, 2);
    assert.equal(multis[1]!.errorCode, -101);
    const [read] = recorder.completed<OperationContext>('operation', (c) => c.operation === 'multiRead');
    assert.equal(read!.batchSize, 1);
    assert.ok(!('result' in read!));
  });

  test('operation: a chrooted client reports its chroot and client paths; the watch it set', async (t) => {
    const root = uniqueRoot('chroot');
    const admin = await connect(t, server);
    await admin.create(root);
    const zk = await connect(t, `${server.connectString}${root}`);
    const recorder = record(t);
    await zk.create('/node', 'v');
    await zk.get('/node', { watch: () => {} });
    const [get] = recorder.completed<OperationContext>('operation', (c) => c.operation === 'get');
    assert.equal(get!.path, '/node');
    assert.equal(get!.chroot, root);
    assert.equal(get!.watch, 'data');
  });

  test('connect: a trace per connection attempt; a cut gives SUSPENDED, a reconnect of the same session and a resync', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const recorder = record(t);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('resync');
    await zk.create(path);
    await zk.addWatch(path, () => {});
    const [first] = recorder.completed<ConnectContext>('connect');
    assert.equal(first!.serverAddress, '127.0.0.1');
    assert.equal(first!.serverPort, Number(proxy.connectString.split(':')[1]));
    assert.equal(first!.reconnect, false);
    assert.equal(first!.tls, false);
    assert.equal(first!.sessionId, zk.sessionId, 'completed with the session granted');
    assert.ok(first!.sessionTimeout! > 0);
    const sessionId = zk.sessionId;

    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.drop();
    await suspended;
    await connected;
    await eventually(() => recorder.messages('watchResync').length > 0, 'a resync');

    const again = recorder.completed<ConnectContext>('connect', (c) => c.reconnect);
    assert.ok(again.length >= 1);
    assert.equal(again.at(-1)!.sessionId, sessionId, 'the same session');
    assert.ok(again.at(-1)!.attempt > first!.attempt);
    const states = recorder.messages<{ from: string; to: string; keeperState: string; sessionId: bigint }>(
      'sessionState',
    );
    assert.ok(
      states.some((s) => s.from === 'CONNECTED' && s.to === 'SUSPENDED' && s.sessionId === sessionId),
      JSON.stringify(states, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    );
    assert.ok(
      states.some((s) => s.from === 'SUSPENDED' && s.to === 'CONNECTED' && s.keeperState === 'CONNECTED'),
    );
    assert.deepEqual(recorder.messages('watchResync'), [
      { reason: 'reconnected', keeperState: 'CONNECTED', listeners: 1 },
    ]);
  });

  test('connect: a refused attempt is traced with its error', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const recorder = record(t);
    proxy.refuse();
    proxy.drop();
    await eventually(
      () => recorder.events.some((e) => e.channel === 'connect' && e.phase === 'error'),
      'a failed connect attempt',
    );
    const failed = recorder.completed<ConnectContext>('connect', (c) => c.error !== undefined);
    assert.ok(failed.length >= 1);
    assert.equal(failed[0]!.reconnect, true);
    assert.equal(failed[0]!.sessionId, zk.sessionId, 'the session it tried to resume');
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.accept();
    await connected;
  });

  test('session:state: a real expiry is reported as LOST, then a new session', async (t) => {
    const zk = await connect(t, server);
    const recorder = record(t);
    const old = zk.sessionId;
    await expire(zk);
    await eventually(() => zk.state === ConnectionState.CONNECTED, 'a new session');
    const states = recorder.messages<{ from: string; to: string; keeperState: string; sessionId: bigint }>(
      'sessionState',
    );
    assert.ok(states.some((s) => s.to === 'LOST' && s.keeperState === 'EXPIRED_SESSION'));
    assert.ok(states.some((s) => s.from === 'LOST' && s.to === 'CONNECTED' && s.sessionId !== old));
  });

  test('watch:trigger: one event per table the server event fired in, with the watched path', async (t) => {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const path = uniqueRoot('trigger');
    await zk.create(path, 'a');
    await zk.create(`${path}/child`);
    const recorder = record(t);
    const fired = new Deferred();
    await zk.get(path, { watch: () => fired.resolve() });
    await zk.addWatch(path, () => {}, { recursive: true });
    await other.set(path, 'b');
    await within(fired.promise, 'the data watch');
    await other.set(`${path}/child`, 'c');
    await eventually(() => recorder.messages('watchTrigger').length >= 3, 'three trigger events');
    const sessionId = zk.sessionId;
    assert.deepEqual(recorder.messages('watchTrigger'), [
      { sessionId, type: 'NodeDataChanged', path, kind: 'data', watchPath: path, listeners: 1 },
      {
        sessionId,
        type: 'NodeDataChanged',
        path,
        kind: 'persistentRecursive',
        watchPath: path,
        listeners: 1,
      },
      {
        sessionId,
        type: 'NodeDataChanged',
        path: `${path}/child`,
        kind: 'persistentRecursive',
        watchPath: path,
        listeners: 1,
      },
    ]);
  });

  test('request:retry: each retry of a policy with the error code', async (t) => {
    const zk = await connect(t, server);
    const recorder = record(t);
    let tries = 0;
    const value = await zk.retry(async () => {
      if (++tries < 3) throw new errors.ConnectionLossError();
      return 'done';
    });
    assert.equal(value, 'done');
    const retries = recorder.messages<{ policy: string; attempt: number; delay: number; errorCode: number }>(
      'requestRetry',
    );
    assert.deepEqual(
      retries.map(({ policy, attempt, errorCode }) => ({ policy, attempt, errorCode })),
      [
        { policy: 'retryPolicy', attempt: 1, errorCode: -4 },
        { policy: 'retryPolicy', attempt: 2, errorCode: -4 },
      ],
    );
    assert.ok(retries.every((r) => r.delay >= 0));
  });

  test('lock: a hand-over publishes acquire traces (wait), acquired and released with node and fencing token', async (t) => {
    const zkA = await connect(t, server);
    const zkB = await connect(t, server);
    const path = uniqueRoot('lock');
    const recorder = record(t);
    const a = new Lock(zkA, path, { identifier: 'a' });
    const b = new Lock(zkB, path, { identifier: 'b' });
    assert.equal(await a.acquire(), true);
    const tokenA = a.fencingToken;
    const nodeA = a.nodePath;
    const waiting = b.acquire();
    await eventually(async () => (await zkA.getChildren(path)).length === 2, 'b queued');
    assert.equal(await a.release(), true);
    assert.equal(await within(waiting, 'b acquires'), true);

    const acquires = recorder.completed<LockAcquireContext>('lockAcquire');
    assert.deepEqual(
      acquires.map(({ recipe, path: p, acquired, node, fencingToken }) => ({
        recipe,
        path: p,
        acquired,
        node,
        fencingToken,
      })),
      [
        { recipe: 'Lock', path, acquired: true, node: nodeA, fencingToken: tokenA },
        { recipe: 'Lock', path, acquired: true, node: b.nodePath, fencingToken: b.fencingToken },
      ],
    );
    const acquired = recorder.messages<LockEvent>('lockAcquired');
    assert.deepEqual(acquired, [
      { recipe: 'Lock', path, node: nodeA, fencingToken: tokenA },
      { recipe: 'Lock', path, node: b.nodePath, fencingToken: b.fencingToken },
    ]);
    const [released] = recorder.messages<LockEvent>('lockReleased');
    assert.equal(released!.node, nodeA);
    assert.equal(released!.fencingToken, tokenA);
    assert.ok(released!.heldMs! >= 0);
    assert.ok(b.fencingToken > tokenA);
    // b's trace spans its wait: it started before a's release and ended after it.
    const order = recorder.events.map((e) => `${e.channel}:${e.phase ?? ''}`);
    const bStart = order.lastIndexOf('lockAcquire:start');
    assert.ok(bStart < order.indexOf('lockReleased:'));
    await b.release();
  });

  test('lock: a session loss publishes lock:lost', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lost');
    const recorder = record(t);
    const lock = new Lock(zk, path);
    await lock.acquire();
    const token = lock.fencingToken;
    const node = lock.nodePath;
    await expire(zk);
    const [event] = recorder.messages<LockEvent>('lockLost');
    assert.equal(event!.fencingToken, token);
    assert.equal(event!.node, node);
    assert.equal(lock.isAcquired, false);
    assert.deepEqual(recorder.messages('lockReleased'), []);
  });

  test('election:leader and queue:taken', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('recipes');
    const recorder = record(t);
    const election = new Election(zk, `${root}/election`, { identifier: 'me' });
    const token = await election.run(({ fencingToken }) => fencingToken);
    const [leader] = recorder.messages<LockEvent>('electionLeader');
    assert.equal(leader!.recipe, 'Election');
    assert.equal(leader!.fencingToken, token);

    const queue = new Queue(zk, `${root}/queue`);
    await queue.put(Buffer.from('job'));
    assert.equal((await queue.get())?.toString(), 'job');
    const locking = new LockingQueue(zk, `${root}/locking`);
    await locking.put(Buffer.from('item'));
    assert.equal((await locking.get())?.toString(), 'item');
    await locking.consume();
    const taken = recorder.messages<{ recipe: string; path: string; node: string }>('queueTaken');
    assert.deepEqual(
      taken.map(({ recipe, path }) => ({ recipe, path })),
      [
        { recipe: 'Queue', path: `${root}/queue` },
        { recipe: 'LockingQueue', path: `${root}/locking` },
      ],
    );
    assert.ok(taken.every((e) => e.node.startsWith('entry-')));
  });

  test('without subscribers nothing is published, and an operation carries no trace', async (t) => {
    const zk = await connect(t, server);
    const recorder = new ChannelRecorder();
    recorder.stop();
    const path = uniqueRoot('quiet');
    await zk.create(path, 'x');
    await zk.get(path);
    await new Lock(zk, `${path}/lock`).acquire();
    assert.deepEqual(recorder.events, []);
    for (const name of Object.values(CHANNELS))
      assert.equal(diagnostics_channel.hasSubscribers(name), false, `${name} has no subscriber`);
    const operation = diagnostics_channel.tracingChannel(CHANNELS.operation) as unknown as {
      hasSubscribers: boolean;
    };
    assert.equal(operation.hasSubscribers, false);
  });
});
