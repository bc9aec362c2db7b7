/**
 * JsonInstanceSerializer writes the bytes curator-x-discovery 5.4's `JsonInstanceSerializer`
 * writes (Jackson 2.14): the expected values below are Curator's own output (base64), made by
 * serializing the same instances with Debian's Curator and Jackson jars; and it reads them back.
 * The interop test (interop-curator-discovery.test.ts) compares live nodes too.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InvalidArgumentError,
  JsonInstanceSerializer,
  RecipeMismatchError,
  buildUri,
  serviceInstance,
  type ServiceInstance,
} from '../../src/index.js';

const CURATOR = {
  map: 'eyJuYW1lIjoiYXBpIiwiaWQiOiJpZC0xIiwiYWRkcmVzcyI6IjEwLjAuMC4xIiwicG9ydCI6ODA4MCwic3NsUG9ydCI6bnVsbCwicGF5bG9hZCI6eyJAY2xhc3MiOiJqYXZhLnV0aWwuTGlua2VkSGFzaE1hcCIsInpvbmUiOiJldS0xIiwid2VpZ2h0IjozLCJ0YWdzIjpbImEiLCJiIl0sIm5lc3RlZCI6eyJrIjp0cnVlfSwibnVsIjpudWxsLCJkIjoxLjUsInRpbnkiOjEuMEUtNywicm91bmQiOjEwMC4wLCJodWdlIjoxLjBFMjEsImJpZyI6MTIzNDU2Nzg5MDEsInMiOiLDqeKAqFwiXFwvXG5cdFx1MDAwMVx1MDAxRjxcdUQ4M0RcdURFMDAifSwicmVnaXN0cmF0aW9uVGltZVVUQyI6MTcwMDAwMDAwMDAwMCwic2VydmljZVR5cGUiOiJEWU5BTUlDIiwidXJpU3BlYyI6eyJwYXJ0cyI6W3sidmFsdWUiOiJzY2hlbWUiLCJ2YXJpYWJsZSI6dHJ1ZX0seyJ2YWx1ZSI6IjovLyIsInZhcmlhYmxlIjpmYWxzZX0seyJ2YWx1ZSI6ImFkZHJlc3MiLCJ2YXJpYWJsZSI6dHJ1ZX0seyJ2YWx1ZSI6IjoiLCJ2YXJpYWJsZSI6ZmFsc2V9LHsidmFsdWUiOiJwb3J0IiwidmFyaWFibGUiOnRydWV9LHsidmFsdWUiOiIveCIsInZhcmlhYmxlIjpmYWxzZX1dfX0=',
  static:
    'eyJuYW1lIjoiYXBpIiwiaWQiOiJpZC0yIiwiYWRkcmVzcyI6bnVsbCwicG9ydCI6bnVsbCwic3NsUG9ydCI6NDQzLCJwYXlsb2FkIjpudWxsLCJyZWdpc3RyYXRpb25UaW1lVVRDIjo1LCJzZXJ2aWNlVHlwZSI6IlNUQVRJQyIsInVyaVNwZWMiOm51bGx9',
  string:
    'eyJuYW1lIjoiYXBpIiwiaWQiOiJpZC0zIiwiYWRkcmVzcyI6ImgiLCJwb3J0IjoxLCJzc2xQb3J0IjpudWxsLCJwYXlsb2FkIjoic3RyIiwicmVnaXN0cmF0aW9uVGltZVVUQyI6NSwic2VydmljZVR5cGUiOiJQRVJNQU5FTlQiLCJ1cmlTcGVjIjp7InBhcnRzIjpbXX19',
  long: 'eyJuYW1lIjoiYXBpIiwiaWQiOiJpZC00IiwiYWRkcmVzcyI6ImgiLCJwb3J0IjoxLCJzc2xQb3J0IjpudWxsLCJwYXlsb2FkIjpbImphdmEubGFuZy5Mb25nIiw1MDAwMDAwMDAwXSwicmVnaXN0cmF0aW9uVGltZVVUQyI6NSwic2VydmljZVR5cGUiOiJEWU5BTUlDX1NFUVVFTlRJQUwiLCJ1cmlTcGVjIjpudWxsfQ==',
  list: 'eyJuYW1lIjoiYXBpIiwiaWQiOiJpZC01IiwiYWRkcmVzcyI6ImgiLCJwb3J0IjoxLCJzc2xQb3J0IjpudWxsLCJwYXlsb2FkIjpbImphdmEudXRpbC5BcnJheUxpc3QiLFsxLCJ4Il1dLCJyZWdpc3RyYXRpb25UaW1lVVRDIjo1LCJzZXJ2aWNlVHlwZSI6IkRZTkFNSUMiLCJ1cmlTcGVjIjpudWxsfQ==',
  enabled:
    'eyJuYW1lIjoiYXBpIiwiaWQiOiJpZC02IiwiYWRkcmVzcyI6ImgiLCJwb3J0IjoxLCJzc2xQb3J0IjpudWxsLCJwYXlsb2FkIjp7IkBjbGFzcyI6ImphdmEudXRpbC5MaW5rZWRIYXNoTWFwIn0sInJlZ2lzdHJhdGlvblRpbWVVVEMiOjUsInNlcnZpY2VUeXBlIjoiRFlOQU1JQyIsInVyaVNwZWMiOnsicGFydHMiOlt7InZhbHVlIjoic2NoZW1lIiwidmFyaWFibGUiOnRydWV9LHsidmFsdWUiOiI6Ly8iLCJ2YXJpYWJsZSI6ZmFsc2V9LHsidmFsdWUiOiJbIiwidmFyaWFibGUiOnRydWV9LHsidmFsdWUiOiJ4IiwidmFyaWFibGUiOmZhbHNlfSx7InZhbHVlIjoiXSIsInZhcmlhYmxlIjp0cnVlfV19LCJlbmFibGVkIjpmYWxzZX0=',
};
/**
 * Curator's bytes; but JavaScript has one number type: Java's double `100.0` reads as 100 and is
 * written back as an int (`100`), which a Java reader of the map gets as an Integer.
 */
