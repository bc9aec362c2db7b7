/**
 * The inspector's live web view in a real browser: Debian's `chromium` (installed by
 * scripts/setup.sh) driven by playwright-core, against a real ZooKeeper server. An election
 * (two of ours and a kazoo candidate) and a lock (ours holding, a kazoo and one of ours waiting)
 * are shown with their leader and queue order; the leader's client is closed and the open page —
 * never reloaded — follows to the new leader through the event stream. A screenshot is kept in
 * dist/test-artifacts/inspector.png. Also: the routes, the Host check, a clean close, and the
 * command's `--serve` and `--watch`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Counter, Election, Lock, Semaphore } from '../../src/index.js';
import { serveInspector, type Inspection } from '../../src/inspector/index.js';
import { ZooKeeperServer } from '../../src/testing/index.js';
import { connect, uniqueRoot } from '../support/client.js';
import { KazooPeer } from '../support/kazoo.js';
import { runToExit, startProcess } from '../support/process.js';
import { repositoryFile } from '../support/repository.js';
import { eventually, probe, safety, within } from '../support/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(dirname(repositoryFile('package.json')), 'dist', 'test-artifacts', 'inspector.png');

let server: ZooKeeperServer;
before(async () => {
  server = await ZooKeeperServer.start();
});
after(() => server?.close());

/** A headless chromium with a fresh profile, closed (and its profile removed) when the test ends. */
async function openBrowser(t: TestContext): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), 'inspector-web-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context.pages()[0] ?? (await context.newPage());
}

/** A kazoo process contending in an election or for a lock (test/interop/kazoo_lock.py). */
function kazooContender(t: TestContext, kind: 'election' | 'lock', path: string, identifier: string) {
  return KazooPeer.start(t, 'kazoo_lock.py', [kind, server.connectString, path, identifier], identifier);
}

/** Resolves when the signal aborts: a leader that leads until its leadership ends. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** An attribute of the first element matching `selector` now (rejects when there is none): no waiting. */
function attribute(page: Page, selector: string, name: string): Promise<string | null> {
  return page.$eval(selector, (element, n) => element.getAttribute(n), name);
}

/** The identifiers of one list of a recipe's section, in page order. */
function shown(page: Page, recipe: string, role: 'holders' | 'waiters' | 'history'): Promise<string[]> {
  return page.$$eval(`[data-recipe="${recipe}"] [data-role="${role}"] [data-identifier]`, (items) =>
    items.map((item) => item.getAttribute('data-identifier') ?? ''),
  );
}

