/**
 * Recognising recipes from znode layouts, kazoo's (which ours writes) and Apache Curator's. Each
 * recogniser looks at one node and its children as read by `readTree`; the first that matches
 * claims the node's whole subtree, so a recipe's parts (a queue's entries, a semaphore's internal
 * lock, a partitioner's item locks) are never reported as recipes of their own.
 *
 * Layouts (kazoo 2.8 `kazoo/recipe/*.py`; Curator 5 `curator-recipes`, `curator-x-discovery`):
 * - kazoo Lock / Election `<path>/<32hex>__lock__<seq>`, ReadLock `__rlock__`; Curator
 *   InterProcessMutex / LeaderSelector `_c_<uuid>-lock-<seq>`, InterProcessReadWriteLock
 *   `_c_<uuid>-__READ__<seq>` / `-__WRIT__<seq>`, LeaderLatch `_c_<uuid>-latch-<seq>`.
 *   Only LeaderLatch is an election by its layout. kazoo's Election is exactly kazoo's Lock on
 *   the election path (`__lock__`, data = identifier) and Curator's LeaderSelector (ours too, with
 *   `naming: 'curator'`) exactly InterProcessMutex's (`_c_<uuid>-lock-`), so no layout tells them
 *   from a lock: a lock whose path's name says `leader` or `elect` is reported as an election.
 * - kazoo Semaphore: `<path>` (data = max leases), leases `<path>/<32hex>`, internal lock `<path>-__lock__`.
 *   Curator InterProcessSemaphoreV2: `<path>/leases/_c_<uuid>-lease-<seq>`, `<path>/locks/…-lock-…`.
 * - kazoo Queue `<path>/entry-<PPP>-<seq>`; LockingQueue `<path>/entries`, `<path>/taken`;
 *   Curator DistributedQueue `queue-<seq>`, SimpleDistributedQueue `qn-<seq>`.
 * - kazoo Party `<32hex>__party__`, ShallowParty `<32hex>-<id>`, SetPartitioner `<path>/party`
 *   + `<path>/locks/<item>`, DoubleBarrier `<path>/<32hex>` (+ `ready`), NonBlockingLease
 *   `<path>/lease_holder`, Counter (`<path>` data = Python's repr); Curator SharedCount (4-byte
 *   big-endian int32); service discovery `<base>/<name>/<id>`, data = a JSON ServiceInstance.
 * - Curator GroupMember `<membershipPath>/<memberId>` (ephemeral, data = payload); PersistentTtlNode
 *   `<path>` + `<path>/touch` (both TTL nodes, touch data = the toucher's host address);
 *   PersistentNode with protection `<parent>/_c_<uuid>-<name>`.
 */
import { isIP } from 'node:net';
import { joinPath } from '../client/paths.js';
import { COUNTER_MARKER_PREFIX } from '../recipes/counter/counter.js';
import { decodeLease } from '../recipes/lease/non-blocking-lease.js';
import {
  contenderPattern,
  CURATOR_LATCH_NAME,
  CURATOR_LOCK_NAME,
  CURATOR_MARKERS,
  CURATOR_READ_NAME,
  CURATOR_WRITE_NAME,
  LOCK_NAME,
  READ_LOCK_NAME,
  sortedContenders,
  type Contender,
} from '../recipes/lock/contenders.js';
import { TOUCH_NAME } from '../recipes/node/persistent-ttl-node.js';
import { PARTY_NODE_NAME } from '../recipes/party/party.js';
import { unprotectedName } from '../recipes/protected-name.js';
import type {
  InspectedRecipe,
  LockRecipe,
  Participant,
  PartitionItem,
  RecipeLayout,
  StaleLeftover,
} from './model.js';
import { sessionHex, type SessionAddresses } from './sessions.js';
import type { Tree, TreeNode } from './tree.js';

/** What the recognisers share: the tree, the live sessions (when known) and our own session. */
export interface RecogniseContext {
  tree: Tree;
  /** Live sessions → client address; undefined when `cons` was not allowed. */
  sessions: SessionAddresses | undefined;
  /** The inspecting client's own session, live by definition. */
  ownSession: string;
  /** The most queue items listed per queue (depth counts them all). */
  maxItems: number;
  now: number;
}

