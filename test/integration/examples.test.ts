/** Every program in examples/ runs to completion against a real server started by the test kit. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runToExit } from '../support/process.js';

function runExample(name: string, limitMs = 60_000): Promise<{ code: number | null; output: string }> {
  const script = fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
  return runToExit(process.execPath, [script], { limitMs });
}

test('examples/quick-start connects, watches, runs a transaction, cleans up and exits', async () => {
  const { code, output } = await runExample('quick-start');
  assert.equal(code, 0, output);
  assert.match(output, /\[state\] CONNECTED/);
  assert.match(output, /watch fired: NodeDataChanged on \/quick-start-\d+\/config ✓/);
  assert.match(output, /joined as \/quick-start-\d+\/members\/m-0000000000/);
  assert.match(output, /transaction applied: check, set, create/);
  assert.match(output, /children of \/quick-start-\d+: audit, config, members/);
  assert.match(output, /cleaned up\n\[state\] LOST/);
});

test('examples/with-lock: 20 concurrent deposits from two containers all count', async () => {
  const { code, output } = await runExample('with-lock');
  assert.equal(code, 0, output);
  assert.match(output, /balance after 20 concurrent deposits of 5: 100\n/);
});

test('examples/election: leadership passes from one injected Election to the next', async () => {
  const { code, output } = await runExample('election');
  assert.equal(code, 0, output);
  const order = /leaders in order: (\w+) → (\w+) → (\w+)/.exec(output);
  assert.ok(order, output);
  assert.equal(new Set(order.slice(1)).size, 3, 'three different leaders');
});

test('examples/fleet: six queues split over three workers, re-balanced over two', async () => {
  const { code, output } = await runExample('fleet');
  assert.equal(code, 0, output);
  const [three, two] = [/3 workers: (.*)/.exec(output)?.[1], /w1 left: (.*)/.exec(output)?.[1]];
  assert.ok(three && two, output);
  assert.equal(three.split(' ').length, 6);
  assert.ok(!two.includes('→w1'), 'the leaver owns nothing');
  assert.equal(new Set(two.split(' ').map((pair) => pair.split('→')[1])).size, 2);
});

test('the demo: fleet on a 3-member ensemble survives losing the ZooKeeper leader and a worker, invariants hold', async () => {
  const { code, output } = await runExample('demo/demo', 180_000);
  assert.equal(code, 0, output);
  assert.match(output, /live inspector web view: http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(output, /✓ steady: worker-\d leads, 12 jobs split over 4 workers/);
  assert.match(output, /✓ ensemble failover: the fleet kept its sessions/);
  assert.match(output, /✓ worker-\d took over leadership and the jobs were re-balanced/);
  assert.match(output, /every value written once, in fencing-token order: yes/);
  assert.match(output, /any job owned by two workers at once: no/);
  // The web view's leader history tells the same story: the killed leader, then its successor.
  const killed = /killing (worker-\d) \(the scheduler leader\)/.exec(output)?.[1];
  const successor = /✓ (worker-\d) took over leadership/.exec(output)?.[1];
  assert.match(output, new RegExp(`the inspector saw: .*${killed} → ${successor}\n`));
  // Its table names the new leader on the election path.
  assert.match(output, new RegExp(`election +/demo/leader[^\n]*\n[^\n]*\n +leader +${successor} +0x`));
});
