/**
 * A service instance as curator-x-discovery 5.4 describes it (`ServiceInstance`,
 * `ServiceInstanceBuilder`, `ServiceType`), and the builder's defaults: a random UUID id, the
 * first non-loopback address of this host, the registration time now, DYNAMIC.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { localAddress } from '../local-address.js';

/**
 * Curator's `ServiceType`: how an instance's node is created. DYNAMIC: ephemeral (it goes with
 * the session); DYNAMIC_SEQUENTIAL: ephemeral sequential (`<id><10 digits>`); STATIC and
 * PERMANENT: persistent.
 *
 * @example
 *   await discovery.registerService({ name: 'billing', address: '10.0.0.5', port: 8080, serviceType: 'STATIC' });
 */
export type ServiceType = 'DYNAMIC' | 'STATIC' | 'PERMANENT' | 'DYNAMIC_SEQUENTIAL';

/** The service types, in Curator's enum order. */
const SERVICE_TYPES: readonly ServiceType[] = ['DYNAMIC', 'STATIC', 'PERMANENT', 'DYNAMIC_SEQUENTIAL'];

/**
 * A JSON value as a payload holds it: what `JSON.parse` gives, plus `bigint` for integers past
 * 2^53 (written as Java writes a `long`).
 *
 * @example
 *   const payload: JsonValue = { zone: 'eu-1', weight: 3, tags: ['a', 'b'] };
 */
export type JsonValue =
  null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A registered (or discovered) service instance: Curator's `ServiceInstance` fields, in the
 * order Jackson writes them, plus `payloadClass` — the Java class of the payload (its `@class`),
 * kept so an instance read from a Java writer is written back with the same class.
 *
 * @example
 *   const instance: ServiceInstance = await discovery.registerService({ name: 'api', address: '10.0.0.1', port: 8080 });
 *   console.log(instance.id, buildUri(instance));
 */
export interface ServiceInstance<P = JsonValue> {
  /** The service's name: the node `<basePath>/<name>`. */
  name: string;
  /** The instance's id, unique within the service: its node's name (plus a sequence for DYNAMIC_SEQUENTIAL). */
  id: string;
  address: string | null;
  port: number | null;
  sslPort: number | null;
  payload: P | null;
  /** The payload's Java class (`@class`); undefined for a scalar payload without one. */
  payloadClass?: string | undefined;
  /** When it was registered, ms since the epoch (UTC). */
  registrationTimeUTC: number;
  serviceType: ServiceType;
  /** A URI template, e.g. `{scheme}://{address}:{port}` (see `buildUri`), or null. */
  uriSpec: string | null;
  /** False: providers skip it (Curator's CURATOR-275 field). */
  enabled: boolean;
}

/**
 * What `registerService` takes: `name` and whatever else differs from Curator's builder
 * defaults (`serviceInstance`).
 *
 * @example
 *   const input: ServiceInstanceInput = { name: 'api', port: 8080, payload: { zone: 'eu-1' } };
 */
export interface ServiceInstanceInput<P = JsonValue> {
  name: string;
  /** Default: a random UUID. */
  id?: string | undefined;
  /** Default: the first non-loopback address of this host (IPv4 first), else null. */
  address?: string | null | undefined;
  port?: number | null | undefined;
  sslPort?: number | null | undefined;
  payload?: P | null | undefined;
  /** Default: the serializer's (`java.util.LinkedHashMap` for an object). */
  payloadClass?: string | undefined;
  /** Default: now. */
  registrationTimeUTC?: number | undefined;
  /** Default DYNAMIC. */
  serviceType?: ServiceType | undefined;
  uriSpec?: string | null | undefined;
  /** Default true. */
  enabled?: boolean | undefined;
}

/**
 * Curator's `ServiceInstance.builder()...build()`: the input with the builder's defaults filled
 * in, checked (`InvalidArgumentError` for a name or id that is not one path segment, a port that
 * is not a Java int, an unknown service type, a malformed URI spec).
 *
 * @example
 *   const instance = serviceInstance({ name: 'api', port: 8080 }); // id: a UUID, address: this host's
 */
export function serviceInstance<P = JsonValue>(input: ServiceInstanceInput<P>): ServiceInstance<P> {
  if (typeof input !== 'object' || input === null)
    throw new InvalidArgumentError('a service instance must be an object', { op: 'serviceInstance' });
  const instance: ServiceInstance<P> = {
    name: input.name,
    id: input.id ?? randomUUID(),
    address: input.address === undefined ? localAddress() : input.address,
    port: input.port ?? null,
    sslPort: input.sslPort ?? null,
    payload: input.payload ?? null,
    payloadClass: input.payloadClass,
    registrationTimeUTC: input.registrationTimeUTC ?? Date.now(),
    serviceType: input.serviceType ?? 'DYNAMIC',
    uriSpec: input.uriSpec ?? null,
    enabled: input.enabled ?? true,
  };
  checkInstance(instance);
  return instance;
}

