/**
 * Client-side path validation (ZooKeeper's PathUtils.validatePath), chroot mapping and connect-string
 * parsing (ConnectStringParser).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, InvalidPathError } from '../../src/client/errors.js';
import { ZooKeeperClient } from '../../src/client/client.js';
import { parseHosts } from '../../src/client/hosts.js';
import { Chroot, joinPath, parentPath, validatePath } from '../../src/client/paths.js';

describe('validatePath', () => {
  const valid = [
    '/',
    '/a',
    '/a.b',
    '/...',
    '/a/b-c_d',
    '/zookeeper/config',
    '/a/b/c/d',
    '/é',
    '/日本',
    '/a b',
    '/a:b',
    '/..a',
    '/a..',
  ];
  for (const path of valid) {
    test(`accepts ${JSON.stringify(path)}`, () => {
      assert.doesNotThrow(() => validatePath(path));
    });
  }

  const invalid: Array<[unknown, string]> = [
    ['', 'empty'],
    ['a', 'relative'],
    ['/a/', 'trailing slash'],
    ['//', 'empty component at the root'],
    ['/a//b', 'empty component'],
    ['/.', 'dot component'],
    ['/a/..', 'dot-dot component'],
    ['/a/./b', 'inner dot component'],
    ['/../a', 'leading dot-dot component'],
    ['\u0000', 'NUL'],
    ['/a\u0000', 'NUL inside'],
    ['/a\u0001', 'control character'],
    ['/a\u001f', 'U+001F'],
    ['/\u007f', 'DEL'],
    ['/\u009f', 'U+009F'],
    ['/\ud83d\ude00', 'non-BMP (surrogate pair)'],
    ['/\ud800', 'lone surrogate'],
    ['/\uf000', 'private use area'],
    ['/\uf8ff', 'end of the private use area'],
    ['/\ufff0', 'U+FFF0'],
    ['/\ufff5', 'U+FFF5'],
    ['/\uffff', 'U+FFFF'],
    [undefined, 'undefined'],
    [null, 'null'],
    [42, 'number'],
    [{}, 'object'],
    [['/a'], 'array'],
    [new String('/a'), 'String object'],
  ];
  for (const [path, label] of invalid) {
    test(`rejects ${label}`, () => {
      assert.throws(() => validatePath(path), InvalidPathError);
    });
  }

  test('the error carries the operation name', () => {
    assert.throws(
      () => validatePath('nope', 'create'),
      (error: unknown) =>
        error instanceof InvalidPathError && error.op === 'create' && error.message.includes('"nope"'),
    );
  });

  test('sequential mode accepts a trailing slash (validated with a 1 appended)', () => {
    assert.doesNotThrow(() => validatePath('/a/', 'create', true));
    assert.doesNotThrow(() => validatePath('/lock-', 'create', true));
    assert.doesNotThrow(() => validatePath('/', 'create', true));
    assert.throws(() => validatePath('/a/', 'create', false), InvalidPathError);
  });

  test('sequential mode still rejects the other rules', () => {
    assert.throws(() => validatePath('/a//', 'create', true), InvalidPathError);
    assert.throws(() => validatePath('/./', 'create', true), InvalidPathError);
    assert.throws(() => validatePath('a/', 'create', true), InvalidPathError);
    assert.throws(() => validatePath('/a\u0001/', 'create', true), InvalidPathError);
    assert.throws(() => validatePath('', 'create', true), InvalidPathError);
  });
});

describe('Chroot', () => {
  const chroot = new Chroot('/app');

  test('toServer prefixes the chroot; "/" becomes the chroot itself', () => {
    assert.equal(chroot.toServer('/'), '/app');
    assert.equal(chroot.toServer('/x'), '/app/x');
    assert.equal(chroot.toServer('/x/y'), '/app/x/y');
  });

  test('toClient strips the chroot; the chroot itself becomes "/"', () => {
    assert.equal(chroot.toClient('/app'), '/');
    assert.equal(chroot.toClient('/app/x'), '/x');
    assert.equal(chroot.toClient('/app/x/y'), '/x/y');
  });

  test('toClient leaves paths outside the chroot unchanged, including a sibling sharing the prefix', () => {
    assert.equal(chroot.toClient('/other'), '/other');
    assert.equal(chroot.toClient('/'), '/');
    assert.equal(chroot.toClient('/application'), '/application');
    assert.equal(chroot.toClient('/ap'), '/ap');
  });

  test('round trip for nested chroots', () => {
    const deep = new Chroot('/a/b/c');
    for (const path of ['/', '/x', '/x/y']) assert.equal(deep.toClient(deep.toServer(path)), path);
  });

  test('no chroot is the identity', () => {
    const none = new Chroot('');
    assert.equal(none.toServer('/'), '/');
    assert.equal(none.toServer('/x'), '/x');
    assert.equal(none.toClient('/x'), '/x');
  });
});

describe('parseHosts', () => {
  test('"a:1,b:2/chroot"', () => {
    assert.deepEqual(parseHosts('a:1,b:2/chroot'), {
      endpoints: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      chroot: '/chroot',
    });
  });

  test('a nested chroot', () => {
    assert.equal(parseHosts('zk1:2181/apps/one').chroot, '/apps/one');
  });

  test('bracketed IPv6 with and without a port', () => {
    assert.deepEqual(parseHosts('[::1]:2181').endpoints, [{ host: '::1', port: 2181 }]);
    assert.deepEqual(parseHosts('[fe80::1]:2182,[::1]').endpoints, [
      { host: 'fe80::1', port: 2182 },
      { host: '::1', port: 2181 },
    ]);
  });

  test('a bare host gets the default port 2181', () => {
    assert.deepEqual(parseHosts('host'), { endpoints: [{ host: 'host', port: 2181 }], chroot: '' });
  });

  test('whitespace around entries is ignored', () => {
    assert.deepEqual(parseHosts(' a:1 , b:2 ').endpoints, [
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
  });

  test('an array of "host:port" strings', () => {
    assert.deepEqual(parseHosts(['a:1', 'b', '[::1]:3']), {
      endpoints: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2181 },
        { host: '::1', port: 3 },
      ],
      chroot: '',
    });
  });

  test('a chroot of "/" means no chroot', () => {
    assert.deepEqual(parseHosts('a:1/'), { endpoints: [{ host: 'a', port: 1 }], chroot: '' });
  });

  test('an invalid chroot is rejected', () => {
    assert.throws(() => parseHosts('a:1/bad/'), InvalidPathError);
    assert.throws(() => parseHosts('a:1/x//y'), InvalidPathError);
  });

  for (const hosts of ['a:0', 'a:65536', 'a:x', 'a:-1', 'a:1.5', '[::1]:99999', 'a:1,b:port']) {
    test(`bad port in ${JSON.stringify(hosts)} → InvalidArgumentError`, () => {
      assert.throws(() => parseHosts(hosts), InvalidArgumentError);
    });
  }

  test('malformed bracketed hosts → InvalidArgumentError', () => {
    assert.throws(() => parseHosts('[::1'), InvalidArgumentError);
    assert.throws(() => parseHosts('[::1]x'), InvalidArgumentError);
    assert.throws(() => parseHosts('[]:1'), InvalidArgumentError);
    assert.throws(() => parseHosts(':2181'), InvalidArgumentError);
  });

  for (const hosts of ['', ' ', ',', ' , ', '/chroot']) {
    test(`empty connect string ${JSON.stringify(hosts)} → InvalidArgumentError`, () => {
      assert.throws(() => parseHosts(hosts), InvalidArgumentError);
    });
  }

  test('an empty array or a non-string entry → InvalidArgumentError', () => {
    assert.throws(() => parseHosts([]), InvalidArgumentError);
    assert.throws(() => parseHosts(['a:1', 2 as unknown as string]), InvalidArgumentError);
    assert.throws(() => parseHosts(42 as unknown as string), InvalidArgumentError);
  });
});

describe('joinPath / parentPath', () => {
  test('joinPath', () => {
    assert.equal(joinPath('/', 'a'), '/a');
    assert.equal(joinPath('/a', 'b'), '/a/b');
    assert.equal(joinPath('/a/b', 'lock-0000000001'), '/a/b/lock-0000000001');
  });

  test('parentPath', () => {
    assert.equal(parentPath('/a/b'), '/a');
    assert.equal(parentPath('/a/b/c'), '/a/b');
    assert.equal(parentPath('/a'), '/');
    assert.equal(parentPath('/'), '/');
  });

  test('parentPath inverts joinPath', () => {
    for (const parent of ['/', '/a', '/a/b']) assert.equal(parentPath(joinPath(parent, 'x')), parent);
  });

  describe('messages name the mistake', () => {
    const cases: [string | string[], RegExp][] = [
      ['http://127.0.0.1:2181', /is a URL: a connect string has no scheme \("http:\/\/"\)/],
      ['zk://a:1,b:2/app', /is a URL/],
      [['zookeeper://a:1'], /is a URL/],
      [['127.0.0.1:2181/app'], /has a chroot \("\/app"\).*connect string.*"127\.0\.0\.1:2181\/app"/],
      [['a:1', 'b:2/app'], /has a chroot.*"a:1,b:2\/app"/],
      ['a:1/app,b:2', /the chroot "\/app,b:2" holds a host: the chroot goes once, after the last host/],
      ['', /hosts is empty: give at least one server/],
      [[], /hosts is empty/],
      ['/app', /names no server before its chroot/],
      ['a:65536', /invalid port in "a:65536": 65536 is out of range \(1-65535\)/],
      ['a:0', /out of range/],
      ['a:port', /"port" is not a number/],
      ['fe80::1:2181', /write an IPv6 address in brackets/],
    ];
    for (const [hosts, message] of cases) {
      test(JSON.stringify(hosts), () => {
        assert.throws(
          () => parseHosts(hosts),
          (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
        );
      });
    }
  });
});

test('client.servers: every server of the connect string, as host:port (IPv6 in brackets, the default port filled in)', () => {
  const client = new ZooKeeperClient({ hosts: 'zk1:2181, [::1]:2182,zk3/app' });
  assert.deepEqual(client.servers, ['zk1:2181', '[::1]:2182', 'zk3:2181']);
  assert.deepEqual(new ZooKeeperClient({ hosts: ['127.0.0.1:2181'] }).servers, ['127.0.0.1:2181']);
});