const KAZOO_LOCK = contenderPattern([LOCK_NAME]);
const KAZOO_RW = contenderPattern([LOCK_NAME, READ_LOCK_NAME]);
const KAZOO_READ = contenderPattern([READ_LOCK_NAME]);
const CURATOR_LOCK = contenderPattern([CURATOR_LOCK_NAME]);
const ANY_LOCK = contenderPattern([LOCK_NAME, CURATOR_LOCK_NAME]);
const CURATOR_RW = contenderPattern([CURATOR_READ_NAME, CURATOR_WRITE_NAME]);
const CURATOR_LATCH = contenderPattern([CURATOR_LATCH_NAME]);
/** Curator InterProcessSemaphoreV2's `LEASE_BASE_NAME`. */
const CURATOR_LEASE = contenderPattern(['lease-']);
const SEMAPHORE_LOCK_SUFFIX = '-__lock__';
const HEX32 = /^[0-9a-f]{32}$/;
const KAZOO_ENTRY = /^entry-\d{3}-\d{10}$/;
const CURATOR_QUEUE = /^(?:queue-|qn-)/;
const KAZOO_COUNTER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ELECTION_NAME = /leader|elect/i;
/** A protected node of Curator's lock, read-write lock, latch or semaphore lease. */
const CURATOR_CONTENDER = contenderPattern([...CURATOR_MARKERS, 'lease-']);
/** A sequential node's name: the server's 10-digit counter at its end. */
const SEQUENTIAL = /\d{10}$/;
/** kazoo's lock, party, shallow party, semaphore and barrier nodes start with a uuid4's 32 hex digits. */
const KAZOO_NODE = /^[0-9a-f]{32}/;
/** The most characters of a node's data shown (`shownData`). */
const SHOWN_CHARS = 64;
/** The most bytes of binary data shown, as hex. */
const SHOWN_BYTES = 16;

/** A child node of `node`, if read. */
function child(ctx: RecogniseContext, node: TreeNode, name: string): TreeNode | undefined {
  return ctx.tree.nodes.get(joinPath(node.path, name));
}

function text(data: Buffer): string | null {
  return data.length === 0 ? null : data.toString('utf8');
}

/**
 * Node data as the inspector shows a payload: text when it is UTF-8 without control characters
 * (line breaks and tabs become spaces), cut to 64 characters; else the first 16 bytes as `0x…`
 * hex; null when empty. A `…` ends what was cut.
 */
function shownData(data: Buffer): string | null {
  if (data.length === 0) return null;
  let decoded: string | undefined;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(data).replace(/[\t\r\n]/g, ' ');
  } catch {
    decoded = undefined; // not UTF-8
  }
  if (decoded !== undefined && !/\p{Cc}/u.test(decoded)) {
    const chars = [...decoded];
    return chars.length > SHOWN_CHARS ? `${chars.slice(0, SHOWN_CHARS - 1).join('')}…` : decoded;
  }
  return `0x${data.subarray(0, SHOWN_BYTES).toString('hex')}${data.length > SHOWN_BYTES ? '…' : ''}`;
}

/** One contender node as a participant: identifier, owning session, client address, since. */
function participant(
  ctx: RecogniseContext,
  node: TreeNode,
  identifier: string | null = text(node.data),
): Participant {
  const owner = node.stat.ephemeralOwner;
  const sessionId = owner === 0n ? null : sessionHex(owner);
  const result: Participant = {
    identifier,
    sessionId,
    node: node.name,
    since: new Date(node.stat.ctime).toISOString(),
  };
  const client = sessionId === null ? undefined : ctx.sessions?.get(sessionId);
  if (client !== undefined) result.client = client;
  return result;
}

/** A participant whose node's data is a payload (`data`), not its identifier. */
function member(ctx: RecogniseContext, node: TreeNode, identifier: string): Participant {
  const who = participant(ctx, node, identifier);
  const data = shownData(node.data);
  if (data !== null) who.data = data;
  return who;
}