const curator = (name: keyof typeof CURATOR) =>
  Buffer.from(CURATOR[name], 'base64').toString('utf8').replace('"round":100.0,', '"round":100,');

const base = { address: 'h', port: 1, registrationTimeUTC: 5 };
const cases: [keyof typeof CURATOR, ServiceInstance][] = [
  [
    'map',
    serviceInstance({
      name: 'api',
      id: 'id-1',
      address: '10.0.0.1',
      port: 8080,
      registrationTimeUTC: 1_700_000_000_000,
      uriSpec: '{scheme}://{address}:{port}/x',
      payload: {
        zone: 'eu-1',
        weight: 3,
        tags: ['a', 'b'],
        nested: { k: true },
        nul: null,
        d: 1.5,
        tiny: 1e-7,
        round: 100,
        huge: 1e21,
        big: 12_345_678_901,
        s: 'é\u2028"\\/\n\t\u0001\u001f<😀',
      },
    }),
  ],
  [
    'static',
    serviceInstance({
      name: 'api',
      id: 'id-2',
      address: null,
      sslPort: 443,
      registrationTimeUTC: 5,
      serviceType: 'STATIC',
    }),
  ],
  [
    'string',
    serviceInstance({
      name: 'api',
      id: 'id-3',
      ...base,
      payload: 'str',
      serviceType: 'PERMANENT',
      uriSpec: '',
    }),
  ],
  [
    'long',
    serviceInstance({
      name: 'api',
      id: 'id-4',
      ...base,
      payload: 5_000_000_000,
      serviceType: 'DYNAMIC_SEQUENTIAL',
    }),
  ],
  ['list', serviceInstance({ name: 'api', id: 'id-5', ...base, payload: [1, 'x'] })],
];

describe('JsonInstanceSerializer', () => {
  const serializer = new JsonInstanceSerializer();
  for (const [name, instance] of cases) {
    test(`writes Curator's bytes: ${name}`, () => {
      assert.equal(serializer.serialize(instance).toString('utf8'), curator(name));
    });
  }

  test("writes `enabled` only outside Curator's compatible mode, and refuses to drop enabled: false in it", () => {
    const instance = serviceInstance({
      name: 'api',
      id: 'id-6',
      ...base,
      payload: {},
      uriSpec: '{ scheme }://{[}x{]}',
      enabled: false,
    });
    const full = new JsonInstanceSerializer({ compatibleSerializationMode: false });
    assert.equal(full.serialize(instance).toString('utf8'), curator('enabled'));
    assert.throws(() => serializer.serialize(instance), InvalidArgumentError);
  });

  test("reads Curator's bytes back, keeping the payload's class", () => {
    const map = serializer.deserialize(Buffer.from(curator('map')));
    assert.equal(map.payloadClass, 'java.util.LinkedHashMap');
    assert.equal((map.payload as Record<string, unknown>)['s'], 'é\u2028"\\/\n\t\u0001\u001f<😀');
    assert.equal(map.uriSpec, '{scheme}://{address}:{port}/x');
    assert.equal(buildUri(map), 'http://10.0.0.1:8080/x');
    assert.equal(
      serializer.serialize(map).toString('utf8'),
      curator('map'),
      'read and written again: the same bytes',
    );
    const long = serializer.deserialize(Buffer.from(curator('long')));
    assert.deepEqual(
      [long.payload, long.payloadClass, long.serviceType],
      [5_000_000_000, 'java.lang.Long', 'DYNAMIC_SEQUENTIAL'],
    );
    const enabled = serializer.deserialize(Buffer.from(curator('enabled')));
    assert.deepEqual(
      [enabled.enabled, enabled.uriSpec, buildUri(enabled)],
      [false, '{scheme}://{[}x{]}', 'http://{x}'],
    );
    assert.deepEqual(serializer.deserialize(Buffer.from('{"name":"a","id":"b"}')), {
      name: 'a',
      id: 'b',
      address: null,
      port: null,
      sslPort: null,
      payload: null,
      payloadClass: undefined,
      registrationTimeUTC: 0,
      serviceType: 'DYNAMIC',
      uriSpec: null,
      enabled: true,
    });
  });

  test('bad data is a RecipeMismatchError, a bad instance an InvalidArgumentError', () => {
    for (const bytes of [
      'not json',
      '[1]',
      '{"name":"a"}',
      '{"name":"a","id":"b","port":"80"}',
      '{"name":"a","id":"b","payload":[1,2,3]}',
    ])
      assert.throws(() => serializer.deserialize(Buffer.from(bytes)), RecipeMismatchError, bytes);
    assert.throws(() => serviceInstance({ name: 'a/b' }), InvalidArgumentError);
    assert.throws(() => serviceInstance({ name: 'a', port: 1.5 }), InvalidArgumentError);
    assert.throws(() => serviceInstance({ name: 'a', uriSpec: '{open' }), InvalidArgumentError);
    assert.throws(
      () => serializer.serialize(serviceInstance({ name: 'a', payload: { n: Number.NaN } })),
      InvalidArgumentError,
    );
  });
});
