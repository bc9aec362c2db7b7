/**
 * JSON text as Jackson 2.14's `ObjectMapper.writeValueAsBytes` writes it (curator-x-discovery's
 * `JsonInstanceSerializer`), so our instance nodes hold the bytes Curator's would: no spaces;
 * strings escape `"`, `\`, control characters (`\b \t \n \f \r`, else `\u00XX` upper-case hex)
 * and UTF-16 surrogates (`\uD83D\uDE00`: its UTF8JsonGenerator escapes them rather than joining
 * them into one UTF-8 sequence); `/`, U+2028 and other characters as they are. Numbers as Java
 * prints them: an integer as digits, a double as `Double.toString` (`1.5`, `100.0`, `1.0E-7`).
 */
import { InvalidArgumentError } from '../../client/errors.js';
import type { JsonValue } from './service-instance.js';

const HEX = '0123456789ABCDEF';
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  12: '\\f',
  13: '\\r',
};

/** A string literal as Jackson writes it. */
export function jacksonString(value: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let escape: string | undefined;
    if (c === 0x22) escape = '\\"';
    else if (c === 0x5c) escape = '\\\\';
    else if (c < 0x20) escape = SHORT_ESCAPES[c] ?? `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c >= 0xd800 && c <= 0xdfff)
      escape = `\\u${HEX[c >> 12]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    if (escape === undefined) continue;
    out += value.slice(start, i) + escape;
    start = i + 1;
  }
  return `${out}${value.slice(start)}"`;
}

/** Java's `Double.toString`: plain from 10^-3 to 10^7 (with at least `.0`), else `d.dddE±n`. */
export function javaDouble(value: number): string {
  if (!Number.isFinite(value))
    throw new InvalidArgumentError(`a payload number must be finite, got ${value}`, { op: 'serialize' });
  if (Object.is(value, -0)) return '-0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const plain = String(value);
    return plain.includes('.') ? plain : `${plain}.0`;
  }
  // toExponential() without digits: the shortest digits that read back as this double.
  const [mantissa, exponent] = value.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
}

/** A number as Jackson writes the Java value it reads as: an integer (int or long) as digits, else a double. */
export function jacksonNumber(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : javaDouble(value);
}

/**
 * A JSON value, written as Jackson writes the Java value it reads as (Maps keep their key
 * order, `null` stays, `undefined` properties are left out as JSON.stringify does, `toJSON` is
 * used). `InvalidArgumentError` for what JSON cannot hold (a function, a symbol, NaN, a cycle).
 */
export function writeJackson(value: unknown, seen: Set<object> = new Set()): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return jacksonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return jacksonNumber(value);
    case 'bigint':
      return value.toString();
    case 'object':
      return writeObject(value, seen);
    default:
      throw new InvalidArgumentError(`a payload cannot hold a ${typeof value}`, { op: 'serialize' });
  }
}

function writeObject(value: object, seen: Set<object>): string {
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return writeJackson((json as () => unknown).call(value), seen);
  if (seen.has(value)) throw new InvalidArgumentError('a payload cannot be circular', { op: 'serialize' });
  seen.add(value);
  try {
    if (Array.isArray(value))
      return `[${value.map((item: unknown) => writeJackson(item ?? null, seen)).join(',')}]`;
    return `{${writeMembers(value as Record<string, unknown>, seen)}}`;
  } finally {
    seen.delete(value);
  }
}

/** An object's members (`"key":value,…`), without the braces. */
export function writeMembers(
  value: Readonly<Record<string, unknown>>,
  seen: Set<object> = new Set(),
): string {
  const members: string[] = [];
  for (const [key, item] of Object.entries(value))
    if (item !== undefined) members.push(`${jacksonString(key)}:${writeJackson(item, seen)}`);
  return members.join(',');
}

/** Type guard for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
