/**
 * The testing kit against a real ZooKeeper (Debian's `zookeeper` package): start/stop/restart,
 * cleanup of the JVM in every way the parent can end, session expiry, and install errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import {
  closeRawSession,
  expireSession,
  fourLetterWord,
  openRawSession,
  ZooKeeperNotInstalledError,
  ZooKeeperServer,
} from '../../src/testing/index.js';
import { eventually, safety } from '../support/wait.js';

const KIT_URL = new URL('../../src/testing/index.js', import.meta.url).href;

/** Alive and not a zombie (orphans are not reaped by every init). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Fixture {
  /** The JVM's pid and data directory, as printed by the script. */
  info: { pid: number; dataDir: string };
  /** Resolves with the exit code (or signal) of the Node process. */
  exit: Promise<number | NodeJS.Signals>;
  kill(signal: NodeJS.Signals): void;
}

/** Run `body` in a separate Node process after it started a server and printed its pid. */
async function runFixture(body: string): Promise<Fixture> {
  const script = `
    import { ZooKeeperServer } from ${JSON.stringify(KIT_URL)};
    const server = await ZooKeeperServer.start();
    process.stdout.write(JSON.stringify({ pid: server.pid, dataDir: server.dataDir }) + '\\n');
    ${body}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  // A fixture that never exits is a failure (e.g. a child process keeps its event loop alive).
  const exit = Promise.race([
    exited,
    delay(60_000, undefined, { ref: false }).then(() => {
      child.kill('SIGKILL');
      return assert.fail('the fixture process did not exit');
    }),
  ]);
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    void exited.then((code) => reject(new Error(`fixture exited (${code}) before starting a server`)));
  });
  return { info: JSON.parse(line) as Fixture['info'], exit, kill: (signal) => child.kill(signal) };
}

describe('ZooKeeperServer', () => {
  test('start() returns a server that serves on a loopback port', async () => {
    await using server = await ZooKeeperServer.start();
    assert.equal(server.host, '127.0.0.1');
    assert.equal(server.connectString, `127.0.0.1:${server.port}`);
    assert.equal(server.running, true);
    assert.equal(await server.fourLetterWord('ruok'), 'imok');
    assert.match(await server.fourLetterWord('srvr'), /^Zookeeper version: 3\.8/);
    assert.match(readFileSync(server.logFile, 'utf8'), /ZooKeeperServer/);

    // tickTime 500: a 1 s session timeout is accepted as is, and the maximum is 60 s.
    const short = await openRawSession(server.host, server.port, { timeout: 1000 });
    assert.equal(short.response.timeout, 1000);
    await closeRawSession(short.connection);
    const long = await openRawSession(server.host, server.port, { timeout: 100_000 });
    assert.equal(long.response.timeout, 60_000);
    await closeRawSession(long.connection);
  });

  test('stop() keeps the data and restart() serves it again on the same port', async () => {
    await using server = await ZooKeeperServer.start();
    const port = server.port;
    const session = await openRawSession(server.host, port, { timeout: 60_000 });
    session.connection.close(); // the session stays open on the server
    const firstPid = server.pid;
    assert.ok(firstPid);

    await server.stop();
    assert.equal(server.running, false);
    assert.equal(isAlive(firstPid), false);
    await assert.rejects(fourLetterWord(server.host, port, 'ruok'), { code: 'ECONNREFUSED' });

    await server.restart();
    assert.equal(server.port, port);
    assert.notEqual(server.pid, firstPid);
    assert.equal(await server.fourLetterWord('ruok'), 'imok');
    const files = readdirSync(join(server.dataDir, 'version-2'));
    assert.ok(
      files.some((name) => name.startsWith('log.')),
      `transaction log in ${files.join(', ')}`,
    );
    // The session was persisted before the restart, so it can be re-attached after it.
    const { sessionId, password } = session.response;
    const again = await openRawSession(server.host, port, { sessionId, password, timeout: 60_000 });
    assert.equal(again.response.sessionId, sessionId);
    assert.ok(again.response.timeout > 0);
    await closeRawSession(again.connection);
  });

  test('close() ends the JVM and removes the data directory, once', async () => {
    const server = await ZooKeeperServer.start();
    const pid = server.pid;
    assert.ok(pid);
    assert.doesNotThrow(() => process.kill(pid, 0));
    const dataDir = server.dataDir;
    assert.ok(existsSync(join(dataDir, 'zoo.cfg')));

    await server.close();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(dataDir), false);
    await server.close(); // idempotent
    await assert.rejects(server.restart(), /closed/);
  });

  test('close() keeps a data directory it did not create', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'zk-kit-own-'));
    try {
      const server = await ZooKeeperServer.start({ dataDir });
      await server.close();
      assert.ok(readdirSync(join(dataDir, 'version-2')).length > 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('kill() crashes the server and restart() recovers it', async () => {
    await using server = await ZooKeeperServer.start();
    const pid = server.pid;
    assert.ok(pid);
    server.kill();
    await eventually(() => !isAlive(pid), 'the JVM dies', safety(30_000));
    await eventually(() => !server.running, 'the server notices', safety(30_000));
    await server.restart();
    assert.equal(await server.fourLetterWord('ruok'), 'imok');
  });

  test('expireSession() expires a live session for real', async () => {
    await using server = await ZooKeeperServer.start();
    const owner = await openRawSession(server.host, server.port, { timeout: 10_000 });
    const { sessionId, password } = owner.response;
    assert.ok(owner.response.timeout > 0);

    await server.expireSession({ sessionId, sessionPassword: password });
    // The server dropped the owner's connection, and the session can no longer be re-attached.
    assert.equal(await owner.connection.nextFrame(10_000), null);
    const reattach = await openRawSession(server.host, server.port, { sessionId, password });
    reattach.connection.close();
    assert.equal(reattach.response.timeout, 0);
    assert.equal(reattach.response.sessionId, 0n);

    // An already expired session is a no-op; the chroot and later hosts are ignored.
    await expireSession(`${server.connectString},127.0.0.1:1/some/chroot`, {
      sessionId,
      sessionPassword: password,
    });
  });

  test('start() fails with the server log when the JVM cannot bind its port', async () => {
    const blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const dataDir = await mkdtemp(join(tmpdir(), 'zk-kit-busy-'));
    try {
      await assert.rejects(ZooKeeperServer.start({ port, dataDir }), (error: Error) => {
        assert.match(error.message, /exited during startup/);
        assert.match(error.message, /Address already in use/);
        return true;
      });
    } finally {
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('missing installation', () => {
  async function startWithEnv(name: string, value: string): Promise<unknown> {
    const saved = process.env[name];
    process.env[name] = value;
    try {
      return await ZooKeeperServer.start().then(
        async (server) => {
          await server.close();
          assert.fail('start() should have failed');
        },
        (error: unknown) => error,
      );
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  }

  test('a missing jar gives an error naming the install command', async () => {
    const error = await startWithEnv('ZOOKEEPER_CLASSPATH', '/nonexistent.jar');
    assert.ok(error instanceof ZooKeeperNotInstalledError);
    assert.match(error.message, /\/nonexistent\.jar/);
    assert.match(error.message, /sudo apt-get update && sudo apt-get install -y zookeeper/);
  });

  test('a missing java gives an error naming the install command', async () => {
    const error = await startWithEnv('PATH', '/nonexistent-bin');
    assert.ok(error instanceof ZooKeeperNotInstalledError);
    assert.match(error.message, /Java is not installed/);
    assert.match(error.message, /apt-get install -y zookeeper/);
  });
});

describe('the JVM never outlives its parent', () => {
  test('the parent is SIGKILLed', async () => {
    const fixture = await runFixture('setInterval(() => {}, 1000);');
    assert.ok(isAlive(fixture.info.pid));
    fixture.kill('SIGKILL');
    assert.equal(await fixture.exit, 'SIGKILL');
    await eventually(() => !isAlive(fixture.info.pid), 'the JVM dies', safety(30_000));
    await rm(fixture.info.dataDir, { recursive: true, force: true });
  });

  test('the parent gets SIGTERM: it stops the JVM and exits with 143', async () => {
    const fixture = await runFixture('setInterval(() => {}, 1000);');
    fixture.kill('SIGTERM');
    assert.equal(await fixture.exit, 143);
    await eventually(() => !isAlive(fixture.info.pid), 'the JVM dies', safety(30_000));
    await rm(fixture.info.dataDir, { recursive: true, force: true });
  });

  test('the parent forgets close(): it still exits on its own and takes the JVM along', async () => {
    const fixture = await runFixture('');
    assert.equal(await fixture.exit, 0);
    await eventually(() => !isAlive(fixture.info.pid), 'the JVM dies', safety(30_000));
    await rm(fixture.info.dataDir, { recursive: true, force: true });
  });

  test('the parent closes the server: it exits on its own, JVM gone, data removed', async () => {
    const fixture = await runFixture('await server.close();');
    assert.equal(await fixture.exit, 0);
    assert.equal(isAlive(fixture.info.pid), false);
    assert.equal(existsSync(fixture.info.dataDir), false);
  });
});