/** Why a contender node is stale, if it is: persistent, or owned by a session no server has. */
function staleContender(ctx: RecogniseContext, node: TreeNode): StaleLeftover | undefined {
  const owner = node.stat.ephemeralOwner;
  if (owner === 0n)
    return {
      path: node.path,
      reason: 'a persistent contender node: no session end removes it, so it stays until deleted',
    };
  const id = sessionHex(owner);
  if (ctx.sessions !== undefined && id !== ctx.ownSession && !ctx.sessions.has(id))
    return {
      path: node.path,
      reason: `its session ${id} is not connected to any server (a dead client; the server deletes the node when the session expires)`,
    };
  return undefined;
}

/** The participants of `contenders` under `dir`, and the stale ones among them. */
function contendersOf(
  ctx: RecogniseContext,
  dir: TreeNode,
  contenders: readonly Contender[],
): { nodes: TreeNode[]; stale: StaleLeftover[] } {
  const nodes: TreeNode[] = [];
  const stale: StaleLeftover[] = [];
  for (const { name } of contenders) {
    const node = child(ctx, dir, name);
    if (!node) continue; // deleted while reading, or beyond maxNodes
    nodes.push(node);
    const leftover = staleContender(ctx, node);
    if (leftover) stale.push(leftover);
  }
  return { nodes, stale };
}

function layoutOf(name: string): RecipeLayout {
  return name.startsWith('_c_') ? 'curator' : 'kazoo';
}

/** A mutex or read-write lock directory: holders in grant order, waiters in queue order. */
function lockRecipe(ctx: RecogniseContext, dir: TreeNode): LockRecipe | undefined {
  let kind: LockRecipe['kind'];
  let contenders: Contender[];
  let isRead: ((name: string) => boolean) | undefined;
  if ((contenders = sortedContenders(dir.children, CURATOR_RW)).length > 0) {
    kind = 'read-write-lock';
    isRead = (name) => name.includes(CURATOR_READ_NAME);
  } else if (sortedContenders(dir.children, KAZOO_READ).length > 0) {
    kind = 'read-write-lock';
    contenders = sortedContenders(dir.children, KAZOO_RW);
    isRead = (name) => KAZOO_READ.test(name);
  } else if ((contenders = sortedContenders(dir.children, CURATOR_LATCH)).length > 0) {
    kind = 'leader-latch';
  } else if ((contenders = sortedContenders(dir.children, ANY_LOCK)).length > 0) {
    kind = ELECTION_NAME.test(dir.name) ? 'election' : 'lock';
  } else return undefined;
  const { nodes, stale } = contendersOf(ctx, dir, contenders);
  const holders: Participant[] = [];
  const waiters: Participant[] = [];
  let writerAhead = false;
  nodes.forEach((node, index) => {
    const who = participant(ctx, node);
    if (isRead) {
      const read = isRead(node.name);
      who.mode = read ? 'read' : 'write';
      // A reader holds while no writer is ahead of it; a writer only when first (kazoo, Curator).
      const holds = read ? !writerAhead : index === 0;
      if (!read) writerAhead = true;
      (holds ? holders : waiters).push(who);
    } else (index === 0 ? holders : waiters).push(who);
  });
  return { kind, path: dir.path, layout: layoutOf(nodes[0]?.name ?? ''), holders, waiters, stale };
}

/** kazoo's Semaphore: `<path>` holds max leases, every child is a lease, `<path>-__lock__` the internal lock. */
function kazooSemaphore(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const lockDir = ctx.tree.nodes.get(dir.path + SEMAPHORE_LOCK_SUFFIX);
  const stored = dir.data.toString('utf8').trim();
  const numeric = /^\d+$/.test(stored);
  const leases = dir.children.map((name) => child(ctx, dir, name)).filter((n) => n !== undefined);
  if (!lockDir && !(numeric && leases.length > 0 && leases.every((n) => HEX32.test(n.name))))
    return undefined;
  if (leases.some((lease) => !HEX32.test(lease.name))) return undefined;
  leases.sort((a, b) => (a.stat.czxid < b.stat.czxid ? -1 : a.stat.czxid > b.stat.czxid ? 1 : 0));
  const stale = leases.map((lease) => staleContender(ctx, lease)).filter((s) => s !== undefined);
  const waiting = lockDir
    ? contendersOf(ctx, lockDir, sortedContenders(lockDir.children, KAZOO_LOCK))
    : undefined;
  if (waiting) stale.push(...waiting.stale);
  return {
    kind: 'semaphore',
    path: dir.path,
    layout: 'kazoo',
    holders: leases.map((lease) => participant(ctx, lease)),
    waiters: (waiting?.nodes ?? []).map((node) => participant(ctx, node)),
    stale,
    maxLeases: numeric ? Number(stored) : null,
  };
}

