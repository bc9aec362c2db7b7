/**
 * Running Debian's kazoo 2.8 (`/usr/bin/python3`) against the test server, for interop tests.
 * Each call runs one short Python script to completion (`spawnSync`: our event loop is blocked
 * meanwhile, which is fine for sessions of 10 s). A script can leave its session alive
 * (`keep_session = True`: the process exits without closing it, so its ephemeral nodes stay)
 * and the test then ends that session for real with `server.expireSession(result.session)`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timing } from '../../src/testing/index.js';

export const PYTHON = '/usr/bin/python3';

/** A script of test/interop/, found by walking up from this file (works from any outDir). */
export function interopScript(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'interop', name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`test/interop/${name} not found`);
    dir = parent;
  }
}

let available: boolean | undefined;

/** True when `/usr/bin/python3` can import kazoo. */
export function kazooAvailable(): boolean {
  available ??=
    spawnSync(PYTHON, ['-c', 'import kazoo.client'], { stdio: 'ignore', timeout: timing(10_000) }).status ===
    0;
  return available;
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
out['session'] = [str(zk.client_id[0]), zk.client_id[1].hex()]
sys.stdout.write(json.dumps(out) + '\\n')
sys.stdout.flush()
if keep_session:
    os._exit(0)
zk.stop()
zk.close()
`;

export interface KazooResult {
  /** What the script put in `out`. */
  out: Record<string, unknown>;
  /** The kazoo session, for `server.expireSession(session)`. */
  session: { sessionId: bigint; sessionPassword: Buffer };
}

/**
 * Run `body` (top-level Python; `zk`, `args` and `out` are defined; set `keep_session = True`
 * to leave the session alive) with `args` (JSON) plus `hosts`. Fails the test on a non-zero exit.
 */
export function runKazoo(hosts: string, body: string, args: Record<string, unknown> = {}): KazooResult {
  const script = PRELUDE + body + EPILOGUE;
  const result = spawnSync(PYTHON, ['-c', script, JSON.stringify({ ...args, hosts })], {
    encoding: 'utf8',
    timeout: timing(30_000),
  });
  assert.equal(
    result.status,
    0,
    `kazoo script failed (status ${result.status}, signal ${result.signal})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
  const lines = result.stdout.trim().split('\n');
  const parsed = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> & {
    session: [string, string];
  };
  const [id, password] = parsed.session;
  return { out: parsed, session: { sessionId: BigInt(id), sessionPassword: Buffer.from(password, 'hex') } };
}
