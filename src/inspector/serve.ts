/**
 * The inspector's live web view: a small `node:http` server (loopback by default) with three
 * routes — `/` the self-contained page (page.ts), `/events` server-sent events carrying the
 * current `InspectorView` as JSON on every change, `/inspection.json` the latest `Inspection`
 * (what `inspect --json` prints). One live inspection (`watchInspections`: a persistent recursive
 * watch, debounced) feeds every browser; the server adds the holder history (holder-history.ts).
 *
 * Bound to loopback, it answers only requests whose `Host` names the loopback address it listens
 * on, so a web page elsewhere cannot read the tree through DNS rebinding. Closing (`close()`, the
 * signal, `await using`) ends the event streams, the watch and the server; nothing else keeps
 * the process alive.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZooKeeperClient } from '../client/client.js';
import { AbortError, InvalidArgumentError } from '../client/errors.js';
import { validatePath } from '../client/paths.js';
import { checkDuration } from '../client/timer.js';
import { HolderHistory } from './holder-history.js';
import type { InspectOptions } from './inspect.js';
import { inspectorPage } from './page.js';
import type { InspectorView } from './view.js';
import { watchInspections } from './watch-inspections.js';

/**
 * Options of `serveInspector`.
 *
 * @example
 *   const options: ServeInspectorOptions = { path: '/app', port: 8080, inspect: { maxNodes: 50_000 } };
 */
export interface ServeInspectorOptions {
  /** The subtree to show. Default `/` (the whole tree). */
  path?: string;
  /** The TCP port; 0 (the default) picks a free one — read it from `url`. */
  port?: number;
  /** The address to listen on. Default `127.0.0.1`: only this machine can connect. */
  host?: string;
  /** How long after a change the page's next update is read, ms (changes in between join it). Default 100. */
  debounce?: number;
  /** Options of each inspection (bounds; the servers asked with `cons`: by default every server of the client's connect string). */
  inspect?: Omit<InspectOptions, 'signal'>;
  /** How many holder changes the page keeps per election or lock. Default 20. */
  historyLimit?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

/**
 * A running inspector web view: its URL, what it shows now, and `close()` (also `await using`).
 *
 * @example
 *   const view: InspectorServer = await serveInspector(zk);
 *   console.log(view.url, view.view?.inspection.recipes.length);
 *   await view.close();
 */
export interface InspectorServer extends AsyncDisposable {
  /** The page's address, e.g. `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** What the page shows now (the latest inspection and the holder history); undefined before the first inspection. */
  readonly view: InspectorView | undefined;
  /** Ends the event streams, the watch and the server; resolves once all are gone. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** A comment line on idle event streams, so proxies and browsers keep them open. */
const KEEP_ALIVE_MS = 15_000;

/**
 * Serve the live web view of `client`'s tree under `options.path`. The client must be started
 * (or be starting) and stays the caller's: closing the server does not close it.
 *
 * @example
 *   await using zk = new ZooKeeperClient({ hosts: '127.0.0.1:2181' });
 *   await zk.start();
 *   await using view = await serveInspector(zk, { path: '/app' });
 *   console.log(`inspector: ${view.url}`); // open it in a browser; it follows every change
 */
export async function serveInspector(
  client: ZooKeeperClient,
  options: ServeInspectorOptions = {},
): Promise<InspectorServer> {
  const path = options.path ?? '/';
  validatePath(path, 'serveInspector');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${String(port)}`, {
      op: 'serveInspector',
    });
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '')
    throw new InvalidArgumentError('host must be a non-empty string', { op: 'serveInspector' });
  const historyLimit = options.historyLimit ?? 20;
  if (!Number.isInteger(historyLimit) || historyLimit < 1)
    throw new InvalidArgumentError(`historyLimit must be an integer >= 1, got ${String(historyLimit)}`, {
      op: 'serveInspector',
    });
  if (options.debounce !== undefined) checkDuration(options.debounce, { op: 'serveInspector' }, 'debounce');
  const { signal } = options;
  if (signal?.aborted) throw new AbortError(signal.reason, { op: 'serveInspector', path });

  const history = new HolderHistory(historyLimit);
  let view: InspectorView | undefined;
  let sent = '';
  let lastError: string | null = null;
  const streams = new Set<ServerResponse>();

  const publish = (next: InspectorView) => {
    view = next;
    const message = JSON.stringify(next);
    // Data the model does not show (a counter-less node's bytes) changes nothing on the page.
    const unchanged = JSON.stringify({ ...next, inspection: { ...next.inspection, at: '' } });
    if (unchanged === sent) return;
    sent = unchanged;
    for (const stream of streams) stream.write(`data: ${message}\n\n`);
  };

  const server = createServer((request, response) => {
    if (!allowedHost(request)) return reply(response, 403, 'text/plain', 'unexpected Host header\n');
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return reply(response, 405, 'text/plain', 'only GET\n', { allow: 'GET, HEAD' });
    const route = (request.url ?? '/').split('?')[0];
    if (route === '/' || route === '/index.html') {
      const nonce = randomBytes(16).toString('base64');
      return reply(response, 200, 'text/html', inspectorPage(path, view, nonce), {
        'content-security-policy':
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
          `connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      });
    }
    if (route === '/inspection.json') {
      if (view === undefined)
        return reply(
          response,
          503,
          'application/json',
          `${JSON.stringify({ error: lastError ?? 'reading the tree' })}\n`,
          {
            'retry-after': '1',
          },
        );
      return reply(response, 200, 'application/json', `${JSON.stringify(view.inspection, null, 2)}\n`);
    }
    if (route === '/events') {
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      response.write('retry: 1000\n\n');
      if (view !== undefined) response.write(`data: ${JSON.stringify(view)}\n\n`);
      streams.add(response);
      response.on('close', () => streams.delete(response));
      return;
    }
    reply(response, 404, 'text/plain', 'not found\n');
  });

  const allowedHost = (request: IncomingMessage): boolean => {
    if (!LOOPBACK.has(host)) return true;
    const name = (request.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    return LOOPBACK.has(name);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/`;

  const keepAlive = setInterval(() => {
    for (const stream of streams) stream.write(': keep-alive\n\n');
  }, KEEP_ALIVE_MS).unref();

  const stop = new AbortController();
  const feeding = (async () => {
    for await (const update of watchInspections(client, path, {
      signal: stop.signal,
      ...(options.debounce === undefined ? {} : { debounce: options.debounce }),
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    })) {
      if (update.inspection) {
        lastError = null;
        history.observe(update.inspection);
        publish({ inspection: update.inspection, history: history.toJSON(), error: null });
      } else {
        lastError = update.error.message;
        if (view !== undefined) publish({ ...view, error: lastError });
      }
    }
  })().catch((error: unknown) => {
    // Not expected (watchInspections reports failures as updates); shown rather than thrown away.
    lastError = `the live inspection stopped: ${String(error)}`;
    if (view !== undefined) publish({ ...view, error: lastError });
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      stop.abort();
      clearInterval(keepAlive);
      for (const stream of streams) stream.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await feeding;
    })());
  const onAbort = () => void close();
  signal?.addEventListener('abort', onAbort, { once: true });

  return {
    url,
    get view() {
      return view;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function reply(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...headers,
  });
  response.end(body);
}
