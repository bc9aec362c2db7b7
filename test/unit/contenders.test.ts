/**
 * Contender recognition and ordering (kazoo's recipe/lock.py: _NODE_NAME, _get_sorted_children): kazoo's
 * `TestSequence` cases, the string order of sequence suffixes after the cversion wraps
 * negative, and which contenders block a reader and a writer. Expected values were taken from
 * kazoo 2.8.0 itself (`Lock._contenders_re`, `sorted(..., key=m.groups())`, `_get_predecessor`);
 * test/integration/interop-kazoo-lock.test.ts re-checks the same cases against a live kazoo.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blockersAhead,
  contenderPattern,
  CURATOR_LOCK_NAME,
  LOCK_NAME,
  READ_LOCK_NAME,
  sequenceOf,
  sortedContenders,
} from '../../src/recipes/lock/contenders.js';

/** kazoo's `_get_predecessor` as our recipes compute it: the nearest blocker ahead, or undefined. */
function predecessor(children: readonly string[], names: readonly string[], own: string): string | undefined {
  return blockersAhead(children, contenderPattern(names), sequenceOf(own)).at(-1)?.name;
}

/** kazoo's class constants (kazoo/recipe/lock.py): the names that block each kind. */
const LOCK_BLOCKERS = [LOCK_NAME];
const WRITER_BLOCKERS = [LOCK_NAME, READ_LOCK_NAME];
const READER_BLOCKERS = [LOCK_NAME];

describe('TestSequence (kazoo/tests/test_lock.py)', () => {
  const goLock = '_c_8eb60557ba51e0da67eefc47467d3f34-lock-0000000031';
  const pyLock = '514e5a831836450cb1a56c741e990fd8__lock__0000000032';
  const children = ['hello', goLock, 'world', pyLock];

  test('test_get_predecessor: a default Lock ignores the go/Curator node and unrelated names', () => {
    assert.equal(predecessor(children, LOCK_BLOCKERS, pyLock), undefined);
    assert.deepEqual(
      sortedContenders(children, contenderPattern(LOCK_BLOCKERS)).map((c) => c.name),
      [pyLock],
    );
  });

  test('test_get_predecessor_go: with extra pattern "-lock-" the go/Curator node is the predecessor', () => {
    assert.equal(predecessor(children, [...LOCK_BLOCKERS, CURATOR_LOCK_NAME], pyLock), goLock);
    assert.deepEqual(
      sortedContenders(children, contenderPattern([LOCK_NAME, '-lock-'])).map((c) => [c.name, c.sequence]),
      [
        [goLock, '0000000031'],
        [pyLock, '0000000032'],
      ],
    );
  });
});

