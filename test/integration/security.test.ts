/**
 * The client against secured ZooKeeper 3.8 servers: TLS (server certificate checks, client
 * certificates with `ssl.clientAuth=need`), SASL DIGEST-MD5 (identity, `sasl:` ACLs, SASL redone
 * after a reconnect, a rejected password) and interop with kazoo's SASL login. A failure that
 * retrying cannot fix must be terminal: the tests count the TCP connections the client opens.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { ConnectionOptions } from 'node:tls';
import {
  ConnectionState,
  KeeperState,
  Perms,
  errors,
  makeAcl,
  type ZooKeeperClient,
} from '../../src/index.js';
import {
  createTestCertificates,
  FaultProxy,
  timing,
  ZooKeeperServer,
  type TestCertificates,
} from '../../src/testing/index.js';
import { connect, newClient, nextState, uniqueRoot } from '../support/client.js';
import { eventually, within } from '../support/wait.js';
import { runPythonJson } from '../support/kazoo.js';

const { AuthFailedError, NoAuthError, TlsError } = errors;

const LIMIT = timing(20_000);
/** How long a terminally failed client is watched for further connection attempts. */
const QUIET_MS = timing(3_000);

/**
 * A plain TCP forwarder that counts the connections it accepts (FaultProxy only reports the
 * live ones). TLS passes through it untouched.
 */
