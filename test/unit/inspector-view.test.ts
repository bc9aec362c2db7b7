/**
 * The web view's renderer and holder history on a fixed inspection (no server): what each recipe
 * section shows, in which order, escaped; the history of first holders; and the page's embedded
 * script (the renderer's own source) being valid JavaScript.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Inspection, Participant } from '../../src/inspector/model.js';
import { HolderHistory } from '../../src/inspector/holder-history.js';
import { inspectorPage } from '../../src/inspector/page.js';
import { relativeTime, renderView } from '../../src/inspector/view.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();
const person = (
  identifier: string | null,
  seq: number,
  secondsAgo: number,
  extra: Partial<Participant> = {},
) => ({
  identifier,
  sessionId: `0x10000000000000${seq}`,
  node: `f00d__lock__000000000${seq}`,
  since: at(secondsAgo),
  ...extra,
});

function fixture(leader: string, candidates: string[]): Inspection {
  return {
    path: '/app',
    at: at(0),
    nodes: 12,
    truncated: false,
    sessionsKnown: true,
    recipes: [
      {
        kind: 'election',
        path: '/app/leader',
        layout: 'kazoo',
        holders: [person(leader, 1, 60, { client: '127.0.0.1:50000' })],
        waiters: candidates.map((c, i) => person(c, i + 2, 30)),
        stale: [],
      },
      {
        kind: 'lock',
        path: '/app/lock',
        layout: 'curator',
        holders: [person('<script>alert(1)</script>', 1, 5)],
        waiters: [person('second', 2, 4), person(null, 3, 3)],
        stale: [
          { path: '/app/lock/f00d__lock__0000000003', reason: 'its session 0x100000000000003 has expired' },
        ],
      },
      {
        kind: 'semaphore',
        path: '/app/sem',
        layout: 'kazoo',
        holders: [person('a', 1, 9), person('b', 2, 8)],
        waiters: [],
        stale: [],
        maxLeases: 3,
      },
      {
        kind: 'queue',
        path: '/app/q',
        layout: 'kazoo',
        holders: [],
        waiters: [],
        stale: [],
        depth: 4,
        taken: 1,
      },
      {
        kind: 'partitioner',
        path: '/app/r',
        layout: 'kazoo',
        holders: [person('w1', 1, 9), person('w2', 2, 9)],
        waiters: [],
        stale: [],
        members: ['w1', 'w2'],
        items: [
          { item: 'job-1', holder: person('w1', 1, 5), waiters: [] },
          { item: 'job-2', holder: person(null, 2, 5), waiters: [] }, // named by its session
          { item: 'job-3', holder: person('w1', 3, 5), waiters: [] },
          { item: 'job-4', holder: null, waiters: [] },
        ],
      },
    ],
  } as Inspection;
}

/** The `data-identifier`s of one list of one recipe, in document order. */
function listed(html: string, recipe: string, role: string): string[] {
  const section = html.split('<section').find((s) => s.includes(`data-recipe="${recipe}"`))!;
  const list = new RegExp(`data-role="${role}"(.*?)</(table|ol|ul)>`, 's').exec(section)![1]!;
  return [...list.matchAll(/data-identifier="([^"]*)"/g)].map((m) => m[1]!);
}

test('relativeTime: seconds, minutes, hours, days, never negative', () => {
  assert.equal(relativeTime(NOW - 4_400, NOW), '4 s ago');
  assert.equal(relativeTime(NOW - 90_000, NOW), '1 min ago');
  assert.equal(relativeTime(NOW - 2 * 3_600_000, NOW), '2 h ago');
  assert.equal(relativeTime(NOW - 3 * 86_400_000, NOW), '3 d ago');
  assert.equal(relativeTime(NOW + 5_000, NOW), '0 s ago', 'a clock slightly ahead');
});

