/**
 * The one driver of Debian's kazoo 2.8 (`/usr/bin/python3`, never a venv) for interop tests and
 * the nemesis: `runPython` runs a program to completion (our event loop is blocked meanwhile,
 * which is fine for sessions of 10 s), `runKazoo` runs a short kazoo script that way, and
 * `KazooPeer` drives a long-running script of test/interop/ line by line over stdin/stdout.
 */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { timing } from '../../src/testing/index.js';
import { launchPeer, parseSession, PeerProcess, type PeerAnswer, type PeerSession } from './peer.js';
import { repositoryFile } from './repository.js';

export type { PeerAnswer };

/** Debian's Python, which has kazoo 2.8 installed. */
export const PYTHON = '/usr/bin/python3';

/** A script of test/interop/. */
export function interopScript(name: string): string {
  return repositoryFile(`test/interop/${name}`);
}

let available: boolean | undefined;

/** True when `/usr/bin/python3` can import kazoo. */
export function kazooAvailable(): boolean {
  available ??=
    spawnSync(PYTHON, ['-c', 'import kazoo.client'], { stdio: 'ignore', timeout: timing(10_000) }).status ===
    0;
  return available;
}

/**
 * Run `python3 args…` to completion with `input` on stdin; fails the test on a non-zero exit or
 * after `limitMs`. Returns stdout.
 */
export function runPython(args: string[], options: { input?: string; limitMs?: number } = {}): string {
  const result = spawnSync(PYTHON, args, {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.limitMs ?? timing(30_000),
  });
  assert.equal(
    result.status,
    0,
    `python failed (status ${result.status}, signal ${result.signal}, ${result.error?.message ?? ''})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
  return result.stdout;
}

/** `runPython`'s last stdout line, parsed as JSON. */
export function runPythonJson<T>(args: string[], options: { input?: string; limitMs?: number } = {}): T {
  return JSON.parse(runPython(args, options).trim().split('\n').at(-1)!) as T;
}

const PRELUDE = `
import sys, json, os, datetime
from kazoo.client import KazooClient
from kazoo.recipe.lock import Semaphore, Lock
from kazoo.recipe.lease import NonBlockingLease, MultiNonBlockingLease
from kazoo.exceptions import LockTimeout
args = json.loads(sys.argv[1])
zk = KazooClient(hosts=args['hosts'], timeout=10)
zk.start(timeout=15)
out = {}
keep_session = False
`;

const EPILOGUE = `
out['session'] = ['%x' % zk.client_id[0], zk.client_id[1].hex()]
sys.stdout.write(json.dumps(out) + '\\n')
sys.stdout.flush()
if keep_session:
    os._exit(0)
zk.stop()
zk.close()
`;

/** What `runKazoo` returns. */
export interface KazooResult {
  /** What the script put in `out`. */
  out: Record<string, unknown>;
  /** The kazoo session, for `server.expireSession(session)`. */
  session: PeerSession;
}

/**
 * Run `body` (top-level Python; `zk`, `args` and `out` are defined; set `keep_session = True`
 * to leave the session alive: the process exits without closing it, so its ephemeral nodes
 * stay) with `args` (JSON) plus `hosts`. Fails the test on a non-zero exit.
 */
export function runKazoo(hosts: string, body: string, args: Record<string, unknown> = {}): KazooResult {
  const out = runPythonJson<Record<string, unknown> & { session: [string, string] }>([
    '-c',
    PRELUDE + body + EPILOGUE,
    JSON.stringify({ ...args, hosts }),
  ]);
  return { out, session: parseSession(...out.session) };
}

/**
 * A long-running kazoo process (`python3 test/interop/<script> args…`), driven as a `PeerProcess`
 * (test/support/peer.ts). Request-mode peers (kazoo_recipes.py) answer one JSON line
 * `{"id", "ok", …}` per JSON request.
 */
export class KazooPeer extends PeerProcess {
  protected override readonly library = 'kazoo';

  /**
   * Run `test/interop/<script> args…` and wait for its SESSION and READY lines; asked to exit
   * (then killed) when the test ends. A subclass's `start` makes one of the subclass.
   */
  static start<P extends KazooPeer>(
    this: new (proc: ChildProcess, name: string) => P,
    t: TestContext,
    script: string,
    args: string[],
    name = script,
  ): Promise<P> {
    return launchPeer(this, t, PYTHON, [interopScript(script), ...args], name);
  }
}

/** Hex of a UTF-8 string, for a peer's byte arguments. */
export function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** UTF-8 text of a hex string from a peer. */
export function unhex(value: unknown): string {
  return Buffer.from(String(value), 'hex').toString('utf8');
}
