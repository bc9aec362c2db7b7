/**
 * Client-side path rules (spec/protocol.md §9.1) and chroot mapping (§9.2). The server's own
 * checks are incomplete and often answer NoNode for a malformed path, so every path is
 * validated here, before anything is sent, and a bad one is an `InvalidPathError`.
 */
import { InvalidPathError } from './errors.js';

function isForbiddenCodeUnit(c: number): boolean {
  return (
    (c >= 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

/**
 * Throw `InvalidPathError` unless `path` is a valid znode path. A sequential create may end
 * in `/` (the server appends the sequence number), so pass `sequential` for those.
 */
export function validatePath(path: unknown, op?: string, sequential = false): asserts path is string {
  if (typeof path !== 'string') throw new InvalidPathError(path, `expected a string, got ${typeof path}`, op);
  if (path.length === 0) throw new InvalidPathError(path, 'path is empty', op);
  if (path.charCodeAt(0) !== 0x2f) throw new InvalidPathError(path, 'path must start with /', op);
  if (path.length === 1) return;
  const checked = sequential ? path + '1' : path;
  if (checked.endsWith('/')) throw new InvalidPathError(path, 'path must not end with /', op);
  for (let i = 0; i < checked.length; i++) {
    const c = checked.charCodeAt(i);
    if (isForbiddenCodeUnit(c)) {
      throw new InvalidPathError(path, `invalid character U+${c.toString(16).padStart(4, '0')} at index ${i}`, op);
    }
  }
  for (const component of checked.slice(1).split('/')) {
    if (component === '') throw new InvalidPathError(path, 'empty path component (//)', op);
    if (component === '.' || component === '..') throw new InvalidPathError(path, `relative component "${component}"`, op);
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
