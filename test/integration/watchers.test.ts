/**
 * DataWatch, ChildrenWatch and PatientChildrenWatch against a real ZooKeeper server: kazoo's
 * KazooDataWatcherTests, KazooChildrenWatcherTests and KazooPatientChildrenWatcherTests
 * (kazoo's kazoo/tests/test_watchers.py) in our own words, plus re-reads after a connection drop
 * (FaultProxy) and after a real session loss (`server.expireSession`), session notifications,
 * and the async-iterator forms ending cleanly on abort with no dangling watch.
 *
 * "Nothing more happens" checks use `quiesce()`: an event fence plus a round trip, so every
 * event and read the recipe could act on has been processed before we look.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ChildrenWatch,
  InvalidArgumentError,
  ConnectionState,
  DataWatch,
  EventType,
  KeeperState,
  NoNodeError,
  PatientChildrenWatch,
  RecipeStateError,
  watchChildren,
  watchData,
  type Stat,
  type WatchEvent,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { quiesce } from '../support/recipes.js';
import { Recorder } from '../support/recorder.js';
import { eventually, grace, probe, safety, within } from '../support/wait.js';

const server = await serverForFile();

type DataCall = { data: string | null; stat: Stat | null; event: WatchEvent | undefined };
const text = (data: Buffer | null) => (data === null ? null : data.toString('utf8'));

describe('DataWatch: kazoo KazooDataWatcherTests', () => {
  test('test_data_watcher: a missing node is reported as null, its creation with the data', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => calls.push(text(data)));
    await within(watch.ready, 'first call');
    assert.deepEqual(calls.calls, [null]);
    await zk.create(path, 'fred');
    assert.equal(await calls.nth(2), 'fred');
    await watch.stop();
  });

  test('test_data_watcher_once: a second function on one instance is a RecipeStateError (a non-function an InvalidArgumentError)', async (t) => {
    const zk = await connect(t, server);
    const watch = new DataWatch(zk, uniqueRoot('dw'));
    assert.throws(() => watch.watch(42 as unknown as () => void), InvalidArgumentError);
    assert.throws(() => new ChildrenWatch(zk, '/x', 'f' as unknown as () => void), InvalidArgumentError);
    watch.watch(() => {});
    assert.throws(() => watch.watch(() => {}), RecipeStateError);
    await watch.stop();
  });

  test('test_data_watcher_with_event: a 3-parameter function gets no event first, then NodeCreated', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    const calls = new Recorder<WatchEvent | undefined>();
    const watch = new DataWatch(zk, path, (_data, _stat, event) => calls.push(event));
    assert.equal(await calls.nth(1), undefined);
    await zk.create(path, 'x');
    const event = await calls.nth(2);
    assert.equal(event?.type, EventType.NodeCreated);
    assert.equal(event?.path, path);
    await watch.stop();
  });

  test('test_func_style_data_watch: the decorator style (watch(fn)) and the constructor style behave alike', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    await zk.create(path, 'v1');
    const decorated = new Recorder<string | null>();
    const constructed = new Recorder<string | null>();
    const w1 = new DataWatch(zk, path);
    const returned = w1.watch((data) => decorated.push(text(data)));
    assert.equal(typeof returned, 'function', 'watch(fn) returns fn, like a decorator');
    const w2 = new DataWatch(zk, path, (data) => constructed.push(text(data)));
    await within(Promise.all([w1.ready, w2.ready]), 'first calls');
    await zk.set(path, 'v2');
    assert.deepEqual(await decorated.waitForCount(2), ['v1', 'v2']);
    assert.deepEqual(await constructed.waitForCount(2), ['v1', 'v2']);
    await w1.stop();
    await w2.stop();
  });

  test('test_datawatch_across_session_expire: after a real session expiry a retried set is reported', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    await zk.create(path, '');
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => calls.push(text(data)));
    assert.equal(await calls.nth(1), '');
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    await nextState(zk, ConnectionState.CONNECTED, safety());
    await zk.retry(() => zk.set(path, 'fred'));
    assert.equal(await calls.nth(2), 'fred');
    assert.equal(watch.stopReason, undefined);
    await watch.stop();
  });

  test('test_func_stops: returning false stops the watch; a later set is not reported and the watch is removed', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('dw');
    await zk.create(path, 'a');
    const baseline = zk.watchCount;
    const states = zk.listenerCount('state');
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => {
      calls.push(text(data));
      if (calls.calls.length === 2) return false;
    });
    await calls.nth(1);
    await writer.set(path, 'b');
    assert.equal(await calls.nth(2), 'b');
    assert.equal(await within(watch.stopped, 'stopped'), 'func');
    await writer.set(path, 'c');
    await quiesce(zk, writer, path);
    assert.deepEqual(calls.calls, ['a', 'b']);
    assert.equal(zk.listenerCount('state'), states, 'state listener removed');
    await eventually(() => zk.watchCount === baseline, 'watch listener removed');
  });

  test('test_no_such_node: the first call is (null, null)', async (t) => {
    const zk = await connect(t, server);
    const calls = new Recorder<[Buffer | null, Stat | null]>();
    const watch = new DataWatch(zk, uniqueRoot('dw'), (data, stat) => calls.push([data, stat]));
    await within(watch.ready, 'first call');
    assert.deepEqual(calls.calls, [[null, null]]);
    await watch.stop();
  });

  test('test_watcher_evaluating_to_false: only an exact `false` stops; other falsy results keep watching', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    await zk.create(path, '0');
    const falsy = [0, '', null, undefined, Number.NaN];
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => {
      calls.push(text(data));
      return falsy[calls.calls.length - 1];
    });
    for (let i = 1; i < falsy.length; i++) {
      await calls.nth(i);
      await zk.set(path, String(i));
    }
    assert.deepEqual(await calls.waitForCount(falsy.length), ['0', '1', '2', '3', '4']);
    assert.equal(watch.stopReason, undefined);
    await watch.stop();
  });

  test('test_watcher_repeat_delete: delete/create/delete/create → null, blah, null, blah', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => calls.push(text(data)));
    await calls.nth(1);
    await zk.create(path, 'blah');
    await calls.nth(2);
    await zk.delete(path);
    await calls.nth(3);
    await zk.create(path, 'blah');
    await calls.nth(4);
    assert.deepEqual(calls.calls, [null, 'blah', null, 'blah']);
    await watch.stop();
  });

  test('test_watcher_with_closing: closing the client with an active DataWatch throws nothing; the watch stops', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    await zk.create(path, 'x');
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => calls.push(text(data)));
    await calls.nth(1);
    await zk.close();
    assert.equal(await within(watch.stopped, 'stopped after close'), 'closed');
    assert.deepEqual(calls.calls, ['x']);
  });
});

describe('DataWatch / ChildrenWatch: stopping', () => {
  test('stop() called from inside the function returns, and nothing is called afterwards', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('dw');
    await writer.create(path, 'a');
    const baseline = zk.watchCount;
    const dataCalls: (string | null)[] = [];
    const childCalls: string[][] = [];
    const dw: DataWatch = new DataWatch(zk, path, async (data) => {
      dataCalls.push(text(data));
      await dw.stop();
    });
    const cw: ChildrenWatch = new ChildrenWatch(zk, path, async (names) => {
      childCalls.push(names);
      await cw.stop();
    });
    assert.equal(await within(dw.stopped, 'data watch stopped'), 'stopped');
    assert.equal(await within(cw.stopped, 'children watch stopped'), 'stopped');
    await writer.set(path, 'b');
    await writer.create(`${path}/c`);
    await quiesce(zk, writer, path);
    assert.deepEqual(dataCalls, ['a']);
    assert.deepEqual(childCalls, [[]]);
    await eventually(() => zk.watchCount === baseline, 'no watch left');
  });
});

describe('DataWatch: reconnects, session loss, session events', () => {
  test('a change made while disconnected is reported once after the reconnect; a plain reconnect reports nothing', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const writer = await connect(t, server);
    const path = uniqueRoot('dw');
    await writer.create(path, 'v1');
    const calls = new Recorder<DataCall>();
    const watch = new DataWatch(zk, path, (data, stat, event) =>
      calls.push({ data: text(data), stat, event }),
    );
    await calls.nth(1);

    // A blip with nothing changed: no call (kazoo: mzxid unchanged).
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await suspended;
    await nextState(zk, ConnectionState.CONNECTED);
    await quiesce(zk, writer, path);
    assert.equal(
      calls.calls.length,
      1,
      `no call after a reconnect without change: ${JSON.stringify(calls.calls.map((c) => c.data))}`,
    );

    // Changes while the client cannot reconnect: only the latest state is reported, once.
    proxy.refuse();
    const down = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await down;
    await writer.set(path, 'v2');
    await writer.set(path, 'v3');
    proxy.accept();
    await nextState(zk, ConnectionState.CONNECTED);
    assert.equal((await calls.nth(2)).data, 'v3');
    await quiesce(zk, writer, path);
    assert.deepEqual(
      calls.calls.map((c) => c.data),
      ['v1', 'v3'],
    );
    // The watch still works afterwards.
    await writer.set(path, 'v4');
    assert.equal((await calls.nth(3)).data, 'v4');
    await watch.stop();
  });

  test('after a real session loss the node is read again in the new session; a deletion meanwhile is reported', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('dw');
    await writer.create(path, 'before');
    const calls = new Recorder<string | null>();
    const watch = new DataWatch(zk, path, (data) => calls.push(text(data)));
    await calls.nth(1);
    const oldSession = zk.sessionId;
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    await nextState(zk, ConnectionState.CONNECTED, safety());
    assert.notEqual(zk.sessionId, oldSession);
    await writer.delete(path);
    assert.equal(await calls.nth(2), null);
    await writer.create(path, 'after');
    assert.equal(await calls.nth(3), 'after');
    await quiesce(zk, writer, path);
    assert.deepEqual(calls.calls, ['before', null, 'after']);
    await watch.stop();
  });

  test('onSessionEvents: SUSPENDED and CONNECTED are reported (None events) even without a change', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('dw');
    await zk.create(path, 'same');
    const calls = new Recorder<{ data: string | null; type?: string; state?: string }>();
    const watch = new DataWatch(
      zk,
      path,
      (data, _stat, event) => calls.push({ data: text(data), type: event?.type, state: event?.state }),
      { onSessionEvents: true },
    );
    await calls.nth(1);
    proxy.drop();
    await nextState(zk, ConnectionState.CONNECTED);
    await calls.waitForCount(3);
    assert.deepEqual(calls.calls, [
      { data: 'same', type: undefined, state: undefined },
      { data: 'same', type: EventType.None, state: KeeperState.CONNECTING },
      { data: 'same', type: EventType.None, state: KeeperState.CONNECTED },
    ]);
    await watch.stop();
  });

  test('watchData: yields the current value and each change; aborting ends it cleanly with no watch left', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    await zk.create(path, 'one');
    const baseline = zk.watchCount;
    const states = zk.listenerCount('state');
    const controller = new AbortController();
    const seen: (string | null)[] = [];
    const consumer = (async () => {
      for await (const { data, event } of watchData(zk, path, { signal: controller.signal })) {
        seen.push(text(data));
        if (seen.length === 1) assert.equal(event, undefined);
        if (seen.length === 2) {
          assert.equal(event?.type, EventType.NodeDataChanged);
          controller.abort();
        }
      }
      return 'ended';
    })();
    await eventually(() => seen.length === 1, 'first value');
    await zk.set(path, 'two');
    assert.equal(await within(consumer, 'iteration ends on abort'), 'ended');
    assert.deepEqual(seen, ['one', 'two']);
    await eventually(
      () => zk.watchCount === baseline,
      `watchCount back to ${baseline} (now ${zk.watchCount})`,
    );
    assert.equal(zk.listenerCount('state'), states);
  });

  test('watchData: an abort while waiting for a change (no value pending) ends the loop; break also cleans up', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dw');
    const baseline = zk.watchCount;
    const controller = new AbortController();
    const consumer = (async () => {
      const values: (string | null)[] = [];
      for await (const { data } of watchData(zk, path, { signal: controller.signal }))
        values.push(text(data));
      return values;
    })();
    await eventually(() => zk.watchCount > baseline, 'watch armed');
    controller.abort();
    assert.deepEqual(await within(consumer, 'ends'), [null]);
    await eventually(() => zk.watchCount === baseline, 'no dangling watch after abort');

    for await (const { data } of watchData(zk, path)) {
      assert.equal(data, null);
      break;
    }
    await eventually(() => zk.watchCount === baseline, 'no dangling watch after break');
  });
});

describe('ChildrenWatch: kazoo KazooChildrenWatcherTests', () => {
  test('test_child_watcher: [] → [smith] → {george, smith}', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path, (children) => calls.push([...children].sort()));
    assert.deepEqual(await calls.nth(1), []);
    await zk.create(`${path}/smith`);
    assert.deepEqual(await calls.nth(2), ['smith']);
    await zk.create(`${path}/george`);
    assert.deepEqual(await calls.nth(3), ['george', 'smith']);
    await watch.stop();
  });

  test('test_child_watcher_once: a second function is a RecipeStateError', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const watch = new ChildrenWatch(zk, path);
    watch.watch(() => {});
    assert.throws(() => watch.watch(() => {}), RecipeStateError);
    await watch.stop();
  });

  test('test_child_watcher_with_event: first call without event, then NodeChildrenChanged', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const calls = new Recorder<WatchEvent | undefined>();
    const watch = new ChildrenWatch(zk, path, (_children, event) => calls.push(event), { sendEvent: true });
    assert.equal(await calls.nth(1), undefined);
    await zk.create(`${path}/smith`);
    const event = await calls.nth(2);
    assert.equal(event?.type, EventType.NodeChildrenChanged);
    assert.equal(event?.path, path);
    await watch.stop();
  });

  test('test_func_style_child_watcher: decorator style sees the same lists', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path);
    watch.watch((children) => calls.push(children));
    assert.deepEqual(await calls.nth(1), []);
    await zk.create(`${path}/smith`);
    assert.deepEqual(await calls.nth(2), ['smith']);
    await watch.stop();
  });

  test('test_func_stops: returning false stops; a later child is not reported', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path, (children) => {
      calls.push(children);
      if (calls.calls.length === 2) return false;
    });
    await calls.nth(1);
    await writer.create(`${path}/a`);
    await calls.nth(2);
    assert.equal(await within(watch.stopped, 'stopped'), 'func');
    await writer.create(`${path}/b`);
    await quiesce(zk, writer, path);
    assert.deepEqual(calls.calls, [[], ['a']]);
  });

  test('test_child_watcher_remove_session_watcher: the state listener is removed when the function returns false', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const before = zk.listenerCount('state');
    const watch = new ChildrenWatch(zk, path, () => false);
    assert.equal(zk.listenerCount('state'), before + 1);
    assert.equal(await within(watch.stopped, 'stopped'), 'func');
    assert.equal(zk.listenerCount('state'), before);
  });

  test('test_child_watch_session_loss: after a real session expiry a retried create is reported', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path, (children) => calls.push(children));
    await calls.nth(1);
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    await zk.retry(() => zk.create(`${path}/after-expiry`));
    assert.deepEqual(await calls.nth(2), ['after-expiry']);
    assert.equal(watch.stopReason, undefined);
    await watch.stop();
  });

  test('test_child_stop_on_session_loss: allowSessionLost false → no calls after the session is lost', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path, (children) => calls.push(children), {
      allowSessionLost: false,
    });
    await calls.nth(1);
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    assert.equal(await within(watch.stopped, 'stopped'), 'sessionLost');
    await nextState(zk, ConnectionState.CONNECTED, safety());
    await writer.create(`${path}/child`);
    await quiesce(zk, writer, path);
    assert.deepEqual(calls.calls, [[]]);
    assert.deepEqual(await zk.getChildren(path), ['child'], 'the child exists all the same');
  });

  test('test_no_such_node_for_children_watch: missing node → stopped without a call; deleting the node stops it silently', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('cw');
    const missing = new Recorder<string[]>();
    const w1 = new ChildrenWatch(zk, path, (children) => missing.push(children));
    assert.equal(await within(w1.stopped, 'stopped'), 'nonode');
    assert.deepEqual(missing.calls, []);

    await zk.create(path);
    const calls = new Recorder<string[]>();
    const w2 = new ChildrenWatch(zk, path, (children) => calls.push(children));
    assert.deepEqual(await calls.nth(1), []);
    await writer.create(`${path}/fred`);
    assert.deepEqual(await calls.nth(2), ['fred']);
    await writer.delete(`${path}/fred`);
    assert.deepEqual(await calls.nth(3), []);
    await writer.delete(path);
    assert.equal(await within(w2.stopped, 'stopped'), 'nonode');
    await quiesce(zk, writer, path);
    assert.deepEqual(calls.calls, [[], ['fred'], []]);
  });
});

describe('ChildrenWatch: reconnects and the iterator form', () => {
  test('children changed while disconnected are reported once after the reconnect; a plain blip reports nothing', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const writer = await connect(t, server);
    const path = uniqueRoot('cw');
    await writer.create(path);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path, (children) => calls.push([...children].sort()));
    await calls.nth(1);

    proxy.drop();
    await nextState(zk, ConnectionState.SUSPENDED);
    await nextState(zk, ConnectionState.CONNECTED);
    await quiesce(zk, writer, path);
    assert.equal(calls.calls.length, 1, 'no call after a blip without change');

    proxy.refuse();
    const down = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await down;
    await writer.create(`${path}/x`);
    await writer.create(`${path}/y`);
    proxy.accept();
    await nextState(zk, ConnectionState.CONNECTED);
    assert.deepEqual(await calls.nth(2), ['x', 'y']);
    await quiesce(zk, writer, path);
    assert.equal(calls.calls.length, 2, `reported once: ${JSON.stringify(calls.calls)}`);
    await watch.stop();
  });

  test('after a real session loss the list is read again in the new session', async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const path = uniqueRoot('cw');
    await writer.create(path);
    await writer.create(`${path}/a`);
    const calls = new Recorder<string[]>();
    const watch = new ChildrenWatch(zk, path, (children) => calls.push([...children].sort()));
    await calls.nth(1);
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    await nextState(zk, ConnectionState.CONNECTED, safety());
    await writer.create(`${path}/b`);
    assert.deepEqual(await calls.nth(2), ['a', 'b']);
    await writer.delete(`${path}/a`);
    assert.deepEqual(await calls.nth(3), ['b']);
    await watch.stop();
  });

  test('watchChildren: yields lists; aborting ends it with no dangling watch; deleting the node ends it', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('cw');
    await zk.create(path);
    const baseline = zk.watchCount;
    const controller = new AbortController();
    const seen: string[][] = [];
    const consumer = (async () => {
      for await (const { children } of watchChildren(zk, path, { signal: controller.signal })) {
        seen.push(children);
        if (seen.length === 2) controller.abort();
      }
      return 'ended';
    })();
    await eventually(() => seen.length === 1, 'first list');
    await zk.create(`${path}/c`);
    assert.equal(await within(consumer, 'ends on abort'), 'ended');
    assert.deepEqual(seen, [[], ['c']]);
    await eventually(
      () => zk.watchCount === baseline,
      `watchCount back to ${baseline} (now ${zk.watchCount})`,
    );

    const ended = (async () => {
      const lists: string[][] = [];
      for await (const { children } of watchChildren(zk, path)) {
        lists.push(children);
        if (lists.length === 1) await zk.delete(`${path}/c`);
        if (lists.length === 2) await zk.delete(path);
      }
      return lists;
    })();
    assert.deepEqual(await within(ended, 'ends when the node is deleted'), [['c'], []]);
    await eventually(() => zk.watchCount === baseline, 'no dangling watch after the node went away');
  });
});

describe('PatientChildrenWatch: kazoo KazooPatientChildrenWatcherTests', () => {
  test('test_watch: stable empty list; `changed` settles at the next child creation', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('pcw');
    await zk.create(path);
    const { children, changed } = await within(new PatientChildrenWatch(zk, path, 100).start(), 'stable');
    assert.deepEqual(children, []);
    const watched = probe(changed);
    await grace();
    assert.equal(watched.settled, false, 'nothing changed yet');
    await zk.create(`${path}/a`);
    const change = await within(changed, 'changed settles');
    assert.equal(change.reason, 'children');
    assert.equal(change.event?.type, EventType.NodeChildrenChanged);
  });

  test('test_exception: a missing node rejects start() with NoNodeError', async (t) => {
    const zk = await connect(t, server);
    await assert.rejects(
      within(new PatientChildrenWatch(zk, uniqueRoot('pcw'), 100).start(), 'start'),
      NoNodeError,
    );
    assert.throws(() => new PatientChildrenWatch(zk, '/x', -1), InvalidArgumentError);
  });

  test('test_watch_iterations: churn delays the result; it finally reports both children', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('pcw');
    await zk.create(path);
    const result = probe(new PatientChildrenWatch(zk, path, 500).start());
    await zk.create(`${path}/a`);
    await grace(80);
    await zk.create(`${path}/b`);
    await grace(80);
    assert.equal(result.settled, false, 'not stable during the churn');
    const { children } = await within(result.promise, 'stable after the churn');
    assert.deepEqual([...children].sort(), ['a', 'b']);
  });

  test('a connection blip counts as a change (kazoo: every disconnect fires the watch)', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('pcw');
    await zk.create(path);
    const { changed, signal } = await within(new PatientChildrenWatch(zk, path, 50).start(), 'stable');
    proxy.drop();
    const change = await within(changed, 'changed settles on SUSPENDED');
    assert.equal(change.reason, 'SUSPENDED');
    assert.equal(signal.aborted, true);
  });

  test('aborting the start signal cancels the wait, then the armed watch (no dangling listener)', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('pcw');
    await zk.create(path);
    const baseline = zk.watchCount;
    const controller = new AbortController();
    const { changed } = await within(
      new PatientChildrenWatch(zk, path, 50).start({ signal: controller.signal }),
      'stable',
    );
    assert.equal(zk.watchCount, baseline + 1);
    controller.abort();
    assert.equal((await within(changed, 'cancelled')).reason, 'cancelled');
    await eventually(() => zk.watchCount === baseline, 'watch removed');

    const pending = new AbortController();
    const waiting = new PatientChildrenWatch(zk, path, 60_000).start({ signal: pending.signal });
    await grace();
    pending.abort();
    await assert.rejects(within(waiting, 'start rejects'), { name: 'AbortError' });
    await eventually(() => zk.watchCount === baseline, 'watch removed after an aborted wait');
  });
});
