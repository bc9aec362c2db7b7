/**
 * `inspect(client, path)`: read a subtree once and say which recipes live there, who holds and
 * who waits, since when, from which client, and what is left over. Read-only: it never writes.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { InvalidArgumentError } from '../client/errors.js';
import { validatePath } from '../client/paths.js';
import type { Inspection } from './model.js';
import { recognise } from './recognise.js';
import { liveSessions, sessionHex } from './sessions.js';
import { readTree } from './tree.js';

/** Options of `inspect`: bounds of the walk and where to ask for live sessions. */
export interface InspectOptions {
  /** Stop reading after this many znodes (`truncated` then says so). Default 10,000. */
  maxNodes?: number;
  /** Reads in flight at once. Default 64. */
  concurrency?: number;
  /** The most items listed per queue (its `depth` counts all). Default 100. */
  maxItems?: number;
  /**
   * Servers (`host:port`) asked for their connections with the `cons` four-letter word (each
   * lists only its own connections). Default: every server of the client's connect string
   * (`client.servers`, the same ensemble). Unless every one answers, no address is shown and no
   * session is called dead. `[]`: ask nobody.
   */
  servers?: readonly string[];
  /** Timeout of each four-letter word, ms. Default 5000. */
  fourLetterWordTimeout?: number;
  /** Abort the walk: rejects with the signal's reason. */
  signal?: AbortSignal;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(value)}`, {
      op: 'inspect',
    });
  return value;
}

/**
 * Inspect the recipes under `path` (the whole tree by default): locks and elections with their
 * holders and waiters in order, semaphores, queues, parties, partitioners, counters, leases,
 * service instances, GroupMember groups, TTL nodes and protected PersistentNodes, in kazoo's (ours)
 * or Curator's layout. Each ephemeral's owning session is
 * matched to its client address through `cons` when the servers allow it, and contenders whose
 * session no server knows are flagged stale.
 *
 * @example
 * ```ts
 * const inspection = await inspect(zk, '/locks');
 * for (const recipe of inspection.recipes)
 *   console.log(recipe.kind, recipe.path, recipe.holders.map((h) => h.identifier));
 * ```
 */
export async function inspect(
  client: ZooKeeperClient,
  path = '/',
  options: InspectOptions = {},
): Promise<Inspection> {
  validatePath(path);
  const maxNodes = positiveInteger(options.maxNodes, 10_000, 'maxNodes');
  const concurrency = positiveInteger(options.concurrency, 64, 'concurrency');
  const maxItems = positiveInteger(options.maxItems, 100, 'maxItems');
  const servers = options.servers ?? client.servers;
  const at = new Date();
  const [tree, sessions] = await Promise.all([
    readTree(client, path, { maxNodes, concurrency, signal: options.signal }),
    liveSessions(servers, options.fourLetterWordTimeout ?? 5000),
  ]);
  const recipes = recognise({
    tree,
    sessions,
    ownSession: sessionHex(client.sessionId),
    maxItems,
    now: at.getTime(),
  });
  return {
    path,
    at: at.toISOString(),
    recipes,
    nodes: tree.nodes.size,
    truncated: tree.truncated,
    sessionsKnown: sessions !== undefined,
  };
}
