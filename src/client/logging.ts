/**
 * The library logs through winston and is quiet by default. A winston call builds a record and
 * pushes it through a stream even when no transport prints it, so messages on paths every
 * session takes (connect, state changes) are built only when `logs` says someone listens.
 *
 * The default logger is not a winston instance: importing winston costs more than the rest of the
 * client together (BENCHMARKS.md "Import time"), and a client without a logger never needs it.
 * Only the user's own logger is winston's; this module imports winston's types alone.
 */
import type { Logger } from 'winston';

const ignore = (): Logger => SILENT;

/**
 * The part of winston's `Logger` the library calls, doing nothing. Shared by every client without
 * a logger of its own.
 */
const SILENT = {
  silent: true,
  level: 'error',
  isLevelEnabled: () => false,
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  log: ignore,
  child: ignore,
} as unknown as Logger;

/** The silent logger of every client that was given none. */
export function silentLogger(): Logger {
  return SILENT;
}

/** Whether a `level` record written to `logger` would reach a transport. */
export function logs(logger: Logger, level: 'error' | 'warn' | 'info' | 'debug'): boolean {
  return !logger.silent && logger.isLevelEnabled(level);
}
