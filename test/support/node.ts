/** Child Node processes for the tests. */
import { spawn } from 'node:child_process';
import { safety, within } from './wait.js';

/** How a child process ended, and what it wrote. */
export interface NodeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `node args…` to completion, collecting its output. Fails the test (after killing it) if it
 * has not exited on its own within `limitMs`.
 *
 * @example
 * ```ts
 * const { code } = await runNode(['--input-type=module', '-e', script]);
 * ```
 */
export async function runNode(args: readonly string[], limitMs = safety(20_000)): Promise<NodeRun> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const outcome = await within(
    exited,
    `node ${args.join(' ').slice(0, 200)} to exit on its own`,
    limitMs,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  });
  return { ...outcome, stdout, stderr };
}
