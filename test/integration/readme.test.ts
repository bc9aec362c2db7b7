/**
 * The README is tested: every ```ts block is type-checked as a user's module (strict,
 * `exactOptionalPropertyTypes`, importing the package by its name) and every block not marked
 * `<!-- compile-only -->` (on the line before it) runs against a real server from the test kit.
 *
 * Each block is written to dist/readme/ — inside the package, so `zookeeper-coordination` resolves
 * to the built dist/src through the package's own `exports` (Node's package self-reference). The
 * documented `hosts: '…'` string is replaced with the test server's connect string. Functions the
 * examples name but a user writes (`startCron`, `processNext`, …) are `declare`d for the compiler
 * and defined as small globals that print what they do, loaded with `node --import`.
 *
 * The programs of examples/ import the package by its name too; they are type-checked here under
 * the same options (examples.test.ts runs them).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';
import { ZooKeeperClient } from '../../src/index.js';
import { serverForFile } from '../support/client.js';
import { eventually, safety, within } from '../support/wait.js';
import { blockModule, codeBlocks, describeDiagnostics, writeStandIns, type Block } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(ROOT, 'dist', 'readme');

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules', '@types')],
  strict: true,
  exactOptionalPropertyTypes: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
};

/** Write each block as dist/readme/block-<line>.ts, compile them together; fail on any diagnostic. */
function compile(blocks: readonly Block[], hosts: string): Map<Block, string> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const files = new Map<Block, string>();
  for (const block of blocks) {
    const file = join(OUT, `block-${block.line}.ts`);
    writeFileSync(file, blockModule(block, hosts));
    files.set(block, file);
  }
  const program = ts.createProgram([...files.values()], COMPILER_OPTIONS);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  assert.deepEqual(
    describeDiagnostics(diagnostics, files),
    [],
    'README blocks compile under strict TypeScript',
  );
  writeStandIns(join(OUT, 'stand-ins.js'));
  return files;
}

/** A running block: its output so far, SIGTERM, and its exit. */
function run(file: string) {
  const child = spawn(
    process.execPath,
    ['--import', join(OUT, 'stand-ins.js'), file.replace(/\.ts$/, '.js')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => output,
    shows: (text: string) =>
      eventually(() => output.includes(text), `output shows "${text}"`, 4 * safety()).catch(
        (error: unknown) => {
          child.kill('SIGKILL');
          throw new Error(`${(error as Error).message}; output:\n${output}`);
        },
      ),
    stop: () => child.kill('SIGTERM'),
    exited: () =>
      within(exited, 'the program exits by itself', 4 * safety()).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      }),
  };
}

let files: Map<Block, string>;
const blocks = codeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'ts');
const blockIn = (section: string) => {
  const block = blocks.find((b) => b.section === section);
  assert.ok(block, `a ts block under "${section}"`);
  return files.get(block)!;
};

const server = await serverForFile();

test('every ts block of the README compiles as a user module (strict, exactOptionalPropertyTypes, imported by package name)', () => {
  assert.ok(blocks.length >= 3, 'the README has its examples');
  files = compile(blocks, server.connectString);
  const runnable = blocks.filter((b) => !b.compileOnly).map((b) => b.section);
  assert.deepEqual(
    runnable,
    [
      'Quick start',
      'The fleet, with dependency injection',
      'Service discovery',
      'The client',
      'Observability',
      'Who holds what: the inspector',
      'Inspector web view',
    ],
    'every runnable block has a test below',
  );
});

test('README "Quick start" runs: create, get, a Lock, and it exits by itself (await using releases and closes)', async () => {
  const program = run(blockIn('Quick start'));
  await program.shows('/greeting is "hello" (version 0)');
  await program.shows('holding /locks/report, fencing token ');
  assert.equal(await program.exited(), 0, program.output());
  const zk = new ZooKeeperClient({ hosts: server.connectString });
  try {
    await zk.start();
    assert.deepEqual(await zk.getChildren('/locks/report'), [], 'the lock node went when the scope ended');
  } finally {
    await zk.close();
  }
});

