import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DigestMd5Client, parseDirectives } from '../../src/client/sasl/digest-md5.js';

// The worked example of RFC 2831 §4 (IMAP): known challenge, cnonce, response and rspauth.
const rfcChallenge =
  'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8';
const rfcClient = () =>
  new DigestMd5Client(
    { username: 'chris', password: 'secret', service: 'imap', serverName: 'elwood.innosoft.com' },
    () => 'OA6MHXh6VqTrRk',
  );

test('parseDirectives handles quoted values with commas and escapes, and bare tokens', () => {
  const parsed = parseDirectives('realm="a,b",nonce="x\\"y",qop=auth,algorithm=md5-sess');
  assert.equal(parsed.get('realm'), 'a,b');
  assert.equal(parsed.get('nonce'), 'x"y');
  assert.equal(parsed.get('qop'), 'auth');
  assert.equal(parsed.get('algorithm'), 'md5-sess');
});

test('DIGEST-MD5 response matches RFC 2831 §4 and the rspauth completes the exchange', () => {
  const client = rfcClient();
  assert.equal(client.initialResponse().length, 0);
  const response = parseDirectives(client.evaluate(Buffer.from(rfcChallenge))!.toString());
  assert.equal(response.get('response'), 'd388dad90d4bbd760a152321f2143af7');
  assert.equal(response.get('digest-uri'), 'imap/elwood.innosoft.com');
  assert.equal(response.get('nc'), '00000001');
  assert.equal(client.complete, false);
  assert.equal(client.evaluate(Buffer.from('rspauth=ea40f60335c427b5527b84dbabcdfffd')), null);
  assert.equal(client.complete, true);
});

test('DIGEST-MD5 rejects a wrong rspauth and a challenge without a nonce', () => {
  const client = rfcClient();
  client.evaluate(Buffer.from(rfcChallenge));
  assert.throws(() => client.evaluate(Buffer.from('rspauth=00000000000000000000000000000000')), /rspauth/);
  assert.throws(() => rfcClient().evaluate(Buffer.from('realm="x",qop="auth"')), /nonce/);
});

test("DIGEST-MD5 defaults to ZooKeeper's digest-uri", () => {
  const client = new DigestMd5Client({ username: 'u', password: 'p' });
  const response = parseDirectives(
    client.evaluate(Buffer.from('realm="zk-sasl-md5",nonce="n",qop="auth",charset=utf-8'))!.toString(),
  );
  assert.equal(response.get('digest-uri'), 'zookeeper/zk-sasl-md5');
  assert.equal(response.get('username'), 'u');
});
