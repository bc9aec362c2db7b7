/**
 * A child process that cannot outlive this Node process, even when Node is SIGKILLed.
 *
 * The program runs under a small bash supervisor whose stdin is a pipe from Node. Node never
 * writes to it, so the pipe reaches EOF only when Node is gone (the kernel closes the write end
 * of a dead process); a watchdog in the supervisor then SIGKILLs the program. The supervisor
 * itself waits for the program and exits with its status, so the supervisor's `exit` event means
 * the program has exited and been reaped (no zombie left behind, even under an init that does
 * not reap orphans).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { trackChildProcess } from './process-registry.js';

/**
 * `$@` is the program and its arguments. The supervisor prints the program's pid on stdout, then
 * closes stdout. The program's stdout and stderr both go to the supervisor's stderr.
 */
const SUPERVISOR_SCRIPT = `
"$@" </dev/null >&2 &
pid=$!
echo "$pid"
exec >&-
# Watchdog: a background job gets /dev/null as stdin, so hand it the pipe as fd 3.
exec 3<&0
( read -r _ <&3; kill -KILL "$pid" 2>/dev/null ) &
watchdog=$!
exec 3<&- </dev/null
# A signal aimed at the supervisor is meant for the program; keep waiting until it has exited.
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT HUP
wait "$pid"
status=$?
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid"
  status=$?
done
kill "$watchdog" 2>/dev/null
exit "$status"
`;

export interface ExitStatus {
  /** The program's exit code; 128 + n when it died of signal n. */
  code: number | null;
  /** Set only if the supervisor itself was killed by a signal. */
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  cwd: string;
  /** File descriptor that receives the program's stdout and stderr. */
  output: number;
}

export class SupervisedProcess {
  /** Resolves once the program has exited (and been reaped). */
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;
  private terminating: Promise<ExitStatus> | undefined;

  private constructor(
    private readonly supervisor: ChildProcess,
    /** The program's own pid (not the supervisor's). */
    readonly pid: number,
    exited: Promise<ExitStatus>,
  ) {
    this.exited = exited.then((status) => (this.status = status));
  }

  /** Start `command args...` and resolve once its pid is known. */
  static async spawn(
    command: string,
    args: readonly string[],
    options: SpawnOptions,
  ): Promise<SupervisedProcess> {
    const supervisor = spawn('bash', ['-c', SUPERVISOR_SCRIPT, 'zk-supervisor', command, ...args], {
      cwd: options.cwd,
      // Own process group: a terminal's Ctrl-C reaches only Node, whose handlers stop the program
      // in order; and the whole group can be killed as a fallback.
      detached: true,
      stdio: ['pipe', 'pipe', options.output],
    });
    let programPid: number | undefined;
    const untrack = trackChildProcess(() => killQuietly(programPid ?? -(supervisor.pid ?? 0), 'SIGKILL'));
    const exited = new Promise<ExitStatus>((resolve) => {
      supervisor.once('exit', (code, signal) => resolve({ code, signal }));
      supervisor.once('error', () => resolve({ code: null, signal: null })); // bash could not be started
    }).finally(untrack);
    // Never written to; EPIPE after the supervisor is gone is expected and harmless.
    supervisor.stdin?.on('error', () => {});

    try {
      programPid = await readPid(supervisor);
    } catch (error) {
      killQuietly(-(supervisor.pid ?? 0), 'SIGKILL');
      throw error;
    }
    // Neither the supervisor nor its stdin pipe may keep the event loop alive: a test process
    // must be able to exit on its own (the exit handler then kills the program).
    supervisor.unref();
    unrefStream(supervisor.stdin);
    return new SupervisedProcess(supervisor, programPid, exited);
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** Ask the program to stop (SIGTERM), SIGKILL it after `graceMs`, and wait until it has exited. */
  terminate(graceMs: number): Promise<ExitStatus> {
    this.terminating ??= this.terminateNow(graceMs);
    return this.terminating;
  }

  /**
   * Freeze the program (SIGSTOP) or let it run again (SIGCONT), as a process that stops being
   * scheduled (a long GC pause, a stalled VM). A frozen program can still be killed.
   */
  freeze(frozen: boolean): void {
    if (this.running) killQuietly(this.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** SIGKILL the program now; the supervisor reaps it and exits. */
  kill(): void {
    if (this.running) killQuietly(this.pid, 'SIGKILL');
  }

  /** SIGKILL the program and wait until it has exited. */
  killAndWait(): Promise<ExitStatus> {
    if (this.running) this.supervisor.ref(); // the caller awaits the exit: keep the event loop alive until then
    this.kill();
    return this.exited;
  }

  private async terminateNow(graceMs: number): Promise<ExitStatus> {
    if (this.status) return this.status;
    this.supervisor.ref(); // the caller awaits the exit: keep the event loop alive until then
    killQuietly(this.pid, 'SIGTERM');
    killQuietly(this.pid, 'SIGCONT'); // a frozen program acts on SIGTERM only once it runs
    let lastResort: NodeJS.Timeout | undefined;
    const escalate = setTimeout(() => {
      this.kill();
      // Only if the supervisor is somehow stuck too.
      lastResort = setTimeout(() => killQuietly(-(this.supervisor.pid ?? 0), 'SIGKILL'), graceMs);
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(escalate);
      clearTimeout(lastResort);
    }
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  if (pid === 0) return; // never signal our own process group
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function unrefStream(stream: unknown): void {
  if (stream && typeof (stream as { unref?: unknown }).unref === 'function')
    (stream as { unref(): void }).unref();
}

async function readPid(supervisor: ChildProcess): Promise<number> {
  const stdout = supervisor.stdout;
  if (!stdout) throw new Error('supervisor has no stdout');
  const text = await new Promise<string>((resolve, reject) => {
    let received = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => (received += chunk));
    stdout.once('end', () => resolve(received));
    supervisor.once('error', reject);
  });
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0)
    throw new Error(`process supervisor did not report a pid (got ${JSON.stringify(text)})`);
  return pid;
}
