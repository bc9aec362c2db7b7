/**
 * RetryPolicy, the pending-reply ring buffer, the watch registry's routing and delivery
 * order, and the digest id helper.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import winston from 'winston';
import { digestId, makeDigestAcl, Perms } from '../../src/client/acl.js';
import { PendingQueue } from '../../src/client/connection/pending-queue.js';
import {
  AbortError,
  ConnectionLossError,
  InvalidArgumentError,
  NoNodeError,
  OperationTimeoutError,
  SessionExpiredError,
  TimeoutError,
} from '../../src/client/errors.js';
import { RetryPolicy, isTransientError, sleep } from '../../src/client/retry.js';
import { EventType, KeeperState, type WatchEvent, type WatchListener } from '../../src/client/states.js';
import { WatchRegistry, type WatchKind, type WatchPath } from '../../src/client/watch-registry.js';

const logger = winston.createLogger({ silent: true });

describe('RetryPolicy', () => {
  test('retries ConnectionLossError up to maxTries, then throws that error', async () => {
    const policy = new RetryPolicy({ maxTries: 4, delay: 1, jitter: 0 });
    let calls = 0;
    const last = new ConnectionLossError({ op: 'getData', path: '/x' });
    await assert.rejects(
      policy.run(async () => {
        calls++;
        throw calls === 4 ? last : new ConnectionLossError();
      }),
      (error: unknown) => error === last,
    );
    assert.equal(calls, 4);
  });

  test('returns the first success', async () => {
    const policy = new RetryPolicy({ maxTries: 5, delay: 1, jitter: 0 });
    let calls = 0;
    const value = await policy.run(async () => {
      calls++;
      if (calls < 3) throw new OperationTimeoutError();
      return 'done';
    });
    assert.equal(value, 'done');
    assert.equal(calls, 3);
  });

  test('does not retry NoNodeError (an answer, not a transient failure)', async () => {
    const policy = new RetryPolicy({ maxTries: 5, delay: 1 });
    let calls = 0;
    await assert.rejects(
      policy.run(async () => {
        calls++;
        throw new NoNodeError({ path: '/x' });
      }),
      NoNodeError,
    );
    assert.equal(calls, 1);
  });

  test('does not retry SessionExpiredError or plain errors', async () => {
    for (const error of [new SessionExpiredError(), new Error('boom')]) {
      let calls = 0;
      await assert.rejects(
        new RetryPolicy({ delay: 1 }).run(async () => {
          calls++;
          throw error;
        }),
        (e: unknown) => e === error,
      );
      assert.equal(calls, 1);
    }
  });

  test('isTransientError', () => {
    assert.equal(isTransientError(new ConnectionLossError()), true);
    assert.equal(isTransientError(new OperationTimeoutError()), true);
    assert.equal(isTransientError(new NoNodeError()), false);
    assert.equal(isTransientError(new Error('x')), false);
  });

  test('a custom isRetryable decides', async () => {
    let calls = 0;
    const policy = new RetryPolicy({ maxTries: 3, delay: 1, isRetryable: (e) => e instanceof NoNodeError });
    await assert.rejects(
      policy.run(async () => {
        calls++;
        throw new NoNodeError();
      }),
      NoNodeError,
    );
    assert.equal(calls, 3);
  });

  test('honours the deadline: TimeoutError caused by the last failure', async () => {
    const policy = new RetryPolicy({ maxTries: -1, delay: 40, backoff: 1, jitter: 0, deadline: 150 });
    let calls = 0;
    await assert.rejects(
      policy.run(async () => {
        calls++;
        throw new ConnectionLossError();
      }),
      (error: unknown) => error instanceof TimeoutError && error.cause instanceof ConnectionLossError,
    );
    assert.ok(calls >= 1 && calls <= 5, `tried ${calls} times within a 150 ms deadline at 40 ms per delay`);
  });

  test('a deadline shorter than the first delay fails after one try', async () => {
    let calls = 0;
    await assert.rejects(
      new RetryPolicy({ delay: 1000, jitter: 0, deadline: 10 }).run(async () => {
        calls++;
        throw new ConnectionLossError();
      }),
      TimeoutError,
    );
    assert.equal(calls, 1);
  });

  test('honours an AbortSignal aborted during the backoff (AbortError)', async () => {
    const controller = new AbortController();
    const policy = new RetryPolicy({ maxTries: -1, delay: 10_000, jitter: 0 });
    let calls = 0;
    const run = policy.run(async () => {
      calls++;
      setTimeout(() => controller.abort('stop'), 10);
      throw new ConnectionLossError();
    }, controller.signal);
    await assert.rejects(run, (error: unknown) => error instanceof AbortError && error.cause === 'stop');
    assert.equal(calls, 1);
  });

  test('an already-aborted signal fails before the first try', async () => {
    let calls = 0;
    await assert.rejects(
      new RetryPolicy().run(async () => {
        calls++;
        return 1;
      }, AbortSignal.abort()),
      AbortError,
    );
    assert.equal(calls, 0);
  });

  test('sleep rejects with AbortError when aborted and resolves otherwise', async () => {
    await sleep(1);
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await assert.rejects(pending, AbortError);
  });

  test('validates options with InvalidArgumentError', () => {
    const bad: Array<Record<string, unknown>> = [
      { delay: -1 },
      { delay: Number.NaN },
      { maxTries: 0 },
      { maxTries: -2 },
      { backoff: 0.5 },
      { jitter: -0.1 },
      { maxDelay: -5 },
      { deadline: -1 },
      { delay: '100' },
    ];
    for (const options of bad) {
      assert.throws(() => new RetryPolicy(options as never), InvalidArgumentError, JSON.stringify(options));
    }
    assert.doesNotThrow(
      () => new RetryPolicy({ maxTries: -1, delay: 0, backoff: 1, jitter: 0, deadline: 0 }),
    );
  });

  test('defaults', () => {
    const policy = new RetryPolicy();
    assert.equal(policy.maxTries, 5);
    assert.equal(policy.delay, 100);
    assert.equal(policy.backoff, 2);
    assert.equal(policy.deadline, undefined);
  });
});

describe('PendingQueue', () => {
  test('FIFO across wrap-around and growth', () => {
    const queue = new PendingQueue<number>(4);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    assert.equal(queue.shift(), 1);
    assert.equal(queue.shift(), 2);
    // head is now 2: these wrap around the end of the 4-slot ring
    queue.push(4);
    queue.push(5);
    queue.push(6);
    assert.equal(queue.size, 4);
    // full and wrapped: this grows while head != 0
    queue.push(7);
    queue.push(8);
    assert.equal(queue.size, 6);
    assert.equal(queue.peek(), 3);
    const out: number[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
    assert.deepEqual(out, [3, 4, 5, 6, 7, 8]);
    assert.equal(queue.size, 0);
    assert.equal(queue.peek(), undefined);
    assert.equal(queue.shift(), undefined);
  });

  test('matches an array model under a long random mix of push and shift', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const queue = new PendingQueue<number>(2);
    const model: number[] = [];
    let next = 0;
    for (let i = 0; i < 20_000; i++) {
      if (random() < 0.55) {
        queue.push(next);
        model.push(next++);
      } else {
        assert.equal(queue.shift(), model.shift(), `step ${i}`);
      }
      assert.equal(queue.size, model.length);
      assert.equal(queue.peek(), model[0]);
    }
    assert.deepEqual(queue.drain(), model);
  });

  test('an initial capacity of 0 still grows (degenerate but accepted by the constructor)', () => {
    const queue = new PendingQueue<number>(0);
    queue.push(1);
    queue.push(2);
    assert.equal(queue.size, 2);
    assert.equal(queue.peek(), 1);
    assert.deepEqual(queue.drain(), [1, 2]);
  });

  test('drain returns everything oldest first and empties the queue', () => {
    const queue = new PendingQueue<string>(1);
    for (const s of ['a', 'b', 'c', 'd', 'e']) queue.push(s);
    queue.shift();
    queue.push('f');
    assert.deepEqual(queue.drain(), ['b', 'c', 'd', 'e', 'f']);
    assert.equal(queue.size, 0);
    assert.deepEqual(queue.drain(), []);
    queue.push('g');
    assert.equal(queue.shift(), 'g');
  });
});

function event(type: EventType, path: string): WatchEvent {
  return { type, state: KeeperState.CONNECTED, path };
}

/** Register `listener` as a reply does: a watch-setting request expected, then settled. */
function add(
  registry: WatchRegistry,
  kind: WatchKind,
  path: string | WatchPath,
  listener: WatchListener,
): void {
  const paths = typeof path === 'string' ? { server: path, client: path } : path;
  registry.expect([kind], paths, listener).settle(kind);
}

