/** Every program in examples/ runs to completion against a real server started by the test kit. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

function runExample(name: string): Promise<{ code: number | null; output: string }> {
  const script = fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`example ${name} did not finish within 60 s:\n${output}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
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
