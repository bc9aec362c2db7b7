/**
 * The library logs through winston and is quiet by default. A winston call builds a record and
 * pushes it through a stream even when no transport prints it, so messages on paths every
 * session takes (connect, state changes) are built only when `logs` says someone listens.
 */
import winston, { type Logger } from 'winston';

let sharedSilentLogger: Logger | undefined;

/** One silent logger shared by every client without one (creating a winston logger is not free). */
export function silentLogger(): Logger {
  sharedSilentLogger ??= winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
  return sharedSilentLogger;
}

/** Whether a `level` record written to `logger` would reach a transport. */
export function logs(logger: Logger, level: 'error' | 'warn' | 'info' | 'debug'): boolean {
  return !logger.silent && logger.isLevelEnabled(level);
}
