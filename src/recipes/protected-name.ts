/**
 * Curator's protected node names (`CreateBuilder.withProtection`, `ProtectedUtils`): `_c_`, a
 * UUID, `-`, then the node's name. The UUID lets a creator whose reply was lost find its node.
 */
import { randomUUID } from 'node:crypto';

/** `_c_<uuid>-`, as `ProtectedUtils.isProtectedZNode` accepts it (`UUID.fromString` parses the id). */
const PROTECTED = /^_c_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(.+)$/is;

/**
 * The protected name of `name` (Curator's `ProtectedUtils.getProtectedPrefix(id) + name`).
 *
 * @example
 *   protectedName('lock-'); // "_c_0c5e3d6a-1b2c-4d5e-8f90-a1b2c3d4e5f6-lock-"
 */
export function protectedName(name: string, id: string = randomUUID()): string {
  return `_c_${id}-${name}`;
}

/**
 * The name a protected node was given (Curator's `ProtectedUtils.normalize`), or undefined when
 * `node` is not a protected name.
 *
 * @example
 *   unprotectedName('_c_0c5e3d6a-1b2c-4d5e-8f90-a1b2c3d4e5f6-worker'); // "worker"
 */
export function unprotectedName(node: string): string | undefined {
  return PROTECTED.exec(node)?.[2];
}