test('README "The client" runs: watch, set, transaction, a persistent watch until SIGTERM, then it exits', async () => {
  const program = run(blockIn('The client'));
  await program.shows('v1 → v2; joined as /app/members/m-0000000000');
  assert.match(program.output(), /CONNECTED\n(.|\n)*NodeDataChanged \/app\/config/);
  // The persistent watch is set up after the transaction: create nodes until one is reported.
  const zk = new ZooKeeperClient({ hosts: server.connectString });
  try {
    await zk.start();
    let n = 0;
    await eventually(
      async () => {
        await zk.create(`/app/probe-${n++}`);
        return program.output().includes('NodeCreated /app/probe-');
      },
      'the persistent watch reports a new node',
      safety(),
    );
    program.stop();
    assert.equal(await program.exited(), 0, program.output());
    assert.equal(await zk.exists('/app/members/m-0000000000'), null, 'the ephemeral went with the session');
    assert.equal((await zk.get('/app/config')).data.toString(), 'v3', 'the transaction applied');
  } finally {
    await zk.close();
  }
});

test('README "The fleet, with dependency injection" runs: @leaderOnly on the leader, the fleet works until SIGTERM, then everything stops and it exits', async () => {
  const program = run(blockIn('The fleet, with dependency injection'));
  await program.shows('cron started'); // after planTheDay(), a @leaderOnly method, resolved
  for (const job of ['billing', 'reports', 'mail']) await program.shows(`processing ${job}`);
  program.stop();
  assert.equal(await program.exited(), 0, program.output());
  assert.match(program.output(), /cron stopped/);
  assert.doesNotMatch(program.output(), /Error/);
});

test('README "Observability" runs: the channels report state and operations, the adapter makes spans, and it exits', async () => {
  const program = run(blockIn('Observability'));
  await program.shows('span get: -101');
  assert.equal(await program.exited(), 0, program.output());
  const output = program.output();
  assert.match(output, /session LOST → CONNECTED/);
  assert.match(output, /exists \/zookeeper → ok/);
  assert.match(output, /get \/no\/such\/node → -101/);
  assert.match(output, /span exists: ok/);
  assert.match(output, /session CONNECTED → LOST/, 'closed by await using');
});

test('README "Service discovery" runs: it registers, the provider chooses this instance, and it exits', async () => {
  const program = run(blockIn('Service discovery'));
  assert.equal(await program.exited(), 0, program.output());
  assert.match(program.output(), /billing → 127\.0\.0\.1:8080, this process: true/);
  assert.match(program.output(), /services: billing/);
});

test('README "Who holds what: the inspector" runs: the lock it holds is inspected with its holder, and it exits', async () => {
  const program = run(blockIn('Who holds what: the inspector'));
  await program.shows('lock worker-7 0x');
  assert.equal(await program.exited(), 0, program.output());
  assert.match(program.output(), /lock {2}\/readme\/inspect\/locks\/orders {2}\[kazoo\]/);
  assert.match(program.output(), /holder +worker-7 +0x[0-9a-f]+ +127\.0\.0\.1:\d+/);
});

test('README "Inspector web view" runs: it serves the page and the model until SIGTERM, then it exits', async () => {
  const program = run(blockIn('Inspector web view'));
  await program.shows('inspector: http://127.0.0.1:');
  const url = /inspector: (\S+)/.exec(program.output())![1]!;
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>ZooKeeper inspector/);
  const model = await eventually(async () => {
    const response = await fetch(new URL('inspection.json', url));
    return response.ok ? ((await response.json()) as { path: string }) : undefined;
  }, 'the first inspection is served');
  assert.equal(model.path, '/');
  program.stop();
  assert.equal(await program.exited(), 0, program.output());
});

test('every program in examples/ compiles as a user module (strict, exactOptionalPropertyTypes, imported by package name)', () => {
  const examples = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(ROOT, 'examples', file));
  assert.ok(examples.length >= 5, 'the examples are there');
  const program = ts.createProgram(examples, { ...COMPILER_OPTIONS, noEmit: true });
  assert.deepEqual(
    describeDiagnostics(ts.getPreEmitDiagnostics(program), new Map()),
    [],
    'examples compile under strict TypeScript',
  );
});