describe('contender regex: (?:NAMES)(-?\\d{10})$, searched anywhere', () => {
  test("is exactly kazoo's pattern text", () => {
    assert.equal(contenderPattern([LOCK_NAME]).source, '(?:__lock__)(-?\\d{10})$');
    assert.equal(contenderPattern([LOCK_NAME, READ_LOCK_NAME]).source, '(?:__lock__|__rlock__)(-?\\d{10})$');
  });

  test('matches 10-digit and 11-character negative suffixes right after the marker', () => {
    const pattern = contenderPattern([LOCK_NAME]);
    assert.equal(pattern.exec('x__lock__0000000000')?.[1], '0000000000');
    assert.equal(pattern.exec('x__lock__2147483647')?.[1], '2147483647');
    assert.equal(pattern.exec('x__lock__-2147483648')?.[1], '-2147483648');
    assert.equal(pattern.exec('x__lock__-1000000000')?.[1], '-1000000000');
  });

  test('10-character negatives (-999999999 … -000000001) do NOT match: kazoo ignores such nodes', () => {
    // `-?` then \d{10} needs ten digits; `-000000001` has nine after the sign, and the marker
    // must sit right before the suffix, so no alignment matches.
    const pattern = contenderPattern([LOCK_NAME]);
    for (const suffix of ['-000000001', '-999999999', '-123456789']) {
      assert.equal(pattern.exec(`x__lock__${suffix}`), null, suffix);
    }
    const children = ['a__lock__-000000001', 'b__lock__0000000007', 'c__lock__-999999999'];
    assert.deepEqual(
      sortedContenders(children, pattern).map((c) => c.name),
      ['b__lock__0000000007'],
    );
  });

  test('a node whose own suffix is a 10-character negative has no sequence (sequenceOf throws)', () => {
    // kazoo has no equivalent: its `_get_predecessor` finds `found_self = None` and picks the
    // highest contender (or none). Our Lock cannot rank such a node at all.
    assert.throws(() => sequenceOf('x__lock__-000000001'), /not a sequential node name/);
    assert.equal(sequenceOf('x__lock__-2147483648'), '-2147483648');
    assert.equal(sequenceOf('x__lock__0000000031'), '0000000031');
  });

  test("sequenceOf a Curator-named node is the 10-digit suffix: the '-' before it belongs to '-lock-'", () => {
    // `_c_<uuid>-lock-0000000031`: ZooKeeper appended 0000000031 to the prefix `…-lock-`.
    assert.equal(sequenceOf('_c_8eb60557-ba51-e0da-67ee-fc47467d3f34-lock-0000000031'), '0000000031');
  });

  test('a Curator-named contender is ranked like the contender regex ranks it (kazoo holder ahead blocks it)', () => {
    const kazooHolder = '514e5a831836450cb1a56c741e990fd8__lock__0000000030';
    const curatorNode = '_c_8eb60557-ba51-e0da-67ee-fc47467d3f34-lock-0000000031';
    const later = '_c_11111111-2222-3333-4444-555555555555-lock-0000000032';
    const names = [LOCK_NAME, CURATOR_LOCK_NAME];
    assert.equal(predecessor([later, curatorNode, kazooHolder], names, curatorNode), kazooHolder);
    assert.equal(predecessor([later, curatorNode, kazooHolder], names, later), curatorNode);
  });

  test('the marker must be immediately before the suffix; the last marker wins; 11 digits do not match', () => {
    const pattern = contenderPattern([LOCK_NAME]);
    assert.equal(pattern.exec('x__lock__00000000001'), null, '11 digits');
    assert.equal(pattern.exec('x__lock__000000001'), null, '9 digits');
    assert.equal(pattern.exec('x__lock__0000000001z'), null, 'anchored at the end');
    assert.equal(pattern.exec('j__lock__0000000005__lock__0000000003')?.[1], '0000000003');
    assert.equal(
      pattern.exec('prefix-not-hex__lock__0000000009')?.[1],
      '0000000009',
      'any prefix is accepted',
    );
    assert.equal(pattern.exec('hello'), null);
    assert.equal(pattern.exec('x__rlock__0000000001'), null, 'a reader is not a plain lock contender');
  });

  test('names are inserted unescaped, as kazoo does (a "." in a pattern is a wildcard)', () => {
    const pattern = contenderPattern(['l.ck']);
    assert.equal(pattern.exec('xlock0000000001')?.[1], '0000000001');
    assert.equal(pattern.exec('xl-ck0000000002')?.[1], '0000000002');
  });

  test("only ASCII digits count (JS \\d); kazoo's Python \\d would also accept other Unicode digits", () => {
    // Not reachable with server-made sequence suffixes; documents the only regex divergence.
    assert.equal(
      contenderPattern([LOCK_NAME]).exec(
        'i__lock__\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669',
      ),
      null,
    );
  });
});

