/**
 * Wire helpers for the protocol tests: a length-prefixed frame, a new session's ConnectRequest and
 * the "throws a ProtocolError" assertion.
 */
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/client/errors.js';
import { JuteWriter } from '../../src/client/protocol/jute.js';
import type { ConnectRequest } from '../../src/client/protocol/records.js';

/** One frame: the 4-byte length, then what `build` writes. */
export function frame(build: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(256);
  w.int(0); // the length, patched below
  build(w);
  w.intAt(0, w.length - 4);
  return w.copy();
}

/** The ConnectRequest of a new session (no zxid seen, session 0, zero password, not read-only). */
export function newSessionRequest(timeout = 10_000): ConnectRequest {
  return { lastZxidSeen: 0n, timeout, sessionId: 0n, password: Buffer.alloc(16), readOnly: false };
}

/** Asserts `fn` throws a ProtocolError (and not, say, a RangeError from Buffer). */
export function assertProtocolError(fn: () => unknown, message?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(
      error instanceof ProtocolError,
      `${message ?? ''} expected ProtocolError, got ${String((error as Error)?.stack ?? error)}`,
    );
    return true;
  });
}
