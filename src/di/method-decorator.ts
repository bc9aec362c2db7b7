/**
 * Method decorators that work both as TypeScript legacy decorators (`experimentalDecorators`,
 * what inversify needs) and as standard TC39 decorators, and find the ZooKeeper client of the
 * decorated instance.
 */
import { ZooKeeperClient } from '../client/client.js';
import { ClientNotFoundError } from './errors.js';

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/** Where a decorator gets its client: an instance, or a function of the decorated object. */
export type ClientSource = ZooKeeperClient | ((self: unknown) => ZooKeeperClient);

/**
 * Build a decorator from `wrap(original, name)`, accepting both call conventions:
 * legacy `(target, key, descriptor)` and TC39 `(method, context)`.
 */
export function methodDecorator(wrap: (original: AnyMethod, name: string) => AnyMethod) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- typed decorator signatures: issue 12
  return function decorate(...args: unknown[]): any {
    const [first, second, third] = args;
    if (
      typeof first === 'function' &&
      typeof second === 'object' &&
      second !== null &&
      (second as { kind?: unknown }).kind === 'method'
    ) {
      return wrap(first as AnyMethod, String((second as { name: string | symbol }).name)); // TC39
    }
    const descriptor = third as PropertyDescriptor | undefined;
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw new TypeError('this decorator applies to methods');
    }
    descriptor.value = wrap(descriptor.value as AnyMethod, String(second));
    return descriptor;
  };
}

/**
 * The client for `self`: the explicit source when given, else the one `ZooKeeperClient` the
 * container injected into one of its properties, directly or inside an injected object that holds
 * one as `client` (a `RecipeFactory`, an `Election`, a `Lock`, …).
 */
export function resolveClient(
  self: unknown,
  source: ClientSource | undefined,
  decorator: string,
): ZooKeeperClient {
  if (source instanceof ZooKeeperClient) return source;
  if (typeof source === 'function') return source(self);
  const found = new Set<ZooKeeperClient>();
  if (typeof self === 'object' && self !== null) {
    for (const value of Object.values(self)) {
      if (value instanceof ZooKeeperClient) found.add(value);
      else if (holdsClient(value)) found.add(value.client);
    }
  }
  if (found.size === 1) return [...found][0]!;
  throw new ClientNotFoundError(
    found.size === 0
      ? `@${decorator}: inject a ZooKeeperClient (@inject(ZooKeeper)), a RecipeFactory (@inject(Recipes)) or a recipe such as an Election into the instance, or pass { client }`
      : `@${decorator}: the instance holds several ZooKeeper clients; pass { client } to choose one`,
  );
}

function holdsClient(value: unknown): value is { client: ZooKeeperClient } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { client?: unknown }).client instanceof ZooKeeperClient
  );
}
