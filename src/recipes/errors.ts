/** Errors raised by the recipes. All extend `ZooKeeperError`, like the client's. */
import { brandErrorClasses } from '../client/error-brand.js';
import { ZooKeeperError, type ErrorContext } from '../client/errors.js';

/** `acquire()` on an instance that already holds, or is already acquiring: locks are not re-entrant. */
export class AlreadyAcquiredError extends ZooKeeperError {
  static readonly code = 'ZK_ALREADY_ACQUIRED';
  constructor(
    context: ErrorContext = {},
    message = 'this instance already holds or is acquiring the lock; locks are not re-entrant',
  ) {
    super(AlreadyAcquiredError.code, message, context);
  }
}

/** An operation that needs the lock (or lease, or leadership) while it is not held. */
export class NotHeldError extends ZooKeeperError {
  static readonly code = 'ZK_NOT_HELD';
  constructor(context: ErrorContext = {}, message = 'the lock is not held') {
    super(NotHeldError.code, message, context);
  }
}

/**
 * The session was lost while waiting, and the recipe was told not to re-queue
 * (`onSessionLost: 'fail'`), or ownership was lost while holding.
 */
export class LockLostError extends ZooKeeperError {
  static readonly code = 'ZK_LOCK_LOST';
  constructor(context: ErrorContext = {}, message = 'the session was lost: the lock node is gone') {
    super(LockLostError.code, message, context);
  }
}

/** A recipe's node holds a value written by an incompatible peer (e.g. a Semaphore's max leases). */
export class RecipeMismatchError extends ZooKeeperError {
  static readonly code = 'ZK_RECIPE_MISMATCH';
  constructor(message: string, context: ErrorContext = {}) {
    super(RecipeMismatchError.code, message, context);
  }
}

/**
 * A recipe object used in a way its life cycle does not allow: a TreeCache started twice or
 * after `close()`, a second function given to one DataWatch / ChildrenWatch (kazoo's
 * KazooException "already started" / "A function has already been associated…").
 */
export class RecipeStateError extends ZooKeeperError {
  static readonly code = 'ZK_RECIPE_STATE';
  constructor(message: string, context: ErrorContext = {}) {
    super(RecipeStateError.code, message, context);
  }
}

/** A TreeCache lookup of a path that is not the cache's root or below it (kazoo's ValueError "outside of tree"). */
export class OutsideTreeError extends ZooKeeperError {
  static readonly code = 'ZK_OUTSIDE_TREE';
  constructor(root: string, path: string) {
    super(
      OutsideTreeError.code,
      `path ${JSON.stringify(path)} is outside of the tree rooted at ${JSON.stringify(root)}`,
      { path },
    );
  }
}

/**
 * Two SetPartitioner members of one party use the same identifier (they would compute the same
 * share and contend for its locks forever, kazoo's stuck allocation). Raised by the member that
 * joined last; it leaves the party, and the first one carries on.
 */
export class DuplicateIdentifierError extends ZooKeeperError {
  static readonly code = 'ZK_DUPLICATE_IDENTIFIER';
  constructor(identifier: string, context: ErrorContext = {}) {
    super(
      DuplicateIdentifierError.code,
      `another member of the party already uses the identifier ${JSON.stringify(identifier)}`,
      context,
    );
  }
}

/**
 * A SetPartitioner reached FAILURE for a reason other than `finish()`: the session was lost,
 * its party node vanished, or ZooKeeper answered with an error that retrying cannot fix
 * (`cause` says which). The instance is dead: create a new one.
 */
export class PartitionerFailedError extends ZooKeeperError {
  static readonly code = 'ZK_PARTITIONER_FAILED';
  constructor(message: string, context: ErrorContext = {}) {
    super(PartitionerFailedError.code, message, context);
  }
}

/**
 * The session ended while a recipe depended on its ephemeral node: e.g. a DoubleBarrier
 * participant waiting in `enter()`/`leave()` (its node is gone, so the group cannot count it).
 */
export class SessionLostError extends ZooKeeperError {
  static readonly code = 'ZK_SESSION_LOST';
  constructor(context: ErrorContext = {}, message = 'the session was lost: our ephemeral node is gone') {
    super(SessionLostError.code, message, context);
  }
}

/**
 * A write whose outcome cannot be determined: it may or may not have been applied (e.g. a
 * Counter update whose reply was lost and whose proof of application vanished with the
 * session, or that was abandoned by `timeout`/`signal` while its reply was outstanding).
 */
export class OutcomeUnknownError extends ZooKeeperError {
  static readonly code = 'ZK_OUTCOME_UNKNOWN';
  constructor(
    context: ErrorContext = {},
    message = 'the outcome of the update is unknown: it may or may not have been applied',
  ) {
    super(OutcomeUnknownError.code, message, { ...context, outcomeUnknown: true });
  }
}

brandErrorClasses({
  AlreadyAcquiredError,
  NotHeldError,
  LockLostError,
  RecipeMismatchError,
  RecipeStateError,
  OutsideTreeError,
  DuplicateIdentifierError,
  PartitionerFailedError,
  SessionLostError,
  OutcomeUnknownError,
});
