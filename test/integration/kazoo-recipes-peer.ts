/**
 * A long-running kazoo 2.8 peer (`test/interop/kazoo_recipes.py`, Debian's `/usr/bin/python3`)
 * for the Counter / Party / Queue interop tests: JSON requests in, JSON answers out, one at a
 * time. `spawn` (not `spawnSync`) so our client keeps running while kazoo works. Every answer
 * is awaited with a safety limit; the process is killed when the test ends.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { timing } from '../../src/testing/index.js';
import { interopScript, kazooAvailable, PYTHON } from './kazoo.js';

export { PYTHON, kazooAvailable as kazooInstalled };

export type PeerAnswer = Record<string, unknown> & { ok: boolean; error?: string };

export class KazooPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: PeerAnswer) => void>();
  private stderr = '';
  private exited = false;
  /** The kazoo session, for `server.expireSession(peer.session)`. */
  session!: { sessionId: bigint; sessionPassword: Buffer };

  private constructor(private readonly proc: ChildProcess) {}

  /** Start a peer connected to `hosts`; killed when the test ends. */
  static async start(t: TestContext, hosts: string): Promise<KazooPeer> {
    const proc = spawn(PYTHON, [interopScript('kazoo_recipes.py'), hosts], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const peer = new KazooPeer(proc);
    t.after(() => peer.kill());
    proc.stderr!.on('data', (chunk: Buffer) => (peer.stderr += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      proc.once('exit', (code) => {
        peer.exited = true;
        reject(new Error(`kazoo peer exited (${code}) before it was ready: ${peer.stderr}`));
      });
      const lines = createInterface({ input: proc.stdout! });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as PeerAnswer & {
          id?: number;
          ready?: boolean;
          session?: [string, string];
        };
        if (message.ready) {
          const [id, password] = message.session!;
          peer.session = { sessionId: BigInt(id), sessionPassword: Buffer.from(password, 'hex') };
          resolve();
        } else if (message.id !== undefined) {
          peer.waiting.get(message.id)?.(message);
          peer.waiting.delete(message.id);
        }
      });
    });
    await withLimit(ready, timing(20_000), 'the kazoo peer to connect');
    return peer;
  }

  /** Send a request and return its answer; fails the test on a kazoo error unless `allowError`. */
  async request(
    op: string,
    args: Record<string, unknown> = {},
    options: { allowError?: boolean; limitMs?: number } = {},
  ): Promise<PeerAnswer> {
    assert.equal(this.exited, false, `kazoo peer has exited: ${this.stderr}`);
    const id = this.nextId++;
    const answer = new Promise<PeerAnswer>((resolve) => this.waiting.set(id, resolve));
    this.proc.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    const result = await withLimit(answer, options.limitMs ?? timing(30_000), `kazoo ${op}`);
    if (!options.allowError)
      assert.equal(result.ok, true, `kazoo ${op} failed: ${result.error}\nstderr: ${this.stderr}`);
    return result;
  }

  /** Kill the process without closing its session (its ephemerals stay until the session ends). */
  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
    this.exited = true;
  }
}

async function withLimit<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new assert.AssertionError({ message: `timed out after ${ms} ms waiting for ${what}` })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Hex of a UTF-8 string, for the peer's byte arguments. */
export function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** UTF-8 text of a hex string from the peer. */
export function unhex(value: unknown): string {
  return Buffer.from(String(value), 'hex').toString('utf8');
}