describe('ordering: the captured suffix compared as a string (kazoo), not as a number', () => {
  const children = [
    'd__lock__2147483647',
    'a__lock__-2147483648',
    'c__lock__0000000000',
    'b__lock__-2147483647',
    'e__lock__-1000000000',
    'f__lock__-999999999', // 10-char negative: not a contender
    'g__lock__0000000042',
  ];

  test('negatives sort before positives; among 11-char negatives string order reverses numeric order', () => {
    // kazoo 2.8.0 gives exactly this order for these names.
    assert.deepEqual(
      sortedContenders(children, contenderPattern([LOCK_NAME])).map((c) => c.sequence),
      ['-1000000000', '-2147483647', '-2147483648', '0000000000', '0000000042', '2147483647'],
    );
    assert.ok('-2147483647' < '-2147483648', 'string order: the newer -2147483647 sorts first');
  });

  test('predecessors follow the string order (kazoo _get_predecessor)', () => {
    assert.equal(predecessor(children, LOCK_BLOCKERS, 'e__lock__-1000000000'), undefined);
    assert.equal(predecessor(children, LOCK_BLOCKERS, 'b__lock__-2147483647'), 'e__lock__-1000000000');
    // The numerically oldest node (-2147483648) waits for the newer -2147483647 (pitfall P2).
    assert.equal(predecessor(children, LOCK_BLOCKERS, 'a__lock__-2147483648'), 'b__lock__-2147483647');
    assert.equal(predecessor(children, LOCK_BLOCKERS, 'c__lock__0000000000'), 'a__lock__-2147483648');
    assert.equal(predecessor(children, LOCK_BLOCKERS, 'd__lock__2147483647'), 'g__lock__0000000042');
    assert.deepEqual(
      blockersAhead(children, contenderPattern(LOCK_BLOCKERS), '0000000000').map((c) => c.name),
      ['e__lock__-1000000000', 'b__lock__-2147483647', 'a__lock__-2147483648'],
      'every blocker ahead, nearest last',
    );
  });

  test('zero-padded positives: string order equals numeric order', () => {
    const names = [
      'x__lock__0000000010',
      'x__lock__0000000009',
      'x__lock__0000000100',
      'x__lock__0000000001',
    ];
    assert.deepEqual(
      sortedContenders(names, contenderPattern([LOCK_NAME])).map((c) => Number(c.sequence)),
      [1, 9, 10, 100],
    );
  });
});

describe('reader vs writer blocking sets (kazoo ≥ 2.9 reader semantics)', () => {
  // One directory, one counter: W1 R2 R3 W4 R5 (sequence order).
  const w1 = 'aa__lock__0000000001';
  const r2 = 'bb__rlock__0000000002';
  const r3 = 'cc__rlock__0000000003';
  const w4 = 'dd__lock__0000000004';
  const r5 = 'ee__rlock__0000000005';
  const children = [r5, w4, r3, r2, w1, 'unrelated'];

  test('a writer is blocked by every reader and writer ahead of it; its predecessor is the nearest one', () => {
    const blocking = contenderPattern(WRITER_BLOCKERS);
    assert.deepEqual(
      blockersAhead(children, blocking, sequenceOf(w4)).map((c) => c.name),
      [w1, r2, r3],
    );
    assert.equal(predecessor(children, WRITER_BLOCKERS, w4), r3);
    assert.equal(predecessor(children, WRITER_BLOCKERS, w1), undefined);
  });

  test('a reader is blocked only by writers ahead of it, never by readers nor by writers queued after it', () => {
    assert.equal(predecessor(children, READER_BLOCKERS, r2), w1);
    assert.equal(predecessor(children, READER_BLOCKERS, r3), w1);
    assert.equal(predecessor(children, READER_BLOCKERS, r5), w4);
    // With W1 gone, R2 and R3 hold together although W4 (after them) is waiting (no #649 deadlock).
    const afterW1 = children.filter((name) => name !== w1);
    assert.equal(predecessor(afterW1, READER_BLOCKERS, r2), undefined);
    assert.equal(predecessor(afterW1, READER_BLOCKERS, r3), undefined);
    assert.equal(predecessor(afterW1, WRITER_BLOCKERS, w4), r3);
  });

  test('a plain Lock does not see readers; a reader treats a plain Lock node as a writer', () => {
    assert.equal(predecessor([r2, 'ff__lock__0000000003'], LOCK_BLOCKERS, 'ff__lock__0000000003'), undefined);
    assert.equal(predecessor(['ff__lock__0000000001', r2], READER_BLOCKERS, r2), 'ff__lock__0000000001');
  });

  test('contenders() lists readers and writers together in one sequence order', () => {
    const every = contenderPattern([...new Set([...READER_BLOCKERS, READ_LOCK_NAME])]);
    assert.deepEqual(
      sortedContenders(children, every).map((c) => c.name),
      [w1, r2, r3, w4, r5],
    );
  });
});
