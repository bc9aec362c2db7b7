/**
 * Every error this library throws. Server error codes (ZooKeeper's `KeeperException.Code`) map to one
 * class each, all extending `ZooKeeperError` with `code`, `path` and `op`; client-side
 * failures (bad input, closed client, timeouts, malformed server bytes) have their own classes.
 *
 * This module imports nothing so every layer, from the codec up, may use it.
 */

/** The numeric codes of KeeperException.Code. */
export const ErrorCode = {
  Ok: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  UnknownSession: -12,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  APIError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  ThrottledOp: -127,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorContext {
  /** The path the failing operation was about (relative to the chroot), when there is one. */
  path?: string | undefined;
  /** The operation that failed, e.g. `'create'`. */
  op?: string | undefined;
  cause?: unknown;
}

/** Base class of every error raised by this library. */
export class ZooKeeperError extends Error {
  /** A ZooKeeper error code for server errors; a client-side code otherwise (see subclasses). */
  readonly code: number;
  readonly path: string | undefined;
  readonly op: string | undefined;

  constructor(code: number, message: string, context: ErrorContext = {}) {
    const where = [context.op, context.path].filter(Boolean).join(' ');
    super(
      where ? `${message} (${where})` : message,
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.path = context.path;
    this.op = context.op;
  }

  /**
   * Whether sending the same request again may succeed: true only for a connection lost before
   * the reply (`ConnectionLossError`) and a server-side `OperationTimeoutError` — the request's
   * outcome is unknown, and the session may still be alive. Every other error is an answer.
   * The named policies in `client/retry.ts` decide what else a caller retries (DESIGN.md "Retry").
   */
  get retryable(): boolean {
    return false;
  }
}

function serverError(code: ErrorCode, defaultMessage: string) {
  return class extends ZooKeeperError {
    static readonly code: number = code;
    constructor(context: ErrorContext = {}, message = defaultMessage) {
      super(code, message, context);
    }
  };
}

// One class per server error code. `class X extends serverError(...)` keeps each a real, named class.
export class SystemError extends serverError(ErrorCode.SystemError, 'system error') {}
export class RuntimeInconsistencyError extends serverError(
  ErrorCode.RuntimeInconsistency,
  'runtime inconsistency (an earlier operation of the transaction failed)',
) {}
export class DataInconsistencyError extends serverError(ErrorCode.DataInconsistency, 'data inconsistency') {}
export class ConnectionLossError extends serverError(
  ErrorCode.ConnectionLoss,
  'connection to the server was lost',
) {
  override get retryable(): boolean {
    return true;
  }
}
export class MarshallingError extends serverError(
  ErrorCode.MarshallingError,
  'the server could not decode the request',
) {}
export class UnimplementedError extends serverError(
  ErrorCode.Unimplemented,
  'operation not implemented by this server',
) {}
export class OperationTimeoutError extends serverError(ErrorCode.OperationTimeout, 'operation timed out') {
  override get retryable(): boolean {
    return true;
  }
}
export class BadArgumentsError extends serverError(ErrorCode.BadArguments, 'bad arguments') {}
export class UnknownSessionError extends serverError(ErrorCode.UnknownSession, 'unknown session') {}
export class NewConfigNoQuorumError extends serverError(
  ErrorCode.NewConfigNoQuorum,
  'new configuration has no quorum',
) {}
export class ReconfigInProgressError extends serverError(
  ErrorCode.ReconfigInProgress,
  'a reconfiguration is in progress',
) {}
export class APIError extends serverError(ErrorCode.APIError, 'API error') {}
export class NoNodeError extends serverError(ErrorCode.NoNode, 'node does not exist') {}
export class NoAuthError extends serverError(ErrorCode.NoAuth, 'not authorized') {}
export class BadVersionError extends serverError(ErrorCode.BadVersion, 'version does not match') {}
export class NoChildrenForEphemeralsError extends serverError(
  ErrorCode.NoChildrenForEphemerals,
  'ephemeral nodes may not have children',
) {}
export class NodeExistsError extends serverError(ErrorCode.NodeExists, 'node already exists') {}
export class NotEmptyError extends serverError(ErrorCode.NotEmpty, 'node has children') {}
export class SessionExpiredError extends serverError(ErrorCode.SessionExpired, 'session expired') {}
export class InvalidCallbackError extends serverError(ErrorCode.InvalidCallback, 'invalid callback') {}
export class InvalidACLError extends serverError(ErrorCode.InvalidACL, 'invalid ACL') {}
export class AuthFailedError extends serverError(ErrorCode.AuthFailed, 'authentication failed') {}
export class SessionMovedError extends serverError(
  ErrorCode.SessionMoved,
  'session moved to another server',
) {}
export class NotReadOnlyError extends serverError(
  ErrorCode.NotReadOnly,
  'the server is read-only; writes are not allowed',
) {}
export class EphemeralOnLocalSessionError extends serverError(
  ErrorCode.EphemeralOnLocalSession,
  'ephemeral node on a local session',
) {}
export class NoWatcherError extends serverError(ErrorCode.NoWatcher, 'no such watcher') {}
export class RequestTimeoutError extends serverError(ErrorCode.RequestTimeout, 'request timed out') {}
export class ReconfigDisabledError extends serverError(
  ErrorCode.ReconfigDisabled,
  'reconfig is disabled on the server',
) {}
export class SessionClosedRequireSaslAuthError extends serverError(
  ErrorCode.SessionClosedRequireSaslAuth,
  'the server requires authentication',
) {}
export class QuotaExceededError extends serverError(ErrorCode.QuotaExceeded, 'quota exceeded') {}
export class ThrottledOpError extends serverError(
  ErrorCode.ThrottledOp,
  'operation throttled by the server',
) {}

const errorClassByCode = new Map<number, new (context?: ErrorContext) => ZooKeeperError>([
  [ErrorCode.SystemError, SystemError],
  [ErrorCode.RuntimeInconsistency, RuntimeInconsistencyError],
  [ErrorCode.DataInconsistency, DataInconsistencyError],
  [ErrorCode.ConnectionLoss, ConnectionLossError],
  [ErrorCode.MarshallingError, MarshallingError],
  [ErrorCode.Unimplemented, UnimplementedError],
  [ErrorCode.OperationTimeout, OperationTimeoutError],
  [ErrorCode.BadArguments, BadArgumentsError],
  [ErrorCode.UnknownSession, UnknownSessionError],
  [ErrorCode.NewConfigNoQuorum, NewConfigNoQuorumError],
  [ErrorCode.ReconfigInProgress, ReconfigInProgressError],
  [ErrorCode.APIError, APIError],
  [ErrorCode.NoNode, NoNodeError],
  [ErrorCode.NoAuth, NoAuthError],
  [ErrorCode.BadVersion, BadVersionError],
  [ErrorCode.NoChildrenForEphemerals, NoChildrenForEphemeralsError],
  [ErrorCode.NodeExists, NodeExistsError],
  [ErrorCode.NotEmpty, NotEmptyError],
  [ErrorCode.SessionExpired, SessionExpiredError],
  [ErrorCode.InvalidCallback, InvalidCallbackError],
  [ErrorCode.InvalidACL, InvalidACLError],
  [ErrorCode.AuthFailed, AuthFailedError],
  [ErrorCode.SessionMoved, SessionMovedError],
  [ErrorCode.NotReadOnly, NotReadOnlyError],
  [ErrorCode.EphemeralOnLocalSession, EphemeralOnLocalSessionError],
  [ErrorCode.NoWatcher, NoWatcherError],
  [ErrorCode.RequestTimeout, RequestTimeoutError],
  [ErrorCode.ReconfigDisabled, ReconfigDisabledError],
  [ErrorCode.SessionClosedRequireSaslAuth, SessionClosedRequireSaslAuthError],
  [ErrorCode.QuotaExceeded, QuotaExceededError],
  [ErrorCode.ThrottledOp, ThrottledOpError],
]);

/**
 * The typed error for a server error code; unknown codes become a plain `ZooKeeperError`.
 * Code 0 only appears as an error inside a failed transaction, where it means "rolled back".
 */
export function errorFromCode(code: number, context: ErrorContext = {}): ZooKeeperError {
  if (code === ErrorCode.Ok) return new RolledBackError(context);
  const ErrorClass = errorClassByCode.get(code);
  return ErrorClass
    ? new ErrorClass(context)
    : new ZooKeeperError(code, `unknown server error ${code}`, context);
}

/**
 * In a failed transaction, an op before the failing one: it would have succeeded but nothing
 * was applied (kazoo's RolledBackError; the server reports code 0 for it).
 */
export class RolledBackError extends ZooKeeperError {
  constructor(context: ErrorContext = {}) {
    super(ErrorCode.Ok, 'rolled back: another operation of the transaction failed', context);
  }
}

// Client-side errors. Their codes are the closest server code, or 0 when none fits.

/** A path that ZooKeeper would reject (its `PathUtils.validatePath`), caught before sending. */
export class InvalidPathError extends ZooKeeperError {
  constructor(path: unknown, reason: string, op?: string) {
    super(ErrorCode.BadArguments, `invalid path ${JSON.stringify(path)}: ${reason}`, { op });
  }
}

/** Request data (or a whole request) larger than the server's frame limit. */
export class DataTooLargeError extends ZooKeeperError {
  constructor(size: number, limit: number, context: ErrorContext = {}) {
    super(ErrorCode.BadArguments, `request of ${size} bytes exceeds the ${limit}-byte frame limit`, context);
  }
}

/** A wrongly typed or out-of-range argument or option. */
export class InvalidArgumentError extends ZooKeeperError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.BadArguments, message, context);
  }
}

