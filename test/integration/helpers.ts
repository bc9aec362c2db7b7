/**
 * Shared helpers for the client integration tests: unique paths, started clients that are
 * always closed, event collectors, and waits that FAIL the test after a generous safety limit
 * (they never assert on speed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import {
  ZooKeeperClient,
  ConnectionState,
  type WatchEvent,
  type WatchListener,
  type ZooKeeperClientOptions,
} from '../../src/index.js';
import type { FaultProxy, FrameFault, ZooKeeperServer } from '../../src/testing/index.js';
import { eventually, within } from './recipe-helpers.js';

/** The safety limit of every wait: only a broken client ever reaches it. */
export const SAFETY_MS = 10_000;

/** A fresh top-level path, unique per test. */
export function uniqueRoot(prefix = 't'): string {
  return `/${prefix}-${randomUUID()}`;
}

/**
 * Resolve with the promise's value, or fail the test if it has not settled within `ms`.
 * With a predicate, poll it until it returns something truthy (`within` / `eventually` of
 * recipe-helpers.ts, with the client tests' argument order).
 */
export async function waitFor<T>(
  what: Promise<T> | (() => T | Promise<T>),
  ms = SAFETY_MS,
  description = 'condition',
): Promise<T> {
  return typeof what === 'function' ? eventually(what, description, ms) : within(what, description, ms);
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
  await zk.start({ timeout: SAFETY_MS });
  return zk;
}

/** Resolves on the next 'state' event equal to `state` (or at once if already there and `orNow`). */
export function nextState(zk: ZooKeeperClient, state: ConnectionState, ms = SAFETY_MS): Promise<void> {
  return waitFor(
    new Promise<void>((resolve) => {
      const onState = (s: ConnectionState) => {
        if (s === state) {
          zk.off('state', onState);
          resolve();
        }
      };
      zk.on('state', onState);
    }),
    ms,
    `state ${state}`,
  );
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

/** Records every event a listener receives and lets a test wait for them. */
export class EventLog {
  readonly events: WatchEvent[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  /** The listener to register; records the event (and, with `then`, runs it). */
  readonly listener: WatchListener = (event) => {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (this.events.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  /** Wait until at least `count` events were received; fails after the safety limit. */
  async waitForCount(count: number, ms = SAFETY_MS): Promise<WatchEvent[]> {
    if (this.events.length < count) {
      await waitFor(
        new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
        ms,
        `${count} watch event(s), got ${JSON.stringify(this.events)}`,
      );
    }
    return this.events;
  }

  /** The next event (the `n`th overall, 1-based). */
  async nth(n: number, ms = SAFETY_MS): Promise<WatchEvent> {
    await this.waitForCount(n, ms);
    return this.events[n - 1]!;
  }
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
  const log = new EventLog();
  assert.equal(await watcher.exists(sentinel, { watch: log.listener }), null);
  await writer.create(sentinel, null);
  const event = await log.nth(1);
  assert.equal(event.type, 'NodeCreated');
  await writer.delete(sentinel);
}

/** A loopback port that nothing listens on (right now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Sorted copy, for order-insensitive comparisons of child lists. */
export function sorted(items: readonly string[]): string[] {
  return [...items].sort();
}

/**
 * Run a program to its end: its exit code, stdout, stderr and both interleaved as `output`.
 * Killed, and the test failed with what it printed, if it has not exited within `limitMs`.
 */
export function runToExit(
  command: string,
  args: readonly string[],
  { cwd, limitMs = 60_000 }: { cwd?: string; limitMs?: number } = {},
): Promise<{ code: number | null; output: string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let [output, stdout, stderr] = ['', '', ''];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${limitMs} ms:\n${output}`));
    }, limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stdout, stderr });
    });
  });
}

/** Run a Node script (`node script ...args`) to its end, as `runToExit`. */
export function runNodeScript(script: string, args: readonly string[], timeoutMs: number) {
  return runToExit(process.execPath, [script, ...args], { limitMs: timeoutMs });
}
