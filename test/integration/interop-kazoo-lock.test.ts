/**
 * Lock / ReadLock / WriteLock / Election interop with real kazoo 2.8 processes (Debian's
 * `/usr/bin/python3`): each peer is `test/interop/kazoo_lock.py`, a long-running process driven
 * by stdin commands and answering stdout lines (ACQUIRED, RELEASED, LEADER, …). Covers: mutual
 * exclusion in both orders of arrival, identical `contenders()`, readers and writers across
 * languages (and kazoo 2.8's #649 reader stall), one leader across an Election of each, a real
 * session expiry of the kazoo holder, and kazoo's own ordering logic on fixed child lists.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Election, Lock, ReadLock, WriteLock } from '../../src/index.js';
import {
  blockersAhead,
  contenderPattern,
  LOCK_NAME,
  READ_LOCK_NAME,
  sequenceOf,
  sortedContenders,
} from '../../src/recipes/lock/contenders.js';
import { expireSession } from '../../src/testing/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { interopScript, KazooPeer, runPythonJson } from '../support/kazoo.js';
import { Deferred, eventually, grace, probe, safety, within } from '../support/wait.js';

const SCRIPT = interopScript('kazoo_lock.py');

/** kazoo_lock.py: one lock, read lock, write lock or election of kazoo's, with its session. */
class LockPeer extends KazooPeer {
  static startPeer(
    t: TestContext,
    kind: 'lock' | 'rlock' | 'wlock' | 'election',
    hosts: string,
    path: string,
    identifier: string,
  ): Promise<LockPeer> {
    return LockPeer.start(t, 'kazoo_lock.py', [kind, hosts, path, identifier], identifier);
  }

  async contenders(): Promise<string[]> {
    const line = await this.command('contenders', /^CONTENDERS /);
    return JSON.parse(line.slice('CONTENDERS '.length)) as string[];
  }

  async status(): Promise<{ is_acquired: boolean; state: string }> {
    const line = await this.command('status', /^STATUS /);
    return JSON.parse(line.slice('STATUS '.length)) as { is_acquired: boolean; state: string };
  }
}

const server = await serverForFile();

async function tsContendersReach(lock: Lock | Election, count: number): Promise<string[]> {
  return eventually(async () => {
    const list = await lock.contenders();
    return list.length === count ? list : undefined;
  }, `${count} contenders`);
}

