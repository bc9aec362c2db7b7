/**
 * The web view's one page: HTML, CSS and script inline (no CDN, no bundler, nothing for the user
 * to build). The script is the source of `view.ts`'s functions (`Function.prototype.toString` of
 * the compiled module) plus a few lines that follow `/events` (server-sent events, one
 * `InspectorView` as JSON per change) and re-render; `<time data-relative>` elements are
 * refreshed every second so "since" stays true between changes.
 */
import { relativeTime, renderView, type InspectorView } from './view.js';

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1b1f24; --muted: #5b6573; --line: #d8dde3;
  --accent: #0b62c4; --lead: #0a7d32; --warn-bg: #fff4d6; --warn-fg: #7a4b00; --warn-line: #e0a800; --err: #b00020; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171b; --card: #1d2126; --fg: #e7eaee; --muted: #9aa5b1;
  --line: #333a42; --accent: #6cb0ff; --lead: #5bd48a; --warn-bg: #3a2f12; --warn-fg: #ffd977; --warn-line: #a87f00; --err: #ff6b81; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; padding: .9rem 1.5rem;
  background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 1.15rem; margin: 0; }
header p { margin: 0; }
#connection { font-weight: 600; }
#connection[data-state="live"] { color: var(--lead); }
#connection[data-state="offline"] { color: var(--err); }
main { padding: 1rem 1.5rem 2rem; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(34rem, 1fr)); align-items: start; }
main > .summary, main > .error, main > .empty { grid-column: 1 / -1; margin: 0; }
.recipe { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem 1rem; }
.recipe.has-stale { border-color: var(--warn-line); box-shadow: 0 0 0 2px var(--warn-line) inset; }
.recipe h2 { font-size: 1rem; margin: 0 0 .5rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
.recipe h3 { font-size: .9rem; margin: .8rem 0 .3rem; }
.kind { text-transform: uppercase; font-size: .72rem; letter-spacing: .05em; padding: .1rem .45rem; border-radius: 4px; background: var(--accent); color: var(--card); }
.kind-election, .kind-leader-latch { background: var(--lead); }
.layout { color: var(--muted); font-size: .8rem; margin-left: auto; }
.lead { margin: .2rem 0 .6rem; font-size: 1.05rem; }
.lead strong { color: var(--lead); }
.muted { color: var(--muted); }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .86em; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { text-align: left; padding: .25rem .5rem .25rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: .8rem; }
td.num { color: var(--muted); width: 1.5rem; }
td.time, td code { white-space: nowrap; }
td strong { overflow-wrap: anywhere; }
tr.stale td, li.vacant { background: var(--warn-bg); }
code.node { color: var(--muted); }
.figures { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: .3rem 0 .5rem; }
.figures dt { color: var(--muted); }
.figures dd { margin: 0; }
ol.inline, ul.inline { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: .3rem .8rem; }
.history ol { margin: 0; padding-left: 1.4rem; }
ul.split { margin: 0; padding: 0; list-style: none; }
ul.split code { margin-right: .2rem; }
.history li { padding: .05rem .3rem; }
.history li:last-child { font-weight: 600; }
.badge { font-size: .75rem; padding: .05rem .4rem; border-radius: 4px; }
.warn { background: var(--warn-bg); color: var(--warn-fg); border: 1px solid var(--warn-line); }
.stale-box { margin-top: .7rem; padding: .5rem .7rem; border-radius: 6px; background: var(--warn-bg); color: var(--warn-fg); border: 1px solid var(--warn-line); }
.stale-box ul { margin: .3rem 0 0; padding-left: 1.2rem; }
.error { color: var(--err); font-weight: 600; }
`;

/**
 * The page's script: the renderer's source and the event-stream glue. `relativeTime` and
 * `renderView` are function declarations once compiled, so their source defines them here.
 */
const SCRIPT = `'use strict';
${relativeTime.toString()}
${renderView.toString()}
const main = document.getElementById('view');
const connection = document.getElementById('connection');
const updated = document.getElementById('updated');
const setConnection = (state, text) => { connection.dataset.state = state; connection.textContent = text; };
const events = new EventSource('events');
events.onopen = () => setConnection('live', 'live');
events.onerror = () =>
  setConnection('offline', events.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…');
events.onmessage = (message) => {
  const view = JSON.parse(message.data);
  main.innerHTML = renderView(view, Date.now());
  main.dataset.at = view.inspection.at;
  updated.dateTime = view.inspection.at;
  updated.textContent = relativeTime(Date.parse(view.inspection.at), Date.now());
};
setInterval(() => {
  const now = Date.now();
  for (const time of document.querySelectorAll('time[data-relative]')) {
    const then = Date.parse(time.dateTime);
    if (!Number.isNaN(then)) time.textContent = relativeTime(then, now);
  }
}, 1000);
`;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The whole page for a view of `path`. `view` (when an inspection is already known) is rendered
 * into it, so the first paint shows the tree before the event stream delivers anything. `nonce`
 * marks the inline style and script for the response's Content-Security-Policy.
 */
export function inspectorPage(path: string, view: InspectorView | undefined, nonce: string): string {
  const title = `ZooKeeper inspector · ${path}`;
  const now = Date.now();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
<h1>ZooKeeper inspector <code>${escapeHtml(path)}</code></h1>
<p role="status" aria-live="polite">Updates: <span id="connection" data-state="connecting">connecting…</span></p>
<p class="muted">Last change read: <time id="updated" data-relative${view ? ` datetime="${escapeHtml(view.inspection.at)}"` : ''}>${view ? relativeTime(Date.parse(view.inspection.at), now) : 'not yet'}</time></p>
</header>
<main id="view" data-at="${view ? escapeHtml(view.inspection.at) : ''}">${view ? renderView(view, now) : '<p class="empty">Reading the tree…</p>'}</main>
<script nonce="${nonce}">${SCRIPT.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}
