/** Errors raised by the DI helpers. */
import { brandErrorClasses } from '../client/error-brand.js';
import { ZooKeeperError, type ErrorContext } from '../client/errors.js';

/** `withLock` could not get the lock within its timeout (or non-blocking, someone held it). */
export class LockUnavailableError extends ZooKeeperError {
  static readonly code = 'ZK_LOCK_UNAVAILABLE';
  constructor(context: ErrorContext = {}) {
    super(LockUnavailableError.code, 'the lock could not be acquired', context);
  }
}

/** A `@leaderOnly` method was called on a process that is not the leader. */
export class NotLeaderError extends ZooKeeperError {
  static readonly code = 'ZK_NOT_LEADER';
  constructor(context: ErrorContext = {}) {
    super(NotLeaderError.code, 'this process is not the leader', context);
  }
}

/** A decorator could not find which ZooKeeper client to use. */
export class ClientNotFoundError extends ZooKeeperError {
  static readonly code = 'ZK_CLIENT_NOT_FOUND';
  constructor(message: string, context: ErrorContext = {}) {
    super(ClientNotFoundError.code, message, context);
  }
}

brandErrorClasses({ LockUnavailableError, NotLeaderError, ClientNotFoundError });
