import type { Stat } from '../../client/protocol/records.js';

/** Entries not to choose: locked by someone else, or tried already. */
export interface Taken {
  has(name: string): boolean;
}

/**
 * A LockingQueue's listing of `<path>/entries`: the names in order (priority, then sequence),
 * those before `head` consumed, and the directory's Stat when it was read (`since`).
 *
 * Entries created after that read are added from the queue's watch (`add`): a name counts as
 * created since the listing when its sequence number is at least the number of children ever
 * created under `entries` then — ZooKeeper numbers a sequential child by that count, which a
 * Stat shows as (cversion + numChildren) / 2 (`cversion` counts creates and deletes; see
 * ZooKeeper's DataNode.copyStat). `covers` then tells from a later Stat of the directory
 * whether every entry created up to that Stat's state is listed: the Stat counts the creates
 * since the listing, (Δcversion + ΔnumChildren) / 2, and the watch's events arrive in the order
 * of the changes, before any reply that shows them; so once as many creates up to that Stat's
 * state (numbered below its count) were added as the Stat counts, none up to its state is
 * missing. Later ones the watch added already (their events came after that reply) do not
 * count: they could stand in for one it missed. A listing read without the watch in place, or
 * whose watch was resynced (a reconnect, a new session) or removed, is `followed` no more, and
 * `covers` says no to any create since.
 */
export class EntryListing {
  readonly names: string[];
  head = 0;
  /** The directory's Stat that `names` (with `created`) is complete for. */
  private since: Stat;
  /** Entries added since `since`, by the watch. */
  private readonly created = new Set<string>();

  /** `followed`: the watch was in place when the listing was read (sent before it). */
  constructor(
    names: string[],
    since: Stat,
    private followed: boolean,
  ) {
    this.names = names.sort();
    this.since = since;
  }

  /** The watch may have missed an event (resynced or removed): creates since can no longer be counted. */
  unfollow(): void {
    this.followed = false;
  }

  /** Whether every listed entry was consumed. */
  get empty(): boolean {
    return this.head >= this.names.length;
  }

  /**
   * The entries a consumer may lock next: the first not locked by someone else (`taken`: the
   * others' locks and what was tried already), or, with `spread` > 1, up to `spread` of them,
   * all of the first one's priority. Consumers who choose at the same moment draw among these
   * (`pick`), so that they seldom race for the same entry; alone (spread 1) a consumer takes
   * them strictly in order, as kazoo's does.
   */
  choices(taken: Taken, spread = 1): string[] {
    const choices: string[] = [];
    for (let i = this.head; i < this.names.length && choices.length < spread; i++) {
      const name = this.names[i]!;
      if (taken.has(name)) continue;
      if (choices.length > 0 && !samePriority(name, choices[0]!)) break;
      choices.push(name);
    }
    return choices;
  }

  /** One of `choices(taken, spread)`, drawn by `random` (0 ≤ r < 1); undefined when there is none. */
  pick(taken: Taken, spread = 1, random: () => number = Math.random): string | undefined {
    const choices = this.choices(taken, spread);
    return choices[Math.floor(random() * choices.length)];
  }

  /** Drop a consumed (or vanished) entry; usually the first, so the common case is O(1). */
  remove(name: string): void {
    if (this.names[this.head] === name) {
      this.head++;
      return;
    }
    const index = this.indexAfter(name) - 1; // binary search: the watch removes what we consumed a second time
    if (index >= this.head && this.names[index] === name) this.names.splice(index, 1);
  }

  /**
   * An entry the watch saw created: listed in its place once (not again when listed already, or
   * consumed from the head), and counted if created since the listing.
   */
  add(name: string): void {
    if (sequenceOf(name) >= createsBefore(this.since)) this.created.add(name);
    const index = this.indexAfter(name);
    if (this.names[index - 1] !== name) this.names.splice(index, 0, name);
  }

  /**
   * Whether the listing holds every entry created up to the state `stat` (a later Stat of the
   * directory) shows; if so, it is complete for `stat` from now on.
   */
  covers(stat: Stat): boolean {
    if (stat.czxid !== this.since.czxid) return false; // `entries` was deleted and made again
    const until = createsBefore(stat);
    const created = until - createsBefore(this.since);
    if (created <= 0) return true; // no create since (an older Stat: complete for it already)
    if (!this.followed) return false;
    // Only those created up to `stat` count: the watch may have added later ones already (events
    // that came after the check's reply), and they must not stand in for one it missed.
    const upTo = [...this.created].filter((name) => sequenceOf(name) < until);
    if (upTo.length < created) return false;
    this.since = stat;
    for (const name of upTo) this.created.delete(name);
    return true;
  }

  /** The index of the first name after `name` at or past `head` (binary search). */
  private indexAfter(name: string): number {
    let low = this.head;
    let high = this.names.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.names[middle]! <= name) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** The sequence number ZooKeeper appended to a name (10 digits), or -1 when it has none. */
function sequenceOf(name: string): number {
  const digits = name.slice(-10);
  return name.length > 10 && /^\d{10}$/.test(digits) ? Number(digits) : -1;
}

/** How many children were ever created under the node with Stat `stat`: the next sequential child's number. */
function createsBefore(stat: Stat): number {
  return (stat.cversion + stat.numChildren) / 2;
}

/** Whether two entry names have the same priority (`entry-<PPP>-`: what comes before the sequence number). */
function samePriority(a: string, b: string): boolean {
  return a.length === b.length && a.slice(0, -10) === b.slice(0, -10);
}
