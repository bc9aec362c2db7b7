/**
 * The package as a user gets it. A copy of the repository without node_modules, dist or .git is
 * packed with `npm pack` (its `prepack` builds the package); the tarball's contents are checked;
 * then three fresh projects in a temporary directory get it — unpacked into
 * node_modules/zookeeper-coordination, with the dependencies its package.json declares linked
 * from this repository's node_modules (no network, no npm cache needed) — and each compiles with
 * this repository's TypeScript and runs against a real server:
 * - an ESM TypeScript project with the README's tsconfig plus `exactOptionalPropertyTypes` and
 *   full library checking, using `zookeeper-coordination/di` with inversify; every ```ts block of
 *   the README and every program of examples/ compile there too;
 * - a CommonJS TypeScript project (`"type": "commonjs"`, `module: nodenext`) that loads the
 *   package with `require` (Node ≥ 20.19 loads ES modules with require);
 * - a plain JavaScript project running the README's JavaScript quick start.
 * The last two have neither inversify nor reflect-metadata installed: the root entry needs neither.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import ts from 'typescript';
import { ZooKeeperServer } from '../../src/testing/index.js';
import { runToExit } from '../support/process.js';
import { blockModule, codeBlocks, describeDiagnostics, type Block } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

let server: ZooKeeperServer;
let work: string;
/** The packed package, unpacked: what `npm install <tarball>` puts in node_modules. */
let unpacked: string;

