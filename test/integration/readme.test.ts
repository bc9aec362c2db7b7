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
import { after, before, test } from 'node:test';
import ts from 'typescript';
import { ZooKeeperClient } from '../../src/index.js';
import { ZooKeeperServer } from '../../src/testing/index.js';
import { eventually, safety, within } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(ROOT, 'dist', 'readme');

interface Block {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  /** The `## …` / `### …` heading the block sits under. */
  section: string;
  source: string;
  compileOnly: boolean;
}

/** The ```ts blocks of a markdown text. */
export function tsBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{2,3} (.*)/.exec(lines[i]!);
    if (heading) section = heading[1]!;
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `README.md:${i + 1}: unterminated code block`);
    const compileOnly = lines[i - 1]?.trim() === '<!-- compile-only -->';
    blocks.push({ line: i + 1, section, source: lines.slice(i + 1, end).join('\n'), compileOnly });
    i = end;
  }
  return blocks;
}

/** The user's own functions the examples name: a declaration for the compiler, a global for the run. */
const STAND_INS: Record<string, { declaration: string; implementation: string }> = {
  startCron: {
    declaration: 'declare function startCron(signal: AbortSignal): void;',
    implementation: `(signal) => { console.log('cron started'); signal.addEventListener('abort', () => console.log('cron signal aborted')); }`,
  },
  stopCron: {
    declaration: 'declare function stopCron(): void;',
    implementation: `() => console.log('cron stopped')`,
  },
  processNext: {
    declaration: 'declare function processNext(job: string, signal: AbortSignal): Promise<void>;',
    implementation: `(job, signal) => { console.log('processing ' + job); return new Promise((resolve) => { const t = setTimeout(resolve, 200); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); }); }`,
  },
  reloadEverything: {
    declaration: 'declare function reloadEverything(): Promise<void>;',
    implementation: `async () => console.log('reload')`,
  },
};

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

/** A diagnostic as `file:line: message`. */
function describeDiagnostic(d: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (!d.file || d.start === undefined) return message;
  return `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ${message}`;
}

/** Write each block as dist/readme/block-<line>.ts, compile them together; fail on any diagnostic. */
function compile(blocks: readonly Block[], hosts: string): Map<Block, string> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const files = new Map<Block, string>();
  for (const block of blocks) {
    const used = Object.keys(STAND_INS).filter((name) => new RegExp(`\\b${name}\\(`).test(block.source));
    const header = used.map((name) => STAND_INS[name]!.declaration).join(' ');
    // One header line, so a diagnostic's line maps back to the README (the block starts one line after the fence).
    const source = `${header}\n${block.source.replace(/hosts: '[^']*'/, `hosts: ${JSON.stringify(hosts)}`)}\nexport {};\n`;
    const file = join(OUT, `block-${block.line}.ts`);
    writeFileSync(file, source);
    files.set(block, file);
  }
  const program = ts.createProgram([...files.values()], COMPILER_OPTIONS);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics].map((d) => {
    const block = [...files].find(([, file]) => file === d.file?.fileName)?.[0];
    if (!block || d.start === undefined) return describeDiagnostic(d);
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start);
    return `README.md:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  assert.deepEqual(diagnostics, [], 'README blocks compile under strict TypeScript');
  const standIns = Object.entries(STAND_INS).map(
    ([name, { implementation }]) => `globalThis.${name} = ${implementation};`,
  );
  writeFileSync(join(OUT, 'stand-ins.js'), `${standIns.join('\n')}\n`);
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

let server: ZooKeeperServer;
let files: Map<Block, string>;
const blocks = tsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const blockIn = (section: string) => {
  const block = blocks.find((b) => b.section === section);
  assert.ok(block, `a ts block under "${section}"`);
  return files.get(block)!;
};

before(async () => {
  server = await ZooKeeperServer.start();
});

after(async () => {
  await server?.close();
});

test('every ts block of the README compiles as a user module (strict, exactOptionalPropertyTypes, imported by package name)', () => {
  assert.ok(blocks.length >= 3, 'the README has its examples');
  files = compile(blocks, server.connectString);
  const runnable = blocks.filter((b) => !b.compileOnly).map((b) => b.section);
  assert.deepEqual(
    runnable,
    ['The fleet, with dependency injection', 'The client'],
    'every runnable block has a test below',
  );
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

test('every program in examples/ compiles as a user module (strict, exactOptionalPropertyTypes, imported by package name)', () => {
  const examples = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(ROOT, 'examples', file));
  assert.ok(examples.length >= 5, 'the examples are there');
  const program = ts.createProgram(examples, { ...COMPILER_OPTIONS, noEmit: true });
  assert.deepEqual(
    ts.getPreEmitDiagnostics(program).map(describeDiagnostic),
    [],
    'examples compile under strict TypeScript',
  );
});
