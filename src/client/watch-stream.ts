/**
 * `client.watch(path)`: a persistent (by default recursive) watch as an async iterator.
 *
 * Besides node events it yields `{ type: 'resync' }` whenever events may have been missed:
 * after a reconnect (the server does not replay persistent-watch events) and after a session
 * loss. A consumer re-reads whatever it tracks on `resync`. Events are buffered while the
 * consumer is busy (unbounded: consume promptly, or stop the iteration).
 */
import { AbortError } from './errors.js';
import { EventType, KeeperState, type WatchEvent, type WatchListener } from './states.js';

/** Emitted by a `watch()` stream after a reconnect: events may have been missed, re-read what you keep. */
export interface ResyncEvent {
  type: 'resync';
  path: string;
  /** `reconnected`: same session, events may be missing; `sessionLost`: a new session, ephemerals and one-shot watches are gone. */
  reason: 'reconnected' | 'sessionLost';
}

/** What a `watch()` stream yields: a watch event, or a resync marker. */
export type StreamEvent = WatchEvent | ResyncEvent;

/** Options of `watch()`: recursive or not, and a signal that ends the stream. */
export interface WatchStreamOptions {
  /** Also watch every descendant (default true). */
  recursive?: boolean;
  /** Ends the iteration (the watch is removed). */
  signal?: AbortSignal;
}

/** What the stream needs from the client. */
export interface WatchStreamHost {
  addWatch(path: string, listener: WatchListener, options: { recursive: boolean }): Promise<void>;
  removeWatches(
    path: string,
    type: 'persistent' | 'persistentRecursive',
    listener: WatchListener,
  ): Promise<void>;
}

export function watchStream(
  host: WatchStreamHost,
  path: string,
  options: WatchStreamOptions = {},
): AsyncIterableIterator<StreamEvent> {
  const recursive = options.recursive ?? true;
  const { signal } = options;
  const buffered: StreamEvent[] = [];
  let waiting: ((result: IteratorResult<StreamEvent>) => void) | undefined;
  let done = false;
  let started: Promise<void> | undefined;

  const push = (event: StreamEvent) => {
    if (done) return;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: event, done: false });
    } else buffered.push(event);
  };
  const listener: WatchListener = (event) => {
    if (event.type !== EventType.None) push(event);
    else if (event.state === KeeperState.EXPIRED_SESSION)
      push({ type: 'resync', path, reason: 'sessionLost' });
    else if (event.state === KeeperState.CONNECTED || event.state === KeeperState.CONNECTED_RO)
      push({ type: 'resync', path, reason: 'reconnected' });
  };
  const finish = async (): Promise<IteratorResult<StreamEvent>> => {
    if (!done) {
      done = true;
      signal?.removeEventListener('abort', onAbort);
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
      if (started) {
        await started.catch(() => {});
        await host
          .removeWatches(path, recursive ? 'persistentRecursive' : 'persistent', listener)
          .catch(() => {});
      }
    }
    return { value: undefined, done: true };
  };
  const onAbort = () => void finish();
  signal?.addEventListener('abort', onAbort, { once: true });

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<StreamEvent>> {
      if (signal?.aborted && !done) {
        await finish();
        throw new AbortError(signal.reason, { op: 'watch', path });
      }
      if (buffered.length > 0) return { value: buffered.shift()!, done: false };
      if (done) return { value: undefined, done: true };
      started ??= host.addWatch(path, listener, { recursive });
      await started;
      if (buffered.length > 0) return { value: buffered.shift()!, done: false };
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
  };
}
