/**
 * Every error this library throws (DESIGN.md "Errors"). All extend `ZooKeeperError`, which says
 * what happened (`code`, `name`, `path`, `op`) and what a caller may do about it:
 * - `code`: a server error (`ServerError`, one class per ZooKeeper `KeeperException.Code`) keeps
 *   its numeric wire code (`NoNodeError.code === -101`); every other error has its own stable
 *   string code (`'ZK_CLIENT_CLOSED'`, `'ZK_TIMEOUT'`, …). Each class has its code as a static too.
 * - `retryable`: the same request may succeed if sent again (connection loss, the server's
 *   operation timeout); `isRetryable(error)` in `retry.ts`.
 * - `outcomeUnknown`: a write failing so may or may not have been applied (its reply never came);
 *   `isOutcomeUnknown(error)` in `retry.ts`.
 * `instanceof` works across two installed copies of the package (`error-brand.ts`).
 *
 * This module imports only `error-brand.ts`, so every layer, from the codec up, may use it.
 */
import { brandErrorClasses, isBrandedInstance } from './error-brand.js';

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

/** What an error says about the failing call: its path, its operation, its cause. */
export interface ErrorContext {
  /** The path the failing operation was about (relative to the chroot), when there is one. */
  path?: string | undefined;
  /** The operation that failed, e.g. `'create'`. */
  op?: string | undefined;
  cause?: unknown;
  /** Override the class's `outcomeUnknown` (e.g. a request abandoned after it was sent). */
  outcomeUnknown?: boolean | undefined;
}

/**
 * Base class of every error raised by this library.
 *
 * @example
 *   try { await zk.create('/app', 'x'); }
 *   catch (error) {
 *     if (error instanceof NodeExistsError) …;          // error.code === -110
 *     else if (error instanceof ZooKeeperError && error.outcomeUnknown) …; // may have been applied
 *   }
 */
export class ZooKeeperError extends Error {
  /** Server errors: the numeric ZooKeeper code (`-101`). Every other error: a string (`'ZK_TIMEOUT'`). */
  readonly code: number | string;
  readonly path: string | undefined;
  readonly op: string | undefined;
  /**
   * The failed call may or may not have taken effect: its request was sent and its reply never
   * came (`ConnectionLossError`, a request's `TimeoutError`/`AbortError` after it was sent,
   * `OutcomeUnknownError`). False when the call is known not to have applied anything.
   */
  readonly outcomeUnknown: boolean;

