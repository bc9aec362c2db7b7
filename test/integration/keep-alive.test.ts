/**
 * A started client keeps its process alive while it reconnects (like a live socket does), even
 * when the program only awaits promises that depend on it; and lets it exit after close().
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { FaultProxy, ZooKeeperServer, timing } from '../../src/testing/index.js';

let server: ZooKeeperServer;
let proxy: FaultProxy;

before(async () => {
  server = await ZooKeeperServer.start();
  proxy = await FaultProxy.start(server.connectString);
});

after(async () => {
  await proxy?.close();
  await server?.close();
});

test('a client between connections keeps the process alive until it reconnects', async () => {
  const client = new URL('../../src/index.js', import.meta.url).href;
  const script = `
    import { ZooKeeperClient } from ${JSON.stringify(client)};
    const zk = new ZooKeeperClient({ hosts: ${JSON.stringify(proxy.connectString)}, sessionTimeout: 8000 });
    await zk.start();
    zk.on('state', (state) => console.log('state', state));
    await zk.get('/zookeeper');
    console.log('ready');
    await new Promise((resolve) => zk.on('state', (state) => state === 'CONNECTED' && resolve()));
    await zk.close();
    console.log('done');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('ready') && !output.includes('state SUSPENDED') && proxy.connections > 0) {
      proxy.refuse(); // the client has no socket at all while it backs off and retries
      proxy.drop();
      setTimeout(() => proxy.accept(), 1500);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timing(30_000));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  assert.equal(code, 0, output);
  assert.match(output, /state SUSPENDED\nstate CONNECTED\n(state LOST\n)?done/);
});
