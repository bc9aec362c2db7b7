/** Child processes for the tests: run one to its end, collecting its output. */
import { spawn } from 'node:child_process';
import { safety, within } from './wait.js';

/** How a child process ended, and what it wrote (`output`: stdout and stderr interleaved). */
export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  stdout: string;
  stderr: string;
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
export async function runToExit(
  command: string,
  args: readonly string[],
  { cwd, limitMs = safety(60_000) }: { cwd?: string; limitMs?: number } = {},
): Promise<ProcessRun> {
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
  const outcome = await within(
    exited,
    `${command} ${args.join(' ').slice(0, 200)} to exit on its own`,
    limitMs,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\noutput:\n${output}`);
  });
  return { ...outcome, output, stdout, stderr };
}
