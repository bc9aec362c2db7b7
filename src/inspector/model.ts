/**
 * The inspector's model: what `inspect(client, path)` returns, what `inspect --json` prints and
 * what the live web view receives. Plain JSON data (strings, numbers, arrays) so the three are the
 * same bytes; times are ISO-8601 strings, session ids `0x…` hex as zkCli prints them.
 *
 * A recipe is recognised from its znode layout — ours (kazoo's) or Apache Curator's — not from who
 * wrote it, so a kazoo or Curator process holding a lock shows exactly like one of ours.
 */

/** Which library's layout a recipe's nodes follow. Ours writes kazoo's layout unless `naming: 'curator'`. */
export type RecipeLayout = 'kazoo' | 'curator';

/** The recipe families the inspector recognises. */
export type RecipeKind =
  | 'lock'
  | 'read-write-lock'
  | 'semaphore'
  | 'election'
  | 'leader-latch'
  | 'queue'
  | 'locking-queue'
  | 'party'
  | 'partitioner'
  | 'counter'
  | 'barrier'
  | 'double-barrier'
  | 'lease'
  | 'service'
  | 'group'
  | 'ttl-node'
  | 'persistent-node';

/** One contender node: a holder, a waiter, a member or a candidate. */
export interface Participant {
  /** The identifier the contender wrote as its node's data (kazoo) or id (Curator), when it wrote one. */
  identifier: string | null;
  /** The owning session (`0x…`) of the ephemeral node; null for a persistent node. */
  sessionId: string | null;
  /** The node's name under the recipe's path (e.g. `_c_…-lock-0000000003`). */
  node: string;
  /** When the node was created (its ctime), ISO-8601. */
  since: string;
  /** The client address (`host:port`) of the owning session, from the `cons` four-letter word when allowed. */
  client?: string;
  /** For read-write locks: which side this contender is on. */
  mode?: 'read' | 'write';
  /**
   * The node's data where it is a payload rather than the identifier (a group member's, a
   * persistent node's), shown short: UTF-8 text cut to 64 characters (`…`), else the first 16
   * bytes as `0x…` hex; absent when empty.
   */
  data?: string;
}

/** A node that no live contender explains: left behind by a dead session or a crashed recipe. */
export interface StaleLeftover {
  /** The node's full path. */
  path: string;
  /** Why it is stale, in a sentence (e.g. "its session 0x… has expired", "lock directory with no contenders"). */
  reason: string;
}

/** What every recognised recipe carries. */
export interface RecipeBase {
  kind: RecipeKind;
  /** The recipe's path (the lock directory, the election path, the queue path, …). */
  path: string;
  layout: RecipeLayout;
  /** In grant order: the lock holder(s), the leader, the lease holders. */
  holders: Participant[];
  /** In queue order: who waits next. */
  waiters: Participant[];
  stale: StaleLeftover[];
}

/** A mutex (kazoo `Lock`, Curator `InterProcessMutex`, a leader election's contenders). */
export interface LockRecipe extends RecipeBase {
  kind: 'lock' | 'read-write-lock' | 'election' | 'leader-latch';
}

/** A counting semaphore: `holders` are the leases. */
export interface SemaphoreRecipe extends RecipeBase {
  kind: 'semaphore';
  /** The maximum number of leases when the layout records it (kazoo stores it on the path), else null. */
  maxLeases: number | null;
}

/** A queue: `holders` are the items being worked on (locked/taken), `waiters` the items still queued. */
export interface QueueRecipe extends RecipeBase {
  kind: 'queue' | 'locking-queue';
  /** Items waiting to be taken. */
  depth: number;
  /** Items taken (a consumer holds them) and not yet consumed. */
  taken: number;
}

/**
 * A group of members (`holders` are the member nodes): a party, a double barrier's arrivals, or
 * a Curator GroupMember group (`group`: identifier = the member id, `data` = its payload).
 */
export interface GroupRecipe extends RecipeBase {
  kind: 'party' | 'barrier' | 'double-barrier' | 'group';
  /** The members' identifiers, in node order (a `group`'s: by member id). */
  members: string[];
}

/** One item of a SetPartitioner's set and who holds its lock. */
export interface PartitionItem {
  /** The item, as its lock directory's name under `<path>/locks`. */
  item: string;
  /** The contender holding the item's lock, or null while nobody does. */
  holder: Participant | null;
  /** Contenders queued behind the holder, in order. */
  waiters: Participant[];
}

/** A SetPartitioner (kazoo): `holders` are the party members, `items` the split of the set. */
export interface PartitionerRecipe extends RecipeBase {
  kind: 'partitioner';
  /** The members' identifiers, in node order. */
  members: string[];
  /** Every item that has a lock directory, with its holder: the current split. */
  items: PartitionItem[];
}

/** A shared counter. */
export interface CounterRecipe extends RecipeBase {
  kind: 'counter';
  /** The decoded value, or null when the data is not a counter encoding the inspector knows. */
  value: number | string | null;
}

/** A lease (kazoo `NonBlockingLease`): `holders` has the holder while the lease is unexpired. */
export interface LeaseRecipe extends RecipeBase {
  kind: 'lease';
  /** When the lease ends, ISO-8601, or null when none is held. */
  expires: string | null;
}

/** One service name of a Curator-compatible service registry: `holders` are its instances. */
export interface ServiceRecipe extends RecipeBase {
  kind: 'service';
  /** The service's name. */
  name: string;
  /** The registered instances' addresses (`address:port`), in node order. */
  instances: string[];
}

/**
 * A Curator PersistentTtlNode: a TTL node kept alive by touching its `touch` child. Both are
 * persistent (TTL) nodes, so no session owns them: `holders` is empty.
 */
export interface TtlNodeRecipe extends RecipeBase {
  kind: 'ttl-node';
  /** When the `touch` child was last written (its mtime), ISO-8601. */
  touched: string;
  /** What the last touch wrote: the toucher's host address, null when empty. */
  touchedBy: string | null;
  /** The node's own data, shown short as a participant's `data`; null when empty. */
  data: string | null;
}

/**
 * A Curator PersistentNode made with protection: one ephemeral `_c_<uuid>-<name>` (`path` is
 * that node) that is no lock, latch or lease. `holders` is the node with its owning session.
 */
export interface PersistentNodeRecipe extends RecipeBase {
  kind: 'persistent-node';
  /** The name the node was asked for, without the `_c_<uuid>-` protection prefix. */
  name: string;
}

/** One recognised recipe. */
export type InspectedRecipe =
  | LockRecipe
  | SemaphoreRecipe
  | QueueRecipe
  | GroupRecipe
  | PartitionerRecipe
  | CounterRecipe
  | LeaseRecipe
  | ServiceRecipe
  | TtlNodeRecipe
  | PersistentNodeRecipe;

/** What one inspection found. */
export interface Inspection {
  /** The path inspected ("/" for the whole tree). */
  path: string;
  /** When the inspection read the tree, ISO-8601. */
  at: string;
  /** Every recipe found under `path`, sorted by path. */
  recipes: InspectedRecipe[];
  /** How many znodes were read. */
  nodes: number;
  /** True when the walk stopped at the `maxNodes` bound: recipes beyond it are missing. */
  truncated: boolean;
  /**
   * Whether the servers' live sessions were known (the `cons` four-letter word is whitelisted):
   * only then are `client` addresses filled in and contenders of dead sessions flagged.
   */
  sessionsKnown: boolean;
}
