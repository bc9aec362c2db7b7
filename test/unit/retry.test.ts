/**
 * The retry module's contract (DESIGN.md "Retry"): the error says whether it is retryable, and
 * the named policies `withinDeadline` and `untilSessionEnds` decide what else ends a retry.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import {
  AbortError,
  ClientClosedError,
  ClientNotStartedError,
  ConnectionLossError,
  NoAuthError,
  NoNodeError,
  OperationTimeoutError,
  SessionExpiredError,
  TimeoutError,
} from '../../src/client/errors.js';
import {
  isRetryable,
  MAX_TIMEOUT_PAUSE,
  retriesWithinDeadline,
  untilSessionEnds,
  withinDeadline,
} from '../../src/client/retry.js';

/** A step that fails with `errors` in turn, then resolves 'done'; counts its calls. */
function failing(...errors: Error[]): { fn: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fn: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'done';
    },
    calls: () => calls,
  };
}

/**
 * Run `fn` on mocked `setTimeout`, advancing the clock by `step` ms per turn (at most 100
 * turns); resolves with its result and every pause it asked for.
 */
async function onFakeClock<T>(
  t: TestContext,
  fn: () => Promise<T>,
  step: number,
): Promise<{ result: T | 'running'; pauses: number[] }> {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const spy = t.mock.method(globalThis, 'setTimeout');
  let result: T | 'running' = 'running';
  void fn().then((r) => (result = r));
  for (let i = 0; i < 100 && result === 'running'; i++) {
    await turn(); // the failed try's continuation arms the next pause
    t.mock.timers.tick(step);
  }
  return { result, pauses: spy.mock.calls.map((call) => call.arguments[1] as number) };
}

describe('retryable errors', () => {
  test('only connection loss and the server operation timeout say retryable', () => {
    assert.equal(new ConnectionLossError().retryable, true);
    assert.equal(new OperationTimeoutError().retryable, true);
    for (const error of [
      new NoNodeError(),
      new SessionExpiredError(),
      new TimeoutError('t'),
      new ClientNotStartedError(),
      new AbortError(),
    ]) {
      assert.equal(error.retryable, false, error.name);
    }
    assert.equal(isRetryable(new ConnectionLossError()), true);
    assert.equal(isRetryable(new Error('plain')), false);
    assert.equal(isRetryable(undefined), false);
  });

  test('withinDeadline also retries session expiry, and a request timeout only before the deadline', () => {
    assert.equal(retriesWithinDeadline(new SessionExpiredError()), true);
    assert.equal(retriesWithinDeadline(new TimeoutError('request')), true);
    assert.equal(retriesWithinDeadline(new TimeoutError('request'), Date.now() + 60_000), true);
    assert.equal(retriesWithinDeadline(new TimeoutError('ours'), Date.now() - 1), false);
    assert.equal(retriesWithinDeadline(new NoNodeError()), false);
    assert.equal(retriesWithinDeadline(new ClientNotStartedError()), false);
  });
});

describe('withinDeadline', () => {
  test('retries until the step succeeds', async () => {
    const step = failing(new ConnectionLossError(), new SessionExpiredError(), new OperationTimeoutError());
    assert.equal(await withinDeadline(step.fn), 'done');
    assert.equal(step.calls(), 4);
  });

  test('an answer is thrown at once', async () => {
    const step = failing(new NoAuthError());
    await assert.rejects(withinDeadline(step.fn), NoAuthError);
    assert.equal(step.calls(), 1);
  });

  test('past the deadline: TimeoutError with the last failure as cause', async () => {
    const step = failing(...Array.from({ length: 1000 }, () => new ConnectionLossError()));
    const error = await withinDeadline(step.fn, { deadline: Date.now() + 50 }).catch((e: unknown) => e);
    assert.ok(error instanceof TimeoutError);
    assert.ok(error.cause instanceof ConnectionLossError);
  });

  test('an aborted signal: AbortError, and the step is not run', async () => {
    const step = failing();
    await assert.rejects(withinDeadline(step.fn, { signal: AbortSignal.abort() }), AbortError);
    assert.equal(step.calls(), 0);
  });
});

describe('untilSessionEnds', () => {
  test('retries connection loss and request timeouts until the step lands', async () => {
    const step = failing(new ConnectionLossError(), new TimeoutError('request'), new OperationTimeoutError());
    assert.equal(await untilSessionEnds(step.fn), 'done');
    assert.equal(step.calls(), 4);
  });

  test('NoNode, session expiry and a closed client end it with undefined', async () => {
    for (const end of [new NoNodeError(), new SessionExpiredError(), new ClientClosedError()]) {
      const step = failing(new ConnectionLossError(), end);
      assert.equal(await untilSessionEnds(step.fn), undefined, end.name);
      assert.equal(step.calls(), 2);
    }
  });

  test('request timeouts are retried until the session ends, at a pace that slows to MAX_TIMEOUT_PAUSE', async (t) => {
    const step = failing(
      ...Array.from({ length: 30 }, () => new TimeoutError('request')),
      new SessionExpiredError(),
    );
    const { result, pauses } = await onFakeClock(t, () => untilSessionEnds(step.fn), MAX_TIMEOUT_PAUSE);
    assert.equal(result, undefined, 'it kept trying until the session ended');
    assert.equal(step.calls(), 31);
    assert.equal(Math.max(...pauses), MAX_TIMEOUT_PAUSE);
    assert.deepEqual(pauses.slice(-5), Array(5).fill(MAX_TIMEOUT_PAUSE), 'capped, not a 1 s loop');
    assert.deepEqual(
      pauses,
      [...pauses].sort((a, b) => a - b),
      'never shorter than the one before',
    );
  });

  test('connection loss keeps the short pause (the next request waits for the reconnect)', async (t) => {
    const step = failing(...Array.from({ length: 12 }, () => new ConnectionLossError()));
    const { result, pauses } = await onFakeClock(t, () => untilSessionEnds(step.fn), 1000);
    assert.equal(result, 'done');
    assert.equal(Math.max(...pauses), 1000);
  });

  test('any other answer is thrown (a client never started is not waited for)', async () => {
    await assert.rejects(untilSessionEnds(failing(new NoAuthError()).fn), NoAuthError);
    await assert.rejects(untilSessionEnds(failing(new ClientNotStartedError()).fn), ClientNotStartedError);
  });
});
