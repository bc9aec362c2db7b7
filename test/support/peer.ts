/**
 * A long-running peer process of another ZooKeeper library, for interop tests: the one driver
 * both kazoo's (`KazooPeer`, kazoo.ts) and Curator's (`CuratorPeer`, curator.ts) build on.
 * Commands go to its stdin, its stdout is read line by line. Every peer first prints
 * `SESSION <id hex> <password hex>` and `READY`; an unread line starting with `ERROR` fails the
 * test. Request-mode peers answer one JSON line `{"id", "ok", …}` per JSON request.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { timing } from '../../src/testing/index.js';
import { safety, within } from './wait.js';

/** A ZooKeeper session, for `server.expireSession(session)` or `expireSession(...)`. */
export interface PeerSession {
  sessionId: bigint;
  sessionPassword: Buffer;
}

/** A session as the peers print it: the session id as `%x` and the password as hex. */
export function parseSession(idHex: string, passwordHex: string): PeerSession {
  return {
    sessionId: BigInt.asIntN(64, BigInt(`0x${idHex}`)),
    sessionPassword: Buffer.from(passwordHex, 'hex'),
  };
}

/**
 * Run `command args…` as a `Peer` and wait for its SESSION and READY lines; asked to exit (then
 * killed) when the test ends.
 */
export async function launchPeer<P extends PeerProcess>(
  Peer: new (proc: ChildProcess, name: string) => P,
  t: TestContext,
  command: string,
  args: string[],
  name: string,
): Promise<P> {
  const peer = new Peer(spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] }), name);
  t.after(() => peer.stop());
  const [, id, password] = (await peer.next(/^SESSION /, safety(30_000))).split(' ');
  peer.session = parseSession(id!, password!);
  await peer.next(/^READY$/, safety(20_000));
  return peer;
}

/** A JSON answer of a request-mode peer. */
export type PeerAnswer = Record<string, unknown> & { ok: boolean; error?: string };

export class PeerProcess {
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** The peer's session (set by `launchPeer`). */
  session: PeerSession = { sessionId: 0n, sessionPassword: Buffer.alloc(0) };
  /** Which library it runs, for messages. */
  protected readonly library: string = 'peer';
  private readonly consumed = new Set<number>();
  private readonly wakeUps = new Set<() => void>();
  private stderr = '';
  private exited = false;
  private nextId = 1;

  /** Drives `proc` (spawned with piped stdio); `launchPeer` (a subclass's `start`) makes one. */
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
    const label = `${this.library} ${this.name}`;
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
            if (problem) reject(new assert.AssertionError({ message: `${label}: ${problem}` }));
            else if (this.exited)
              reject(
                new assert.AssertionError({
                  message: `${label} exited while waiting for ${what}; stderr: ${this.stderr}`,
                }),
              );
          };
          this.wakeUps.add(wake);
          wake();
        }),
        () =>
          `${label}: ${what} (lines ${JSON.stringify(this.lines.slice(-8))}; stderr ${this.stderr.slice(-500)})`,
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

  /** Send a JSON request and return its answer; fails the test on a peer error unless `allowError`. */
  async request(
    op: string,
    args: Record<string, unknown> = {},
    options: { allowError?: boolean; limitMs?: number } = {},
  ): Promise<PeerAnswer> {
    // `id` and `op` frame the request: an argument of that name would silently replace them.
    if ('id' in args || 'op' in args) throw new TypeError(`${op}: 'id' and 'op' are reserved request fields`);
    const id = this.nextId++;
    this.send(JSON.stringify({ id, op, ...args }));
    const line = await this.next(
      (text) => text.startsWith('{') && (JSON.parse(text) as { id?: number }).id === id,
      options.limitMs ?? safety(30_000),
      `${this.library} ${op}`,
    );
    const answer = JSON.parse(line) as PeerAnswer;
    if (!options.allowError)
      assert.equal(answer.ok, true, `${this.library} ${op} failed: ${answer.error}\nstderr: ${this.stderr}`);
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
