/**
 * A FIFO ring buffer for requests awaiting their reply. Replies come back in request order
 * (ClientCnxn's pendingQueue), so matching is "compare with the head"; a ring buffer keeps push and
 * shift O(1) without the array re-indexing `Array#shift` does on long queues.
 */
export class PendingQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    this.items = new Array<T | undefined>(Math.max(1, initialCapacity));
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  /** Remove and return everything, oldest first. */
  drain(): T[] {
    const all: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) all.push(item);
    return all;
  }

  private grow(): void {
    const grown = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) grown[i] = this.items[(this.head + i) % this.items.length];
    this.items = grown;
    this.head = 0;
  }
}
