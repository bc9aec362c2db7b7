import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../../client/client.js';
import { withinDeadline } from '../../client/retry.js';
import { requestLimits } from '../change-waiter.js';
import { childrenData } from '../child-data.js';
import { BaseParty, type PartyCallOptions, type PartyOptions } from './base-party.js';

/** The marker in member node names. */
export const PARTY_NODE_NAME = '__party__';

/**
 * Party: group membership, wire-compatible with kazoo's `Party`. Members announce themselves
 * with ephemeral nodes; anyone can list them.
 *
 * Znode layout (kazoo 2.8): `<path>` persistent; one member node per instance,
 * `<path>/<32hex>__party__`, **ephemeral**, data = identifier (UTF-8). Members are the children
 * whose name contains `__party__`; other children are ignored. Listing reads each member's data
 * (a member that leaves meanwhile is skipped).
 *
 * SUSPENDED: nothing changes (the node lives as long as the session); calls wait for the
 * reconnect. LOST: the node is gone. With `autoRejoin` (the default; kazoo never re-joins) the
 * node is created again as soon as the new session is connected; `participating` stays true.
 *
 * @example
 *   await using member = new Party(zk, '/services/search/members', { identifier: 'search-3:8080' });
 *   await member.join();
 *   console.log(await member.members()); // ['search-1:8080', 'search-3:8080', ...]
 */
export class Party extends BaseParty {
  constructor(client: ZooKeeperClient, path: string, options: PartyOptions = {}) {
    super(client, path, `${randomUUID().replaceAll('-', '')}${PARTY_NODE_NAME}`, options);
  }

  /** The members' identifiers (each member node's data; order unspecified). */
  async members(options: PartyCallOptions = {}): Promise<string[]> {
    const limits = this.limitsOf(options);
    const names = await this.memberNodes(options);
    return childrenData(this.client, this.path, names, (path) =>
      withinDeadline(() => this.client.get(path, requestLimits(limits)), limits),
    );
  }

  protected isMember(name: string): boolean {
    return name.includes(PARTY_NODE_NAME);
  }
}