describe('interop with kazoo 2.8: Lock', () => {
  test('a kazoo holder blocks our Lock until it releases', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop');
    const py = await LockPeer.startPeer(t, 'lock', server.connectString, path, 'py');
    assert.equal(await py.command('try', /^(NOT_)?ACQUIRED$/), 'ACQUIRED');
    const lock = new Lock(zk, path, { identifier: 'ts' });
    assert.equal(await lock.acquire({ blocking: false }), false);
    const waiting = probe(lock.acquire());
    assert.deepEqual(await tsContendersReach(lock, 2), ['py', 'ts']);
    assert.deepEqual(await py.contenders(), ['py', 'ts']);
    await grace();
    assert.equal(waiting.settled, false);
    assert.match(await py.command('release', /^RELEASED /), /True/);
    assert.equal(await within(waiting.promise, 'our Lock acquires after kazoo released'), true);
    assert.equal(await py.command('try', /^(NOT_)?ACQUIRED$/), 'NOT_ACQUIRED', 'kazoo is blocked by us now');
    assert.deepEqual(await py.contenders(), ['ts']);
    await lock.release();
  });

  test('our holder blocks a kazoo Lock until we release', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop');
    const lock = new Lock(zk, path, { identifier: 'ts' });
    assert.equal(await lock.acquire(), true);
    const py = await LockPeer.startPeer(t, 'lock', server.connectString, path, 'py');
    py.send('acquire');
    assert.deepEqual(await tsContendersReach(lock, 2), ['ts', 'py']);
    await grace();
    assert.equal(py.saw(/^ACQUIRED$/), false, 'kazoo waits');
    await lock.release();
    await py.next(/^ACQUIRED$/, safety(), 'kazoo acquires after our release');
    assert.equal(await lock.acquire({ blocking: false }), false, 'we are blocked by kazoo now');
    assert.match(await py.command('release', /^RELEASED /), /True/);
    assert.equal(await lock.acquire({ blocking: false }), true);
    await lock.release();
  });

  test('mixed TS and kazoo contenders: our contenders() equals kazoo contenders(); they acquire in that order', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop');
    const ts1 = new Lock(zk, path, { identifier: 'ts-1' });
    assert.equal(await ts1.acquire(), true);
    const py1 = await LockPeer.startPeer(t, 'lock', server.connectString, path, 'py-1');
    py1.send('acquire');
    await tsContendersReach(ts1, 2);
    const ts2 = new Lock(zk, path, { identifier: 'ts-2' });
    const ts2Got = probe(ts2.acquire());
    await tsContendersReach(ts1, 3);
    const py2 = await LockPeer.startPeer(t, 'lock', server.connectString, path, 'py-2');
    py2.send('acquire');
    const ours = await tsContendersReach(ts1, 4);
    assert.deepEqual(ours, ['ts-1', 'py-1', 'ts-2', 'py-2']);
    assert.deepEqual(await py1.contenders(), ours);
    assert.deepEqual(await py2.contenders(), ours);
    // Hand-over in that order, never two holders.
    await ts1.release();
    await py1.next(/^ACQUIRED$/);
    await grace();
    assert.equal(ts2Got.settled, false);
    assert.equal(py2.saw(/^ACQUIRED$/), false);
    await py1.command('release', /^RELEASED /);
    assert.equal(await within(ts2Got.promise, 'ts-2 acquires'), true);
    await grace();
    assert.equal(py2.saw(/^ACQUIRED$/), false);
    assert.deepEqual(await py2.contenders(), ['ts-2', 'py-2']);
    await ts2.release();
    await py2.next(/^ACQUIRED$/);
    await py2.command('release', /^RELEASED /);
    assert.deepEqual(await ts1.contenders(), []);
  });

  test("a real expiry of the kazoo holder's session (its client_id) lets our waiter acquire at once", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop');
    const py = await LockPeer.startPeer(t, 'lock', server.connectString, path, 'py');
    assert.equal(await py.command('try', /^(NOT_)?ACQUIRED$/), 'ACQUIRED');
    const lock = new Lock(zk, path, { identifier: 'ts' });
    const waiting = probe(lock.acquire());
    await tsContendersReach(lock, 2);
    await expireSession(server.connectString, {
      sessionId: py.session.sessionId,
      sessionPassword: py.session.sessionPassword,
    });
    assert.equal(await within(waiting.promise, 'our waiter acquires once the kazoo session is gone'), true);
    assert.deepEqual(await lock.contenders(), ['ts']);
    await py.next(/^STATE LOST$/, safety(), 'kazoo sees LOST');
    await py.next(/^STATE CONNECTED$/, safety(20_000), 'kazoo reconnects with a new session');
    // kazoo 2.8 keeps is_acquired True after LOST (kazoo/recipe/lock.py).
    assert.equal((await py.status()).is_acquired, true);
    assert.equal(
      await py.command('try', /^(NOT_)?ACQUIRED$|^ERROR/),
      'NOT_ACQUIRED',
      'kazoo believes it already holds',
    );
    await lock.release();
  });
});

