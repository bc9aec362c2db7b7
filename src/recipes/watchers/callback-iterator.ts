/**
 * Turns a callback-driven watch (DataWatch, ChildrenWatch) into an async iterator with
 * backpressure: the watch's function resolves only once the consumer has taken the value, so
 * at most one value is buffered and the watch's next read reflects the latest state.
 */
import type { WatchStopReason } from './data-watch.js';

/** What the iterator needs from a watch. */
export interface StoppableWatch {
  readonly stopped: Promise<WatchStopReason>;
  readonly error: unknown;
  stop(): Promise<void>;
}

export function callbackIterator<T>(
  start: (push: (value: T) => Promise<void>) => StoppableWatch,
  signal: AbortSignal | undefined,
): AsyncIterableIterator<T> {
  const buffered: { value: T; taken: () => void }[] = [];
  let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  let watch: StoppableWatch | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  /** The watch stopped by itself (function returned false, node gone, client closed). */
  let ended = false;

  const end = async (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      signal?.removeEventListener('abort', onAbort);
      for (const { taken } of buffered.splice(0)) taken();
      waiting?.resolve({ value: undefined, done: true });
      waiting = undefined;
    }
    await watch?.stop();
    return { value: undefined, done: true };
  };
  const onAbort = () => void end();

  const push = (value: T) =>
    new Promise<void>((taken) => {
      if (done) return taken();
      if (waiting) {
        const { resolve } = waiting;
        waiting = undefined;
        resolve({ value, done: false });
        taken();
      } else buffered.push({ value, taken });
    });

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<T>> {
      if (signal?.aborted) return end();
      const head = buffered.shift();
      if (head) {
        head.taken();
        return { value: head.value, done: false };
      }
      if (failure) {
        const { error } = failure;
        failure = undefined;
        await end();
        throw error;
      }
      if (done) return { value: undefined, done: true };
      if (ended) return end();
      if (watch === undefined) {
        signal?.addEventListener('abort', onAbort, { once: true });
        const started = start(push);
        watch = started;
        void started.stopped.then((reason) => {
          if (reason === 'error') {
            if (waiting) {
              const { reject } = waiting;
              waiting = undefined;
              void end();
              reject(started.error);
            } else failure = { error: started.error };
          } else {
            ended = true;
            if (waiting) void end();
          }
        });
        // The first value may already be there.
        const first = buffered.shift();
        if (first) {
          first.taken();
          return { value: first.value, done: false };
        }
      }
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return: end,
  };
}
