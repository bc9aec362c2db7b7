/** Child processes for the tests: start one or run one to its end, collecting its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { safety, within } from './wait.js';

/** How a child process ended, and what it wrote (`output`: stdout and stderr interleaved). */
export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  stdout: string;
  stderr: string;
}

/** A started child process: what it wrote so far, and its end. */
export interface RunningProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Its end; fails the test (after killing it) if it has not exited on its own within `limitMs`. */
  ended(limitMs?: number): Promise<ProcessRun>;
}

/**
 * Start `command args…`, collecting its output (for a process the test talks to before it ends).
 *
 * @example
 * ```ts
 * const server = startProcess(process.execPath, [bin, '--serve']);
 * await eventually(() => server.output().includes('http://'), 'it serves');
 * server.child.kill('SIGTERM');
 * assert.equal((await server.ended()).code, 0);
 * ```
 */
export function startProcess(
  command: string,
  args: readonly string[],
  { cwd }: { cwd?: string } = {},
): RunningProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let [output, stdout, stderr] = ['', '', ''];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    output: () => output,
    async ended(limitMs = safety(60_000)) {
      const outcome = await within(
        exited,
        `${command} ${args.join(' ').slice(0, 200)} to exit on its own`,
        limitMs,
      ).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw new Error(`${(error as Error).message}\noutput:\n${output}`);
      });
      return { ...outcome, output, stdout, stderr };
    },
  };
}

/**
 * Run `command args…` to its end. Fails the test (after killing it) if it has not exited on its
 * own within `limitMs`, or could not be started.
 *
 * @example
 * ```ts
 * const { code, stderr } = await runToExit(process.execPath, ['--input-type=module', '-e', script]);
 * ```
 */
export function runToExit(
  command: string,
  args: readonly string[],
  { cwd, limitMs = safety(60_000) }: { cwd?: string; limitMs?: number } = {},
): Promise<ProcessRun> {
  return startProcess(command, args, cwd === undefined ? {} : { cwd }).ended(limitMs);
}