before(async () => {
  server = await ZooKeeperServer.start();
  work = mkdtempSync(join(tmpdir(), 'zookeeper-coordination-consumers-'));
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every file under `dir`, as paths relative to it with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

interface PackageJson {
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
}

const packedJson = (): PackageJson =>
  JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as PackageJson;

test(
  'npm pack of a clean copy builds the package and ships LICENSE, README, CHANGELOG and dist with types and source maps that carry their sources',
  { timeout: 600_000 },
  async () => {
    const checkout = join(work, 'checkout');
    cpSync(ROOT, checkout, {
      recursive: true,
      filter: (source) => !['node_modules', 'dist', '.git'].includes(relative(ROOT, source).split(sep)[0]!),
    });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    const packed = await runToExit('npm', ['pack', '--pack-destination', work], {
      cwd: checkout,
      limitMs: 540_000,
    });
    assert.equal(packed.code, 0, packed.output);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    const tarball = join(work, `zookeeper-coordination-${version}.tgz`);
    unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    const untar = await runToExit('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
    assert.equal(untar.code, 0, untar.output);

    const files = filesUnder(unpacked);
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'])
      assert.ok(files.includes(file), file);
    const outside = files.filter(
      (file) =>
        !['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'].includes(file) &&
        !file.startsWith('dist/src/'),
    );
    assert.deepEqual(outside, [], 'nothing but the built package (no tests, sources or configuration)');
    assert.match(readFileSync(join(unpacked, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);

    const modules = files.filter((file) => file.endsWith('.js'));
    assert.ok(modules.length > 50, 'the build is in the tarball');
    for (const module of modules) {
      const base = module.slice(0, -'.js'.length);
      assert.ok(files.includes(`${base}.d.ts`), `${base}.d.ts`);
      assert.ok(files.includes(`${module}.map`), `${module}.map`);
      const code = readFileSync(join(unpacked, module), 'utf8');
      assert.ok(
        code.endsWith(`//# sourceMappingURL=${module.split('/').at(-1)}.map`),
        `${module} names its map`,
      );
      const map = JSON.parse(readFileSync(join(unpacked, `${module}.map`), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      assert.equal(map.sources.length, 1, module);
      assert.equal(typeof map.sourcesContent?.[0], 'string', `${module}.map carries its source`);
      assert.ok(map.sourcesContent![0]!.length > 0, `${module}.map carries its source`);
    }

    const pkg = packedJson();
    for (const [entry, target] of Object.entries(pkg.exports)) {
      for (const file of typeof target === 'string' ? [target] : [target.types, target.default])
        assert.ok(files.includes(file.replace(/^\.\//, '')), `export ${entry}: ${file}`);
    }
    assert.deepEqual(Object.keys(pkg.exports), [
      '.',
      './di',
      './otel',
      './inspect',
      './testing',
      './package.json',
    ]);
    const bin = pkg.bin['zookeeper-coordination']!;
    assert.ok(files.includes(bin.replace(/^\.\//, '')), `bin: ${bin}`);
    assert.match(
      readFileSync(join(unpacked, bin), 'utf8'),
      /^#!\/usr\/bin\/env node\n/,
      'the bin runs with node',
    );
    for (const peer of ['inversify', 'reflect-metadata', '@opentelemetry/api']) {
      assert.equal(pkg.dependencies[peer], undefined, `${peer} is not a dependency`);
      assert.ok(pkg.peerDependencies[peer], `${peer} is a peer dependency`);
      assert.equal(pkg.peerDependenciesMeta[peer]?.optional, true, `${peer} is an optional peer`);
    }
  },
);

/**
 * A fresh project: package.json, the unpacked package in node_modules, the package's
 * dependencies (and `extra` ones, e.g. the DI peers and @types/node) linked from ours.
 */
function project(name: string, type: 'module' | 'commonjs', extra: readonly string[]): string {
  assert.ok(unpacked, 'the package was packed (the first test)');
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }, null, 2));
  cpSync(unpacked, join(dir, 'node_modules', 'zookeeper-coordination'), { recursive: true });
  for (const dependency of [...Object.keys(packedJson().dependencies), ...extra]) {
    mkdirSync(dirname(join(dir, 'node_modules', dependency)), { recursive: true }); // a scope's folder
    symlinkSync(join(ROOT, 'node_modules', dependency), join(dir, 'node_modules', dependency), 'dir');
  }
  return dir;
}

/** Write `files` (relative path → text) into `dir`. */
function write(dir: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

/** Compile `dir` by its tsconfig.json with this repository's TypeScript; the diagnostics, README lines for README blocks. */
function compileProject(dir: string, readmeFiles: ReadonlyMap<Block, string> = new Map()): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(dir, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  )!;
  const program = ts.createProgram(config.fileNames, config.options);
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  return describeDiagnostics(diagnostics, readmeFiles);
}

const node = (dir: string, main: string) =>
  runToExit(process.execPath, [join(dir, main), server.connectString], { cwd: dir, limitMs: 60_000 });

const ESM_MAIN = `import 'reflect-metadata';
import { Container, inject, injectable } from 'inversify';
import { Lock, ZooKeeperClient, errors } from 'zookeeper-coordination';
import { ZooKeeper, currentLock, withLock, zookeeperModule } from 'zookeeper-coordination/di';

const hosts = process.argv[2]!;

@injectable()
class Counter {
  constructor(@inject(ZooKeeper) private readonly zk: ZooKeeperClient) {}

  @withLock('/esm/counter-lock', { timeout: 10_000 })
  async increment(): Promise<number> {
    const { data, stat } = await this.zk.get('/esm/counter');
    if (!currentLock()) throw new Error('not under the lock');
    const next = Number(data.toString()) + 1;
    await this.zk.set('/esm/counter', String(next), { version: stat.version });
    return next;
  }
}

{
  await using zk = new ZooKeeperClient({ hosts });
  await zk.start();
  await zk.create('/esm/counter', '0', { makePath: true });
  const { data, stat } = await zk.get('/esm/counter');
  console.log(\`esm: /esm/counter is \${data} (version \${stat.version})\`);
  await zk.create('/esm/counter').catch((error: unknown) => {
    if (error instanceof errors.NodeExistsError) console.log('esm: NodeExistsError for a second create');
  });
  await using lock = new Lock(zk, '/esm/lock');
  if (await lock.acquire({ timeout: 5_000 })) console.log(\`esm: lock held, fencing token \${lock.fencingToken > 0n}\`);
}

const container = new Container();
container.load(zookeeperModule({ hosts }));
container.bind(Counter).toSelf();
const counter = await container.getAsync(Counter);
const results = await Promise.all([counter.increment(), counter.increment(), counter.increment()]);
console.log(\`esm: @withLock increments \${results.sort().join(',')}\`);
await container.unbindAllAsync();
`;

test(
  'ESM TypeScript project (strict, exactOptionalPropertyTypes, the README tsconfig): the package, every README block and examples/ compile; a client, a Lock and zookeeper-coordination/di run',
  { timeout: 120_000 },
  async () => {
    // The README's Observability block uses OpenTelemetry's API and trace SDK.
    const dir = project('esm-strict', 'module', [
      'inversify',
      'reflect-metadata',
      '@opentelemetry/api',
      '@opentelemetry/sdk-trace-base',
      '@types/node',
    ]);
    const setup = codeBlocks(README, 'json').find((block) => block.section === 'TypeScript setup');
    assert.ok(setup, 'the README shows a tsconfig under "TypeScript setup"');
    const { compilerOptions } = JSON.parse(setup.source) as { compilerOptions: Record<string, unknown> };
    const tsconfig = {
      compilerOptions: {
        ...compilerOptions,
        exactOptionalPropertyTypes: true,
        types: ['node'],
        outDir: 'out',
        rootDir: '.',
      },
      include: ['*.ts', 'readme', 'examples'],
    };
    const readmeFiles = new Map<Block, string>();
    for (const block of codeBlocks(README, 'ts')) {
      const file = join(dir, 'readme', `block-${block.line}.ts`);
      readmeFiles.set(block, file);
      write(dir, { [relative(dir, file)]: blockModule(block, server.connectString) });
    }
    cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    write(dir, { 'tsconfig.json': JSON.stringify(tsconfig, null, 2), 'main.ts': ESM_MAIN });

    assert.deepEqual(compileProject(dir, readmeFiles), [], 'compiles without a diagnostic');
    const { code, output } = await node(dir, 'out/main.js');
    assert.equal(code, 0, output);
    assert.match(output, /esm: \/esm\/counter is 0 \(version 0\)/);
    assert.match(output, /esm: NodeExistsError for a second create/);
    assert.match(output, /esm: lock held, fencing token true/);
    assert.match(output, /esm: @withLock increments 1,2,3\n/);
  },
);

const CJS_MAIN = `import zookeeper = require('zookeeper-coordination');
import type { Stat } from 'zookeeper-coordination';

async function main(hosts: string): Promise<void> {
  const zk = new zookeeper.ZooKeeperClient({ hosts });
  await zk.start();
  try {
    await zk.create('/cjs/node', 'from commonjs', { makePath: true });
    const { data, stat }: { data: Buffer; stat: Stat } = await zk.get('/cjs/node');
    const missing = await zk.get('/cjs/missing').catch((error: unknown) => error);
    const lock = new zookeeper.Lock(zk, '/cjs/lock');
    if (!(await lock.acquire({ timeout: 5_000 }))) throw new Error('the lock was not acquired');
    try {
      console.log(\`cjs: \${data} (version \${stat.version}) under a lock; missing node: \${missing instanceof zookeeper.errors.NoNodeError}\`);
    } finally {
      await lock.release();
    }
  } finally {
    await zk.close();
  }
  console.log(\`cjs: Reflect polyfill loaded: \${'getMetadata' in Reflect}\`);
}

main(process.argv[2]!).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

test(
  'CommonJS TypeScript project (module nodenext, "type": "commonjs") loads the package with require: types resolve, it runs without inversify installed',
  { timeout: 120_000 },
  async () => {
    const dir = project('cjs', 'commonjs', ['@types/node']);
    const tsconfig = {
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        lib: ['es2023'],
        strict: true,
        exactOptionalPropertyTypes: true,
        types: ['node'],
        outDir: 'out',
      },
      include: ['*.ts'],
    };
    write(dir, { 'tsconfig.json': JSON.stringify(tsconfig, null, 2), 'main.ts': CJS_MAIN });
    assert.deepEqual(compileProject(dir), [], 'compiles without a diagnostic');
    assert.match(readFileSync(join(dir, 'out', 'main.js'), 'utf8'), /require\("zookeeper-coordination"\)/);
    const { code, output } = await node(dir, 'out/main.js');
    assert.equal(code, 0, output);
    assert.match(output, /cjs: from commonjs \(version 0\) under a lock; missing node: true/);
    assert.match(output, /cjs: Reflect polyfill loaded: false/);
  },
);

test(
  "plain JavaScript project runs the README's JavaScript quick start (try/finally, close) without inversify installed, and exits by itself",
  { timeout: 120_000 },
  async () => {
    const dir = project('plain-js', 'module', []);
    const [quickStart] = codeBlocks(README, 'js').filter((block) => block.section === 'Quick start');
    assert.ok(quickStart, 'the README has a JavaScript quick start');
    write(dir, { 'main.js': blockModule(quickStart, server.connectString) });
    const { code, output } = await node(dir, 'main.js');
    assert.equal(code, 0, output);
    assert.match(output, /\/greeting is "hello" \(version 0\)/);
    assert.match(output, /holding \/locks\/report, fencing token \d+/);
  },
);