  constructor(code: number | string, message: string, context: ErrorContext = {}) {
    const where = [context.op, context.path].filter(Boolean).join(' ');
    super(
      where ? `${message} (${where})` : message,
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.path = context.path;
    this.op = context.op;
    this.outcomeUnknown = context.outcomeUnknown ?? false;
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

  /** `instanceof` that also accepts this class's errors made by another copy of the package. */
  static override [Symbol.hasInstance]<T>(
    this: abstract new (...args: never[]) => T,
    value: unknown,
  ): value is T {
    return isBrandedInstance(this, value);
  }
}

const serverMessages = new Map<number, string>([
  [ErrorCode.Ok, 'rolled back: another operation of the transaction failed'],
  [ErrorCode.SystemError, 'system error'],
  [ErrorCode.RuntimeInconsistency, 'runtime inconsistency (an earlier operation of the transaction failed)'],
  [ErrorCode.DataInconsistency, 'data inconsistency'],
  [ErrorCode.ConnectionLoss, 'connection to the server was lost'],
  [ErrorCode.MarshallingError, 'the server could not decode the request'],
  [ErrorCode.Unimplemented, 'operation not implemented by this server'],
  [ErrorCode.OperationTimeout, 'operation timed out'],
  [ErrorCode.BadArguments, 'bad arguments'],
  [ErrorCode.UnknownSession, 'unknown session'],
  [ErrorCode.NewConfigNoQuorum, 'new configuration has no quorum'],
  [ErrorCode.ReconfigInProgress, 'a reconfiguration is in progress'],
  [ErrorCode.APIError, 'API error'],
  [ErrorCode.NoNode, 'node does not exist'],
  [ErrorCode.NoAuth, 'not authorized'],
  [ErrorCode.BadVersion, 'version does not match'],
  [ErrorCode.NoChildrenForEphemerals, 'ephemeral nodes may not have children'],
  [ErrorCode.NodeExists, 'node already exists'],
  [ErrorCode.NotEmpty, 'node has children'],
  [ErrorCode.SessionExpired, 'session expired'],
  [ErrorCode.InvalidCallback, 'invalid callback'],
  [ErrorCode.InvalidACL, 'invalid ACL'],
  [ErrorCode.AuthFailed, 'authentication failed'],
  [ErrorCode.SessionMoved, 'session moved to another server'],
  [ErrorCode.NotReadOnly, 'the server is read-only; writes are not allowed'],
  [ErrorCode.EphemeralOnLocalSession, 'ephemeral node on a local session'],
  [ErrorCode.NoWatcher, 'no such watcher'],
  [ErrorCode.RequestTimeout, 'request timed out'],
  [ErrorCode.ReconfigDisabled, 'reconfig is disabled on the server'],
  [ErrorCode.SessionClosedRequireSaslAuth, 'the server requires authentication'],
  [ErrorCode.QuotaExceeded, 'quota exceeded'],
  [ErrorCode.ThrottledOp, 'operation throttled by the server'],
]);

/** The codes whose request may succeed if sent again (`retryable`). */
const retryableCodes = new Set<number>([ErrorCode.ConnectionLoss, ErrorCode.OperationTimeout]);
/** The codes that leave a request's outcome unknown: no answer came (Java's RequestTimeout is client-side). */
const outcomeUnknownCodes = new Set<number>([
  ErrorCode.ConnectionLoss,
  ErrorCode.OperationTimeout,
  ErrorCode.RequestTimeout,
]);

/**
 * An error code the server answered with (ZooKeeper's `KeeperException.Code`): `code` is that
 * number. Each known code has its subclass, whose static `code` is the number.
 */
export class ServerError extends ZooKeeperError {
  /** The ZooKeeper code of this class's errors. */
  static readonly code: number;
  declare readonly code: number;

  /** `code` defaults to the class's static `code` (given only for a code without a class). */
  constructor(context: ErrorContext = {}, message?: string, code?: number) {
    const errorCode = code ?? (new.target as typeof ServerError).code;
    super(errorCode, message ?? serverMessages.get(errorCode) ?? `unknown server error ${errorCode}`, {
      ...context,
      outcomeUnknown: context.outcomeUnknown ?? outcomeUnknownCodes.has(errorCode),
    });
  }

  override get retryable(): boolean {
    return retryableCodes.has(this.code);
  }
}

// One class per server error code (ZooKeeper's KeeperException.Code): a real, named class whose
// static `code` selects its number and message.
/** System and server-side errors; the server itself never sends this code. */
export class SystemError extends ServerError {
  static override readonly code = ErrorCode.SystemError;
}
/** The server found a runtime inconsistency. */
export class RuntimeInconsistencyError extends ServerError {
  static override readonly code = ErrorCode.RuntimeInconsistency;
}
/** The server found a data inconsistency. */
export class DataInconsistencyError extends ServerError {
  static override readonly code = ErrorCode.DataInconsistency;
}
/** Retryable, outcome unknown: the connection dropped before the reply came. */
export class ConnectionLossError extends ServerError {
  static override readonly code = ErrorCode.ConnectionLoss;
}
/** The server could not marshal or unmarshal a record. */
export class MarshallingError extends ServerError {
  static override readonly code = ErrorCode.MarshallingError;
}
/** The server does not implement the operation. */
export class UnimplementedError extends ServerError {
  static override readonly code = ErrorCode.Unimplemented;
}
/** Retryable, outcome unknown. */
export class OperationTimeoutError extends ServerError {
  static override readonly code = ErrorCode.OperationTimeout;
}
/** The server rejected the arguments (e.g. a TTL without extended types enabled). */
export class BadArgumentsError extends ServerError {
  static override readonly code = ErrorCode.BadArguments;
}
/** Unknown session (used inside the server). */
export class UnknownSessionError extends ServerError {
  static override readonly code = ErrorCode.UnknownSession;
}
/** reconfig: no quorum of the new configuration is connected and up to date. */
export class NewConfigNoQuorumError extends ServerError {
  static override readonly code = ErrorCode.NewConfigNoQuorum;
}
/** reconfig: another reconfiguration is in progress. */
export class ReconfigInProgressError extends ServerError {
  static override readonly code = ErrorCode.ReconfigInProgress;
}
/** API errors; the server itself never sends this code. */
export class APIError extends ServerError {
  static override readonly code = ErrorCode.APIError;
}
/** The node does not exist. */
export class NoNodeError extends ServerError {
  static override readonly code = ErrorCode.NoNode;
}
/** Not authorized: the ACL does not grant this session the permission. */
export class NoAuthError extends ServerError {
  static override readonly code = ErrorCode.NoAuth;
}
/** Version conflict: the node's version is not the expected one. */
export class BadVersionError extends ServerError {
  static override readonly code = ErrorCode.BadVersion;
}
/** Ephemeral nodes may not have children. */
export class NoChildrenForEphemeralsError extends ServerError {
  static override readonly code = ErrorCode.NoChildrenForEphemerals;
}
/** The node already exists. */
export class NodeExistsError extends ServerError {
  static override readonly code = ErrorCode.NodeExists;
}
/** The node has children. */
export class NotEmptyError extends ServerError {
  static override readonly code = ErrorCode.NotEmpty;
}
/** The server expired the session: its ephemeral nodes and watches are gone. */
export class SessionExpiredError extends ServerError {
  static override readonly code = ErrorCode.SessionExpired;
}
/** Invalid callback. */
export class InvalidCallbackError extends ServerError {
  static override readonly code = ErrorCode.InvalidCallback;
}
/** Invalid ACL (e.g. empty, or an unknown scheme). */
export class InvalidACLError extends ServerError {
  static override readonly code = ErrorCode.InvalidACL;
}
/** Client authentication failed. */
export class AuthFailedError extends ServerError {
  static override readonly code = ErrorCode.AuthFailed;
}
/** The session moved to another server; the request was ignored. */
export class SessionMovedError extends ServerError {
  static override readonly code = ErrorCode.SessionMoved;
}
/** A state-changing request was sent to a read-only server. */
export class NotReadOnlyError extends ServerError {
  static override readonly code = ErrorCode.NotReadOnly;
}
/** An ephemeral node cannot be created on a local session. */
export class EphemeralOnLocalSessionError extends ServerError {
  static override readonly code = ErrorCode.EphemeralOnLocalSession;
}
/** The watch to remove does not exist. */
export class NoWatcherError extends ServerError {
  static override readonly code = ErrorCode.NoWatcher;
}
/** The server did not complete the request within its allowed time. */
export class RequestTimeoutError extends ServerError {
  static override readonly code = ErrorCode.RequestTimeout;
}
/** reconfig is disabled on the server. */
export class ReconfigDisabledError extends ServerError {
  static override readonly code = ErrorCode.ReconfigDisabled;
}
/** The server closed the session: it requires SASL authentication, which is missing or failed. */
export class SessionClosedRequireSaslAuthError extends ServerError {
  static override readonly code = ErrorCode.SessionClosedRequireSaslAuth;
}
/** The path's quota is exceeded (with enforced quotas). */
export class QuotaExceededError extends ServerError {
  static override readonly code = ErrorCode.QuotaExceeded;
}
/** The server throttled the operation; it was not executed. */
export class ThrottledOpError extends ServerError {
  static override readonly code = ErrorCode.ThrottledOp;
}
/**
 * In a failed transaction, an op before the failing one: it would have succeeded but nothing
 * was applied (kazoo's RolledBackError; the server reports code 0 for it).
 */
export class RolledBackError extends ServerError {
  static override readonly code = ErrorCode.Ok;
}

const serverErrorClasses = {
  SystemError,
  RuntimeInconsistencyError,
  DataInconsistencyError,
  ConnectionLossError,
  MarshallingError,
  UnimplementedError,
  OperationTimeoutError,
  BadArgumentsError,
  UnknownSessionError,
  NewConfigNoQuorumError,
  ReconfigInProgressError,
  APIError,
  NoNodeError,
  NoAuthError,
  BadVersionError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NotEmptyError,
  SessionExpiredError,
  InvalidCallbackError,
  InvalidACLError,
  AuthFailedError,
  SessionMovedError,
  NotReadOnlyError,
  EphemeralOnLocalSessionError,
  NoWatcherError,
  RequestTimeoutError,
  ReconfigDisabledError,
  SessionClosedRequireSaslAuthError,
  QuotaExceededError,
  ThrottledOpError,
  RolledBackError,
};
const errorClassByCode = new Map<number, typeof ServerError>(
  Object.values(serverErrorClasses).map((errorClass) => [errorClass.code, errorClass]),
);

/**
 * The typed error for a server error code; an unknown code becomes a plain `ServerError`.
 * Code 0 only appears as an error inside a failed transaction, where it means "rolled back".
 */
export function errorFromCode(code: number, context: ErrorContext = {}): ServerError {
  const ErrorClass = errorClassByCode.get(code);
  return ErrorClass ? new ErrorClass(context) : new ServerError(context, undefined, code);
}

// Client-side errors: each its own string code (the class's static `code`), never a server's.

/** A path that ZooKeeper would reject (its `PathUtils.validatePath`), caught before sending. */
export class InvalidPathError extends ZooKeeperError {
  static readonly code = 'ZK_INVALID_PATH';
  constructor(path: unknown, reason: string, op?: string) {
    super(InvalidPathError.code, `invalid path ${JSON.stringify(path)}: ${reason}`, { op });
  }
}

/** Request data (or a whole request) larger than the server's frame limit. */
export class DataTooLargeError extends ZooKeeperError {
  static readonly code = 'ZK_DATA_TOO_LARGE';
  constructor(size: number, limit: number, context: ErrorContext = {}) {
    super(DataTooLargeError.code, `request of ${size} bytes exceeds the ${limit}-byte frame limit`, context);
  }
}

/** A wrongly typed or out-of-range argument or option. */
export class InvalidArgumentError extends ZooKeeperError {
  static readonly code = 'ZK_INVALID_ARGUMENT';
  constructor(message: string, context: ErrorContext = {}) {
    super(InvalidArgumentError.code, message, context);
  }
}

/**
 * An operation on a client that has been closed. Never outcome-unknown: a closing client sends
 * nothing more, and requests already sent fail with `ConnectionLossError` instead.
 */
export class ClientClosedError extends ZooKeeperError {
  static readonly code = 'ZK_CLIENT_CLOSED';
  constructor(context: ErrorContext = {}) {
    super(ClientClosedError.code, 'the client is closed', context);
  }
}

/**
 * An operation on a client whose `start()` was never called. Not a connection loss: nothing will
 * reconnect, so retry loops (the recipes', `retry()`) must not wait for one.
 */
export class ClientNotStartedError extends ZooKeeperError {
  static readonly code = 'ZK_CLIENT_NOT_STARTED';
  constructor(context: ErrorContext = {}) {
    super(ClientNotStartedError.code, 'the client is not started; call start() first', context);
  }
}

/**
 * A client-side deadline (start, connect, a blocking call's `timeout`) passed. `outcomeUnknown`
 * when a request was abandoned after it was sent.
 */
export class TimeoutError extends ZooKeeperError {
  static readonly code = 'ZK_TIMEOUT';
  constructor(message: string, context: ErrorContext = {}) {
    super(TimeoutError.code, message, context);
  }
}

/** The server sent bytes that do not follow the protocol; the connection is closed. Outcome unknown. */
export class ProtocolError extends ZooKeeperError {
  static readonly code = 'ZK_PROTOCOL';
  constructor(message: string, context: ErrorContext = {}) {
    super(ProtocolError.code, message, { ...context, outcomeUnknown: context.outcomeUnknown ?? true });
  }
}

/** One server `start()` could not connect to, and the last reason. */
export interface HostFailure {
  host: string;
  port: number;
  /** The last error connecting to it: Node's socket error (`code` `'ECONNREFUSED'`, …), a `TimeoutError` (no connect response), a `ProtocolError` (not a ZooKeeper server), a `TlsError`. */
  error: Error;
}

/**
 * `start()` could not connect: `hosts` lists the last error per server tried. The rejection of
 * `start({ failFast: true })` once every server failed, and the `cause` of `start()`'s
 * `TimeoutError`/`AbortError` when servers were tried and failed.
 */
export class ConnectFailedError extends ZooKeeperError {
  static readonly code = 'ZK_CONNECT_FAILED';
  readonly hosts: readonly HostFailure[];
  constructor(hosts: readonly HostFailure[], context: ErrorContext = {}) {
    super(ConnectFailedError.code, `could not connect to ${describeHostFailures(hosts)}`, context);
    this.hosts = hosts;
  }
}

/** `"h1:p1 (reason); h2:p2 (reason)"`. */
function describeHostFailures(hosts: readonly HostFailure[]): string {
  return hosts.map(({ host, port, error }) => `${host}:${port} (${error.message})`).join('; ');
}

/**
 * TLS failed: the server's certificate was not trusted (or did not match its name), or the
 * server refused ours. Not retried once every server failed this way.
 */
export class TlsError extends ZooKeeperError {
  static readonly code = 'ZK_TLS';
  constructor(message: string, context: ErrorContext = {}) {
    super(TlsError.code, message, context);
  }
}

/** A call was cancelled through its `AbortSignal`. `outcomeUnknown` when a request was abandoned after it was sent. */
export class AbortError extends ZooKeeperError {
  static readonly code = 'ZK_ABORTED';
  constructor(reason?: unknown, context: ErrorContext = {}) {
    super(AbortError.code, 'the operation was aborted', { ...context, cause: reason });
  }
}

brandErrorClasses({
  ZooKeeperError,
  ServerError,
  ...serverErrorClasses,
  InvalidPathError,
  DataTooLargeError,
  InvalidArgumentError,
  ClientClosedError,
  ClientNotStartedError,
  TimeoutError,
  ProtocolError,
  TlsError,
  AbortError,
  ConnectFailedError,
});