/** GET `path` of `url` with an explicit Host header; the status and body. */
function get(url: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    // A fresh connection each (no keep-alive pool), so a closed server is refused, not a stale socket.
    const req = request(target, { agent: false, headers: host ? { host } : {} }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the page shows the leader and the lock queue in order, and follows the leader failover live', async (t) => {
  const root = uniqueRoot('inspector-web');
  const electionPath = `${root}/leader`;
  const lockPath = `${root}/ledger-lock`;
  const viewer = await connect(t, server);
  const view = await serveInspector(viewer, { path: root });
  t.after(() => view.close());

  // The election: alpha leads, beta and a kazoo process wait in that order.
  const [alpha, beta, locker] = await Promise.all([
    connect(t, server, { sessionTimeout: 4000 }),
    connect(t, server),
    connect(t, server),
  ]);
  const alphaElection = new Election(alpha, electionPath, { identifier: 'alpha' });
  const alphaLeads = probe(alphaElection.run(({ signal }) => aborted(signal)).catch(() => {}));
  await eventually(async () => (await alphaElection.contenders()).length === 1, 'alpha is a candidate');
  const betaElection = new Election(beta, electionPath, { identifier: 'beta' });
  void betaElection.run(({ signal }) => aborted(signal)).catch(() => {});
  await eventually(async () => (await alphaElection.contenders()).length === 2, 'beta is a candidate');
  const kazooCandidate = await kazooContender(t, 'election', electionPath, 'kazoo-candidate');
  kazooCandidate.send('run');
  await eventually(async () => (await alphaElection.contenders()).length === 3, 'kazoo is a candidate');

  // The lock: ours holds, then a kazoo waiter, then one of ours.
  const holder = new Lock(locker, lockPath, { identifier: 'holder' });
  assert.equal(await holder.acquire(), true);
  const kazooWaiter = await kazooContender(t, 'lock', lockPath, 'kazoo-waiter');
  kazooWaiter.send('acquire');
  await eventually(async () => (await holder.contenders()).length === 2, 'the kazoo waiter queues');
  const waiter = new Lock(locker, lockPath, { identifier: 'ts-waiter' });
  const waiting = probe(waiter.acquire());
  await eventually(async () => (await holder.contenders()).length === 3, 'our waiter queues');

  // A semaphore with two of its three leases taken, and a counter.
  const semaphorePath = `${root}/exports`;
  const leases = ['exporter-1', 'exporter-2'].map(
    (identifier) => new Semaphore(locker, semaphorePath, { identifier, maxLeases: 3 }),
  );
  for (const lease of leases) assert.equal(await lease.acquire(), true);
  await new Counter(locker, `${root}/ledger`).add(42);

  const page = await openBrowser(t);
  await page.goto(view.url);
  await eventually(
    async () =>
      (await attribute(page, `[data-recipe="${electionPath}"] [data-leader]`, 'data-leader')) === 'alpha',
    'the page shows alpha leading',
  );
  assert.deepEqual(
    await shown(page, electionPath, 'waiters'),
    ['beta', 'kazoo-candidate'],
    'candidates in order',
  );
  await eventually(
    async () => (await shown(page, lockPath, 'waiters')).length === 2,
    'the page shows both lock waiters',
  );
  assert.deepEqual(await shown(page, lockPath, 'holders'), ['holder']);
  assert.deepEqual(
    await shown(page, lockPath, 'waiters'),
    ['kazoo-waiter', 'ts-waiter'],
    'waiters in queue order',
  );
  const figure = (recipe: string, name: string) =>
    page.$eval(`[data-recipe="${recipe}"] [data-figure="${name}"]`, (element) => element.textContent);
  assert.deepEqual(await shown(page, semaphorePath, 'holders'), ['exporter-1', 'exporter-2']);
  assert.deepEqual([await figure(semaphorePath, 'leases'), await figure(semaphorePath, 'max')], ['2', '3']);
  assert.equal(await figure(`${root}/ledger`, 'value'), '42');
  assert.equal(await attribute(page, '#connection', 'data-state'), 'live');

  // Kill the leader: its client closes, its node goes, beta leads; the open page follows.
  const loadedAt = await attribute(page, '#view', 'data-at');
  await alpha.close();
  await within(alphaLeads.promise, 'alpha stops leading');
  await eventually(
    async () =>
      (await attribute(page, `[data-recipe="${electionPath}"] [data-leader]`, 'data-leader')) === 'beta',
    'the page shows beta leading after alpha is gone',
  );
  assert.notEqual(
    await attribute(page, '#view', 'data-at'),
    loadedAt,
    'updated in place by the event stream',
  );
  assert.deepEqual(await shown(page, electionPath, 'waiters'), ['kazoo-candidate']);
  assert.deepEqual(await shown(page, electionPath, 'history'), ['alpha', 'beta'], 'the leader history');

  // A lock hand-over shows too: the holder releases, the kazoo waiter holds, ours still waits.
  await holder.release();
  await kazooWaiter.next(/^ACQUIRED$/, safety(), 'kazoo acquires after our release');
  await eventually(
    async () => (await shown(page, lockPath, 'holders'))[0] === 'kazoo-waiter',
    'the page shows the kazoo waiter holding the lock',
  );
  assert.deepEqual(await shown(page, lockPath, 'waiters'), ['ts-waiter']);
  assert.equal(waiting.settled, false);

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);

  assert.match(await kazooWaiter.command('release', /^RELEASED /), /True/);
  assert.equal(await within(waiting.promise, 'our waiter acquires'), true);
  await waiter.release();
  for (const lease of leases) await lease.release();
});