/** Check what Curator's JSON and our paths need of an instance; `InvalidArgumentError` otherwise. */
export function checkInstance(instance: ServiceInstance<unknown>): void {
  const fail = (message: string) => new InvalidArgumentError(message, { op: 'serviceInstance' });
  checkSegment(instance.name, 'name');
  checkSegment(instance.id, 'id');
  if (instance.address !== null && typeof instance.address !== 'string')
    throw fail(`address must be a string or null, got ${typeof instance.address}`);
  for (const key of ['port', 'sslPort'] as const) {
    const value = instance[key];
    if (value !== null && !(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31))
      throw fail(`${key} must be an integer (a Java int) or null, got ${String(value)}`);
  }
  if (!Number.isSafeInteger(instance.registrationTimeUTC))
    throw fail(`registrationTimeUTC must be an integer (ms), got ${String(instance.registrationTimeUTC)}`);
  if (!SERVICE_TYPES.includes(instance.serviceType))
    throw fail(`serviceType must be one of ${SERVICE_TYPES.join(', ')}, got ${String(instance.serviceType)}`);
  if (typeof instance.enabled !== 'boolean') throw fail('enabled must be a boolean');
  if (
    instance.payloadClass !== undefined &&
    (typeof instance.payloadClass !== 'string' || !instance.payloadClass)
  )
    throw fail('payloadClass must be a non-empty string');
  if (instance.uriSpec !== null) uriSpecParts(instance.uriSpec);
}

/** A name or id is one path segment: `<basePath>/<name>/<id>`. */
function checkSegment(value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '' || value.includes('/'))
    throw new InvalidArgumentError(`the instance's ${what} must be a non-empty string without '/'`, {
      op: 'serviceInstance',
    });
  validatePath(`/${value}`, 'serviceInstance');
}

/** One token of a URI spec (Curator's `UriSpec.Part`): a literal, or a `{variable}`. */
export interface UriSpecPart {
  value: string;
  variable: boolean;
}

/**
 * Curator's `UriSpec(String)` parser: literals and `{name}` fields (names trimmed); `{[}` and
 * `{]}` stand for literal braces. `InvalidArgumentError` where Curator's `checkState` fails.
 */
export function uriSpecParts(spec: string): UriSpecPart[] {
  if (typeof spec !== 'string') throw new InvalidArgumentError('uriSpec must be a string', { op: 'uriSpec' });
  const parts: UriSpecPart[] = [];
  let inside = false;
  for (const token of spec.split(/([{}])/).filter((t) => t !== '')) {
    if (token === '{') {
      if (inside)
        throw new InvalidArgumentError('{ is not allowed inside of a variable specification', {
          op: 'uriSpec',
        });
      inside = true;
    } else if (token === '}') {
      if (!inside) throw new InvalidArgumentError('} must be preceded by {', { op: 'uriSpec' });
      inside = false;
    } else parts.push({ value: inside ? token.trim() : token, variable: inside });
  }
  if (inside) throw new InvalidArgumentError('Final variable not closed - expected }', { op: 'uriSpec' });
  return parts;
}

/** The spec string of parts read from Curator's JSON (the inverse of `uriSpecParts`). */
export function uriSpecString(parts: readonly UriSpecPart[]): string {
  return parts.map((part) => (part.variable ? `{${part.value}}` : part.value)).join('');
}

/**
 * Curator's `ServiceInstance.buildUriSpec(variables)`: the instance's URI spec with its fields
 * filled in — `scheme` (`https` when there is an sslPort, else `http`), `name`, `id`, `address`,
 * `port`, `ssl-port`, `registration-time-utc`, `service-type` (lower case), `[` and `]` for
 * literal braces; `variables` override them; an unknown field is left out. `''` without a spec.
 *
 * @example
 *   buildUri({ ...instance, uriSpec: '{scheme}://{address}:{port}/api' }); // 'http://10.0.0.1:8080/api'
 */
export function buildUri(
  instance: ServiceInstance<unknown>,
  variables: Readonly<Record<string, string | number>> = {},
): string {
  if (instance.uriSpec === null) return '';
  const fields: Record<string, string | number> = {
    '[': '{',
    ']': '}',
    scheme: instance.sslPort !== null ? 'https' : 'http',
    name: instance.name,
    id: instance.id,
    address: instance.address ?? '',
    port: instance.port ?? '',
    'ssl-port': instance.sslPort ?? '',
    'registration-time-utc': instance.registrationTimeUTC,
    'service-type': instance.serviceType.toLowerCase(),
    ...variables,
  };
  return uriSpecParts(instance.uriSpec)
    .map((part) => (part.variable ? String(fields[part.value] ?? '') : part.value))
    .join('');
}
