/** Errors raised by the DI helpers. */
import { ErrorCode, ZooKeeperError, type ErrorContext } from '../client/errors.js';

/** `withLock` could not get the lock within its timeout (or non-blocking, someone held it). */
export class LockUnavailableError extends ZooKeeperError {
  constructor(context: ErrorContext = {}) {
    super(ErrorCode.OperationTimeout, 'the lock could not be acquired', context);
  }
}

/** A `@leaderOnly` method was called on a process that is not the leader. */
export class NotLeaderError extends ZooKeeperError {
  constructor(context: ErrorContext = {}) {
    super(ErrorCode.BadArguments, 'this process is not the leader', context);
  }
}

/** A decorator could not find which ZooKeeper client to use. */
export class ClientNotFoundError extends ZooKeeperError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.BadArguments, message, context);
  }
}