test('renderView: leader, candidates and waiters in order; figures; stale rows; everything escaped', () => {
  const html = renderView({ inspection: fixture('alpha', ['beta', 'gamma']), history: {}, error: null }, NOW);
  assert.match(html, /data-leader="alpha"/);
  assert.deepEqual(listed(html, '/app/leader', 'holders'), ['alpha']);
  assert.deepEqual(listed(html, '/app/leader', 'waiters'), ['beta', 'gamma']);
  assert.deepEqual(listed(html, '/app/lock', 'waiters'), ['second', '']);
  assert.match(html, /<code>127\.0\.0\.1:50000<\/code>/, 'the client address');
  assert.match(html, /1 min ago/);
  assert.doesNotMatch(html, /<script>/, 'identifiers are escaped');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(
    html,
    /<tr data-participant data-identifier="" data-session="0x100000000000003" class="stale" data-stale>/,
  );
  assert.match(html, /data-role="stale".*its session 0x100000000000003 has expired/s);
  assert.match(html, /class="recipe has-stale"[^>]*data-recipe="\/app\/lock"/);
  assert.match(html, /<span data-figure="leases">2<\/span> of <span data-figure="max">3<\/span>/);
  assert.match(html, /<span data-figure="depth">4<\/span> queued/);
  assert.match(html, /<span data-figure="taken">1<\/span> taken/);
  assert.match(html, /1 stale leftover</);
  assert.match(html, /<code title="\/app\/leader">leader<\/code>/, 'named relative to the inspected path');
  assert.deepEqual(listed(html, '/app/r', 'split'), ['w1', 'w2', ''], 'the split, by member');
  assert.match(
    html,
    /<strong>w1<\/strong>: <code>job-1<\/code> <code>job-3<\/code> <span class="muted">\(2\)/,
  );
  assert.doesNotMatch(html, /data-role="truncated"/);
  const truncated = renderView(
    { inspection: { ...fixture('a', []), truncated: true, nodes: 10_000 }, history: {}, error: null },
    NOW,
  );
  assert.match(truncated, /stopped after 10000 nodes/);
});

test('HolderHistory: a change per new first holder, vacancies included, bounded, forgotten with the recipe', () => {
  const history = new HolderHistory(3);
  history.observe(fixture('alpha', ['beta']));
  history.observe(fixture('alpha', ['beta', 'gamma'])); // a new candidate is no change
  const second = fixture('beta', ['gamma']);
  second.recipes[0]!.holders[0]!.node = 'f00d__lock__0000000002';
  history.observe(second);
  const changes = history.toJSON()['/app/leader']!;
  assert.deepEqual(
    changes.map((c) => c.identifier),
    ['alpha', 'beta'],
  );
  assert.deepEqual(
    Object.keys(history.toJSON()).sort(),
    ['/app/leader', '/app/lock'],
    'elections and locks only',
  );

  const vacant = fixture('x', []);
  vacant.recipes[0]!.holders = [];
  history.observe(vacant);
  assert.deepEqual(
    history.toJSON()['/app/leader']!.map((c) => c.node),
    ['f00d__lock__0000000001', 'f00d__lock__0000000002', null],
  );
  history.observe(fixture('alpha', []));
  assert.equal(history.toJSON()['/app/leader']!.length, 3, 'bounded');

  const html = renderView({ inspection: fixture('alpha', []), history: history.toJSON(), error: null }, NOW);
  assert.deepEqual(listed(html, '/app/leader', 'history'), ['beta', '', 'alpha']);
  assert.match(html, /Leader history/);

  history.observe({ ...fixture('alpha', []), recipes: [] });
  assert.deepEqual(history.toJSON(), {});
});

test("inspectorPage: one self-contained document whose script (the renderer's own source) parses", () => {
  const view = { inspection: fixture('alpha', ['beta']), history: {}, error: 'connection lost' };
  const page = inspectorPage('/app', view, 'n0nce');
  assert.match(page, /^<!doctype html>/);
  assert.doesNotMatch(page, /<script src|<link |https?:\/\//, 'nothing loaded from elsewhere');
  assert.match(
    page,
    /<p class="error" role="alert" data-role="error">Reading the tree failed: connection lost\./,
  );
  const scripts = [...page.matchAll(/<script nonce="n0nce">(.*?)<\/script>/gs)].map((m) => m[1]!);
  assert.equal(scripts.length, 1);
  assert.doesNotThrow(() => new Function(scripts[0]!), 'valid JavaScript');
  assert.match(scripts[0]!, /function renderView\(view, now\)/);
  assert.match(inspectorPage('/app', undefined, 'n'), /Reading the tree…/);
});