describe('interop with kazoo 2.8: ReadLock / WriteLock', () => {
  test('readers share across languages; writers exclude readers and writers both ways', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop-rw');
    const pyR = await LockPeer.startPeer(t, 'rlock', server.connectString, path, 'py-reader');
    const pyW = await LockPeer.startPeer(t, 'wlock', server.connectString, path, 'py-writer');

    // Our reader holds: a kazoo reader shares it, a kazoo writer is refused.
    const tsR = new ReadLock(zk, path, { identifier: 'ts-reader' });
    assert.equal(await tsR.acquire(), true);
    assert.equal(await pyR.command('try', /^(NOT_)?ACQUIRED$/), 'ACQUIRED');
    assert.equal(await pyW.command('try', /^(NOT_)?ACQUIRED$/), 'NOT_ACQUIRED');
    const tsW = new WriteLock(zk, path, { identifier: 'ts-writer' });
    assert.equal(
      await tsW.acquire({ blocking: false }),
      false,
      'our writer is blocked by the kazoo reader too',
    );
    assert.deepEqual(await tsR.contenders(), ['ts-reader', 'py-reader']);
    assert.deepEqual(await pyR.contenders(), ['ts-reader', 'py-reader']);
    await tsR.release();
    assert.equal(await tsW.acquire({ blocking: false }), false, 'still blocked by the kazoo reader');
    const tsWGot = probe(tsW.acquire());
    await tsContendersReach(tsW, 2);
    await pyR.command('release', /^RELEASED /);
    assert.equal(await within(tsWGot.promise, 'our writer acquires after the kazoo reader left'), true);
    assert.equal(
      await pyR.command('try', /^(NOT_)?ACQUIRED$/),
      'NOT_ACQUIRED',
      'kazoo reader blocked by our writer',
    );
    assert.equal(
      await pyW.command('try', /^(NOT_)?ACQUIRED$/),
      'NOT_ACQUIRED',
      'kazoo writer blocked by our writer',
    );
    await tsW.release();

    // The kazoo writer holds: our reader and writer are refused; our reader gets in after it.
    assert.equal(await pyW.command('try', /^(NOT_)?ACQUIRED$/), 'ACQUIRED');
    assert.equal(await tsR.acquire({ blocking: false }), false);
    assert.equal(await tsW.acquire({ blocking: false }), false);
    const tsRGot = probe(tsR.acquire());
    assert.deepEqual(await tsContendersReach(tsR, 2), ['py-writer', 'ts-reader']);
    assert.deepEqual(await pyW.contenders(), ['py-writer', 'ts-reader']);
    await grace();
    assert.equal(tsRGot.settled, false);
    await pyW.command('release', /^RELEASED /);
    assert.equal(await within(tsRGot.promise, 'our reader acquires after the kazoo writer'), true);
    await tsR.release();
  });

  test('kazoo 2.8 reader (#649): queued between two of our writers it stalls until its timeout; our writers stay exclusive', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop-rw');
    const w1 = new WriteLock(zk, path, { identifier: 'w1' });
    assert.equal(await w1.acquire(), true);
    const pyR = await LockPeer.startPeer(t, 'rlock', server.connectString, path, 'py-reader');
    pyR.send('acquire 2');
    await tsContendersReach(w1, 2);
    const w2 = new WriteLock(zk, path, { identifier: 'w2' });
    const w2Got = probe(w2.acquire());
    assert.deepEqual(await tsContendersReach(w1, 3), ['w1', 'py-reader', 'w2']);
    await w1.release();
    // 2.8's reader now watches the newest writer (w2), which waits for the reader: a stall that
    // only the reader's own timeout ends (LockTimeout). Then w2 acquires.
    const outcome = await pyR.next(
      /^(ACQUIRED|TIMEOUT|NOT_ACQUIRED)$/,
      safety(15_000),
      'the kazoo reader to finish',
    );
    assert.equal(outcome, 'TIMEOUT');
    assert.equal(await within(w2Got.promise, 'w2 acquires after the kazoo reader gave up'), true);
    assert.deepEqual(await w2.contenders(), ['w2']);
    await w2.release();
  });
});

describe('interop with kazoo 2.8: Election', () => {
  test('a kazoo Election and ours on one path: exactly one leader at any time', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('interop-election');
    const ours = new Election(zk, path, { identifier: 'ts' });
    const oursLeads = new Deferred();
    const stepDown = new Deferred();
    const firstTerm = ours.run(async () => {
      oursLeads.resolve();
      await stepDown.promise;
    });
    await within(oursLeads.promise, 'we lead');
    const py = await LockPeer.startPeer(t, 'election', server.connectString, path, 'py');
    py.send('run');
    assert.deepEqual(await tsContendersReach(ours, 2), ['ts', 'py']);
    assert.deepEqual(await py.contenders(), ['ts', 'py']);
    await grace();
    assert.equal(py.saw(/^LEADER$/), false, 'kazoo follows while we lead');
    stepDown.resolve();
    await firstTerm;
    await py.next(/^LEADER$/, safety(), 'kazoo leads after we stepped down');
    assert.equal(ours.isLeader, false);
    // We queue again behind kazoo.
    const secondLeads = new Deferred();
    const secondStepDown = new Deferred();
    const secondTerm = ours.run(async () => {
      secondLeads.resolve();
      await secondStepDown.promise;
    });
    assert.deepEqual(await tsContendersReach(ours, 2), ['py', 'ts']);
    await grace();
    assert.equal(ours.isLeader, false, 'we follow while kazoo leads');
    py.send('resign');
    await py.next(/^RESIGNED$/);
    await within(secondLeads.promise, 'we lead again');
    assert.equal(ours.isLeader, true);
    secondStepDown.resolve();
    await secondTerm;
    assert.deepEqual(await ours.contenders(), []);
  });
});