/** Curator's InterProcessSemaphoreV2: `leases/…-lease-<seq>` and its mutex `locks/`. */
function curatorSemaphore(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const leasesDir = child(ctx, dir, 'leases');
  const locksDir = child(ctx, dir, 'locks');
  if (!leasesDir || !locksDir) return undefined;
  const leases = contendersOf(ctx, leasesDir, sortedContenders(leasesDir.children, CURATOR_LEASE));
  const locks = contendersOf(ctx, locksDir, sortedContenders(locksDir.children, CURATOR_LOCK));
  return {
    kind: 'semaphore',
    path: dir.path,
    layout: 'curator',
    holders: leases.nodes.map((node) => participant(ctx, node)),
    waiters: locks.nodes.map((node) => participant(ctx, node)),
    stale: [...leases.stale, ...locks.stale],
    maxLeases: null, // Curator keeps it in the clients (or a SharedCount elsewhere), not in this layout
  };
}

/** kazoo's LockingQueue: `entries/entry-…`, a consumer's ephemeral `taken/<entry>`. */
function lockingQueue(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const entries = child(ctx, dir, 'entries');
  const taken = child(ctx, dir, 'taken');
  if (!entries || !taken) return undefined;
  const takenNames = new Set(taken.children);
  const available = entries.children.filter((name) => !takenNames.has(name));
  const stale: StaleLeftover[] = [];
  const holders: Participant[] = [];
  for (const name of taken.children) {
    const node = child(ctx, taken, name);
    if (!node) continue;
    holders.push(participant(ctx, node));
    const leftover = staleContender(ctx, node);
    if (leftover) stale.push(leftover);
    else if (!entries.children.includes(name))
      stale.push({ path: node.path, reason: `a taken entry whose item entries/${name} is gone` });
  }
  return {
    kind: 'locking-queue',
    path: dir.path,
    layout: 'kazoo',
    holders,
    waiters: itemsOf(ctx, entries, available),
    stale,
    depth: available.length,
    taken: taken.children.length,
  };
}

/** Queue items as waiters (persistent nodes: no session), the first `maxItems`. */
function itemsOf(ctx: RecogniseContext, dir: TreeNode, names: readonly string[]): Participant[] {
  return names
    .slice(0, ctx.maxItems)
    .map((name) => child(ctx, dir, name))
    .filter((node) => node !== undefined)
    .map((node) => participant(ctx, node, null));
}

/** kazoo's Queue (`entry-<PPP>-<seq>`) or Curator's DistributedQueue / SimpleDistributedQueue. */
function queue(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const kazoo = dir.children.some((name) => KAZOO_ENTRY.test(name));
  const items = dir.children.filter((name) => (kazoo ? KAZOO_ENTRY : CURATOR_QUEUE).test(name));
  // Besides items, only the recipes' per-attempt markers (`__take_op__…`, `__queue_op__…`).
  const markers = dir.children.filter((name) => name.startsWith('__')).length;
  if (items.length === 0 || items.length + markers !== dir.children.length) return undefined;
  return {
    kind: 'queue',
    path: dir.path,
    layout: kazoo ? 'kazoo' : 'curator',
    holders: [],
    waiters: itemsOf(ctx, dir, items),
    stale: [],
    depth: items.length,
    taken: 0,
  };
}

/** A ShallowParty member's identifier: its node name after the first `-`. */
function memberName(node: TreeNode): string {
  return node.name.slice(node.name.indexOf('-') + 1);
}

/**
 * kazoo's SetPartitioner: ShallowParty members in `party/`, one lock per item in `locks/<item>`.
 * An item lock directory with no contender is normal, not a leftover: its item is unheld during
 * a rebalance, and kazoo's Lock never deletes its directory after the partitioner releases.
 */
