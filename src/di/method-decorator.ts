/**
 * Method decorators that work both as TypeScript legacy decorators (`experimentalDecorators`,
 * what inversify needs) and as standard TC39 decorators, and find the ZooKeeper client of the
 * decorated instance.
 */
import { ZooKeeperClient } from '../client/client.js';
import { ClientNotFoundError } from './errors.js';

/** A method that returns a Promise: the only kind `@withLock` and `@leaderOnly` can guard. */
export type AsyncMethod<This, Args extends unknown[], Result> = (
  this: This,
  ...args: Args
) => Promise<Result>;

/**
 * A decorator of async methods, in both conventions: legacy (`experimentalDecorators`, what
 * inversify needs) and standard TC39. On a field, an accessor, a class or a method that does not
 * return a Promise it is a compile error in either. `This` and `Args` are what the decorator
 * needs of the instance and the arguments (e.g. a typed `@withLock` path function); the method's
 * own must be assignable to them.
 */
export interface AsyncMethodDecorator<This = unknown, Args extends unknown[] = unknown[]> {
  /** TC39: `(method, context)`. */
  <T extends This, A extends Args, R>(
    method: AsyncMethod<T, A, R>,
    context: ClassMethodDecoratorContext<T, AsyncMethod<T, A, R>>,
  ): AsyncMethod<T, A, R>;
  /** Legacy: `(prototype or class, name, descriptor)`. */
  <T extends This, A extends Args, R>(
    target: T,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<(...args: A) => Promise<R>>,
  ): TypedPropertyDescriptor<(...args: A) => Promise<R>>;
}

/** What a decorator puts in the method's place: it gets the instance and the call's arguments. */
type Wrapper = (
  original: (...args: unknown[]) => Promise<unknown>,
  name: string,
) => AsyncMethod<unknown, unknown[], unknown>;

/** Where a decorator gets its client: an instance, or a function of the decorated object. */
export type ClientSource = ZooKeeperClient | ((self: unknown) => ZooKeeperClient);

/**
 * Build a decorator from `wrap(original, name)`, accepting both call conventions:
 * legacy `(target, key, descriptor)` and TC39 `(method, context)`. The checks here are for
 * JavaScript callers; TypeScript rejects the same mistakes at compile time.
 */
export function methodDecorator<This = unknown, Args extends unknown[] = unknown[]>(
  wrap: Wrapper,
): AsyncMethodDecorator<This, Args> {
  function decorate(first: unknown, second: unknown, third?: PropertyDescriptor): unknown {
    if (typeof first === 'function' && isMethodContext(second)) {
      return wrap(first as (...args: unknown[]) => Promise<unknown>, String(second.name)); // TC39
    }
    if (third === undefined || typeof third.value !== 'function') {
      throw new TypeError('this decorator applies to methods');
    }
    third.value = wrap(third.value as (...args: unknown[]) => Promise<unknown>, String(second));
    return third;
  }
  return decorate as AsyncMethodDecorator<This, Args>;
}

function isMethodContext(value: unknown): value is ClassMethodDecoratorContext {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'method';
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
