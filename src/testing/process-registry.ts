/**
 * Last-resort cleanup of the child processes the testing kit starts: if this Node process exits
 * or is interrupted while a server still runs, kill the server synchronously so no JVM outlives
 * the test run. (A SIGKILLed parent cannot run any code; `SupervisedProcess` covers that case.)
 *
 * Handlers are installed only while at least one child is tracked, so merely importing the kit
 * changes nothing about how this process reacts to signals.
 */

type KillNow = () => void;

const tracked = new Set<KillNow>();

/** Exit codes a shell reports for death by these signals (128 + signal number). */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

/**
 * Remember `killNow` (a synchronous, idempotent, never-throwing kill) until the returned function
 * is called, i.e. until the child has exited.
 */
export function trackChildProcess(killNow: KillNow): () => void {
  tracked.add(killNow);
  if (tracked.size === 1) installHandlers();
  return () => {
    if (tracked.delete(killNow) && tracked.size === 0) removeHandlers();
  };
}

function killAll(): void {
  for (const killNow of tracked) {
    try {
      killNow();
    } catch {
      // Best effort: the process is exiting anyway.
    }
  }
}

function onSignal(signal: HandledSignal): void {
  // If the application listens for this signal too, it decides whether to exit; otherwise behave
  // like the default action (terminate), which our listener suppressed.
  const othersListen = process.listenerCount(signal) > 1;
  killAll();
  if (!othersListen) process.exit(SIGNAL_EXIT_CODES[signal]);
}

const onExit = (): void => killAll();
const onSigint = (): void => onSignal('SIGINT');
const onSigterm = (): void => onSignal('SIGTERM');

function installHandlers(): void {
  process.on('exit', onExit);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
}

function removeHandlers(): void {
  process.off('exit', onExit);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}