class CountingForwarder {
  accepted = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(t: TestContext, target: { host: string; port: number }): Promise<CountingForwarder> {
    let forwarder: CountingForwarder | undefined = undefined;
    const server = createServer((socket) => forwarder?.forward(socket, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    forwarder = new CountingForwarder(server, (server.address() as AddressInfo).port);
    t.after(() => forwarder!.close());
    return forwarder;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  private forward(socket: Socket, target: { host: string; port: number }): void {
    this.accepted++;
    const upstream = tcpConnect(target);
    for (const [from, to] of [
      [socket, upstream],
      [upstream, socket],
    ] as const) {
      this.sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Start a client that must fail for good: `start()` rejects with `errorClass`, the keeper state
 * ends AUTH_FAILED, and no further connection is attempted.
 */
async function assertTerminalFailure(
  t: TestContext,
  forwarder: CountingForwarder,
  options: Parameters<typeof newClient>[2],
  errorClass: typeof TlsError | typeof AuthFailedError,
): Promise<ZooKeeperClient> {
  const zk = newClient(t, forwarder.connectString, { sessionTimeout: 4000, ...options });
  const keeperStates: KeeperState[] = [];
  zk.on('keeperState', (state) => keeperStates.push(state));
  let failure: unknown;
  await assert.rejects(zk.start({ timeout: timing(10_000) }), (error: unknown) => {
    failure = error;
    return true;
  });
  assert.ok(
    failure instanceof errorClass,
    `start() rejected with ${String(failure)}, not a ${errorClass.name} (after ${forwarder.accepted} connection attempts; keeper states ${keeperStates.join(' → ')})`,
  );
  assert.ok(keeperStates.includes(KeeperState.AUTH_FAILED), `keeper states ${keeperStates.join(' → ')}`);
  const attempts = forwarder.accepted;
  assert.ok(attempts >= 1);
  await delay(QUIET_MS);
  assert.equal(
    forwarder.accepted,
    attempts,
    `no connection attempt after the failure (keeper states ${keeperStates.join(' → ')})`,
  );
  assert.equal(zk.state, ConnectionState.LOST);
  assert.equal(
    zk.keeperState,
    KeeperState.AUTH_FAILED,
    `the keeper state ends AUTH_FAILED (keeper states ${keeperStates.join(' → ')})`,
  );
  await assert.rejects(zk.get('/'));
  return zk;
}

async function exerciseTls(t: TestContext, connectString: string, tls: ConnectionOptions): Promise<void> {
  const zk = await connect(t, connectString, { tls });
  assert.equal(zk.state, ConnectionState.CONNECTED);
  assert.equal(zk.connectedServer, connectString);
  const root = uniqueRoot('tls');
  assert.equal(await zk.create(root, 'over tls'), root);
  assert.equal((await zk.get(root)).data.toString(), 'over tls');
  await zk.set(root, 'changed');
  assert.deepEqual(await zk.getChildren(root), []);
  await zk.delete(root);
  assert.equal(await zk.exists(root), null);
}

describe('TLS', () => {
  let foreignDir: string;
  let foreign: TestCertificates;

  before(async () => {
    // A CA the servers do not trust, with a client certificate of its own.
    foreignDir = await mkdtemp(join(tmpdir(), 'zk-foreign-ca-'));
    foreign = await createTestCertificates(foreignDir);
  });
  after(async () => {
    if (foreignDir) await rm(foreignDir, { recursive: true, force: true });
  });

  describe('clientAuth none', () => {
    let server: ZooKeeperServer;
    before(async () => {
      server = await ZooKeeperServer.start({ tls: { clientAuth: 'none' } });
    });
    after(() => server?.close());

    test('a client with the CA (and a client certificate) connects and works', async (t) => {
      const tls = server.tls!;
      assert.equal(tls.clientAuth, 'none');
      await exerciseTls(t, tls.connectString, { ca: tls.ca, cert: tls.cert, key: tls.key });
      await exerciseTls(t, tls.connectString, { ca: tls.ca }); // no certificate needed
    });

    test('a client without the CA fails with TlsError, AUTH_FAILED, and stops trying', async (t) => {
      const tls = server.tls!;
      const forwarder = await CountingForwarder.start(t, { host: server.host, port: tls.port });
      await assertTerminalFailure(t, forwarder, { tls: {} }, TlsError);
    });

    test('a server name that does not match the certificate fails with TlsError and stops trying', async (t) => {
      const tls = server.tls!;
      const forwarder = await CountingForwarder.start(t, { host: server.host, port: tls.port });
      await assertTerminalFailure(t, forwarder, { tls: { ca: tls.ca, servername: 'zk.example' } }, TlsError);
    });
  });

  describe('clientAuth need', () => {
    let server: ZooKeeperServer;
    before(async () => {
      server = await ZooKeeperServer.start({ tls: { clientAuth: 'need' } });
    });
    after(() => server?.close());

    test('a client with the kit certificate connects and works', async (t) => {
      const tls = server.tls!;
      assert.equal(tls.clientAuth, 'need');
      await exerciseTls(t, tls.connectString, { ca: tls.ca, cert: tls.cert, key: tls.key });
    });

    test('a client certificate from a foreign CA is refused: TlsError, AUTH_FAILED, no retry loop', async (t) => {
      const tls = server.tls!;
      const forwarder = await CountingForwarder.start(t, { host: server.host, port: tls.port });
      await assertTerminalFailure(
        t,
        forwarder,
        { tls: { ca: tls.ca, cert: foreign.clientCert, key: foreign.clientKey } },
        TlsError,
      );
    });

    test('a client without a certificate is refused: TlsError, AUTH_FAILED, no retry loop', async (t) => {
      const tls = server.tls!;
      const forwarder = await CountingForwarder.start(t, { host: server.host, port: tls.port });
      await assertTerminalFailure(t, forwarder, { tls: { ca: tls.ca } }, TlsError);
    });
  });
});

describe('SASL DIGEST-MD5', () => {
  let server: ZooKeeperServer;
  const alice = { mechanism: 'DIGEST-MD5', username: 'alice', password: 'secret' } as const;
  const aliceAcl = [makeAcl('sasl', 'alice', Perms.ALL)];

  before(async () => {
    server = await ZooKeeperServer.start({ sasl: { users: { alice: 'secret', bob: 'builder' } } });
  });
  after(() => server?.close());

  test('alice logs in, owns a sasl:alice node that others cannot read, and SASL is redone after a reconnect', async (t) => {
    const proxy = await FaultProxy.start(server.connectString);
    t.after(() => proxy.close());
    const zk = await connect(t, proxy.connectString, { sasl: alice });
    const sessionId = zk.sessionId;
    assert.deepEqual(
      (await zk.whoAmI()).filter((info) => info.authScheme === 'sasl'),
      [{ authScheme: 'sasl', user: 'alice' }],
    );
    const root = uniqueRoot('sasl');
    await zk.create(root, 'for alice', { acl: aliceAcl });
    assert.equal((await zk.get(root)).data.toString(), 'for alice');
    assert.deepEqual((await zk.getAcl(root)).acl, [{ perms: 31, id: { scheme: 'sasl', id: 'alice' } }]);

    const anonymous = await connect(t, server);
    await assert.rejects(anonymous.get(root), NoAuthError);
    const bob = await connect(t, server, {
      sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'builder' },
    });
    await assert.rejects(bob.get(root), NoAuthError, 'a valid login that is not alice');

    // Disconnected: requests queue; on the next connection SASL runs first, then they are sent.
    const states: ConnectionState[] = [];
    zk.on('state', (state) => states.push(state));
    const suspended = nextState(zk, ConnectionState.SUSPENDED, LIMIT);
    proxy.refuse();
    proxy.drop();
    await suspended;
    const queued = zk.get(root);
    const queuedChild = zk.create(`${root}/child`, 'c', { acl: aliceAcl });
    proxy.accept();
    assert.equal((await within(queued, 'the queued get', LIMIT)).data.toString(), 'for alice');
    assert.equal(await within(queuedChild, 'the queued create', LIMIT), `${root}/child`);
    await eventually(() => states.at(-1) === ConnectionState.CONNECTED, 'CONNECTED again', LIMIT);
    assert.equal(zk.sessionId, sessionId, 'same session');

    proxy.drop();
    await eventually(
      () => states.length === 4 && states[3] === ConnectionState.CONNECTED,
      'a second reconnect',
      LIMIT,
    );
    assert.deepEqual(states, ['SUSPENDED', 'CONNECTED', 'SUSPENDED', 'CONNECTED']);
    assert.equal((await zk.get(`${root}/child`)).data.toString(), 'c');
    assert.deepEqual(
      (await zk.whoAmI()).filter((info) => info.authScheme === 'sasl'),
      [{ authScheme: 'sasl', user: 'alice' }],
    );
    await assert.rejects(anonymous.get(`${root}/child`), NoAuthError);
  });

  test('a wrong password: start() rejects with AuthFailedError, AUTH_FAILED, no retry loop', async (t) => {
    const forwarder = await CountingForwarder.start(t, { host: server.host, port: server.port });
    await assertTerminalFailure(t, forwarder, { sasl: { ...alice, password: 'wrong' } }, AuthFailedError);
    assert.equal(forwarder.accepted, 1, 'one connection, no retry');
  });

  test('an unknown user: start() rejects with AuthFailedError, AUTH_FAILED, no retry loop', async (t) => {
    const forwarder = await CountingForwarder.start(t, { host: server.host, port: server.port });
    // A password no user has: ZooKeeper 3.8.0's SaslServerCallbackHandler keeps the user name of
    // the previous login in a field shared by all connections, and an unknown user presenting
    // THAT user's password is let in (a server bug, not exercised here).
    await assertTerminalFailure(
      t,
      forwarder,
      { sasl: { mechanism: 'DIGEST-MD5', username: 'mallory', password: 'no-such-password' } },
      AuthFailedError,
    );
    assert.equal(forwarder.accepted, 1, 'one connection, no retry');
  });

  test('interop: kazoo (DIGEST-MD5) and this client share sasl:alice nodes', async (t) => {
    const zk = await connect(t, server, { sasl: alice });
    const root = uniqueRoot('interop');
    await zk.create(root, 'from typescript', { acl: aliceAcl });
    const kazooPath = `${root}/from-kazoo-${randomUUID()}`;
    const script = `
import json, sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
hosts, root, kazoo_path = sys.argv[1], sys.argv[2], sys.argv[3]
zk = KazooClient(hosts=hosts, timeout=10, sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'alice', 'password': 'secret'})
zk.start(timeout=20)
result = {}
data, stat = zk.get(root)
result['read'] = data.decode()
result['acl'] = [[a.perms, a.id.scheme, a.id.id] for a in zk.get_acls(root)[0]]
zk.create(kazoo_path, b'from kazoo', acl=[make_acl('sasl', 'alice', all=True)])
result['children'] = sorted(zk.get_children(root))
zk.stop(); zk.close()
print(json.dumps(result))
`;
    const result = runPythonJson<{ read: string; acl: unknown; children: string[] }>(
      ['-c', script, server.connectString, root, kazooPath],
      { limitMs: timing(60_000) },
    );
    assert.equal(result.read, 'from typescript', 'kazoo reads the node this client created under sasl:alice');
    assert.deepEqual(result.acl, [[31, 'sasl', 'alice']]);
    assert.deepEqual(result.children, [kazooPath.slice(root.length + 1)]);

    // And this client reads kazoo's node, whose ACL only alice passes.
    assert.equal((await zk.get(kazooPath)).data.toString(), 'from kazoo');
    assert.deepEqual((await zk.getAcl(kazooPath)).acl, [{ perms: 31, id: { scheme: 'sasl', id: 'alice' } }]);
    const anonymous = await connect(t, server);
    await assert.rejects(anonymous.get(kazooPath), NoAuthError);
  });
});
