/**
 * Every public operation of ZooKeeperClient against a real standalone ZooKeeper 3.8: the
 * success path and each error path, bad input caught before sending, chroot mapping, and
 * digest ACLs / auth failure.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CREATOR_ALL_ACL,
  Lock,
  KeeperState,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
  TransactionError,
  ZooKeeperClient,
  ZooKeeperError,
  digestId,
  errors,
  makeDigestAcl,
  type OpResult,
  type WatchEvent,
} from '../../src/index.js';
import { FaultProxy, ZooKeeperServer } from '../../src/testing/index.js';
import { connect, newClient, sorted, uniqueRoot } from '../support/client.js';
import { Recorder } from '../support/recorder.js';
import { eventually, within } from '../support/wait.js';

const {
  AuthFailedError,
  BadVersionError,
  ClientClosedError,
  ClientNotStartedError,
  ConnectionLossError,
  DataTooLargeError,
  InvalidACLError,
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NoNodeError,
  NodeExistsError,
  NotEmptyError,
  ReconfigDisabledError,
  RolledBackError,
  RuntimeInconsistencyError,
} = errors;

type ErrorClass = new (...args: never[]) => Error;

/**
 * `assert.rejects` on a call. The call is wrapped in an async function so that a synchronous
 * throw is reported here as a rejection too: the error *class* is what these tests check;
 * "rejects instead of throwing" has its own test below.
 */
function rejects(call: () => unknown, ErrorClass: ErrorClass, message?: string): Promise<void> {
  return assert.rejects(async () => call(), ErrorClass, message);
}

/** Any value, typed as whatever the API wants: for feeding wrongly typed input. */
function bad<T = never>(value: unknown): T {
  return value as T;
}

const ONE_MIB = 1_048_576;

