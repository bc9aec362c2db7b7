/**
 * curator-x-discovery's `JsonInstanceSerializer`: an instance as the JSON bytes Jackson writes
 * for Curator's `ServiceInstance` — `name`, `id`, `address`, `port`, `sslPort`, `payload`,
 * `registrationTimeUTC`, `serviceType`, `uriSpec` (`{"parts":[{"value":…,"variable":…}]}`), and
 * `enabled` only when `compatibleSerializationMode` is false (Curator's default leaves it out,
 * CURATOR-275) — and back.
 *
 * The payload is typed as Curator's `@JsonTypeInfo(use = CLASS)` writes it: an object as
 * `{"@class":"<class>",…}` (a plain object defaults to `java.util.LinkedHashMap`, which every
 * Java reader of `Object`/`Map` accepts), an array as `["java.util.ArrayList",[…]]`, a string,
 * boolean, int or double bare (Jackson's "natural" types), a long as `["java.lang.Long",n]`.
 * Reading accepts every form and keeps the class in `payloadClass`.
 */
import { InvalidArgumentError } from '../../client/errors.js';
import { RecipeMismatchError } from '../errors.js';
import { isJsonObject, jacksonString, writeJackson, writeMembers } from './jackson-json.js';
import {
  checkInstance,
  uriSpecParts,
  uriSpecString,
  type JsonValue,
  type ServiceInstance,
  type ServiceType,
  type UriSpecPart,
} from './service-instance.js';

/**
 * Turns instances into node data and back (Curator's `InstanceSerializer`).
 *
 * @example
 *   const discovery = new ServiceDiscovery(zk, { basePath: '/services', serializer: new JsonInstanceSerializer() });
 */
export interface InstanceSerializer<P = JsonValue> {
  serialize(instance: ServiceInstance<P>): Buffer;
  /** `RecipeMismatchError` when the bytes are not an instance. */
  deserialize(bytes: Buffer): ServiceInstance<P>;
}

/**
 * Options of `new JsonInstanceSerializer(...)`: Curator's constructor arguments.
 *
 * @example
 *   new JsonInstanceSerializer({ compatibleSerializationMode: false }); // writes `enabled`
 */
export interface JsonInstanceSerializerOptions {
  /**
   * Curator's `compatibleSerializationMode`: true (Curator's default) leaves `enabled` out, for
   * readers older than CURATOR-275; an instance with `enabled: false` is then refused
   * (`InvalidArgumentError`) rather than written as enabled. false writes it.
   */
  compatibleSerializationMode?: boolean;
  /** The `@class` of an object payload whose instance names none. Default `java.util.LinkedHashMap`. */
  payloadClass?: string;
}

/** The Java types Jackson writes without a type id (`TypeDeserializer.deserializeIfNatural`). */
const NATURAL = new Set(['java.lang.String', 'java.lang.Boolean', 'java.lang.Integer', 'java.lang.Double']);
const INT64 = 2n ** 63n;

/**
 * Curator's `JsonInstanceSerializer`, byte for byte (see the module comment).
 *
 * @example
 *   const serializer = new JsonInstanceSerializer();
 *   const bytes = serializer.serialize(serviceInstance({ name: 'api', port: 8080, payload: { zone: 'eu-1' } }));
 *   serializer.deserialize(bytes).payload; // { zone: 'eu-1' }
 */
export class JsonInstanceSerializer<P = JsonValue> implements InstanceSerializer<P> {
  readonly compatibleSerializationMode: boolean;
  readonly payloadClass: string;

  constructor(options: JsonInstanceSerializerOptions = {}) {
    this.compatibleSerializationMode = options.compatibleSerializationMode ?? true;
    this.payloadClass = options.payloadClass ?? 'java.util.LinkedHashMap';
  }

  serialize(instance: ServiceInstance<P>): Buffer {
    checkInstance(instance);
    if (this.compatibleSerializationMode && !instance.enabled)
      throw new InvalidArgumentError(
        'enabled: false is not written in compatibleSerializationMode (as Curator): use new JsonInstanceSerializer({ compatibleSerializationMode: false })',
        { op: 'serialize' },
      );
    const uriSpec =
      instance.uriSpec === null
        ? 'null'
        : `{"parts":[${uriSpecParts(instance.uriSpec)
            .map((part) => `{"value":${jacksonString(part.value)},"variable":${part.variable}}`)
            .join(',')}]}`;
    const fields = [
      `"name":${jacksonString(instance.name)}`,
      `"id":${jacksonString(instance.id)}`,
      `"address":${instance.address === null ? 'null' : jacksonString(instance.address)}`,
      `"port":${instance.port ?? 'null'}`,
      `"sslPort":${instance.sslPort ?? 'null'}`,
      `"payload":${this.writePayload(instance.payload, instance.payloadClass)}`,
      `"registrationTimeUTC":${instance.registrationTimeUTC}`,
      `"serviceType":"${instance.serviceType}"`,
      `"uriSpec":${uriSpec}`,
    ];
    if (!this.compatibleSerializationMode) fields.push(`"enabled":${instance.enabled}`);
    return Buffer.from(`{${fields.join(',')}}`, 'utf8');
  }

