/**
 * The error taxonomy (DESIGN.md "Errors"): server errors keep their wire code, every other error
 * has its own string code; `retryable` and `outcomeUnknown` say what a caller may do; `instanceof`
 * works across two copies of the package.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as errors from '../../src/errors.js';
import { isOutcomeUnknown, isRetryable } from '../../src/client/retry.js';

type ErrorClass = (abstract new (...args: never[]) => errors.ZooKeeperError) & { code?: number | string };

const classes = (Object.entries(errors) as [string, unknown][]).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && (entry[1] as ErrorClass).prototype instanceof Error,
);

describe('error codes', () => {
  test('every class but the bases and TransactionError has its own code, numbers only for server errors', () => {
    const seen = new Map<number | string, string>();
    for (const [name, errorClass] of classes) {
      if (['ZooKeeperError', 'ServerError', 'TransactionError'].includes(name)) continue;
      const code = errorClass.code;
      assert.ok(code !== undefined, `${name} has a static code`);
      assert.equal(seen.get(code), undefined, `${name} and ${seen.get(code)} share ${code}`);
      seen.set(code, name);
      const isServer = errorClass.prototype instanceof errors.ServerError;
      assert.equal(typeof code, isServer ? 'number' : 'string', name);
      if (!isServer) assert.match(code as string, /^ZK_[A-Z_]+$/, name);
    }
    assert.ok(seen.size >= 50, `${seen.size} codes`);
  });

  test('client errors no longer borrow server codes', () => {
    assert.equal(new errors.ClientClosedError().code, 'ZK_CLIENT_CLOSED');
    assert.equal(new errors.ClientNotStartedError().code, 'ZK_CLIENT_NOT_STARTED');
    assert.equal(new errors.AbortError().code, 'ZK_ABORTED');
    assert.equal(new errors.TlsError('x').code, 'ZK_TLS');
    assert.equal(new errors.TimeoutError('x').code, 'ZK_TIMEOUT');
    assert.equal(new errors.OutcomeUnknownError().code, 'ZK_OUTCOME_UNKNOWN');
    assert.equal(new errors.LockLostError().code, 'ZK_LOCK_LOST');
    assert.equal(new errors.NoNodeError().code, errors.ErrorCode.NoNode);
    assert.equal(new errors.NoNodeError().code, -101);
  });

  test('errorFromCode: the class of a known code, a ServerError for an unknown one', () => {
    const noNode = errors.errorFromCode(-101, { op: 'get', path: '/a' });
    assert.ok(noNode instanceof errors.NoNodeError);
    assert.equal(noNode.message, 'node does not exist (get /a)');
    assert.ok(errors.errorFromCode(0) instanceof errors.RolledBackError);
    const unknown = errors.errorFromCode(-999);
    assert.ok(unknown instanceof errors.ServerError);
    assert.equal(unknown.code, -999);
    assert.equal(unknown.message, 'unknown server error -999');
  });
});

describe('retryable and outcomeUnknown', () => {
  const cases: [errors.ZooKeeperError, boolean, boolean][] = [
    [new errors.ConnectionLossError(), true, true],
    [new errors.ConnectionLossError({ outcomeUnknown: false }), true, false],
    [new errors.OperationTimeoutError(), true, true],
    [new errors.RequestTimeoutError(), false, true],
    [new errors.NoNodeError(), false, false],
    [new errors.SessionExpiredError(), false, false],
    [new errors.ClientClosedError(), false, false],
    [new errors.ProtocolError('x'), false, true],
    [new errors.TimeoutError('x'), false, false],
    [new errors.TimeoutError('x', { outcomeUnknown: true }), false, true],
    [new errors.AbortError(), false, false],
    [new errors.AbortError(undefined, { outcomeUnknown: true }), false, true],
    [new errors.OutcomeUnknownError(), false, true],
    [new errors.LockLostError(), false, false],
  ];
  for (const [error, retryable, outcomeUnknown] of cases) {
    test(`${error.name}${error.outcomeUnknown ? ' (unknown)' : ''}`, () => {
      assert.equal(error.retryable, retryable);
      assert.equal(isRetryable(error), retryable);
      assert.equal(error.outcomeUnknown, outcomeUnknown);
      assert.equal(isOutcomeUnknown(error), outcomeUnknown);
    });
  }
  test('non-library errors are neither', () => {
    assert.equal(isOutcomeUnknown(new Error('x')), false);
    assert.equal(isRetryable(undefined), false);
  });
});

describe('instanceof across two copies of the package', () => {
  let dir: string | undefined;
  after(() => dir && rm(dir, { recursive: true, force: true }));

  test('an error of one copy is an instance of the other copy’s class and its bases, not of others', async () => {
    dir = await mkdtemp(join(tmpdir(), 'zk-errors-copy-'));
    await cp(fileURLToPath(new URL('../../src/', import.meta.url)), join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
    const copy = (await import(pathToFileURL(join(dir, 'src', 'errors.js')).href)) as typeof errors;
    assert.notEqual(copy.NoNodeError, errors.NoNodeError, 'two distinct modules');

    const theirs = new copy.NoNodeError({ path: '/a' });
    assert.ok(theirs instanceof errors.NoNodeError);
    assert.ok(theirs instanceof errors.ServerError);
    assert.ok(theirs instanceof errors.ZooKeeperError);
    assert.ok(theirs instanceof Error);
    assert.ok(!(theirs instanceof errors.NodeExistsError));
    assert.ok(!(theirs instanceof errors.ClientClosedError));

    const ours = new errors.OutcomeUnknownError();
    assert.ok(ours instanceof copy.OutcomeUnknownError);
    assert.ok(ours instanceof copy.ZooKeeperError);
    assert.ok(!(ours instanceof copy.ServerError));
    assert.ok(new copy.TransactionError(1, theirs, []) instanceof errors.TransactionError);
    assert.ok(new copy.NotLeaderError() instanceof errors.NotLeaderError);
    assert.ok(new copy.ClientClosedError() instanceof errors.ClientClosedError);
    assert.ok(!(new copy.ClientClosedError() instanceof errors.ClientNotStartedError));
    assert.ok(!({} instanceof errors.ZooKeeperError));
    assert.ok(!((null as unknown) instanceof errors.ZooKeeperError));
    assert.ok(!(new Error('x') instanceof errors.ZooKeeperError));
  });

  test("a user's own subclass matches only itself and its bases", () => {
    class MyError extends errors.NoNodeError {}
    assert.ok(new MyError() instanceof errors.NoNodeError);
    assert.ok(!(new errors.NoNodeError() instanceof MyError));
  });
});