describe('ZooKeeperClient operations', () => {
  let server: ZooKeeperServer;

  before(async () => {
    server = await ZooKeeperServer.start();
  });

  after(async () => {
    await server?.close();
  });

  // ---- create ----

  describe('create', () => {
    test('plain create with string, Buffer, null and undefined data', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      assert.equal(await zk.create(root), root);
      assert.equal(await zk.create(`${root}/s`, 'héllo'), `${root}/s`);
      assert.equal(await zk.create(`${root}/b`, Buffer.from([0, 1, 2, 255])), `${root}/b`);
      assert.equal(await zk.create(`${root}/n`, null), `${root}/n`);
      assert.equal(await zk.create(`${root}/u`, undefined), `${root}/u`);

      assert.equal((await zk.get(`${root}/s`)).data.toString('utf8'), 'héllo');
      assert.deepEqual((await zk.get(`${root}/b`)).data, Buffer.from([0, 1, 2, 255]));
      const nullData = await zk.get(`${root}/n`);
      assert.ok(Buffer.isBuffer(nullData.data));
      assert.equal(nullData.data.length, 0);
      assert.equal(nullData.stat.dataLength, 0);
      const undefinedData = await zk.get(`${root}/u`);
      assert.equal(undefinedData.data.length, 0);
      assert.equal((await zk.get(root)).data.length, 0);

      const stat = await zk.exists(`${root}/s`);
      assert.ok(stat);
      assert.equal(stat.dataLength, Buffer.byteLength('héllo'));
      assert.equal(stat.ephemeralOwner, 0n);
      assert.equal(sorted(await zk.getChildren(root)).join(','), 'b,n,s,u');
    });

    test('ephemeral node is owned by the session', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const { path, stat } = await zk.createWithStat(`${root}/e`, 'x', { ephemeral: true });
      assert.equal(path, `${root}/e`);
      assert.notEqual(zk.sessionId, 0n);
      assert.equal(stat.ephemeralOwner, zk.sessionId);
      assert.equal((await zk.exists(`${root}/e`))?.ephemeralOwner, zk.sessionId);
      const plain = await zk.createWithStat(`${root}/p`, 'x');
      assert.equal(plain.stat.ephemeralOwner, 0n);
    });

    test('sequential nodes are numbered -0000000000, -0000000001, ...', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      assert.equal(await zk.create(`${root}/s-`, 'a', { sequence: true }), `${root}/s-0000000000`);
      assert.equal(await zk.create(`${root}/s-`, 'b', { sequence: true }), `${root}/s-0000000001`);
      const eph = await zk.create(`${root}/e-`, null, { sequence: true, ephemeral: true });
      assert.equal(eph, `${root}/e-0000000002`);
      assert.equal((await zk.exists(eph))?.ephemeralOwner, zk.sessionId);
      assert.equal((await zk.get(`${root}/s-0000000001`)).data.toString(), 'b');
    });

    test('a sequential path may end with / (the sequence number is the whole name)', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(`${root}/p`, null, { makePath: true });
      assert.equal(await zk.create(`${root}/p/`, 'x', { sequence: true }), `${root}/p/0000000000`);
      assert.equal(await zk.create(`${root}/p/`, 'y', { sequence: true }), `${root}/p/0000000001`);
      assert.deepEqual(sorted(await zk.getChildren(`${root}/p`)), ['0000000000', '0000000001']);
    });

    test('makePath creates missing parents; without it the create fails with NoNodeError', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await rejects(() => zk.create(`${root}/a/b/c`, 'x'), NoNodeError);
      assert.equal(await zk.exists(root), null);
      assert.equal(await zk.create(`${root}/a/b/c`, 'x', { makePath: true }), `${root}/a/b/c`);
      assert.ok(await zk.exists(`${root}/a`));
      assert.ok(await zk.exists(`${root}/a/b`));
      assert.equal((await zk.get(`${root}/a/b/c`)).data.toString(), 'x');
      // makePath with parents already there, and for a sequential node.
      assert.equal(await zk.create(`${root}/a/b/d`, null, { makePath: true }), `${root}/a/b/d`);
      assert.equal(
        await zk.create(`${root}/q/r/s-`, null, { makePath: true, sequence: true }),
        `${root}/q/r/s-0000000000`,
      );
    });

    test('create with an explicit ACL stores it', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'ro', { acl: READ_ACL_UNSAFE });
      const { acl } = await zk.getAcl(root);
      assert.deepEqual(acl, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]);
      assert.equal((await zk.get(root)).data.toString(), 'ro');
      await rejects(() => zk.set(root, 'rw'), NoAuthError);
      await rejects(() => zk.create(`${root}/child`), NoAuthError);
    });

    test('TTL nodes: persistent and sequential', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      assert.equal(await zk.create(`${root}/ttl`, 'x', { ttl: 60_000 }), `${root}/ttl`);
      const ttlStat = await zk.exists(`${root}/ttl`);
      assert.ok(ttlStat);
      assert.equal(ttlStat.ephemeralOwner, 0n);
      assert.equal((await zk.get(`${root}/ttl`)).data.toString(), 'x');

      const seq = await zk.createWithStat(`${root}/ttl-`, 'y', { ttl: 60_000, sequence: true });
      assert.equal(seq.path, `${root}/ttl-0000000001`);
      assert.equal(seq.stat.version, 0);
      assert.equal(seq.stat.dataLength, 1);
      assert.equal(
        await zk.create(`${root}/ttl-`, null, { ttl: 2 ** 40 - 1, sequence: true }),
        `${root}/ttl-0000000002`,
      );
    });

    test('invalid TTLs are InvalidArgumentError, caught before sending', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      for (const ttl of [0, 2 ** 40, -1, -60_000, 1.5, Number.NaN, Infinity, bad<number>('1000')]) {
        await rejects(
          () => zk.create(`${root}/ttl`, 'x', { ttl }),
          InvalidArgumentError,
          `ttl ${String(ttl)}`,
        );
        await rejects(
          () => zk.create(`${root}/ttl-`, 'x', { ttl, sequence: true }),
          InvalidArgumentError,
          `sequential ttl ${String(ttl)}`,
        );
        assert.throws(
          () => zk.transaction().create(`${root}/ttl`, 'x', { ttl }),
          InvalidArgumentError,
          `transaction ttl ${String(ttl)}`,
        );
      }
      await rejects(
        () => zk.create(`${root}/ttl`, 'x', { ttl: 1000, ephemeral: true }),
        InvalidArgumentError,
      );
      // Nothing reached the server (a negative TTL would have crashed it).
      assert.equal(await server.fourLetterWord('ruok'), 'imok');
      assert.equal(await zk.exists(`${root}/ttl`), null);
      assert.deepEqual(await zk.getChildren(root), []);
    });

    test('container nodes: createWithStat returns a Stat; container + ephemeral is rejected', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const { path, stat } = await zk.createWithStat(`${root}/c`, 'data', { container: true });
      assert.equal(path, `${root}/c`);
      assert.equal(stat.version, 0);
      assert.equal(stat.dataLength, 4);
      assert.equal(stat.ephemeralOwner, 0n);
      assert.equal(await zk.create(`${root}/c2`, null, { container: true }), `${root}/c2`);
      await rejects(
        () => zk.create(`${root}/c3`, null, { container: true, ephemeral: true }),
        InvalidArgumentError,
      );
      await rejects(
        () => zk.create(`${root}/c3`, null, { container: true, sequence: true }),
        InvalidArgumentError,
      );
      await rejects(
        () => zk.createWithStat(`${root}/c3`, null, { container: true, ttl: 1000 }),
        InvalidArgumentError,
      );
      assert.equal(await zk.exists(`${root}/c3`), null);
    });

    test('createWithStat returns the path and a Stat with version 0', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const { path, stat } = await zk.createWithStat(`${root}/n`, 'abc');
      assert.equal(path, `${root}/n`);
      assert.equal(stat.version, 0);
      assert.equal(stat.cversion, 0);
      assert.equal(stat.aversion, 0);
      assert.equal(stat.dataLength, 3);
      assert.equal(stat.numChildren, 0);
      assert.ok(stat.czxid > 0n);
      assert.equal(stat.czxid, stat.mzxid);
      assert.ok(stat.ctime > 0);
      assert.deepEqual(stat, await zk.exists(`${root}/n`));
      const seq = await zk.createWithStat(`${root}/s-`, null, { sequence: true });
      assert.equal(seq.path, `${root}/s-0000000001`);
      assert.equal(seq.stat.version, 0);
    });

    test('NodeExistsError, NoNodeError and NoChildrenForEphemeralsError', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await rejects(() => zk.create(root), NodeExistsError);
      await rejects(() => zk.createWithStat(root), NodeExistsError);
      const error = await zk.create(root).catch((e: unknown) => e);
      assert.ok(error instanceof NodeExistsError);
      assert.equal(error.code, -110);
      assert.equal(error.path, root);
      assert.equal(error.op, 'create');
      await rejects(() => zk.create(`${root}/missing/child`), NoNodeError);
      await zk.create(`${root}/eph`, null, { ephemeral: true });
      await rejects(() => zk.create(`${root}/eph/child`), NoChildrenForEphemeralsError);
      await rejects(
        () => zk.create(`${root}/eph/child-`, null, { sequence: true }),
        NoChildrenForEphemeralsError,
      );
    });
  });

  // ---- delete / exists / get / set ----

  describe('delete', () => {
    test('version match, BadVersionError, NotEmptyError, NoNodeError', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await zk.create(`${root}/v`, 'a');
      await zk.set(`${root}/v`, 'b');
      await rejects(() => zk.delete(`${root}/v`, { version: 0 }), BadVersionError);
      assert.ok(await zk.exists(`${root}/v`));
      await zk.delete(`${root}/v`, { version: 1 });
      assert.equal(await zk.exists(`${root}/v`), null);

      await zk.create(`${root}/any`);
      await zk.delete(`${root}/any`); // default version -1 matches any
      assert.equal(await zk.exists(`${root}/any`), null);

      await zk.create(`${root}/parent/child`, null, { makePath: true });
      await rejects(() => zk.delete(`${root}/parent`), NotEmptyError);
      assert.ok(await zk.exists(`${root}/parent/child`));
      await rejects(() => zk.delete(`${root}/nope`), NoNodeError);
      await rejects(() => zk.delete(`${root}/nope`, { version: 3 }), NoNodeError);
    });

    test('recursive delete removes a subtree of depth 3', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      for (const path of [`${root}/a/b/c`, `${root}/a/b/c2`, `${root}/a/b2/c`, `${root}/a2`]) {
        await zk.create(path, 'x', { makePath: true });
      }
      await zk.create(`${root}/keep`);
      assert.equal(await zk.getAllChildrenNumber(root), 8);
      await zk.delete(`${root}/a`, { recursive: true });
      assert.equal(await zk.exists(`${root}/a`), null);
      assert.deepEqual(sorted(await zk.getChildren(root)), ['a2', 'keep']);
      await zk.delete(root, { recursive: true });
      assert.equal(await zk.exists(root), null);
      // A missing subtree is fine for a recursive delete.
      await zk.delete(root, { recursive: true });
    });
  });

  describe('exists / get / set', () => {
    test('exists returns a Stat or null', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      assert.equal(await zk.exists(root), null);
      await zk.create(root, 'abc');
      const stat = await zk.exists(root);
      assert.ok(stat);
      assert.equal(stat.version, 0);
      assert.equal(stat.dataLength, 3);
      assert.equal(await zk.exists(`${root}/child`), null);
    });

    test('get returns data and Stat; NoNodeError for a missing node', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, Buffer.from('payload'));
      const { data, stat } = await zk.get(root);
      assert.ok(Buffer.isBuffer(data));
      assert.equal(data.toString(), 'payload');
      assert.equal(stat.dataLength, 7);
      assert.deepEqual(stat, await zk.exists(root));
      await rejects(() => zk.get(`${root}/missing`), NoNodeError);
    });

    test('set with version returns the new Stat; BadVersionError on mismatch', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'v0');
      const s1 = await zk.set(root, 'v1', { version: 0 });
      assert.equal(s1.version, 1);
      assert.equal(s1.dataLength, 2);
      const s2 = await zk.set(root, Buffer.from('v22'));
      assert.equal(s2.version, 2);
      assert.ok(s2.mzxid > s1.mzxid);
      await rejects(() => zk.set(root, 'stale', { version: 1 }), BadVersionError);
      const { data, stat } = await zk.get(root);
      assert.equal(data.toString(), 'v22');
      assert.equal(stat.version, 2);
      const s3 = await zk.set(root, null, { version: 2 });
      assert.equal(s3.version, 3);
      assert.equal((await zk.get(root)).data.length, 0);
      await rejects(() => zk.set(`${root}/missing`, 'x'), NoNodeError);
    });
  });

  // ---- children, ACL, sync ----

  describe('children, ACL and sync', () => {
    test('getChildren and getChildrenWithStat', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      assert.deepEqual(await zk.getChildren(root), []);
      for (const name of ['x', 'y', 'z']) await zk.create(`${root}/${name}`);
      assert.deepEqual(sorted(await zk.getChildren(root)), ['x', 'y', 'z']);
      const { children, stat } = await zk.getChildrenWithStat(root);
      assert.deepEqual(sorted(children), ['x', 'y', 'z']);
      assert.equal(stat.numChildren, 3);
      assert.equal(stat.numChildren, children.length);
      assert.equal(stat.cversion, 3);
      await rejects(() => zk.getChildren(`${root}/missing`), NoNodeError);
      await rejects(() => zk.getChildrenWithStat(`${root}/missing`), NoNodeError);
    });

    test('getAcl and setAcl with aversion; BadVersionError on a wrong ACL version', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const first = await zk.getAcl(root);
      assert.deepEqual(first.acl, [...OPEN_ACL_UNSAFE]);
      assert.equal(first.stat.aversion, 0);
      const stat = await zk.setAcl(
        root,
        [{ perms: Perms.READ | Perms.WRITE | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }],
        { version: 0 },
      );
      assert.equal(stat.aversion, 1);
      assert.equal(stat.version, 0); // the data version is untouched
      await rejects(() => zk.setAcl(root, OPEN_ACL_UNSAFE, { version: 0 }), BadVersionError);
      const second = await zk.getAcl(root);
      assert.deepEqual(second.acl, [
        { perms: Perms.READ | Perms.WRITE | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } },
      ]);
      assert.equal(second.stat.aversion, 1);
      await rejects(() => zk.create(`${root}/child`), NoAuthError); // no CREATE permission any more
      await rejects(() => zk.getAcl(`${root}/missing`), NoNodeError);
      await rejects(() => zk.setAcl(`${root}/missing`, OPEN_ACL_UNSAFE), NoNodeError);
    });

    test('sync resolves with the path', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      assert.equal(await zk.sync(root), root);
      assert.equal(await zk.sync('/'), '/');
    });
  });

  // ---- transactions and multiRead ----

  describe('transactions and multiRead', () => {
    test('a successful transaction returns typed results and applies every op', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'r0');
      await zk.create(`${root}/old`);
      const txn = zk
        .transaction()
        .create(`${root}/a`, 'A')
        .create(`${root}/s-`, null, { sequence: true })
        .set(root, 'r1', { version: 0 })
        .check(`${root}/a`, 0)
        .delete(`${root}/old`, { version: 0 });
      assert.equal(txn.size, 5);
      const results = await txn.commit();
      assert.equal(results.length, 5);
      assert.deepEqual(results[0], { type: 'create', path: `${root}/a` });
      assert.deepEqual(results[1], { type: 'create', path: `${root}/s-0000000002` });
      const set = results[2]!;
      assert.equal(set.type, 'set');
      assert.equal(set.type === 'set' && set.stat.version, 1);
      assert.deepEqual(results[3], { type: 'check' });
      assert.deepEqual(results[4], { type: 'delete' });

      assert.equal((await zk.get(`${root}/a`)).data.toString(), 'A');
      assert.equal((await zk.get(root)).data.toString(), 'r1');
      assert.equal(await zk.exists(`${root}/old`), null);
      assert.ok(await zk.exists(`${root}/s-0000000002`));
    });

    test('a transaction with a container and a TTL create returns their Stats', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const results = await zk
        .transaction()
        .create(`${root}/c`, null, { container: true })
        .create(`${root}/t`, 'x', { ttl: 60_000 })
        .commit();
      for (const [index, name] of ['c', 't'].entries()) {
        const result = results[index]!;
        assert.equal(result.type, 'create');
        assert.equal(result.type === 'create' && result.path, `${root}/${name}`);
        assert.equal(result.type === 'create' && result.stat?.version, 0);
      }
    });

    test('a failed transaction rejects with TransactionError and applies nothing (BadVersion)', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await zk.create(`${root}/x`, 'x0');
      const error = await zk
        .transaction()
        .create(`${root}/new`, 'n')
        .set(`${root}/x`, 'x1', { version: 5 })
        .delete(`${root}/x`)
        .create(`${root}/new2`)
        .commit()
        .then(
          () => assert.fail('the transaction should have failed'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof TransactionError, `got ${String(error)}`);
      assert.ok(error instanceof ZooKeeperError);
      assert.equal(error.failedIndex, 1);
      assert.ok(error.error instanceof BadVersionError);
      assert.equal(error.code, -103);
      assert.equal(error.results.length, 4);
      const errorOf = (result: OpResult | undefined) => (result?.type === 'error' ? result.error : undefined);
      assert.ok(
        errorOf(error.results[0]) instanceof RolledBackError,
        'op before the failure is RolledBackError',
      );
      assert.ok(errorOf(error.results[1]) instanceof BadVersionError);
      assert.ok(
        errorOf(error.results[2]) instanceof RuntimeInconsistencyError,
        'ops after the failure are RuntimeInconsistencyError',
      );
      assert.ok(errorOf(error.results[3]) instanceof RuntimeInconsistencyError);

      assert.equal(await zk.exists(`${root}/new`), null);
      assert.equal(await zk.exists(`${root}/new2`), null);
      const { data, stat } = await zk.get(`${root}/x`);
      assert.equal(data.toString(), 'x0');
      assert.equal(stat.version, 0);
    });

    test('a failed transaction at its first op (NodeExists) and at a check (BadVersion)', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await assert.rejects(zk.transaction().create(root).create(`${root}/a`).commit(), (error: unknown) => {
        assert.ok(error instanceof TransactionError);
        assert.equal(error.failedIndex, 0);
        assert.ok(error.error instanceof NodeExistsError);
        const second = error.results[1];
        assert.ok(second?.type === 'error' && second.error instanceof RuntimeInconsistencyError);
        return true;
      });
      await assert.rejects(zk.transaction().create(`${root}/a`).check(root, 7).commit(), (error: unknown) => {
        assert.ok(error instanceof TransactionError);
        assert.equal(error.failedIndex, 1);
        assert.ok(error.error instanceof BadVersionError);
        const first = error.results[0];
        assert.ok(first?.type === 'error' && first.error instanceof RolledBackError);
        return true;
      });
      await assert.rejects(zk.transaction().delete(`${root}/missing`).commit(), (error: unknown) => {
        assert.ok(error instanceof TransactionError);
        assert.ok(error.error instanceof NoNodeError);
        return true;
      });
      assert.equal(await zk.exists(`${root}/a`), null);
    });

    test("onZxid hands over each reply's zxid before the call settles: a write's own, a read's the server's last; a bad one is refused", async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      const seen: bigint[] = [];
      const onZxid = (zxid: bigint) => seen.push(zxid);
      await zk.create(root, 'v0', { onZxid });
      const stat = await zk.set(root, 'v1', { onZxid, timeout: 5000 }); // the timed path too
      assert.equal(seen[1], stat.mzxid, "the write's own zxid");
      assert.ok(seen[0]! < seen[1]!);
      await zk.get(root, { onZxid });
      assert.equal(seen[2], zk.lastZxid, "a read: the server's last zxid, as this session last saw");
      await assert.rejects(zk.get(`${root}/missing`, { onZxid }), NoNodeError);
      assert.equal(seen.length, 4, 'an error reply carries one too');
      await assert.rejects(
        zk.get(root, { onZxid: 'no' as unknown as () => void }),
        (error: unknown) => error instanceof InvalidArgumentError && /onZxid/.test(error.message),
      );
    });

    test('an empty transaction resolves with []', async (t) => {
      const zk = await connect(t, server);
      const before = zk.lastZxid;
      assert.deepEqual(await zk.transaction().commit(), []);
      assert.equal(zk.lastZxid, before);
    });

    test('multiRead returns independent getData / getChildren / NoNode results', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'rootdata');
      await zk.create(`${root}/a`, 'A');
      await zk.create(`${root}/b`);
      const results = await zk.multiRead([
        { type: 'getData', path: root },
        { type: 'getChildren', path: root },
        { type: 'getData', path: `${root}/missing` },
        { type: 'getChildren', path: `${root}/missing` },
        { type: 'getData', path: `${root}/a` },
      ]);
      assert.equal(results.length, 5);
      const [data, children, missingData, missingChildren, a] = results;
      assert.equal(data?.type, 'getData');
      assert.equal(data?.type === 'getData' && data.data.toString(), 'rootdata');
      assert.equal(data?.type === 'getData' && data.stat.numChildren, 2);
      assert.equal(children?.type, 'getChildren');
      assert.deepEqual(children?.type === 'getChildren' && sorted(children.children), ['a', 'b']);
      assert.ok(missingData?.type === 'error' && missingData.error instanceof NoNodeError);
      assert.ok(missingChildren?.type === 'error' && missingChildren.error instanceof NoNodeError);
      assert.equal(a?.type === 'getData' && a.data.toString(), 'A');
      assert.deepEqual(await zk.multiRead([]), []);
    });
  });

  // ---- the 3.6+ extras ----

  describe('getEphemerals, getAllChildrenNumber, whoAmI, getConfig, reconfig', () => {
    test('getEphemerals: string-prefix semantics, only this session', async (t) => {
      const zk = await connect(t, server);
      const other = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await zk.create(`${root}/eph-a`, null, { ephemeral: true });
      await zk.create(`${root}/ephx`, null, { ephemeral: true });
      await zk.create(`${root}/other`, null, { ephemeral: true });
      await zk.create(`${root}/eph-persistent`);
      await zk.create(`${root}/eph-persistent/eph-deep`, null, { ephemeral: true });
      await other.create(`${root}/eph-b`, null, { ephemeral: true });

      assert.deepEqual(sorted(await zk.getEphemerals(`${root}/eph`)), [
        `${root}/eph-a`,
        `${root}/eph-persistent/eph-deep`,
        `${root}/ephx`,
      ]);
      assert.deepEqual(sorted(await zk.getEphemerals(`${root}/eph-`)), [
        `${root}/eph-a`,
        `${root}/eph-persistent/eph-deep`,
      ]);
      assert.deepEqual(
        sorted(await zk.getEphemerals(root)),
        sorted([`${root}/eph-a`, `${root}/ephx`, `${root}/other`, `${root}/eph-persistent/eph-deep`]),
      );
      assert.deepEqual(await other.getEphemerals(root), [`${root}/eph-b`]);
      assert.ok((await zk.getEphemerals()).includes(`${root}/other`));
      assert.deepEqual(await zk.getEphemerals(`${root}/nothing-here`), []);
    });

    test('getAllChildrenNumber counts every descendant', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      assert.equal(await zk.getAllChildrenNumber(root), 0);
      await zk.create(`${root}/a/b/c`, null, { makePath: true });
      await zk.create(`${root}/d`);
      assert.equal(await zk.getAllChildrenNumber(root), 4);
      assert.equal(await zk.getAllChildrenNumber(`${root}/a`), 2);
      await rejects(() => zk.getAllChildrenNumber(`${root}/missing`), NoNodeError);
    });

    test('whoAmI reports the ip identity, and the digest user after addAuth', async (t) => {
      const zk = await connect(t, server);
      const before = await zk.whoAmI();
      assert.ok(
        before.some((info) => info.authScheme === 'ip' && info.user === '127.0.0.1'),
        JSON.stringify(before),
      );
      assert.ok(!before.some((info) => info.authScheme === 'digest'));
      await zk.addAuth('digest', 'bob:pw');
      const after = await zk.whoAmI();
      assert.ok(
        after.some((info) => info.authScheme === 'ip' && info.user === '127.0.0.1'),
        JSON.stringify(after),
      );
      assert.ok(
        after.some((info) => info.authScheme === 'digest' && info.user === 'bob'),
        JSON.stringify(after),
      );
    });

    test('getConfig resolves with a Buffer and a Stat', async (t) => {
      const zk = await connect(t, server);
      const { data, stat } = await zk.getConfig();
      assert.ok(Buffer.isBuffer(data));
      assert.equal(typeof stat.version, 'number');
      assert.equal(stat.dataLength, data.length);
    });

    test('reconfig on a standalone server rejects with a typed server error (ReconfigDisabled)', async (t) => {
      const zk = await connect(t, server);
      const error = await zk.reconfig({ joining: 'server.2=127.0.0.1:2888:3888;2182' }).then(
        () => assert.fail('reconfig should fail on a standalone server'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ZooKeeperError, String(error));
      assert.equal(typeof error.code, 'number');
      assert.ok(
        error instanceof ReconfigDisabledError,
        `expected ReconfigDisabledError, got ${error.name} (${error.code})`,
      );
      assert.equal(error.code, -123);
      assert.ok(await zk.exists('/'), 'the client still works');
    });
  });

  // ---- ensurePath and retry ----

  describe('ensurePath and retry', () => {
    test('ensurePath creates a deep path and is idempotent', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.ensurePath(`${root}/a/b/c/d`);
      for (const path of [root, `${root}/a`, `${root}/a/b`, `${root}/a/b/c`, `${root}/a/b/c/d`])
        assert.ok(await zk.exists(path), path);
      await zk.ensurePath(`${root}/a/b/c/d`);
      await zk.ensurePath(`${root}/a/b/x/y`); // partly existing
      assert.ok(await zk.exists(`${root}/a/b/x/y`));
      assert.equal(await zk.getAllChildrenNumber(root), 6);
      await zk.ensurePath('/');
    });

    test('ensurePath writes only the missing nodes (kazoo: exists up to the first existing node, then creates)', async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const zk = await connect(t, proxy.connectString);
      const root = uniqueRoot();
      await zk.ensurePath(`${root}/a/b`);
      const under = (path: string) => path.startsWith(`${root}/`);
      const count = async (path: string) => {
        using creates = proxy.delayFrame({ op: 'create', path: under, times: Infinity }, 0);
        using reads = proxy.delayFrame({ op: 'exists', path: under, times: Infinity }, 0);
        await zk.ensurePath(path);
        return { creates: creates.fired, exists: reads.fired };
      };
      assert.deepEqual(await count(`${root}/a/b/c/d`), { creates: 2, exists: 3 }, 'two missing');
      assert.deepEqual(await count(`${root}/a/b/c/e`), { creates: 1, exists: 2 }, 'the last one missing');
      assert.deepEqual(await count(`${root}/a/b/c/d`), { creates: 0, exists: 1 }, 'all there');
      for (const path of [`${root}/a/b/c/d`, `${root}/a/b/c/e`]) assert.ok(await zk.exists(path), path);
      assert.deepEqual((await zk.get(`${root}/a/b/c/d`)).data, Buffer.alloc(0), 'empty data, as kazoo');
    });

    test('retry(fn) retries ConnectionLossError and stops at NoNodeError', async (t) => {
      const zk = await connect(t, server, { retry: { delay: 10, maxTries: 5 } });
      const root = uniqueRoot();
      await zk.create(root, 'v');
      let calls = 0;
      const value = await zk.retry(async () => {
        calls++;
        if (calls <= 2) throw new ConnectionLossError({ op: 'test' });
        return (await zk.get(root)).data.toString();
      });
      assert.equal(value, 'v');
      assert.equal(calls, 3);

      let noNodeCalls = 0;
      await rejects(
        () =>
          zk.retry(async () => {
            noNodeCalls++;
            return zk.get(`${root}/missing`);
          }),
        NoNodeError,
      );
      assert.equal(noNodeCalls, 1);

      let exhausted = 0;
      await rejects(
        () =>
          zk.retry(async () => {
            exhausted++;
            throw new ConnectionLossError();
          }),
        ConnectionLossError,
      );
      assert.equal(exhausted, 5);
    });
  });

  // ---- bad input ----

  describe('bad input', () => {
    const INVALID_PATHS: unknown[] = [
      '',
      'noslash',
      '/a/',
      '/a//b',
      '/a/./b',
      '/a/../b',
      '/a/..',
      '/\u0000',
      '/a\u001fb',
      '/😀',
      '/\uffff',
      42,
      null,
      undefined,
      {},
    ];

    test('invalid paths are InvalidPathError for every operation, and the client stays usable', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      for (const path of INVALID_PATHS) {
        const p = bad<string>(path);
        const what = `path ${JSON.stringify(path) ?? String(path)}`;
        await rejects(() => zk.create(p, 'x'), InvalidPathError, `create ${what}`);
        await rejects(() => zk.createWithStat(p, 'x'), InvalidPathError, `createWithStat ${what}`);
        await rejects(
          () => zk.create(p, 'x', { makePath: true }),
          InvalidPathError,
          `create makePath ${what}`,
        );
        await rejects(() => zk.delete(p), InvalidPathError, `delete ${what}`);
        await rejects(() => zk.exists(p), InvalidPathError, `exists ${what}`);
        await rejects(() => zk.get(p), InvalidPathError, `get ${what}`);
        await rejects(() => zk.set(p, 'x'), InvalidPathError, `set ${what}`);
        await rejects(() => zk.getChildren(p), InvalidPathError, `getChildren ${what}`);
        await rejects(() => zk.getChildrenWithStat(p), InvalidPathError, `getChildrenWithStat ${what}`);
        await rejects(() => zk.getAcl(p), InvalidPathError, `getAcl ${what}`);
        await rejects(() => zk.setAcl(p, OPEN_ACL_UNSAFE), InvalidPathError, `setAcl ${what}`);
        await rejects(() => zk.sync(p), InvalidPathError, `sync ${what}`);
        await rejects(() => zk.getAllChildrenNumber(p), InvalidPathError, `getAllChildrenNumber ${what}`);
        await rejects(() => zk.ensurePath(p), InvalidPathError, `ensurePath ${what}`);
        await rejects(
          () => zk.multiRead([{ type: 'getData', path: p }]),
          InvalidPathError,
          `multiRead ${what}`,
        );
        await rejects(() => zk.addWatch(p, () => {}), InvalidPathError, `addWatch ${what}`);
        await rejects(() => zk.removeWatches(p, 'any'), InvalidPathError, `removeWatches ${what}`);
        assert.throws(() => zk.transaction().create(p), InvalidPathError, `transaction.create ${what}`);
        assert.throws(() => zk.transaction().set(p, 'x'), InvalidPathError, `transaction.set ${what}`);
        assert.throws(() => zk.transaction().delete(p), InvalidPathError, `transaction.delete ${what}`);
        assert.throws(() => zk.transaction().check(p, 0), InvalidPathError, `transaction.check ${what}`);
      }
      // A trailing slash is fine only for a sequential create.
      await rejects(() => zk.create(`${root}/`, 'x'), InvalidPathError);
      await rejects(() => zk.create(`${root}//`, 'x', { sequence: true }), InvalidPathError);
      await rejects(() => zk.getEphemerals(bad('noslash')), InvalidArgumentError);
      await rejects(() => zk.getEphemerals(bad(7)), InvalidArgumentError);
      // Still usable, and nothing was created.
      assert.deepEqual(await zk.getChildren(root), []);
      assert.equal(await zk.create(`${root}/ok`, 'fine'), `${root}/ok`);
      assert.equal((await zk.get(`${root}/ok`)).data.toString(), 'fine');
    });

    test('promise-returning operations report bad input and a closed client as a rejection, never a synchronous throw', async (t) => {
      const zk = await connect(t, server);
      const calls: Record<string, () => Promise<unknown>> = {
        create: () => zk.create('noslash'),
        createWithStat: () => zk.createWithStat('noslash'),
        delete: () => zk.delete('noslash'),
        exists: () => zk.exists('noslash'),
        get: () => zk.get('noslash'),
        set: () => zk.set('noslash', 'x'),
        getChildren: () => zk.getChildren('noslash'),
        getChildrenWithStat: () => zk.getChildrenWithStat('noslash'),
        getAcl: () => zk.getAcl('noslash'),
        setAcl: () => zk.setAcl('noslash', OPEN_ACL_UNSAFE),
        sync: () => zk.sync('noslash'),
        getAllChildrenNumber: () => zk.getAllChildrenNumber('noslash'),
        getEphemerals: () => zk.getEphemerals('noslash'),
        multiRead: () => zk.multiRead([{ type: 'getData', path: 'noslash' }]),
        ensurePath: () => zk.ensurePath('noslash'),
        addWatch: () => zk.addWatch('noslash', () => {}),
        removeWatches: () => zk.removeWatches('noslash', 'any'),
        addAuth: () => zk.addAuth('', 'x'),
        getConfig: () => zk.getConfig({ watch: bad('not a function') }),
      };
      // A closed client: every call must reject with ClientClosedError (not throw it).
      const closed = await connect(t, server);
      await closed.close();
      Object.assign(calls, {
        'whoAmI (closed)': () => closed.whoAmI(),
        'reconfig (closed)': () => closed.reconfig({ joining: 'server.2=127.0.0.1:2888:3888;2182' }),
        'get (closed)': () => closed.get('/'),
        'exists (closed)': () => closed.exists('/'),
        'sync (closed)': () => closed.sync('/'),
      });
      const threwSynchronously: string[] = [];
      for (const [name, call] of Object.entries(calls)) {
        let promise: Promise<unknown>;
        try {
          promise = call();
        } catch (error) {
          assert.ok(error instanceof ZooKeeperError, `${name} threw a non-ZooKeeperError: ${String(error)}`);
          threwSynchronously.push(name);
          continue;
        }
        await assert.rejects(promise, ZooKeeperError, name);
      }
      assert.deepEqual(
        threwSynchronously,
        [],
        `these methods return a Promise but throw synchronously (bad input / closed client): ${threwSynchronously.join(', ')}`,
      );
    });

    test('bad input is caught before sending: an unstarted client gets the typed error, not ConnectionLoss', async (t) => {
      const zk = newClient(t, server);
      await rejects(() => zk.create('/a/'), InvalidPathError);
      await rejects(() => zk.get('noslash'), InvalidPathError);
      await rejects(() => zk.set('/a', bad(42)), InvalidArgumentError);
      await rejects(() => zk.create('/a', 'x', { ttl: -1 }), InvalidArgumentError);
      await rejects(() => zk.create('/a', Buffer.alloc(ONE_MIB)), DataTooLargeError);
      // A valid request on an unstarted client is not sent either: it fails with ClientNotStartedError
      // (it was ConnectionLossError, which retry loops took for "wait for the reconnect" and spun on).
      await rejects(() => zk.get('/a'), ClientNotStartedError);
    });

    test('data over 1 MiB is DataTooLargeError; just under the limit works for create and get', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const tooBig = Buffer.alloc(ONE_MIB, 0x61);
      await rejects(() => zk.create(`${root}/big`, tooBig), DataTooLargeError);
      await rejects(() => zk.createWithStat(`${root}/big`, tooBig), DataTooLargeError);
      await rejects(() => zk.create(`${root}/big`, 'a'.repeat(ONE_MIB)), DataTooLargeError);
      await rejects(() => zk.set(root, tooBig), DataTooLargeError);
      await rejects(() => zk.transaction().set(root, tooBig).commit(), DataTooLargeError);
      await rejects(
        () =>
          zk
            .transaction()
            .create(`${root}/big`, Buffer.alloc(2 * ONE_MIB))
            .commit(),
        DataTooLargeError,
      );
      assert.equal(await zk.exists(`${root}/big`), null);

      const large = Buffer.alloc(1_000_000);
      for (let i = 0; i < large.length; i++) large[i] = i % 251;
      await zk.create(`${root}/large`, large);
      const { data, stat } = await zk.get(`${root}/large`);
      assert.equal(stat.dataLength, 1_000_000);
      assert.ok(data.equals(large));
      const s = await zk.set(`${root}/large`, large.subarray(0, 999_999));
      assert.equal(s.dataLength, 999_999);
      assert.equal((await zk.get(root)).stat.numChildren, 1);

      // The exact frame boundary (the 1 MiB jute.maxbuffer limit): setData's payload is header 8 + path (4 + length)
      // + data (4 + length) + version 4, and must not exceed 1,048,575 bytes.
      const largest = 1_048_575 - 8 - (4 + Buffer.byteLength(root)) - 4 - 4;
      await rejects(() => zk.set(root, Buffer.alloc(largest + 1)), DataTooLargeError);
      await rejects(() => zk.set(root, Buffer.alloc(1_048_575)), DataTooLargeError);
      assert.equal(zk.state, 'CONNECTED');
      assert.equal((await zk.set(root, Buffer.alloc(largest, 0x62))).dataLength, largest);
      assert.equal((await zk.get(root)).data.length, largest);
    });

    test('wrongly typed arguments are InvalidArgumentError, and the client stays usable', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'v0');
      await rejects(() => zk.create(`${root}/n`, bad(42)), InvalidArgumentError, 'data as a number');
      await rejects(() => zk.create(`${root}/n`, bad({ a: 1 })), InvalidArgumentError, 'data as an object');
      await rejects(() => zk.set(root, bad(42)), InvalidArgumentError, 'set data as a number');
      await rejects(() => zk.set(root, bad({})), InvalidArgumentError, 'set data as an object');
      await rejects(
        () => zk.set(root, 'x', { version: bad('0') }),
        InvalidArgumentError,
        'version as a string',
      );
      await rejects(() => zk.set(root, 'x', { version: 1.5 }), InvalidArgumentError, 'fractional version');
      await rejects(() => zk.set(root, 'x', { version: -2 }), InvalidArgumentError, 'version below -1');
      await rejects(
        () => zk.delete(root, { version: bad('0') }),
        InvalidArgumentError,
        'delete version as a string',
      );
      await rejects(
        () => zk.setAcl(root, OPEN_ACL_UNSAFE, { version: bad('0') }),
        InvalidArgumentError,
        'setAcl version as a string',
      );
      await rejects(
        () => zk.get(root, { watch: bad('nope') }),
        InvalidArgumentError,
        'get watch not a function',
      );
      await rejects(
        () => zk.exists(root, { watch: bad(1) }),
        InvalidArgumentError,
        'exists watch not a function',
      );
      await rejects(
        () => zk.getChildren(root, { watch: bad({}) }),
        InvalidArgumentError,
        'getChildren watch not a function',
      );
      await rejects(
        () => zk.getChildrenWithStat(root, { watch: bad(true) }),
        InvalidArgumentError,
        'getChildrenWithStat watch not a function',
      );
      await rejects(
        () => zk.addWatch(root, bad(undefined)),
        InvalidArgumentError,
        'addWatch without a listener',
      );
      await rejects(() => zk.create(`${root}/n`, 'x', { acl: [] }), InvalidArgumentError, 'empty acl');
      await rejects(
        () => zk.create(`${root}/n`, 'x', { acl: bad([{ perms: 'all' }]) }),
        InvalidArgumentError,
        'malformed acl',
      );
      await rejects(() => zk.setAcl(root, []), InvalidArgumentError, 'setAcl empty acl');
      await rejects(
        () => zk.create(`${root}/n`, 'x', { ephemeral: bad('yes') }),
        InvalidArgumentError,
        'ephemeral not a boolean',
      );
      await rejects(
        () => zk.create(`${root}/n`, 'x', { makePath: bad(1) }),
        InvalidArgumentError,
        'makePath not a boolean',
      );
      await rejects(() => zk.removeWatches(root, bad('bogus')), InvalidArgumentError, 'unknown watch type');
      assert.throws(
        () => zk.transaction().check(root, bad('0')),
        InvalidArgumentError,
        'check version as a string',
      );
      assert.throws(
        () => zk.transaction().set(root, bad(42)),
        InvalidArgumentError,
        'transaction set data as a number',
      );
      // Still usable, and nothing changed.
      assert.deepEqual(await zk.getChildren(root), []);
      const { data, stat } = await zk.get(root);
      assert.equal(data.toString(), 'v0');
      assert.equal(stat.version, 0);
      assert.equal(stat.aversion, 0);
    });

    test('operations before start() reject with ClientNotStartedError, which retry() and the recipes do not retry', async () => {
      const zk = new ZooKeeperClient({ hosts: server.connectString });
      await rejects(() => zk.get('/'), ClientNotStartedError, 'get');
      await rejects(() => zk.create('/never'), ClientNotStartedError, 'create');
      await rejects(() => zk.retry(() => zk.exists('/')), ClientNotStartedError, 'retry(exists)');
      // A blocking recipe call answers at once instead of retrying a connection that will never come.
      await rejects(
        () => within(new Lock(zk, '/never-started').acquire(), 'Lock.acquire before start()'),
        ClientNotStartedError,
        'Lock.acquire',
      );
      await zk.close();
    });

    test('operations after close() reject with ClientClosedError', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      await zk.close();
      assert.equal(zk.closed, true);
      await rejects(() => zk.create(`${root}/x`), ClientClosedError, 'create');
      await rejects(() => zk.get(root), ClientClosedError, 'get');
      await rejects(() => zk.set(root, 'x'), ClientClosedError, 'set');
      await rejects(() => zk.exists(root), ClientClosedError, 'exists');
      await rejects(() => zk.delete(root), ClientClosedError, 'delete');
      await rejects(() => zk.getChildren(root), ClientClosedError, 'getChildren');
      await rejects(() => zk.getAcl(root), ClientClosedError, 'getAcl');
      await rejects(() => zk.sync(root), ClientClosedError, 'sync');
      await rejects(() => zk.whoAmI(), ClientClosedError, 'whoAmI');
      await rejects(() => zk.getEphemerals(), ClientClosedError, 'getEphemerals');
      await rejects(() => zk.multiRead([{ type: 'getData', path: root }]), ClientClosedError, 'multiRead');
      await rejects(() => zk.addAuth('digest', 'a:b'), ClientClosedError, 'addAuth');
      await rejects(() => zk.addWatch(root, () => {}), ClientClosedError, 'addWatch');
      await rejects(() => zk.start(), ClientClosedError, 'start');
      assert.throws(() => zk.transaction(), ClientClosedError, 'transaction');
    });

    test('constructor rejects bad options with InvalidArgumentError', () => {
      const hosts = server.connectString;
      assert.throws(() => new ZooKeeperClient({ hosts: '' }), InvalidArgumentError, "hosts ''");
      assert.throws(() => new ZooKeeperClient({ hosts: [] }), InvalidArgumentError, 'hosts []');
      assert.throws(() => new ZooKeeperClient({ hosts: bad(42) }), InvalidArgumentError, 'hosts 42');
      assert.throws(
        () => new ZooKeeperClient({ hosts: '127.0.0.1:99999' }),
        InvalidArgumentError,
        'bad port',
      );
      assert.throws(() => new ZooKeeperClient({ hosts: `${hosts}/bad/` }), InvalidPathError, 'bad chroot');
      assert.throws(
        () => new ZooKeeperClient({ hosts, sessionTimeout: -1 }),
        InvalidArgumentError,
        'sessionTimeout -1',
      );
      assert.throws(
        () => new ZooKeeperClient({ hosts, sessionTimeout: bad('1000') }),
        InvalidArgumentError,
        'sessionTimeout string',
      );
      assert.throws(
        () => new ZooKeeperClient({ hosts, connectTimeout: 0 }),
        InvalidArgumentError,
        'connectTimeout 0',
      );
      assert.throws(
        () => new ZooKeeperClient({ hosts, readOnly: bad('yes') }),
        InvalidArgumentError,
        "readOnly 'yes'",
      );
      assert.throws(
        () => new ZooKeeperClient({ hosts, defaultAcl: [] }),
        InvalidArgumentError,
        'defaultAcl []',
      );
      assert.throws(
        () => new ZooKeeperClient({ hosts, session: { id: 1n, password: Buffer.alloc(3) } }),
        InvalidArgumentError,
        'short password',
      );
      assert.throws(() => new ZooKeeperClient(bad(null)), InvalidArgumentError, 'options null');
    });
  });

  // ---- chroot ----

  describe('chroot', () => {
    test('a chrooted client sees and reports paths relative to its chroot', async (t) => {
      const plain = await connect(t, server);
      const chroot = `/chroot-${randomUUID()}`;
      await plain.create(chroot);
      const zk = await connect(t, `${server.connectString}${chroot}`);
      assert.equal(zk.chroot, chroot);

      assert.equal(await zk.create('/a', 'A'), '/a');
      assert.equal((await plain.get(`${chroot}/a`)).data.toString(), 'A');
      assert.equal(await zk.create('/deep/x/y', null, { makePath: true }), '/deep/x/y');
      assert.ok(await plain.exists(`${chroot}/deep/x/y`));
      const withStat = await zk.createWithStat('/b', 'B');
      assert.equal(withStat.path, '/b');
      assert.deepEqual(sorted(await zk.getChildren('/')), ['a', 'b', 'deep']);
      assert.equal((await zk.getChildrenWithStat('/')).stat.numChildren, 3);
      assert.ok(await zk.exists('/'));
      assert.equal(await zk.sync('/a'), '/a');

      // Sequential create paths are relative.
      assert.equal(await zk.create('/seq-', null, { sequence: true }), '/seq-0000000003');
      assert.ok(await plain.exists(`${chroot}/seq-0000000003`));

      // Transaction create results are relative.
      const results = await zk
        .transaction()
        .create('/t1')
        .create('/t-', null, { sequence: true })
        .set('/a', 'A2')
        .commit();
      assert.deepEqual(results[0], { type: 'create', path: '/t1' });
      assert.deepEqual(results[1], { type: 'create', path: '/t-0000000005' });
      assert.equal((await plain.get(`${chroot}/a`)).data.toString(), 'A2');
      await assert.rejects(zk.transaction().create('/t1').commit(), (error: unknown) => {
        assert.ok(error instanceof TransactionError);
        assert.equal(error.error.path, '/t1');
        return true;
      });

      // Watch event paths are relative.
      const dataEvents = new Recorder<WatchEvent>();
      const childEvents = new Recorder<WatchEvent>();
      await zk.get('/a', { watch: dataEvents.listener });
      await zk.getChildren('/', { watch: childEvents.listener });
      await plain.set(`${chroot}/a`, 'changed');
      assert.deepEqual(await dataEvents.nth(1), { type: 'NodeDataChanged', state: 'CONNECTED', path: '/a' });
      await plain.create(`${chroot}/c`);
      assert.deepEqual(await childEvents.nth(1), {
        type: 'NodeChildrenChanged',
        state: 'CONNECTED',
        path: '/',
      });
      const recursive = new Recorder<WatchEvent>();
      await zk.addWatch('/deep', recursive.listener, { recursive: true });
      await plain.create(`${chroot}/deep/x/z`);
      assert.deepEqual(await recursive.nth(1), {
        type: 'NodeCreated',
        state: 'CONNECTED',
        path: '/deep/x/z',
      });

      // getEphemerals takes and returns relative paths.
      await zk.create('/eph-1', null, { ephemeral: true });
      await zk.create('/deep/eph-2', null, { ephemeral: true });
      assert.deepEqual(sorted(await zk.getEphemerals()), ['/deep/eph-2', '/eph-1']);
      assert.deepEqual(await zk.getEphemerals('/eph'), ['/eph-1']);
      assert.deepEqual(await zk.getEphemerals('/deep'), ['/deep/eph-2']);

      // Other reads map too; errors carry relative paths.
      assert.equal(await zk.getAllChildrenNumber('/deep'), 4);
      const [read] = await zk.multiRead([{ type: 'getData', path: '/a' }]);
      assert.equal(read?.type === 'getData' && read.data.toString(), 'changed');
      const error = await zk.get('/missing').catch((e: unknown) => e);
      assert.ok(error instanceof NoNodeError);
      assert.equal(error.path, '/missing');

      await zk.delete('/deep', { recursive: true });
      assert.equal(await plain.exists(`${chroot}/deep`), null);
      assert.ok(await plain.exists(chroot), 'the chroot itself stays');
    });
  });

  // ---- ACLs and auth ----

  describe('digest ACLs and authentication', () => {
    test('a digest ACL denies an unauthenticated client and admits an authenticated one', async (t) => {
      const alice = await connect(t, server, {
        authData: [{ scheme: 'digest', credential: 'alice:secret' }],
      });
      const anon = await connect(t, server);
      const bobby = await connect(t, server);
      await bobby.addAuth('digest', 'bob:other');
      const root = uniqueRoot();
      await anon.create(root);
      const secret = `${root}/secret`;
      await alice.create(secret, 'classified', { acl: [makeDigestAcl('alice', 'secret', Perms.ALL)] });
      await alice.create(`${secret}/child`, 'c');
      await alice.create(`${secret}/child2`, 'c');

      const { acl } = await alice.getAcl(secret);
      assert.deepEqual(acl, [
        { perms: Perms.ALL, id: { scheme: 'digest', id: digestId('alice', 'secret') } },
      ]);

      for (const client of [anon, bobby]) {
        await rejects(() => client.get(secret), NoAuthError, 'get');
        await rejects(() => client.set(secret, 'x'), NoAuthError, 'set');
        await rejects(() => client.delete(`${secret}/child`), NoAuthError, 'delete child');
        await rejects(() => client.create(`${secret}/new`), NoAuthError, 'create child');
        await rejects(() => client.getChildren(secret), NoAuthError, 'getChildren');
        await rejects(() => client.setAcl(secret, OPEN_ACL_UNSAFE), NoAuthError, 'setAcl');
      }

      assert.equal((await alice.get(secret)).data.toString(), 'classified');
      assert.equal((await alice.set(secret, 'new')).version, 1);
      await alice.delete(`${secret}/child`);
      assert.deepEqual(await alice.getChildren(secret), ['child2']);

      // Authenticating later with addAuth admits the other client too.
      await anon.addAuth('digest', 'alice:secret');
      assert.equal((await anon.get(secret)).data.toString(), 'new');
      await anon.delete(`${secret}/child2`);
    });

    test('CREATOR_ALL_ACL works when authenticated and is InvalidACL without credentials', async (t) => {
      const alice = await connect(t, server);
      await alice.addAuth('digest', 'alice:secret');
      const anon = await connect(t, server);
      const root = uniqueRoot();
      await anon.create(root);
      await alice.create(`${root}/mine`, 'x', { acl: CREATOR_ALL_ACL });
      const { acl } = await alice.getAcl(`${root}/mine`);
      assert.deepEqual(acl, [
        { perms: Perms.ALL, id: { scheme: 'digest', id: digestId('alice', 'secret') } },
      ]);
      assert.equal((await alice.get(`${root}/mine`)).data.toString(), 'x');
      await rejects(() => anon.get(`${root}/mine`), NoAuthError);
      await rejects(() => anon.create(`${root}/theirs`, 'x', { acl: CREATOR_ALL_ACL }), InvalidACLError);
      assert.equal(await anon.exists(`${root}/theirs`), null);
    });

    test('addAuth with an unknown scheme rejects with AuthFailedError and is terminal (AUTH_FAILED)', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root);
      const keeperStates: string[] = [];
      zk.on('keeperState', (state) => keeperStates.push(state));
      await rejects(() => zk.addAuth('bogus-scheme', 'x'), AuthFailedError);
      await eventually(() => zk.keeperState === KeeperState.AUTH_FAILED, 'keeperState AUTH_FAILED');
      assert.equal(zk.keeperState, 'AUTH_FAILED');
      assert.equal(zk.state, 'LOST');
      assert.ok(keeperStates.includes('AUTH_FAILED'));
      await rejects(() => zk.get(root), AuthFailedError, 'later get');
      await rejects(() => zk.create(`${root}/x`), AuthFailedError, 'later create');
      await rejects(() => zk.start(), AuthFailedError, 'start again');
      // The server is fine.
      const other = await connect(t, server);
      assert.equal(await other.exists(`${root}/x`), null);
    });

    test('bad authData at construction fails the session with AUTH_FAILED', async (t) => {
      const zk = newClient(t, server, { authData: [{ scheme: 'bogus-scheme', credential: 'x' }] });
      // start() resolves on the handshake; the auth reply (a failure) comes right after it.
      await zk.start({ timeout: 10_000 });
      await eventually(() => zk.keeperState === KeeperState.AUTH_FAILED, 'keeperState AUTH_FAILED');
      assert.equal(zk.state, 'LOST');
      await rejects(() => zk.get('/'), AuthFailedError);
    });
  });
});
