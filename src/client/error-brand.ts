/**
 * The cross-copy `instanceof` of the package's errors. Two installed copies of the package (a
 * library and its user each depending on their own) make two `NoNodeError` classes; an error thrown
 * by one copy must still be `instanceof` the other's class. Every error class carries a brand (its
 * stable name) under one registry-wide symbol, and `ZooKeeperError[Symbol.hasInstance]` accepts a
 * value whose class chain holds the same brand (DESIGN.md "Errors").
 *
 * This module imports nothing, like `errors.ts`.
 */

/** The registry symbol shared by every copy of the package. */
const BRAND = Symbol.for('zookeeper-coordination.error');

type Branded = { [BRAND]?: string };

/**
 * Brand each class with its key (`{ NoNodeError }`: keys survive minification, class names may
 * not). Only classes branded here match across copies; a user's own subclass matches as usual.
 */
export function brandErrorClasses(classes: Record<string, abstract new (...args: never[]) => Error>): void {
  for (const [name, errorClass] of Object.entries(classes))
    Object.defineProperty(errorClass, BRAND, { value: name, enumerable: false });
}

/**
 * `value instanceof errorClass`, also when `value` was made by another copy of the package: some
 * class on its prototype chain has `errorClass`'s brand.
 */
export function isBrandedInstance(errorClass: object, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(errorClass, value)) return true;
  if (typeof value !== 'object' || value === null || !Object.hasOwn(errorClass, BRAND)) return false;
  const brand = (errorClass as Branded)[BRAND];
  for (
    let proto: unknown = Object.getPrototypeOf(value);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const ctor = Object.hasOwn(proto as object, 'constructor')
      ? (proto as { constructor: unknown }).constructor
      : undefined;
    if (typeof ctor === 'function' && Object.hasOwn(ctor, BRAND) && (ctor as Branded)[BRAND] === brand)
      return true;
  }
  return false;
}
