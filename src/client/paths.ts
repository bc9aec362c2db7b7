/**
 * Client-side path rules (PathUtils.validatePath) and chroot mapping (ZooKeeper's chroot in the connect string). The server's own
 * checks are incomplete and often answer NoNode for a malformed path, so every path is
 * validated here, before anything is sent, and a bad one is an `InvalidPathError`.
 */
import { InvalidPathError } from './errors.js';

/**
 * Throw `InvalidPathError` unless `path` is a valid znode path. A sequential create may end
 * in `/` (the server appends the sequence number), so pass `sequential` for those.
 * One pass over the characters: this runs for every request.
 */
export function validatePath(path: unknown, op?: string, sequential = false): asserts path is string {
  if (typeof path !== 'string') throw new InvalidPathError(path, `expected a string, got ${typeof path}`, op);
  const length = path.length;
  if (length === 0) throw new InvalidPathError(path, 'path is empty', op);
  if (path.charCodeAt(0) !== 0x2f) throw new InvalidPathError(path, 'path must start with /', op);
  if (length === 1) return;
  if (path.charCodeAt(length - 1) === 0x2f && !sequential)
    throw new InvalidPathError(path, 'path must not end with /', op);
  let componentStart = 1;
  for (let i = 1; i <= length; i++) {
    const c = i < length ? path.charCodeAt(i) : 0x2f; // a virtual '/' closes the last component
    if (c === 0x2f) {
      const size = i - componentStart;
      if (size === 0 && i < length) throw new InvalidPathError(path, 'empty path component (//)', op);
      if (
        (size === 1 || size === 2) &&
        path.charCodeAt(componentStart) === 0x2e &&
        (size === 1 || path.charCodeAt(componentStart + 1) === 0x2e)
      ) {
        throw new InvalidPathError(path, `relative component "${path.slice(componentStart, i)}"`, op);
      }
      componentStart = i + 1;
    } else if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      throw new InvalidPathError(
        path,
        `invalid character U+${c.toString(16).padStart(4, '0')} at index ${i}`,
        op,
      );
    }
  }
}

/** Maps client paths to server paths and back for a chroot ('' when there is none). */
export class Chroot {
  constructor(readonly prefix: string) {}

  /** Client path → server path: '/' becomes the chroot itself. */
  toServer(path: string): string {
    if (this.prefix === '') return path;
    return path === '/' ? this.prefix : this.prefix + path;
  }

  /** Server path → client path: the chroot becomes '/'. Paths outside the chroot are returned unchanged. */
  toClient(path: string): string {
    if (this.prefix === '' || !path.startsWith(this.prefix)) return path;
    if (path.length === this.prefix.length) return '/';
    return path.charCodeAt(this.prefix.length) === 0x2f ? path.slice(this.prefix.length) : path;
  }
}

/** The parent of a path ('/' for top-level nodes). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** Join a parent path and a child name. */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}