describe("kazoo 2.8's own ordering logic on fixed child lists (kazoo_lock.py sequence)", () => {
  interface Case {
    kind: 'lock' | 'rlock' | 'wlock';
    children: string[];
    node: string;
    extra?: string[];
  }
  const wrap = [
    'd__lock__2147483647',
    'a__lock__-2147483648',
    'c__lock__0000000000',
    'b__lock__-2147483647',
    'e__lock__-1000000000',
    'f__lock__-999999999',
  ];
  const goLock = '_c_8eb60557ba51e0da67eefc47467d3f34-lock-0000000031';
  const pyLock = '514e5a831836450cb1a56c741e990fd8__lock__0000000032';
  const rw = [
    'aa__lock__0000000001',
    'bb__rlock__0000000002',
    'cc__rlock__0000000003',
    'dd__lock__0000000004',
    'ee__rlock__0000000005',
  ];
  const curatorOwn = '_c_8eb60557-ba51-e0da-67ee-fc47467d3f34-lock-0000000031';
  const kazooAhead = '514e5a831836450cb1a56c741e990fd8__lock__0000000030';

  /** kazoo's own answers (kazoo_lock.py sequence). */
  function kazoo(cases: Case[]): { predecessor: string | null; order: string[] }[] {
    return runPythonJson([SCRIPT, 'sequence'], { input: JSON.stringify(cases) });
  }

  /** What our recipes compute for the same case. */
  function ours(c: Case): { predecessor: string | null; order: string[] } {
    const own = c.kind === 'rlock' ? READ_LOCK_NAME : LOCK_NAME;
    const blocking = [
      ...(c.kind === 'wlock' ? [LOCK_NAME, READ_LOCK_NAME] : [LOCK_NAME]),
      ...(c.extra ?? []),
    ];
    const every = contenderPattern([...new Set([...blocking, own])]);
    const ahead = blockersAhead(c.children, contenderPattern([...new Set(blocking)]), sequenceOf(c.node));
    return {
      predecessor: ahead.at(-1)?.name ?? null,
      order: sortedContenders(c.children, every).map((x) => x.name),
    };
  }

  const agreeing: [string, Case][] = [
    ['test_get_predecessor', { kind: 'lock', children: ['hello', goLock, 'world', pyLock], node: pyLock }],
    [
      'test_get_predecessor_go',
      { kind: 'lock', children: ['hello', goLock, 'world', pyLock], node: pyLock, extra: ['-lock-'] },
    ],
    ...[
      'a__lock__-2147483648',
      'b__lock__-2147483647',
      'c__lock__0000000000',
      'd__lock__2147483647',
      'e__lock__-1000000000',
    ].map((node): [string, Case] => [
      `wrapped sequences, own node ${node}`,
      { kind: 'lock', children: wrap, node },
    ]),
    ['writer behind readers', { kind: 'wlock', children: rw, node: 'dd__lock__0000000004' }],
    [
      'reader behind a writer, no writer after it',
      { kind: 'rlock', children: rw.slice(0, 3), node: 'cc__rlock__0000000003' },
    ],
    [
      'reader with no writer ahead',
      { kind: 'rlock', children: rw.slice(1, 3), node: 'bb__rlock__0000000002' },
    ],
  ];

  test('kazoo and our recipes pick the same predecessor and contender order', async () => {
    const answers = kazoo(agreeing.map(([, c]) => c));
    agreeing.forEach(([name, c], i) => assert.deepEqual(ours(c), answers[i], name));
  });

  test('known divergence: a kazoo 2.8 reader picks the newest writer even after it (#649); ours the nearest writer ahead', async () => {
    const c: Case = { kind: 'rlock', children: rw, node: 'bb__rlock__0000000002' };
    const [answer] = kazoo([c]);
    assert.equal(answer!.predecessor, 'dd__lock__0000000004');
    assert.equal(ours(c).predecessor, 'aa__lock__0000000001');
    assert.deepEqual(ours(c).order, answer!.order);
  });

  test('a Curator-named own node (extra "-lock-") is ranked as kazoo ranks it', async () => {
    const c: Case = { kind: 'lock', children: [curatorOwn, kazooAhead], node: curatorOwn, extra: ['-lock-'] };
    const [answer] = kazoo([c]);
    assert.equal(answer!.predecessor, kazooAhead, 'kazoo: the __lock__ node ahead is the predecessor');
    assert.deepEqual(ours(c), answer);
  });
});
