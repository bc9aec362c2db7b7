/**
 * The web view's rendering: an `InspectorView` (the inspection plus the server's holder history)
 * as an HTML fragment. It runs in two places: here (unit tests, the page's first paint) and in
 * the browser, where `page.ts` embeds the functions' source (`Function.prototype.toString`), so
 * the page needs no bundler. Hence each exported function is self-contained: it uses only its
 * parameters and its own nested helpers — no imports at run time, no module-level values.
 */
import type { InspectedRecipe, Inspection } from './model.js';

/**
 * One change of a recipe's first holder (a leader, a lock holder), as the server saw it.
 *
 * @example
 *   const change: HolderChange = { identifier: 'worker-3', sessionId: '0x1000a', node: 'e1f0__lock__0000000004', at: '2026-01-01T12:00:00.000Z' };
 */
export interface HolderChange {
  /** The new holder's identifier, null when it wrote none or when nobody holds it now. */
  identifier: string | null;
  /** The new holder's session (`0x…`), null when nobody holds it. */
  sessionId: string | null;
  /** The new holder's node name, null when the recipe became vacant. */
  node: string | null;
  /** When the server saw the change (the inspection's time), ISO-8601. */
  at: string;
}

/**
 * What the web view shows: the latest inspection, each recipe's recent holder changes, and the
 * last error. `/events` sends one as JSON per change.
 *
 * @example
 *   const leaders = (view: InspectorView) => (view.history['/app/leader'] ?? []).map((c) => c.identifier);
 */
export interface InspectorView {
  inspection: Inspection;
  /** Recent first-holder changes per recipe path (elections and locks), oldest first. */
  history: Record<string, HolderChange[]>;
  /** Why the latest inspection failed (e.g. the connection is lost), null when it worked. */
  error: string | null;
}

/**
 * "5 s ago", "3 min ago", "2 h ago" for a time `then` as seen at `now` (both epoch ms).
 * Self-contained: the page embeds its source.
 *
 * @example
 *   relativeTime(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:01:30Z')); // "1 min ago"
 */