function partitioner(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const party = child(ctx, dir, 'party');
  const locks = child(ctx, dir, 'locks');
  if (!party || !locks) return undefined;
  const members = party.children.map((name) => child(ctx, party, name)).filter((n) => n !== undefined);
  const stale = members.map((node) => staleContender(ctx, node)).filter((s) => s !== undefined);
  const memberBySession = new Map(members.map((node) => [node.stat.ephemeralOwner, memberName(node)]));
  const items: PartitionItem[] = [];
  for (const item of locks.children) {
    const lockDir = child(ctx, locks, item);
    if (!lockDir) continue;
    const contenders = contendersOf(ctx, lockDir, sortedContenders(lockDir.children, KAZOO_LOCK));
    stale.push(...contenders.stale);
    // Item locks carry no identifier (kazoo's partitioner): name them after their session's member.
    const [holder, ...waiting] = contenders.nodes.map((node) =>
      participant(ctx, node, text(node.data) ?? memberBySession.get(node.stat.ephemeralOwner) ?? null),
    );
    items.push({ item, holder: holder ?? null, waiters: waiting });
  }
  return {
    kind: 'partitioner',
    path: dir.path,
    layout: 'kazoo',
    holders: members.map((node) => participant(ctx, node, memberName(node))),
    waiters: [],
    stale,
    members: members.map(memberName),
    items,
  };
}

/** kazoo's Party (`<32hex>__party__`) or DoubleBarrier (`<32hex>` participants, `ready`). */
function group(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const party = dir.children.filter((name) => name.includes(PARTY_NODE_NAME));
  const barrier = dir.children.filter((name) => HEX32.test(name));
  const others = dir.children.filter((name) => name !== 'ready' && !HEX32.test(name));
  const kind =
    party.length > 0 ? 'party' : barrier.length > 0 && others.length === 0 ? 'double-barrier' : undefined;
  if (!kind) return undefined;
  const nodes = (kind === 'party' ? party : barrier)
    .map((name) => child(ctx, dir, name))
    .filter((node) => node !== undefined)
    .sort((a, b) => (a.stat.czxid < b.stat.czxid ? -1 : a.stat.czxid > b.stat.czxid ? 1 : 0));
  const holders = nodes.map((node) => participant(ctx, node));
  return {
    kind,
    path: dir.path,
    layout: 'kazoo',
    holders,
    waiters: [],
    stale: nodes.map((node) => staleContender(ctx, node)).filter((s) => s !== undefined),
    members: holders.map((who) => who.identifier ?? ''),
  };
}

/** kazoo's NonBlockingLease: `<path>/lease_holder` (JSON), `<path>` also its lock directory. */
function lease(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  const holderNode = child(ctx, dir, 'lease_holder');
  if (!holderNode) return undefined;
  let holder: string | undefined;
  let expires: string | null = null;
  try {
    const stored = decodeLease(holderNode.data, holderNode.path);
    const end = Date.parse(`${stored.end}Z`);
    if (Number.isFinite(end) && end > ctx.now) {
      holder = stored.holder;
      expires = new Date(end).toISOString();
    }
  } catch {
    return undefined; // not a lease kazoo could read
  }
  const obtaining = contendersOf(ctx, dir, sortedContenders(dir.children, KAZOO_LOCK));
  return {
    kind: 'lease',
    path: dir.path,
    layout: 'kazoo',
    holders: holder === undefined ? [] : [participant(ctx, holderNode, holder)],
    waiters: obtaining.nodes.map((node) => participant(ctx, node)),
    stale: obtaining.stale,
    expires,
  };
}

interface ServiceInstance {
  name: string;
  id: string;
  address?: string;
  port?: number | null;
  sslPort?: number | null;
}

function serviceInstance(node: TreeNode): ServiceInstance | undefined {
  if (node.data.length === 0 || node.data[0] !== 0x7b /* { */) return undefined;
  try {
    const parsed = JSON.parse(node.data.toString('utf8')) as Partial<ServiceInstance> | null;
    if (typeof parsed?.name === 'string' && typeof parsed.id === 'string') return parsed as ServiceInstance;
  } catch {
    // not JSON: not an instance
  }
  return undefined;
}

