/**
 * ZooKeeperServer's TLS and SASL options against the real server: a hand-made TLS handshake with
 * the kit's certificates, certificate failures, client authentication, and SASL DIGEST-MD5 logins
 * by kazoo (Debian's python3-kazoo) with `sasl:` ACLs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { JuteReader } from '../../src/client/protocol/jute.js';
import { OpCode } from '../../src/client/protocol/op-codes.js';
import {
  readConnectResponse,
  writeConnectRequest,
  writeRequestHeader,
} from '../../src/client/protocol/records.js';
import { closeRawSession, openRawSession, timing, ZooKeeperServer } from '../../src/testing/index.js';
import { runPythonJson } from '../support/kazoo.js';
import { frame, newSessionRequest } from '../support/protocol.js';

/** Connect with TLS; resolves on a completed handshake, rejects with the TLS error. */
function tlsSocket(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ...options });
    const timer = setTimeout(() => socket.destroy(new Error('TLS handshake timed out')), timing(10_000));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The next length-prefixed frame's payload; rejects on close, error or timeout. */
function readFrame(socket: TLSSocket, timeoutMs = timing(10_000)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (error?: Error, frame?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', done);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(frame!);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0))
        done(undefined, received.subarray(4, 4 + received.readInt32BE(0)));
    };
    const onClose = (): void => done(new Error('connection closed before a whole frame arrived'));
    const timer = setTimeout(() => done(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('error', done);
    socket.once('close', onClose);
  });
}

describe('ZooKeeperServer with tls and sasl', () => {
  let server: ZooKeeperServer;
  before(async () => {
    server = await ZooKeeperServer.start({ tls: {}, sasl: { users: { alice: 'secret', bob: 'builder' } } });
  });
  after(() => server?.close());

  test('a plain tls.connect with the kit credentials gets a ConnectResponse', async () => {
    const tls = server.tls;
    assert.ok(tls);
    assert.notEqual(tls.port, server.port);
    assert.equal(tls.connectString, `127.0.0.1:${tls.port}`);
    assert.equal(tls.clientAuth, 'none');
    assert.match(tls.ca.toString(), /BEGIN CERTIFICATE/);
    assert.match(tls.key.toString(), /PRIVATE KEY/);

    const socket = await tlsSocket(tls.port, {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: tls.serverName,
    });
    try {
      assert.equal(socket.authorized, true);
      socket.write(frame((w) => writeConnectRequest(w, newSessionRequest())));
      const response = readConnectResponse(new JuteReader(await readFrame(socket)));
      assert.ok(response.timeout > 0, `negotiated timeout ${response.timeout}`);
      assert.notEqual(response.sessionId, 0n);
      assert.equal(response.password.length, 16);

      // closeSession gets a reply with err 0: the server really runs the session over TLS.
      socket.write(frame((w) => writeRequestHeader(w, 1, OpCode.closeSession)));
      const reply = new JuteReader(await readFrame(socket));
      assert.equal(reply.int(), 1); // xid
      reply.long(); // zxid
      assert.equal(reply.int(), 0); // err
    } finally {
      socket.destroy();
    }
  });

  test('a client without the CA rejects the server certificate', async () => {
    const tls = server.tls!;
    await assert.rejects(
      tlsSocket(tls.port, { servername: tls.serverName }),
      (error: NodeJS.ErrnoException) => {
        // The server sends its own certificate only, so the chain stops at an unknown issuer.
        assert.equal(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
        return true;
      },
    );
    await assert.rejects(tlsSocket(tls.port, { ca: tls.ca, servername: 'zk.example' }), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  test('the plain port keeps serving next to the TLS port', async () => {
    const { connection, response } = await openRawSession(server.host, server.port, {}, timing(10_000));
    assert.ok(response.timeout > 0);
    await closeRawSession(connection, timing(10_000));
    // Not TLS: a plain ConnectRequest on the TLS port gets no ConnectResponse.
    await assert.rejects(openRawSession(server.host, server.tls!.port, {}, timing(10_000)));
  });

  test('kazoo logs in with SASL DIGEST-MD5 and sasl: ACLs are enforced', () => {
    const path = `/sasl-${randomUUID()}`;
    // The recipe documented in src/testing/sasl.ts, from the client side.
    const script = `
import json, sys
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError
from kazoo.protocol.states import KeeperState
from kazoo.security import make_acl
hosts, path = sys.argv[1], sys.argv[2]
def client(user, password):
    c = KazooClient(hosts=hosts, timeout=10, sasl_options={'mechanism': 'DIGEST-MD5', 'username': user, 'password': password})
    states = []
    callback = c._session_callback
    c._session_callback = lambda state: (states.append(state), callback(state))[1]
    try:
        c.start(timeout=20)
    except Exception:
        # kazoo 2.8's start() reports an AUTH_FAILED that lands before it looks at the connection
        # as a time-out (client.py start); later, the next request raises AuthFailedError.
        if KeeperState.AUTH_FAILED in states: raise AuthFailedError()
        raise
    return c
result = {}
alice = client('alice', 'secret')
alice.create(path, b'hello', acl=[make_acl('sasl', 'alice', all=True)])
result['acl'] = [[a.perms, a.id.scheme, a.id.id] for a in alice.get_acls(path)[0]]
result['data'] = alice.get(path)[0].decode()
alice.stop(); alice.close()
def attempt(user, password):
    try:
        c = client(user, password)
    except Exception as e:
        return type(e).__name__
    try:
        return c.get(path)[0].decode()
    except Exception as e:
        return type(e).__name__
    finally:
        c.stop(); c.close()
result['bob'] = attempt('bob', 'builder')
result['wrongPassword'] = attempt('alice', 'wrong')
print(json.dumps(result))
`;
    const result = runPythonJson<Record<string, unknown>>(['-c', script, server.connectString, path], {
      limitMs: timing(90_000),
    });
    assert.deepEqual(result['acl'], [[31, 'sasl', 'alice']]);
    assert.equal(result['data'], 'hello');
    assert.equal(result['bob'], 'NoAuthError'); // a valid login, but not alice
    assert.equal(result['wrongPassword'], 'AuthFailedError');
  });
});

describe('ZooKeeperServer with tls.clientAuth need', () => {
  test('a client certificate is required, and restart() keeps the TLS port', async () => {
    await using server = await ZooKeeperServer.start({ tls: { clientAuth: 'need' } });
    const tls = server.tls!;
    const trusted = { ca: tls.ca, servername: tls.serverName };
    await assert.rejects(
      openRawSession(server.host, tls.port, {}, timing(10_000), { tls: trusted }),
      (error: NodeJS.ErrnoException) => {
        assert.equal(error.code, 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
        return true;
      },
    );

    const withCert = { ...trusted, cert: tls.cert, key: tls.key };
    const port = tls.port;
    await server.restart();
    assert.equal(server.tls!.port, port);
    const { connection, response } = await openRawSession(server.host, port, {}, timing(10_000), {
      tls: withCert,
    });
    assert.ok(response.timeout > 0);
    await closeRawSession(connection, timing(10_000));
  });
});