export function relativeTime(then: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/**
 * The view as an HTML fragment (the content of the page's `<main>`): one `<section>` per recipe
 * with its holders, its waiters in queue order, its kind's own figures, its holder history and its
 * stale leftovers. Every value is escaped. Elements carry `data-*` attributes for tools and tests:
 * `data-recipe` (the path) and `data-kind` on a section, `data-role` (`holders`, `waiters`,
 * `history`, `stale`) on lists, `data-identifier`/`data-session` on participants,
 * `data-leader` on an election's leader. Self-contained but for `relativeTime`, which the page
 * embeds next to it.
 *
 * @example
 *   const html = renderView({ inspection: await inspect(zk, '/app'), history: {}, error: null }, Date.now());
 */
export function renderView(view: InspectorView, now: number): string {
  type Person = { identifier: string | null; sessionId: string | null; node: string | null; since?: string };
  const escape = (value: unknown): string =>
    String(value).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
    );
  const ago = (iso: string): string => {
    const then = Date.parse(iso);
    if (Number.isNaN(then)) return escape(iso);
    return `<time datetime="${escape(iso)}" data-relative title="${escape(iso)}">${relativeTime(then, now)}</time>`;
  };
  const who = (p: Person): string =>
    p.node === null
      ? '<em>nobody</em>'
      : p.identifier !== null && p.identifier !== ''
        ? `<strong>${escape(p.identifier)}</strong>`
        : `<code>${escape(p.node)}</code>`;
  // A contender's name is long (`<32 hex>__lock__<seq>`, `_c_<uuid>-lock-<seq>`): its tail says the order.
  const nodeName = (node: string) =>
    `<code class="node" title="${escape(node)}">${escape(node.length > 22 ? `…${node.slice(-20)}` : node)}</code>`;
  const elected = (kind: string) => kind === 'election' || kind === 'leader-latch';

  const staleNodes = (recipe: InspectedRecipe) => new Set(recipe.stale.map((s) => s.path));
  const table = (recipe: InspectedRecipe, role: 'holders' | 'waiters', caption: string): string => {
    const people = recipe[role];
    if (people.length === 0) return '';
    const stale = staleNodes(recipe);
    const modes = people.some((p) => p.mode !== undefined);
    const payloads = people.some((p) => p.data !== undefined);
    const rows = people
      .map((p, i) => {
        const isStale = stale.has(`${recipe.path === '/' ? '' : recipe.path}/${p.node}`);
        return (
          `<tr data-participant data-identifier="${escape(p.identifier ?? '')}" data-session="${escape(p.sessionId ?? '')}"` +
          `${isStale ? ' class="stale" data-stale' : ''}>` +
          `<td class="num">${i + 1}</td><td>${who(p)}${isStale ? ' <span class="badge warn">stale</span>' : ''}</td>` +
          (modes ? `<td>${escape(p.mode ?? '')}</td>` : '') +
          (payloads
            ? `<td data-data>${p.data === undefined ? '<span class="muted">—</span>' : `<code>${escape(p.data)}</code>`}</td>`
            : '') +
          `<td><code>${escape(p.sessionId ?? 'persistent')}</code></td>` +
          `<td>${p.client === undefined ? '<span class="muted">—</span>' : `<code>${escape(p.client)}</code>`}</td>` +
          `<td class="time">${ago(p.since)}</td><td>${nodeName(p.node)}</td></tr>`
        );
      })
      .join('');
    return (
      `<table data-role="${role}"><caption>${caption}</caption><thead><tr><th scope="col">#</th>` +
      `<th scope="col">identifier</th>${modes ? '<th scope="col">mode</th>' : ''}` +
      `${payloads ? '<th scope="col" title="the node\'s data">data</th>' : ''}<th scope="col">session</th>` +
      `<th scope="col">client</th><th scope="col" title="when its node was created">since</th><th scope="col">node</th></tr></thead><tbody>${rows}</tbody></table>`
    );
  };

  const figures = (recipe: InspectedRecipe): string => {
    const items: [string, string][] = [];
    const known = new Set(['kind', 'path', 'layout', 'holders', 'waiters', 'stale']);
    switch (recipe.kind) {
      case 'semaphore': {
        known.add('maxLeases');
        const max = recipe.maxLeases;
        items.push([
          'leases',
          `<span data-figure="leases">${recipe.holders.length}</span> of ${max === null ? 'unknown max' : `<span data-figure="max">${max}</span>`}` +
            (max !== null && max > 0
              ? ` <meter min="0" max="${max}" value="${Math.min(recipe.holders.length, max)}">${recipe.holders.length}/${max}</meter>`
              : ''),
        ]);
        break;
      }
      case 'queue':
      case 'locking-queue':
        known.add('depth').add('taken');
        items.push(['depth', `<span data-figure="depth">${recipe.depth}</span> queued`]);
        items.push(['taken', `<span data-figure="taken">${recipe.taken}</span> taken, not yet consumed`]);
        break;
      case 'party':
      case 'partitioner':
      case 'barrier':
      case 'double-barrier':
      case 'group':
        known.add('members');
        items.push([
          'members',
          recipe.members.length === 0
            ? '<em>none</em>'
            : `<ol class="inline" data-role="members">${recipe.members.map((m) => `<li>${escape(m)}</li>`).join('')}</ol>`,
        ]);
        if (recipe.kind === 'partitioner') {
          known.add('items');
          // The split: which member holds each item, grouped by member so it reads as a partition.
          // An item lock's node names no member (our and kazoo's carry no identifier): its session does.
          const memberOf = new Map(recipe.holders.map((h) => [h.sessionId, h.identifier ?? h.node]));
          const byHolder = new Map<string, string[]>();
          for (const item of recipe.items) {
            const h = item.holder;
            const holder =
              h === null ? '' : (h.identifier ?? memberOf.get(h.sessionId) ?? h.sessionId ?? h.node);
            byHolder.set(holder, [...(byHolder.get(holder) ?? []), item.item]);
          }
          const rank = (holder: string) => (holder === '' ? Infinity : recipe.members.indexOf(holder) >>> 0);
          const groups = [...byHolder].sort((a, b) => rank(a[0]) - rank(b[0]));
          items.push([
            'split',
            recipe.items.length === 0
              ? '<em>no items locked</em>'
              : `<ul class="split" data-role="split">${groups
                  .map(
                    ([holder, owned]) =>
                      `<li data-identifier="${escape(holder)}">${holder === '' ? '<em>unowned</em>' : `<strong>${escape(holder)}</strong>`}: ` +
                      `${owned.map((o) => `<code>${escape(o)}</code>`).join(' ')} <span class="muted">(${owned.length})</span></li>`,
                  )
                  .join('')}</ul>`,
          ]);
        }
        break;
      case 'counter':
        known.add('value');
        items.push(['value', `<span data-figure="value">${escape(recipe.value ?? 'unreadable')}</span>`]);
        break;
      case 'lease':
        known.add('expires');
        items.push([
          'expires',
          recipe.expires === null
            ? '<em>not held</em>'
            : `<time datetime="${escape(recipe.expires)}">${escape(recipe.expires)}</time>`,
        ]);
        break;
      case 'service':
        known.add('name').add('instances');
        items.push(['service', `<strong>${escape(recipe.name)}</strong>`]);
        items.push([
          'instances',
          recipe.instances.length === 0
            ? '<em>none</em>'
            : `<ul class="inline" data-role="instances">${recipe.instances.map((a) => `<li><code>${escape(a)}</code></li>`).join('')}</ul>`,
        ]);
        break;
      case 'ttl-node':
        known.add('touched').add('touchedBy').add('data');
        items.push([
          'touched',
          `${ago(recipe.touched)} by ${recipe.touchedBy === null ? '<em>unknown</em>' : `<code data-figure="touchedBy">${escape(recipe.touchedBy)}</code>`}`,
        ]);
        items.push([
          'data',
          recipe.data === null ? '<em>empty</em>' : `<code data-figure="data">${escape(recipe.data)}</code>`,
        ]);
        break;
      case 'persistent-node':
        known.add('name');
        items.push(['name', `<code data-figure="name">${escape(recipe.name)}</code>`]);
        break;
      default:
        break;
    }
    // Fields a newer model adds (e.g. a partitioner's split) are shown as they are.
    for (const [key, value] of Object.entries(recipe)) {
      if (known.has(key)) continue;
      const text =
        value !== null && typeof value === 'object'
          ? Array.isArray(value)
            ? value.map((v) => escape(typeof v === 'object' ? JSON.stringify(v) : v)).join(', ')
            : Object.entries(value as Record<string, unknown>)
                .map(
                  ([k, v]) =>
                    `${escape(k)}: ${escape(Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : v)}`,
                )
                .join('<br>')
          : escape(value);
      items.push([key, `<span data-figure="${escape(key)}">${text}</span>`]);
    }
    if (items.length === 0) return '';
    return `<dl class="figures">${items.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
  };

  const history = (recipe: InspectedRecipe): string => {
    const changes = view.history[recipe.path] ?? [];
    if (changes.length === 0) return '';
    const label = elected(recipe.kind) ? 'Leader history' : 'Recent holders';
    return (
      `<div class="history"><h3>${label} <span class="muted">(oldest first)</span></h3>` +
      `<ol data-role="history">${changes
        .map(
          (c) =>
            `<li data-identifier="${escape(c.identifier ?? '')}"${c.node === null ? ' class="vacant"' : ''}>` +
            `${who(c)} ${c.sessionId === null ? '' : `<code>${escape(c.sessionId)}</code> `}<span class="muted">${ago(c.at)}</span></li>`,
        )
        .join('')}</ol></div>`
    );
  };

  // Under the inspected path, a recipe is named relative to it (the header shows the path).
  const shortPath = (path: string) => {
    const base = view.inspection.path === '/' ? '' : view.inspection.path;
    return base !== '' && path.startsWith(`${base}/`) ? path.slice(base.length + 1) : path;
  };
  const section = (recipe: InspectedRecipe, index: number): string => {
    const id = `recipe-${index}`;
    const leader = recipe.holders[0];
    // The node's ctime is when it joined; the history says when it became the holder.
    const latest = (view.history[recipe.path] ?? []).at(-1);
    const heldSince =
      leader === undefined
        ? ''
        : latest !== undefined && latest.node === leader.node
          ? ` <span class="muted">since ${ago(latest.at)}</span>`
          : ` <span class="muted">(joined ${ago(leader.since)})</span>`;
    const waiting =
      recipe.waiters.length > 0
        ? `, <span data-figure="waiting">${recipe.waiters.length}</span> waiting`
        : '';
    const head = elected(recipe.kind)
      ? `<p class="lead" data-leader="${escape(leader?.identifier ?? '')}">Leader: ${leader === undefined ? '<em>none</em>' : `${who(leader)}${heldSince}`}</p>`
      : recipe.kind === 'lock' || recipe.kind === 'read-write-lock'
        ? `<p class="lead" data-holder="${escape(leader?.identifier ?? '')}">${leader === undefined ? 'Free' : `Held by ${who(leader)}${recipe.holders.length > 1 ? ` and ${recipe.holders.length - 1} more` : ''}${heldSince}`}${waiting}</p>`
        : '';
    const holdersCaption = elected(recipe.kind)
      ? 'Leader'
      : recipe.kind === 'semaphore'
        ? 'Lease holders'
        : recipe.kind === 'queue' || recipe.kind === 'locking-queue'
          ? 'Taken items'
          : recipe.kind === 'service'
            ? 'Instances'
            : recipe.kind === 'group'
              ? 'Members'
              : recipe.kind === 'persistent-node'
                ? 'Owner'
                : recipe.kind === 'lock' || recipe.kind === 'read-write-lock'
                  ? 'Holders'
                  : 'Holders / members';
    const waitersCaption = elected(recipe.kind)
      ? 'Candidates, next first'
      : recipe.kind === 'queue' || recipe.kind === 'locking-queue'
        ? 'Queued items, next first'
        : 'Waiting, next first';
    const stale =
      recipe.stale.length === 0
        ? ''
        : `<div class="stale-box" role="note" data-role="stale"><strong>Stale leftovers</strong><ul>${recipe.stale
            .map(
              (s) =>
                `<li data-stale-path="${escape(s.path)}"><code>${escape(s.path)}</code>: ${escape(s.reason)}</li>`,
            )
            .join('')}</ul></div>`;
    return (
      `<section class="recipe${recipe.stale.length > 0 ? ' has-stale' : ''}" aria-labelledby="${id}" data-recipe="${escape(recipe.path)}" data-kind="${escape(recipe.kind)}">` +
      `<h2 id="${id}"><span class="kind kind-${escape(recipe.kind)}">${escape(recipe.kind)}</span> <code title="${escape(recipe.path)}">${escape(shortPath(recipe.path))}</code>` +
      ` <span class="layout" title="znode layout">${escape(recipe.layout)} layout</span></h2>` +
      head +
      figures(recipe) +
      table(recipe, 'holders', holdersCaption) +
      table(recipe, 'waiters', waitersCaption) +
      history(recipe) +
      stale +
      `</section>`
    );
  };

  const { inspection } = view;
  const staleCount = inspection.recipes.reduce((n, r) => n + r.stale.length, 0);
  const summary =
    `<p class="summary" data-role="summary"><span data-figure="recipes">${inspection.recipes.length}</span> recipe${inspection.recipes.length === 1 ? '' : 's'} under <code>${escape(inspection.path)}</code>` +
    (staleCount > 0
      ? ` · <span class="badge warn">${staleCount} stale leftover${staleCount === 1 ? '' : 's'}</span>`
      : '') +
    (inspection.truncated
      ? ` · <span class="badge warn" data-role="truncated">stopped after ${inspection.nodes} nodes: recipes beyond are missing</span>`
      : '') +
    (inspection.sessionsKnown
      ? ''
      : ' · <span class="muted">client addresses unknown (not every server answered the <code>cons</code> four-letter word)</span>') +
    ` · read ${ago(inspection.at)}</p>`;
  const error =
    view.error === null
      ? ''
      : `<p class="error" role="alert" data-role="error">Reading the tree failed: ${escape(view.error)}. Showing the last inspection; retrying.</p>`;
  const body =
    inspection.recipes.length === 0
      ? '<p class="empty">No recipe found under this path yet.</p>'
      : inspection.recipes.map(section).join('');
  return error + summary + body;
}
