/**
 * ACL helpers (ZooDefs.Perms, ZooDefs.Ids, DigestAuthenticationProvider): permission bits, the well-known ACL lists and digest ids.
 *
 * @example
 *   await zk.create('/secret', 'x', { acl: [makeDigestAcl('alice', 'pw', Perms.ALL)] });
 *   await zk.addAuth('digest', 'alice:pw');
 */
import { createHash } from 'node:crypto';
import type { ACL } from './protocol/records.js';

export type { ACL, Id } from './protocol/records.js';

/** ZooKeeper's permission bits (`ZooDefs.Perms`), to combine with `|` in an ACL. */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** Anyone may do anything (`world:anyone`, all permissions). The default ACL. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } },
]);
/** Only the creator's authenticated identities (the server expands `auth:`). */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([
  { perms: Perms.ALL, id: { scheme: 'auth', id: '' } },
]);
/** Anyone may read. */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
]);

/** The digest id the server stores for `user:password`: `user:base64(sha1("user:password"))`. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** An ACL entry granting `perms` to the digest identity of `user`/`password`. */
export function makeDigestAcl(user: string, password: string, perms: number = Perms.ALL): ACL {
  return { perms, id: { scheme: 'digest', id: digestId(user, password) } };
}

/** An ACL entry for any scheme. */
export function makeAcl(scheme: string, id: string, perms: number = Perms.ALL): ACL {
  return { perms, id: { scheme, id } };
}