test('routes: /inspection.json is the model, unknown routes 404, a foreign Host header is refused, close ends the event stream and the watch', async (t) => {
  const root = uniqueRoot('inspector-routes');
  const viewer = await connect(t, server);
  await viewer.create(`${root}/lock`, null, { makePath: true });
  const lock = new Lock(viewer, `${root}/lock`, { identifier: 'only' });
  await lock.acquire();
  const watchesBefore = viewer.watchCount;
  const view = await serveInspector(viewer, { path: root });
  t.after(() => view.close());
  assert.match(view.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  const model = await eventually(async () => {
    const { status, body } = await get(view.url, '/inspection.json');
    return status === 200 ? (JSON.parse(body) as Inspection) : undefined;
  }, 'the first inspection is served');
  assert.equal(model.path, root);
  assert.deepEqual(
    model.recipes.map((recipe) => [recipe.kind, recipe.path, recipe.holders.map((h) => h.identifier)]),
    [['lock', `${root}/lock`, ['only']]],
  );
  assert.equal((await get(view.url, '/nothing')).status, 404);
  assert.equal((await get(view.url, '/', 'evil.example:80')).status, 403, 'DNS rebinding guard');
  const page = await get(view.url, '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<main id="view"[^>]*><p class="summary"/, 'the first paint has the inspection');
  assert.doesNotMatch(page.body, /<script src|<link /, 'self-contained');

  // An open event stream ends when the server closes; the watch goes with it.
  const stream = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
    request(new URL('/events', view.url), { agent: false }, resolve).on('error', reject).end(),
  );
  let received = '';
  stream.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const ended = new Promise<void>((resolve) => stream.on('close', () => resolve()));
  await eventually(() => received.includes('data: {'), 'the stream sends the current view');
  assert.ok(viewer.watchCount > watchesBefore, 'the live inspection watches the path');
  await view.close();
  await within(ended, 'the event stream ends on close');
  assert.equal(viewer.watchCount, watchesBefore, 'the watch is removed');
  await assert.rejects(get(view.url, '/'), /ECONNREFUSED/);
  await lock.release();
});

test('serveInspector: bad options are typed errors, an aborted signal closes it', async (t) => {
  const viewer = await connect(t, server);
  await assert.rejects(serveInspector(viewer, { path: 'no-slash' }), { code: 'ZK_INVALID_PATH' });
  await assert.rejects(serveInspector(viewer, { port: 70_000 }), { code: 'ZK_INVALID_ARGUMENT' });
  await assert.rejects(serveInspector(viewer, { debounce: -1 }), { code: 'ZK_INVALID_ARGUMENT' });
  const stop = new AbortController();
  const view = await serveInspector(viewer, { path: uniqueRoot('inspector-abort'), signal: stop.signal });
  assert.equal((await get(view.url, '/')).status, 200);
  stop.abort();
  await eventually(
    () =>
      get(view.url, '/').then(
        () => false,
        () => true,
      ),
    'the server closes on abort',
  );
  await view.close();
});

test('the command: --serve prints the URL and serves until SIGTERM; --watch prints again after a change; misused --serve options exit 2', async (t) => {
  const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const zk = await connect(t, server);
  const root = uniqueRoot('inspector-cli');
  await zk.create(root, null);

  const serving = startProcess(process.execPath, [
    bin,
    'inspect',
    '--hosts',
    server.connectString,
    root,
    '--serve',
  ]);
  t.after(() => serving.child.kill('SIGKILL'));
  const url = await eventually(
    () => /inspector web view of \S+: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(serving.output())?.[1],
    'the command prints its URL',
  );
  const lock = new Lock(zk, `${root}/locks/report`, { identifier: 'reporter' });
  await lock.acquire();
  await eventually(async () => {
    const { status, body } = await get(url, '/inspection.json');
    return status === 200 && (JSON.parse(body) as Inspection).recipes.length === 1;
  }, 'the served model shows the lock');
  serving.child.kill('SIGTERM');
  assert.equal((await serving.ended()).code, 0, serving.output());
  await lock.release();

  const watching = startProcess(process.execPath, [
    bin,
    'inspect',
    '--hosts',
    server.connectString,
    root,
    '--watch',
    '--json',
  ]);
  t.after(() => watching.child.kill('SIGKILL'));
  const printed = () =>
    watching
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Inspection);
  await eventually(() => printed().length >= 1, 'the first print');
  await lock.acquire();
  await eventually(
    () => printed().at(-1)?.recipes[0]?.holders[0]?.identifier === 'reporter',
    '--watch prints the lock once it is taken',
  );
  watching.child.kill('SIGTERM');
  assert.equal((await watching.ended()).code, 0, watching.output());
  await lock.release();

  for (const misuse of [
    ['--serve', '--watch'],
    ['--serve', '--json'],
    ['--port', '80'],
    ['--serve', '--port', 'x'],
  ]) {
    const run = await runToExit(process.execPath, [
      bin,
      'inspect',
      '--hosts',
      server.connectString,
      ...misuse,
    ]);
    assert.equal(run.code, 2, `${misuse.join(' ')}: ${run.output}`);
  }
});