/** An operation on a client that has been closed. */
export class ClientClosedError extends ZooKeeperError {
  constructor(context: ErrorContext = {}) {
    super(ErrorCode.SessionExpired, 'the client is closed', context);
  }
}

/**
 * An operation on a client whose `start()` was never called. Not a connection loss: nothing will
 * reconnect, so retry loops (the recipes', `retry()`) must not wait for one.
 */
export class ClientNotStartedError extends ZooKeeperError {
  constructor(context: ErrorContext = {}) {
    super(ErrorCode.ConnectionLoss, 'the client is not started; call start() first', context);
  }
}

/** A client-side deadline (start, connect, a blocking call's `timeout`) passed. */
export class TimeoutError extends ZooKeeperError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.OperationTimeout, message, context);
  }
}

/** The server sent bytes that do not follow the protocol; the connection is closed. */
export class ProtocolError extends ZooKeeperError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.MarshallingError, message, context);
  }
}

/**
 * TLS failed: the server's certificate was not trusted (or did not match its name), or the
 * server refused ours. Not retried once every server failed this way.
 */
export class TlsError extends ZooKeeperError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.AuthFailed, message, context);
  }
}

/** A call was cancelled through its `AbortSignal`. */
export class AbortError extends ZooKeeperError {
  constructor(reason?: unknown, context: ErrorContext = {}) {
    super(ErrorCode.Ok, 'the operation was aborted', { ...context, cause: reason });
  }
}
