/**
 * A live inspection: `inspect(client, path)` again after every change under `path`. One
 * persistent recursive watch (ZooKeeper 3.6+ `addWatch`, kept across reconnects and re-added on a
 * new session by the client's watch registry) marks the tree dirty; the next inspection starts
 * `debounce` ms after the first change it covers — a fixed delay, not one restarted by every
 * change, so a tree that never stops changing (a busy lock) is still re-read every
 * `debounce` ms + one inspection. A resync (reconnect, new session) also marks it dirty, since
 * events may have been missed. The web view (`serve.ts`) runs on it.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { ClientClosedError, InvalidArgumentError } from '../client/errors.js';
import { validatePath } from '../client/paths.js';
import type { WatchListener } from '../client/states.js';
import { checkDuration, startTimer, type Timer } from '../client/timer.js';
import { inspect, type InspectOptions } from './inspect.js';
import type { Inspection } from './model.js';

/**
 * One round of a live inspection: what it found, or why it failed this time (it tries again).
 *
 * @example
 *   const describe = ({ inspection, error }: InspectionUpdate) =>
 *     inspection ? `${inspection.recipes.length} recipes` : `failed: ${error.message}`;
 */
export type InspectionUpdate = { inspection: Inspection; error: null } | { inspection: null; error: Error };

/**
 * Options of `watchInspections`.
 *
 * @example
 *   const options: WatchInspectionsOptions = { debounce: 250, inspect: { maxNodes: 50_000 }, signal };
 */
export interface WatchInspectionsOptions {
  /** How long after a change the next inspection starts, ms, so a burst of changes is read once. Default 100. */
  debounce?: number;
  /** How long to wait after a failed inspection (e.g. the connection is lost) before trying again, ms. Default 1000. */
  retryDelay?: number;
  /** Options of each `inspect` (bounds, the servers asked with `cons`); its signal is this one. */
  inspect?: Omit<InspectOptions, 'signal'>;
  /** Ends the iteration (the watch is removed). The way to stop it: the generator may be waiting for a change. */
  signal?: AbortSignal;
}

/**
 * Inspect `path` now and after every change under it, until `signal` aborts or the client is
 * closed. Yields an update per inspection (or per failed attempt, with its error); invalid
 * `inspect` options reject the iteration.
 *
 * @example
 *   const stop = new AbortController();
 *   for await (const { inspection, error } of watchInspections(zk, '/app', { signal: stop.signal })) {
 *     if (inspection) console.log(inspection.recipes.map((r) => `${r.kind} ${r.path}`).join('\n'));
 *     else console.error(`inspection failed: ${error.message}`);
 *   }
 */
export async function* watchInspections(
  client: ZooKeeperClient,
  path = '/',
  options: WatchInspectionsOptions = {},
): AsyncGenerator<InspectionUpdate, void, undefined> {
  validatePath(path, 'watchInspections');
  const debounce = checkDuration(options.debounce ?? 100, { op: 'watchInspections' }, 'debounce');
  const retryDelay = checkDuration(options.retryDelay ?? 1000, { op: 'watchInspections' }, 'retryDelay');
  const { signal } = options;
  let dirty = true;
  let changed: (() => void) | undefined;
  // Any event — a node change, or the None event of a reconnect or a new session — means re-read.
  const listener: WatchListener = () => {
    dirty = true;
    changed?.();
    changed = undefined;
  };
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const sleep = async (ms: number) => {
    let timer: Timer | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = startTimer(ms, resolve))), aborted]);
    timer?.cancel();
  };
  let watching = false;
  try {
    while (!signal?.aborted) {
      if (!watching) {
        try {
          // Registered before the first read, so no change after that read goes unseen.
          await client.addWatch(path, listener, { recursive: true });
          watching = true;
        } catch (error) {
          if (error instanceof ClientClosedError || signal?.aborted) return;
          yield { inspection: null, error: error as Error };
          await sleep(retryDelay);
          continue;
        }
        dirty = true;
      } else {
        if (!dirty) await Promise.race([new Promise<void>((resolve) => (changed = resolve)), aborted]);
        // Changes during the pause join this round.
        await sleep(debounce);
        if (signal?.aborted) return;
      }
      dirty = false;
      let update: InspectionUpdate;
      try {
        update = { inspection: await inspect(client, path, { ...options.inspect, signal }), error: null };
      } catch (error) {
        if (error instanceof ClientClosedError || signal?.aborted) return;
        if (error instanceof InvalidArgumentError) throw error; // bad options fail every time
        update = { inspection: null, error: error as Error };
        dirty = true;
      }
      yield update;
      if (update.error) await sleep(retryDelay);
    }
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (watching) await client.removeWatches(path, 'persistentRecursive', listener).catch(() => {});
  }
}
