/**
 * Listeners: a recipe's events (a LeaderLatch's isLeader/notLeader, a SharedValue's changes) fanned
 * out to any number of async iterators, Curator's listener container in TypeScript idiom. Each
 * iterator buffers what it has not taken yet (events are few: state transitions, value changes);
 * it ends when its `signal` aborts, the consumer stops (`break` / `return()`), or the recipe ends
 * (`end()`, e.g. `close()`). Not exported from the package.
 */
export class Listeners<T> {
  private readonly subscribers = new Set<Subscriber<T>>();
  private ended = false;

  /** Deliver `event` to every iterator open now. */
  emit(event: T): void {
    for (const subscriber of this.subscribers) subscriber.push(event);
  }

  /** End every iterator (after what it buffered); later ones end at once. */
  end(): void {
    this.ended = true;
    for (const subscriber of this.subscribers) subscriber.finish();
    this.subscribers.clear();
  }

  /** A new iterator of the events emitted from now on. */
  iterate(signal?: AbortSignal): AsyncIterableIterator<T> {
    const subscriber = new Subscriber<T>(() => {
      this.subscribers.delete(subscriber);
      signal?.removeEventListener('abort', stop);
    });
    const stop = () => subscriber.finish();
    if (this.ended || signal?.aborted) subscriber.finish();
    else {
      this.subscribers.add(subscriber);
      signal?.addEventListener('abort', stop, { once: true });
    }
    return subscriber;
  }
}

class Subscriber<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private done = false;

  constructor(private readonly detach: () => void) {}

  push(event: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
    } else this.buffered.push(event);
  }

  /** No more events: what is buffered is still delivered, then the iteration ends. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) return Promise.resolve({ value: this.buffered.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffered.length = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