/** Whether a watch of `kind` at `path` is registered (what a reconnect's SetWatches would send). */
function has(registry: WatchRegistry, kind: WatchKind, path: string): boolean {
  return registry.paths()[kind].includes(path);
}

/** A listener that records what it saw, tagged with a name, into a shared log. */
function recording(log: string[], name: string): WatchListener {
  return (e) => {
    log.push(`${name}:${e.type}:${e.path}`);
  };
}

/** A registry with one `recording` listener per [kind, path, name], all into one log. */
function recordingRegistry(watches: readonly [WatchKind, string, string][]): {
  registry: WatchRegistry;
  log: string[];
} {
  const registry = new WatchRegistry(logger);
  const log: string[] = [];
  for (const [kind, path, name] of watches) add(registry, kind, path, recording(log, name));
  return { registry, log };
}

/** What the recording listeners saw of one dispatched event (sorted; the log is cleared first). */
async function seenOf(
  registry: WatchRegistry,
  log: string[],
  type: EventType,
  path: string,
): Promise<string[]> {
  log.length = 0;
  registry.dispatch(event(type, path));
  await registry.idle();
  return log.sort();
}

describe('WatchRegistry', () => {
  test('a one-shot data listener gets NodeDataChanged once and is removed', async () => {
    const registry = new WatchRegistry(logger);
    const seen: WatchEvent[] = [];
    add(registry, 'data', '/a', (e) => {
      seen.push(e);
    });
    registry.dispatch(event(EventType.NodeDataChanged, '/a'));
    registry.dispatch(event(EventType.NodeDataChanged, '/a'));
    await registry.idle();
    assert.deepEqual(seen, [event(EventType.NodeDataChanged, '/a')]);
    assert.equal(has(registry, 'data', '/a'), false);
    assert.equal(registry.size, 0);
  });

  test('NodeDeleted reaches data, exist and child listeners (all consumed)', async () => {
    const { registry, log } = recordingRegistry([
      ['data', '/a', 'data'],
      ['exist', '/a', 'exist'],
      ['child', '/a', 'child'],
      ['data', '/b', 'other'],
    ]);
    assert.deepEqual(await seenOf(registry, log, EventType.NodeDeleted, '/a'), [
      'child:NodeDeleted:/a',
      'data:NodeDeleted:/a',
      'exist:NodeDeleted:/a',
    ]);
    assert.equal(has(registry, 'data', '/a'), false);
    assert.equal(has(registry, 'exist', '/a'), false);
    assert.equal(has(registry, 'child', '/a'), false);
    assert.equal(has(registry, 'data', '/b'), true);
  });

  test('NodeChildrenChanged reaches child and exact-path persistent listeners, never recursive ones', async () => {
    const { registry, log } = recordingRegistry([
      ['child', '/a', 'child'],
      ['persistent', '/a', 'persistent'],
      ['persistent', '/', 'persistent-root'],
      ['persistent', '/a/b', 'persistent-below'],
      ['persistentRecursive', '/a', 'recursive-a'],
      ['persistentRecursive', '/', 'recursive-root'],
      ['data', '/a', 'data'],
      ['exist', '/a', 'exist'],
    ]);
    assert.deepEqual(await seenOf(registry, log, EventType.NodeChildrenChanged, '/a'), [
      'child:NodeChildrenChanged:/a',
      'persistent:NodeChildrenChanged:/a',
    ]);
    assert.equal(has(registry, 'child', '/a'), false, 'the child watch is consumed');
    assert.equal(has(registry, 'persistent', '/a'), true, 'the persistent watch stays');
    assert.equal(has(registry, 'data', '/a'), true, 'the data watch is not triggered by a child change');
    assert.equal(has(registry, 'exist', '/a'), true);
  });

  test('recursive listeners on "/" and "/a" get events for "/a/b/c"; others do not', async () => {
    const { registry, log } = recordingRegistry([
      ['persistentRecursive', '/', 'root'],
      ['persistentRecursive', '/a', 'a'],
      ['persistentRecursive', '/a/b/c', 'self'],
      ['persistentRecursive', '/a/x', 'sibling'],
      ['persistentRecursive', '/a/b/c/d', 'below'],
      ['persistentRecursive', '/ab', 'prefix-not-parent'],
      ['persistent', '/a', 'persistent-ancestor'],
    ]);
    for (const type of [EventType.NodeCreated, EventType.NodeDataChanged, EventType.NodeDeleted]) {
      assert.deepEqual(
        await seenOf(registry, log, type, '/a/b/c'),
        [`a:${type}:/a/b/c`, `root:${type}:/a/b/c`, `self:${type}:/a/b/c`],
        type,
      );
    }
    assert.equal(has(registry, 'persistentRecursive', '/a'), true, 'recursive watches persist');
  });

  test('a listener registered in several tables is called once per event', async () => {
    const registry = new WatchRegistry(logger);
    let calls = 0;
    const listener = () => {
      calls++;
    };
    add(registry, 'data', '/a', listener);
    add(registry, 'exist', '/a', listener);
    add(registry, 'persistent', '/a', listener);
    add(registry, 'persistentRecursive', '/', listener);
    registry.dispatch(event(EventType.NodeDataChanged, '/a'));
    await registry.idle();
    assert.equal(calls, 1);
  });

  test('a throwing listener does not stop the next one', async () => {
    const registry = new WatchRegistry(logger);
    const log: string[] = [];
    add(registry, 'data', '/a', () => {
      throw new Error('listener bug');
    });
    add(registry, 'data', '/a', async () => {
      await delay(1);
      throw new Error('async listener bug');
    });
    add(registry, 'data', '/a', recording(log, 'after'));
    registry.dispatch(event(EventType.NodeDataChanged, '/a'));
    add(registry, 'child', '/b', recording(log, 'next-event'));
    registry.dispatch(event(EventType.NodeChildrenChanged, '/b'));
    await registry.idle();
    assert.deepEqual(log, ['after:NodeDataChanged:/a', 'next-event:NodeChildrenChanged:/b']);
  });

  test('sessionLost delivers None to every listener, drops one-shot and keeps persistent ones', async () => {
    const registry = new WatchRegistry(logger);
    const seen: WatchEvent[] = [];
    const listener = (e: WatchEvent) => {
      seen.push(e);
    };
    add(registry, 'data', '/d', listener);
    add(registry, 'exist', '/e', listener);
    add(registry, 'child', '/c', listener);
    add(registry, 'persistent', '/p', listener);
    add(registry, 'persistentRecursive', '/r', listener);
    registry.sessionLost(KeeperState.EXPIRED_SESSION);
    await registry.idle();
    assert.deepEqual(
      seen.map((e) => `${e.type}:${e.state}:${e.path}`).sort(),
      ['/c', '/d', '/e', '/p', '/r'].map((p) => `None:EXPIRED_SESSION:${p}`),
    );
    assert.equal(has(registry, 'data', '/d'), false);
    assert.equal(has(registry, 'exist', '/e'), false);
    assert.equal(has(registry, 'child', '/c'), false);
    assert.equal(has(registry, 'persistent', '/p'), true);
    assert.equal(has(registry, 'persistentRecursive', '/r'), true);
    assert.equal(registry.size, 2);
    assert.deepEqual(registry.paths(), {
      data: [],
      exist: [],
      child: [],
      persistent: ['/p'],
      persistentRecursive: ['/r'],
    });
  });

  test('delivery order equals dispatch order even when a listener is async and slow', async () => {
    const registry = new WatchRegistry(logger);
    const log: string[] = [];
    add(registry, 'persistent', '/slow', async (e) => {
      log.push(`slow-start:${e.type}`);
      await delay(50);
      log.push(`slow-end:${e.type}`);
    });
    add(registry, 'persistent', '/fast', (e) => {
      log.push(`fast:${e.type}`);
    });
    registry.dispatch(event(EventType.NodeDataChanged, '/slow'));
    registry.dispatch(event(EventType.NodeDataChanged, '/fast'));
    registry.dispatch(event(EventType.NodeDeleted, '/slow'));
    registry.dispatch(event(EventType.NodeCreated, '/fast'));
    await registry.idle();
    assert.deepEqual(log, [
      'slow-start:NodeDataChanged',
      'slow-end:NodeDataChanged',
      'fast:NodeDataChanged',
      'slow-start:NodeDeleted',
      'slow-end:NodeDeleted',
      'fast:NodeCreated',
    ]);
  });

  test('remove a single listener or every listener of a path', () => {
    const registry = new WatchRegistry(logger);
    const a: WatchListener = () => {};
    const b: WatchListener = () => {};
    add(registry, 'data', '/x', a);
    add(registry, 'data', '/x', b);
    assert.deepEqual(registry.remove(['data'], '/x', a), {
      removed: [{ kind: 'data', listener: a, path: '/x' }],
      unused: [],
    });
    assert.deepEqual(registry.remove(['data'], '/x', a), { removed: [], unused: [] }, 'a is gone');
    assert.deepEqual(registry.remove(['data'], '/x'), {
      removed: [{ kind: 'data', listener: b, path: '/x' }],
      unused: ['data'],
    });
    assert.equal(has(registry, 'data', '/x'), false);
  });

  test('scenario 2: removing one listener keeps the server watch that a registration in flight needs', () => {
    const registry = new WatchRegistry(logger);
    const a: WatchListener = () => {};
    const b: WatchListener = () => {};
    const path = { server: '/x', client: '/x' };
    registry.expect(['data'], path, a).settle('data');
    // B's get(watch) is in flight; A removes its listener: the server's data watch must stay.
    const bGet = registry.expect(['data'], path, b);
    assert.deepEqual(registry.remove(['data', 'exist'], '/x', a).unused, []);
    assert.equal(registry.size, 0);
    bGet.settle('data'); // the reply arrives after the removal: B is registered on a live server watch
    assert.deepEqual(
      registry.remove(['data', 'exist'], '/x', b),
      { removed: [{ kind: 'data', listener: b, path: '/x' }], unused: ['data'] },
      'B was registered; the last user removes the server watch',
    );
    // The same when B's reply arrived first, and for an exists whose reply may say data or exist.
    add(registry, 'exist', '/x', a);
    const bExists = registry.expect(['data', 'exist'], path, b);
    bExists.settle('data');
    assert.deepEqual(registry.remove(['data', 'exist'], '/x', a).unused, []);
    assert.deepEqual(registry.remove(['data', 'exist'], '/x', b).unused, ['data']);
    // A registration that failed needs nothing: settle() registers nothing and frees the table.
    add(registry, 'data', '/x', a);
    registry.expect(['data'], path, b).settle();
    assert.deepEqual(registry.remove(['data'], '/x', a).unused, ['data']);
    assert.equal(registry.size, 0);
  });

  test('scenario 2: removing a listener whose registration is in flight cancels it; remove-all cancels every one', () => {
    const registry = new WatchRegistry(logger);
    const a: WatchListener = () => {};
    const b: WatchListener = () => {};
    const path = { server: '/x', client: '/x' };
    const aGet = registry.expect(['data'], path, a);
    const bGet = registry.expect(['child'], path, b);
    assert.deepEqual(registry.remove(['data', 'exist'], '/x', a), {
      removed: [{ kind: 'data', listener: a, path: '/x' }],
      unused: ['data'],
    });
    aGet.settle('data');
    assert.equal(registry.size, 0, 'the reply of a cancelled registration registers nothing');
    assert.deepEqual(
      registry.remove(['data', 'exist'], '/x', b),
      { removed: [], unused: [] },
      'a child registration is not a data one',
    );
    assert.deepEqual(
      registry.remove(['child'], '/x'),
      { removed: [{ kind: 'child', listener: b, path: '/x' }], unused: ['child'] },
      'remove-all takes the one in flight too',
    );
    bGet.settle('child');
    assert.equal(registry.size, 0);
  });

  test('scenario 2: tables are shared as on the server: a persistent watch needs the data and the child table', () => {
    const registry = new WatchRegistry(logger);
    const persistent: WatchListener = () => {};
    const oneShot: WatchListener = () => {};
    add(registry, 'persistent', '/p', persistent);
    add(registry, 'data', '/p', oneShot);
    assert.deepEqual(
      registry.remove(['persistent'], '/p', persistent).unused,
      ['child'],
      'the one-shot data watch still needs the data table',
    );
    assert.deepEqual(registry.remove(['data', 'exist'], '/p', oneShot).unused, ['data']);
    add(registry, 'persistentRecursive', '/r', persistent);
    add(registry, 'child', '/r', oneShot);
    assert.deepEqual(
      registry.remove(['child'], '/r', oneShot).unused,
      [],
      'the recursive watch may occupy the child table too',
    );
    const inFlight = registry.expect(['persistent'], { server: '/r', client: '/r' }, oneShot);
    assert.deepEqual(
      registry.remove(['persistentRecursive'], '/r', persistent).unused,
      [],
      'an addWatch in flight needs both tables',
    );
    inFlight.settle('persistent');
    assert.deepEqual(registry.remove(['persistent'], '/r').unused.sort(), ['child', 'data']);
  });

  test("unused: the tables of a watch no listener has (an abandoned request's), less those a registered or in-flight one needs", () => {
    const registry = new WatchRegistry(logger);
    const listener: WatchListener = () => {};
    assert.deepEqual(registry.unused(['persistent'], '/p').sort(), ['child', 'data']);
    assert.deepEqual(registry.unused(['exist'], '/p'), ['data']);
    add(registry, 'data', '/p', listener);
    assert.deepEqual(registry.unused(['persistentRecursive'], '/p'), ['child'], 'the data watch stays');
    assert.deepEqual(registry.unused(['data'], '/p'), []);
    const inFlight = registry.expect(['child'], { server: '/p', client: '/p' }, listener);
    assert.deepEqual(
      registry.unused(['persistent'], '/p'),
      [],
      'a getChildren in flight needs the child table',
    );
    inFlight.settle();
    assert.deepEqual(registry.unused(['child'], '/p'), ['child']);
    assert.deepEqual(registry.unused(['child'], '/other'), ['child'], 'per path');
  });

  test('scenario 8: entries are keyed by server path; events carry the path each listener registered with', async () => {
    const registry = new WatchRegistry(logger, (server) =>
      server === '/app' ? '/' : server.startsWith('/app/') ? server.slice(4) : server,
    );
    const log: string[] = [];
    const config = recording(log, 'config');
    const users = recording(log, 'users-node');
    const recursive = recording(log, 'recursive');
    add(registry, 'data', { server: '/zookeeper/config', client: '/zookeeper/config' }, config);
    add(registry, 'data', { server: '/app/zookeeper/config', client: '/zookeeper/config' }, users);
    add(registry, 'persistentRecursive', { server: '/app', client: '/' }, recursive);
    assert.deepEqual(registry.paths().data.sort(), ['/app/zookeeper/config', '/zookeeper/config']);
    registry.dispatch(event(EventType.NodeDataChanged, '/zookeeper/config'));
    await registry.idle();
    assert.deepEqual(
      log,
      ['config:NodeDataChanged:/zookeeper/config'],
      'the config node is not the chroot node, nor below the recursive watch',
    );
    log.length = 0;
    registry.dispatch(event(EventType.NodeDataChanged, '/app/zookeeper/config'));
    await registry.idle();
    assert.deepEqual(log.sort(), [
      'recursive:NodeDataChanged:/zookeeper/config',
      'users-node:NodeDataChanged:/zookeeper/config',
    ]);
    assert.deepEqual(
      registry.remove(['data'], '/zookeeper/config'),
      { removed: [], unused: [] },
      'consumed before',
    );
  });
});

describe('ACL', () => {
  test("digestId('alice', 'secret')", () => {
    assert.equal(digestId('alice', 'secret'), 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=');
  });

  test('makeDigestAcl uses the digest id', () => {
    assert.deepEqual(makeDigestAcl('alice', 'secret', Perms.READ), {
      perms: Perms.READ,
      id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' },
    });
  });
});