/** Curator service discovery: `<base>/<name>/<id>`, data = a JSON ServiceInstance named `<name>`. */
function service(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  if (dir.children.length === 0) return undefined;
  const instances: { node: TreeNode; instance: ServiceInstance }[] = [];
  for (const name of dir.children) {
    const node = child(ctx, dir, name);
    if (!node) continue;
    const instance = serviceInstance(node);
    if (!instance || instance.name !== dir.name || instance.id !== name) return undefined;
    instances.push({ node, instance });
  }
  if (instances.length === 0) return undefined;
  return {
    kind: 'service',
    path: dir.path,
    layout: 'curator',
    holders: instances.map(({ node, instance }) => participant(ctx, node, instance.id)),
    waiters: [],
    stale: instances
      .map(({ node }) => (node.stat.ephemeralOwner === 0n ? undefined : staleContender(ctx, node)))
      .filter((s) => s !== undefined),
    name: dir.name,
    instances: instances.map(({ instance }) => {
      const port = instance.port ?? instance.sslPort;
      return port == null ? (instance.address ?? '') : `${instance.address ?? ''}:${port}`;
    }),
  };
}

/**
 * Curator's GroupMember: `<membershipPath>/<memberId>`, each an ephemeral node whose data is the
 * member's payload. Its layout is only "a directory of ephemerals", so this claims a directory
 * only when every child is one that no other layout writes: ephemeral (a persistent or TTL child
 * is not a member), not sequential (locks, latches, leases, queue locks), not protected
 * (`_c_<uuid>-`: a PersistentNode's), not kazoo's (`<32 hex>…`: its locks, parties, semaphores,
 * barriers) and no recipe marker (`__…`). Service instances are claimed before (JSON data).
 * Anything else is ambiguous and left unrecognised — but one case cannot be told apart: a
 * directory of unprotected ephemeral PersistentNodes (or of any process's fixed-name ephemerals)
 * is byte for byte what GroupMember writes, and shows as a group.
 */
function groupMembers(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  if (dir.children.length === 0) return undefined;
  const members: TreeNode[] = [];
  for (const name of dir.children) {
    const node = child(ctx, dir, name);
    if (
      !node || // not read: the group cannot be told from the rest
      node.stat.ephemeralOwner === 0n ||
      SEQUENTIAL.test(name) ||
      KAZOO_NODE.test(name) ||
      name.startsWith('__') ||
      unprotectedName(name) !== undefined
    )
      return undefined;
    members.push(node);
  }
  return {
    kind: 'group',
    path: dir.path,
    layout: 'curator',
    holders: members.map((node) => member(ctx, node, node.name)),
    waiters: [],
    stale: members.map((node) => staleContender(ctx, node)).filter((s) => s !== undefined),
    members: members.map((node) => node.name),
  };
}

/**
 * Curator's PersistentTtlNode: a node whose only child is `touch`, both persistent as the server
 * reports TTL nodes (ZooKeeper's `DataNode.getClientEphemeralOwner` shows a TTL node's owner as
 * 0, so neither the TTL nor the TTL kind can be read), the touch holding what our and Curator's
 * touch write: the toucher's host address, or nothing. A TTL node with a child of another name
 * (Curator's `childNodeName`) is not recognised.
 */
function ttlNode(ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  if (dir.children.length !== 1 || dir.children[0] !== TOUCH_NAME || dir.stat.ephemeralOwner !== 0n)
    return undefined;
  const touch = child(ctx, dir, TOUCH_NAME);
  if (!touch || touch.stat.numChildren > 0 || touch.stat.ephemeralOwner !== 0n) return undefined;
  const touchedBy = text(touch.data);
  if (touchedBy !== null && isIP(touchedBy) === 0) return undefined;
  return {
    kind: 'ttl-node',
    path: dir.path,
    layout: 'curator',
    holders: [], // TTL nodes are persistent: no session owns them
    waiters: [],
    stale: [],
    touched: new Date(touch.stat.mtime).toISOString(),
    touchedBy,
    data: shownData(dir.data),
  };
}

/**
 * Curator's PersistentNode with protection: an ephemeral `_c_<uuid>-<name>` leaf that is no
 * lock's, latch's or lease's node (those are claimed with their directory). Stale when its
 * session is on no server. A protected persistent node (no session to tell anything) is not
 * recognised.
 */
