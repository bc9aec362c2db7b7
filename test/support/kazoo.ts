/**
 * The one driver of Debian's kazoo 2.8 (`/usr/bin/python3`, never a venv) for interop tests and
 * the nemesis: `runPython` runs a program to completion (our event loop is blocked meanwhile,
 * which is fine for sessions of 10 s), `runKazoo` runs a short kazoo script that way, and
 * `KazooPeer` drives a long-running script of test/interop/ line by line over stdin/stdout.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { timing } from '../../src/testing/index.js';
import { repositoryFile } from './repository.js';
import { safety, within } from './wait.js';

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

/** A ZooKeeper session, for `server.expireSession(session)` or `expireSession(...)`. */
export interface KazooSession {
  sessionId: bigint;
  sessionPassword: Buffer;
}

/** A session as kazoo's peers print it: `client_id` as `%x` and the password as hex. */
function parseSession(idHex: string, passwordHex: string): KazooSession {
  return {
    sessionId: BigInt.asIntN(64, BigInt(`0x${idHex}`)),
    sessionPassword: Buffer.from(passwordHex, 'hex'),
  };
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
  session: KazooSession;
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

/** A JSON answer of a request-mode peer (test/interop/kazoo_recipes.py). */
export type PeerAnswer = Record<string, unknown> & { ok: boolean; error?: string };

/**
 * A long-running kazoo process (`python3 test/interop/<script> args…`): commands on stdin, read
 * line by line from stdout. Every peer script first prints `SESSION <id hex> <password hex>`
 * and `READY`; an unread line starting with `ERROR` fails the test. Request-mode peers
 * (kazoo_recipes.py) answer one JSON line `{"id", "ok", …}` per JSON request.
 */
export class KazooPeer {
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** The peer's kazoo session (set by `start`). */
  session: KazooSession = { sessionId: 0n, sessionPassword: Buffer.alloc(0) };
  private readonly consumed = new Set<number>();
  private readonly wakeUps = new Set<() => void>();
  private stderr = '';
  private exited = false;
  private nextId = 1;

  /** Drives `proc` (spawned with piped stdio); `start` is the way to make one. */
  constructor(
    private readonly proc: ChildProcess,
    readonly name: string,
  ) {
    let buffered = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        this.lines.push(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
      this.wake();
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    proc.on('exit', () => {
      this.exited = true;
      this.wake();
    });
    proc.stdin!.on('error', () => {}); // the process may be gone when we write
  }

  /**
   * Run `test/interop/<script> args…` and wait for its SESSION and READY lines; asked to exit
   * (then killed) when the test ends. A subclass's `start` makes one of the subclass.
   */
  static async start<P extends KazooPeer>(
    this: new (proc: ChildProcess, name: string) => P,
    t: TestContext,
    script: string,
    args: string[],
    name = script,
  ): Promise<P> {
    const peer = new this(
      spawn(PYTHON, [interopScript(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
      name,
    );
    t.after(() => peer.stop());
    const [, id, password] = (await peer.next(/^SESSION /, safety(20_000))).split(' ');
    peer.session = parseSession(id!, password!);
    await peer.next(/^READY$/, safety(20_000));
    return peer;
  }

  /** Write one line to its stdin. */
  send(command: string): void {
    this.proc.stdin!.write(`${command}\n`);
  }

  /** The first unread line matching `pattern` (bounded wait); marks it read. */
  async next(
    pattern: RegExp | ((line: string) => boolean),
    limitMs = safety(20_000),
    what = String(pattern),
  ): Promise<string> {
    const matches = typeof pattern === 'function' ? pattern : (line: string) => pattern.test(line);
    let wake: (() => void) | undefined;
    try {
      return await within(
        new Promise<string>((resolve, reject) => {
          wake = () => {
            const index = this.lines.findIndex((line, i) => !this.consumed.has(i) && matches(line));
            if (index !== -1) {
              this.consumed.add(index);
              return resolve(this.lines[index]!);
            }
            const problem = this.lines.find((line, i) => !this.consumed.has(i) && line.startsWith('ERROR'));
            if (problem) reject(new assert.AssertionError({ message: `kazoo ${this.name}: ${problem}` }));
            else if (this.exited)
              reject(
                new assert.AssertionError({
                  message: `kazoo ${this.name} exited while waiting for ${what}; stderr: ${this.stderr}`,
                }),
              );
          };
          this.wakeUps.add(wake);
          wake();
        }),
        () =>
          `kazoo ${this.name}: ${what} (lines ${JSON.stringify(this.lines.slice(-8))}; stderr ${this.stderr.slice(-500)})`,
        limitMs,
      );
    } finally {
      this.wakeUps.delete(wake!);
    }
  }

  /** Whether an unread line matches (without consuming it). */
  saw(pattern: RegExp): boolean {
    return this.lines.some((line, i) => !this.consumed.has(i) && pattern.test(line));
  }

  /** Send `command` and wait for its reply line. */
  command(command: string, reply: RegExp): Promise<string> {
    this.send(command);
    return this.next(reply, safety(), `reply to ${command}`);
  }

  /** Send a JSON request and return its answer; fails the test on a kazoo error unless `allowError`. */
  async request(
    op: string,
    args: Record<string, unknown> = {},
    options: { allowError?: boolean; limitMs?: number } = {},
  ): Promise<PeerAnswer> {
    const id = this.nextId++;
    this.send(JSON.stringify({ id, op, ...args }));
    const line = await this.next(
      (text) => text.startsWith('{') && (JSON.parse(text) as { id?: number }).id === id,
      options.limitMs ?? safety(30_000),
      `kazoo ${op}`,
    );
    const answer = JSON.parse(line) as PeerAnswer;
    if (!options.allowError)
      assert.equal(answer.ok, true, `kazoo ${op} failed: ${answer.error}\nstderr: ${this.stderr}`);
    return answer;
  }

  /** Ask it to exit; killed if it has not after a few seconds. */
  stop(): void {
    if (this.exited) return;
    this.send('exit');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timing(3_000));
    timer.unref();
    this.proc.once('exit', () => clearTimeout(timer));
  }

  /** Kill the process without closing its session (its ephemerals stay until the session ends). */
  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  private wake(): void {
    for (const wake of [...this.wakeUps]) wake();
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