  private writePayload(payload: unknown, payloadClass: string | undefined): string {
    if (payload === null || payload === undefined) return 'null';
    const json = (payload as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function')
      return this.writePayload((json as () => unknown).call(payload), payloadClass);
    const typed = (javaClass: string, value: unknown) =>
      `[${jacksonString(javaClass)},${writeJackson(value)}]`;
    if (Array.isArray(payload)) return typed(payloadClass ?? 'java.util.ArrayList', payload);
    if (typeof payload === 'object') {
      const members = writeMembers(payload as Record<string, unknown>);
      return `{"@class":${jacksonString(payloadClass ?? this.payloadClass)}${members ? `,${members}` : ''}}`;
    }
    if (typeof payload === 'bigint')
      return typed(
        payloadClass ?? (payload >= -INT64 && payload < INT64 ? 'java.lang.Long' : 'java.math.BigInteger'),
        payload,
      );
    if (payloadClass !== undefined)
      return NATURAL.has(payloadClass) ? writeJackson(payload) : typed(payloadClass, payload);
    // A number beyond a Java int that is still an integer reads back as a Long: Jackson types it.
    if (
      typeof payload === 'number' &&
      Number.isSafeInteger(payload) &&
      (payload < -(2 ** 31) || payload >= 2 ** 31)
    )
      return typed('java.lang.Long', payload);
    return writeJackson(payload);
  }

  deserialize(bytes: Buffer): ServiceInstance<P> {
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw mismatch(`not JSON (${(error as Error).message})`);
    }
    if (!isJsonObject(raw)) throw mismatch('not a JSON object');
    // Missing fields take the values of Curator's deserialization constructor.
    const { payload, payloadClass } = readPayload(raw['payload']);
    const instance: ServiceInstance<P> = {
      name: field(raw, 'name', 'string', ''),
      id: field(raw, 'id', 'string', ''),
      address: field(raw, 'address', 'string', null),
      port: field(raw, 'port', 'number', null),
      sslPort: field(raw, 'sslPort', 'number', null),
      payload: payload as P | null,
      payloadClass,
      registrationTimeUTC: field(raw, 'registrationTimeUTC', 'number', 0),
      serviceType: field(raw, 'serviceType', 'string', 'DYNAMIC') as ServiceType,
      uriSpec: readUriSpec(raw['uriSpec']),
      enabled: field(raw, 'enabled', 'boolean', true),
    };
    try {
      checkInstance(instance);
    } catch (error) {
      throw mismatch((error as Error).message);
    }
    return instance;
  }
}

function mismatch(why: string): RecipeMismatchError {
  return new RecipeMismatchError(`not a curator-x-discovery service instance: ${why}`, { op: 'deserialize' });
}

type Kinds = { string: string; number: number; boolean: boolean };

function field<K extends keyof Kinds, D>(
  raw: Record<string, JsonValue>,
  key: string,
  kind: K,
  fallback: D,
): Kinds[K] | D {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== kind) throw mismatch(`${key} is not a ${kind}`);
  return value as Kinds[K];
}

/** The payload in any form Jackson writes (see the module comment), and its class. */
function readPayload(value: JsonValue | undefined): { payload: JsonValue; payloadClass: string | undefined } {
  if (value === undefined || value === null) return { payload: null, payloadClass: undefined };
  if (Array.isArray(value)) {
    const [javaClass, inner] = value;
    if (value.length !== 2 || typeof javaClass !== 'string')
      throw mismatch('a payload array is not [class, value]');
    return { payload: inner ?? null, payloadClass: javaClass };
  }
  if (isJsonObject(value)) {
    const { '@class': javaClass, ...rest } = value;
    if (javaClass !== undefined && typeof javaClass !== 'string') throw mismatch('@class is not a string');
    return { payload: rest, payloadClass: javaClass };
  }
  return { payload: value, payloadClass: undefined };
}

function readUriSpec(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  const parts = isJsonObject(value) ? value['parts'] : undefined;
  if (!Array.isArray(parts)) throw mismatch('uriSpec has no parts');
  return uriSpecString(
    parts.map((part): UriSpecPart => {
      if (!isJsonObject(part)) throw mismatch('a uriSpec part is not an object');
      return { value: String(part['value'] ?? ''), variable: part['variable'] === true };
    }),
  );
}
