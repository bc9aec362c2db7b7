/**
 * A long-running kazoo 2.8 process (`/usr/bin/python3` + a script of test/interop/) driven by
 * commands on stdin and read line by line from stdout. Lines starting with `ERROR` fail the test.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { timing } from '../../src/testing/index.js';
import { interopScript, PYTHON } from './kazoo.js';
import { eventually, safety } from './recipe-helpers.js';

export class KazooProcess {
  readonly lines: string[] = [];
  private readonly consumed = new Set<number>();
  private stderr = '';
  private exited = false;

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
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    proc.on('exit', () => (this.exited = true));
    proc.stdin!.on('error', () => {}); // the process may be gone when we write
  }

  /** Run `test/interop/<script> args…`; stopped after the test. */
  static start(t: TestContext, script: string, args: string[], name: string): KazooProcess {
    const process = new KazooProcess(
      spawn(PYTHON, [interopScript(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
      name,
    );
    t.after(() => process.stop());
    return process;
  }

  send(command: string): void {
    this.proc.stdin!.write(`${command}\n`);
  }

  /** The first unread line matching `pattern` (bounded wait); marks it read. */
  async next(pattern: RegExp, limitMs = safety(20_000), what = String(pattern)): Promise<string> {
    return eventually(
      () => {
        const index = this.lines.findIndex((line, i) => !this.consumed.has(i) && pattern.test(line));
        if (index !== -1) {
          this.consumed.add(index);
          return this.lines[index]!;
        }
        const problem = this.lines.find((line, i) => !this.consumed.has(i) && line.startsWith('ERROR'));
        if (problem) assert.fail(`kazoo ${this.name}: ${problem}`);
        if (this.exited)
          assert.fail(`kazoo ${this.name} exited while waiting for ${what}; stderr: ${this.stderr}`);
        return undefined;
      },
      `kazoo ${this.name}: ${what} (lines ${JSON.stringify(this.lines.slice(-8))}; stderr ${this.stderr.slice(-500)})`,
      limitMs,
    );
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

  /** Ask it to exit; killed if it has not after a few seconds. */
  stop(): void {
    if (this.exited) return;
    this.send('exit');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timing(3_000));
    timer.unref();
    this.proc.once('exit', () => clearTimeout(timer));
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}
