/** Errors raised by the recipes. All extend `ZooKeeperError`, like the client's. */
import { ErrorCode, ZooKeeperError, type ErrorContext } from '../client/errors.js';

/** `acquire()` on an instance that already holds, or is already acquiring: locks are not re-entrant. */
export class AlreadyAcquiredError extends ZooKeeperError {
  constructor(context: ErrorContext = {}, message = 'this instance already holds or is acquiring the lock; locks are not re-entrant') {
    super(ErrorCode.BadArguments, message, context);
  }
}

/** An operation that needs the lock (or lease, or leadership) while it is not held. */
export class NotHeldError extends ZooKeeperError {
  constructor(context: ErrorContext = {}, message = 'the lock is not held') {
    super(ErrorCode.BadArguments, message, context);
  }
}

/**
 * The session was lost while waiting, and the recipe was told not to re-queue
 * (`onSessionLost: 'fail'`), or ownership was lost while holding.
 */
export class LockLostError extends ZooKeeperError {
  constructor(context: ErrorContext = {}, message = 'the session was lost: the lock node is gone') {
    super(ErrorCode.SessionExpired, message, context);
  }
}

/** A recipe's node holds a value written by an incompatible peer (e.g. a Semaphore's max leases). */
export class RecipeMismatchError extends ZooKeeperError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.BadArguments, message, context);
  }
}
