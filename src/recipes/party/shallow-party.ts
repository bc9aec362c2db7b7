import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import { BaseParty, type PartyCallOptions, type PartyOptions } from './base-party.js';

/**
 * ShallowParty: group membership with the identifier in the node name, so listing is one call;
 * wire-compatible with kazoo's `ShallowParty` (and the `party/` directory of kazoo's
 * SetPartitioner).
 *
 * Znode layout (kazoo 2.8): `<path>` persistent; one member node per instance,
 * `<path>/<32hex>-<identifier>`, **ephemeral**, data = identifier (UTF-8) too. **Every** child
 * counts as a member, and its identifier is the name after the first `-` (the 32hex part has no
 * `-`). The identifier must therefore be a valid single path component (no `/`).
 *
 * SUSPENDED: nothing changes; calls wait for the reconnect. LOST: the node is gone; with
 * `autoRejoin` (the default; kazoo never re-joins) it is created again in the new session.
 *
 * @example
 *   const member = new ShallowParty(zk, '/workers', { identifier: 'worker-7' });
 *   await member.join();
 *   console.log(await member.size());
 */
export class ShallowParty extends BaseParty {
  constructor(client: ZooKeeperClient, path: string, options: PartyOptions = {}) {
    const identifier = options.identifier ?? '';
    if (identifier.includes('/'))
      throw new InvalidArgumentError(
        `a ShallowParty identifier is part of a node name and may not contain "/": ${JSON.stringify(identifier)}`,
        { op: 'ShallowParty', path },
      );
    super(client, path, `${randomUUID().replaceAll('-', '')}-${identifier}`, options);
  }

  /** The members' identifiers, parsed from the node names (one request; order unspecified). */
  async members(options: PartyCallOptions = {}): Promise<string[]> {
    return (await this.memberNodes(options)).map((name) => name.slice(name.indexOf('-') + 1));
  }

  protected isMember(): boolean {
    return true;
  }
}
