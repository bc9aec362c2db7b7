/**
 * Clients for the integration tests: a test file's server, unique paths, started clients that are always closed,
 * state waits, a dropped connection, a disconnect, a lost-session scenario, an event fence and the server's watch count. Every wait is bounded (`safety()`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, type TestContext } from 'node:test';
import {
  ZooKeeperClient,
  ConnectionState,
  type WatchEvent,
  type ZooKeeperClientOptions,
} from '../../src/index.js';
import {
  ZooKeeperServer,
  type FaultProxy,
  type FrameFault,
  type ZooKeeperServerOptions,
} from '../../src/testing/index.js';
import { Recorder } from './recorder.js';
import { safety, within } from './wait.js';

/**
 * The ZooKeeper server of one test file, started at once and closed after the file's last test:
 * `const server = await serverForFile();` at the file's top level.
 */
export async function serverForFile(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
  const server = await ZooKeeperServer.start(options);
  after(() => server.close());
  return server;
}

/** A fresh top-level path, unique per test. */
export function uniqueRoot(prefix = 't'): string {
  return `/${prefix}-${randomUUID()}`;
}

/** A new client for `server` (not started); closed when the test ends. */
export function newClient(
  t: TestContext,
  server: ZooKeeperServer | string,
  options: Partial<ZooKeeperClientOptions> = {},
): ZooKeeperClient {
  const hosts = typeof server === 'string' ? server : server.connectString;
  const zk = new ZooKeeperClient({ hosts, sessionTimeout: 10_000, ...options });
  t.after(() => zk.close());
  return zk;
}

/** A started client for `server`; closed when the test ends. */
export async function connect(
  t: TestContext,
  server: ZooKeeperServer | string,
  options: Partial<ZooKeeperClientOptions> = {},
): Promise<ZooKeeperClient> {
  const zk = newClient(t, server, options);
  await zk.start({ timeout: safety() });
  return zk;
}

/** Resolves on the next 'state' event equal to `state` (fails the test after `ms`). */
export function nextState(zk: ZooKeeperClient, state: ConnectionState, ms = safety()): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const onState = (s: ConnectionState) => {
        if (s === state) {
          zk.off('state', onState);
          resolve();
        }
      };
      zk.on('state', onState);
    }),
    `state ${state}`,
    ms,
  );
}

/**
 * Disconnect `zk` (a client of `proxy`) while its session lives: the proxy refuses new
 * connections and cuts the current one; resolves once `zk` is SUSPENDED (fails after `ms`).
 * `proxy.accept()` lets it reconnect.
 */
export async function disconnect(zk: ZooKeeperClient, proxy: FaultProxy, ms = safety()): Promise<void> {
  const suspended = nextState(zk, ConnectionState.SUSPENDED, ms);
  proxy.refuse();
  proxy.drop();
  await suspended;
}

/**
 * Cut `zk`'s connection through `proxy` once; the proxy lets it reconnect to the same session.
 * `suspended` resolves when `zk` is SUSPENDED, `reconnected` when it is CONNECTED after that
 * (each fails after `ms`); await `reconnected` in every case.
 */
export function dropConnection(
  zk: ZooKeeperClient,
  proxy: FaultProxy,
  ms = safety(),
): { suspended: Promise<void>; reconnected: Promise<void> } {
  const suspended = nextState(zk, ConnectionState.SUSPENDED, ms);
  const reconnected = suspended.then(() => nextState(zk, ConnectionState.CONNECTED, ms));
  proxy.drop();
  return { suspended, reconnected };
}

/**
 * A lost reply, then a lost session: once `fault` (a `swallowReply` on `proxy`) has fired, the
 * proxy is partitioned until `zk` declares its session LOST; `meanwhile` runs then, and `zk`
 * reconnects with a new session before this resolves.
 */
export async function loseSessionAfter(
  zk: ZooKeeperClient,
  proxy: FaultProxy,
  fault: FrameFault,
  meanwhile?: () => Promise<unknown>,
): Promise<void> {
  const lost = nextState(zk, ConnectionState.LOST);
  await within(fault.happened, 'the request reaches the server');
  proxy.blackhole();
  await lost;
  await meanwhile?.();
  const connected = nextState(zk, ConnectionState.CONNECTED);
  proxy.drop();
  proxy.heal();
  await connected;
}

/**
 * A fence for "nothing else arrives": every server event sent to `watcher` before this
 * call has been delivered to its listeners once it resolves (the server sends events in
 * order and the client delivers them in order). `writer` creates a sentinel node that
 * `watcher` watches with a one-shot exists watch.
 */
export async function eventFence(
  watcher: ZooKeeperClient,
  writer: ZooKeeperClient,
  root: string,
): Promise<void> {
  const sentinel = `${root}-fence-${randomUUID()}`;
  const log = new Recorder<WatchEvent>();
  assert.equal(await watcher.exists(sentinel, { watch: log.listener }), null);
  await writer.create(sentinel, null);
  const event = await log.nth(1);
  assert.equal(event.type, 'NodeCreated');
  await writer.delete(sentinel);
}

/** `zk_watch_count` of `mntr` (data + child watches of every session). */
export async function serverWatchCount(server: ZooKeeperServer): Promise<number> {
  const mntr = await server.fourLetterWord('mntr');
  const match = /^zk_watch_count\s+(\d+)$/m.exec(mntr);
  assert.ok(match, `no zk_watch_count in mntr:\n${mntr}`);
  return Number(match[1]);
}

/** Sorted copy, for order-insensitive comparisons of child lists. */
export function sorted(items: readonly string[]): string[] {
  return [...items].sort();
}
