/** Ownership signals and fencing tokens of the semaphore and the leases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MultiNonBlockingLease, NonBlockingLease, Semaphore } from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { within } from '../support/wait.js';

const server = await serverForFile();

test('a lease signal aborts when the lease ends; the next holder gets a larger fencing token', async (t) => {
  const zk = await connect(t, server);
  const path = uniqueRoot('lease');
  const first = new NonBlockingLease(zk, path, 1200, { identifier: 'first' });
  assert.equal(first.signal.aborted, true, 'not held yet');
  assert.equal(await first.obtain(), true);
  const token = first.fencingToken!;
  assert.equal(typeof token, 'bigint');
  assert.equal(first.signal.aborted, false);
  const ended = new Promise<void>((resolve) =>
    first.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  await within(ended, 'ended');
  const second = new NonBlockingLease(zk, path, 60_000, { identifier: 'second' });
  assert.equal(await second.obtain(), true, 'the first lease ended');
  assert.ok(second.fencingToken! > token);
  assert.equal(await first.obtain(), false);
  assert.equal(first.signal.aborted, true);
  const multi = new MultiNonBlockingLease(zk, 2, uniqueRoot('multi'), 60_000, { identifier: 'm' });
  assert.equal(await multi.obtain(), true);
  assert.equal(multi.signal.aborted, false);
  assert.equal(typeof multi.fencingToken, 'bigint');
});

test('semaphore fencing tokens grow with every lease taken', async (t) => {
  const zk = await connect(t, server);
  const path = uniqueRoot('sem');
  const a = new Semaphore(zk, path, { maxLeases: 2 });
  const b = new Semaphore(zk, path, { maxLeases: 2 });
  assert.equal(await a.acquire(), true);
  assert.equal(await b.acquire(), true);
  const [ta, tb] = [a.fencingToken!, b.fencingToken!];
  assert.ok(tb > ta);
  await a.release();
  assert.throws(() => a.fencingToken);
  assert.equal(await a.acquire(), true);
  assert.ok(a.fencingToken! > tb);
  await a.release();
  await b.release();
});