function persistentNode(ctx: RecogniseContext, node: TreeNode): InspectedRecipe | undefined {
  const name = unprotectedName(node.name);
  if (name === undefined || node.stat.ephemeralOwner === 0n || node.stat.numChildren > 0) return undefined;
  if (CURATOR_CONTENDER.test(node.name)) return undefined;
  const leftover = staleContender(ctx, node);
  return {
    kind: 'persistent-node',
    path: node.path,
    layout: 'curator',
    holders: [member(ctx, node, name)],
    waiters: [],
    stale: leftover ? [leftover] : [],
    name,
  };
}

/** kazoo's Counter (Python's repr of an int or float) or Curator's SharedCount (int32 big-endian). */
function counter(_ctx: RecogniseContext, dir: TreeNode): InspectedRecipe | undefined {
  if (!dir.children.every((name) => name.startsWith(COUNTER_MARKER_PREFIX))) return undefined;
  const base = { kind: 'counter' as const, path: dir.path, holders: [], waiters: [], stale: [] };
  const stored = dir.data.toString('latin1');
  if (KAZOO_COUNTER.test(stored)) return { ...base, layout: 'kazoo', value: Number(stored) };
  if (dir.data.length === 4 && !/^[\x20-\x7e]{4}$/.test(stored))
    return { ...base, layout: 'curator', value: dir.data.readInt32BE(0) };
  return undefined;
}

/**
 * In order: the layouts with named sub-directories first, then by children's names, then by data;
 * last GroupMember's (a directory of any other ephemerals) and a protected PersistentNode (a leaf).
 */
const RECOGNISERS = [
  lockingQueue,
  partitioner,
  curatorSemaphore,
  lease,
  ttlNode,
  kazooSemaphore,
  lockRecipe,
  queue,
  group,
  service,
  groupMembers,
  persistentNode,
  counter,
];

/** Every recipe in the tree, sorted by path. */
export function recognise(ctx: RecogniseContext): InspectedRecipe[] {
  const recipes: InspectedRecipe[] = [];
  const claimed = new Set<string>();
  const isClaimed = (path: string): boolean => {
    for (let at = path; at !== '/' && at !== ''; at = at.slice(0, Math.max(at.lastIndexOf('/'), 1)))
      if (claimed.has(at)) return true;
    return claimed.has('/') && path !== '/';
  };
  const paths = [...ctx.tree.nodes.keys()].sort();
  for (const path of paths) {
    if (isClaimed(path)) continue;
    const node = ctx.tree.nodes.get(path)!;
    for (const recogniser of RECOGNISERS) {
      const recipe = recogniser(ctx, node);
      if (!recipe) continue;
      recipes.push(recipe);
      claimed.add(path);
      if (recipe.kind === 'semaphore') claimed.add(path + SEMAPHORE_LOCK_SUFFIX);
      break;
    }
  }
  recipes.push(...emptyLockDirectories(ctx, recipes, isClaimed));
  return recipes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A lock directory left empty: an empty leaf that once had children (`cversion` > 0), next to
 * lock directories. kazoo's Lock never deletes its directory (Curator's are containers the server
 * removes), so a fleet of short-lived lock names leaves these behind.
 */
function emptyLockDirectories(
  ctx: RecogniseContext,
  recipes: readonly InspectedRecipe[],
  isClaimed: (path: string) => boolean,
): InspectedRecipe[] {
  const lockParents = new Set(
    recipes
      .filter((recipe) => recipe.kind === 'lock' || recipe.kind === 'read-write-lock')
      .map((recipe) => recipe.path.slice(0, Math.max(recipe.path.lastIndexOf('/'), 1))),
  );
  const found: InspectedRecipe[] = [];
  for (const node of ctx.tree.nodes.values()) {
    const parent = node.path.slice(0, Math.max(node.path.lastIndexOf('/'), 1));
    if (node.path === '/' || !lockParents.has(parent) || isClaimed(node.path)) continue;
    if (node.children.length > 0 || node.data.length > 0 || node.stat.cversion === 0) continue;
    if (node.path.endsWith(SEMAPHORE_LOCK_SUFFIX)) continue;
    found.push({
      kind: 'lock',
      path: node.path,
      layout: 'kazoo',
      holders: [],
      waiters: [],
      stale: [{ path: node.path, reason: 'a lock directory with no contenders' }],
    });
  }
  return found;
}
