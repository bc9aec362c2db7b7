/**
 * Record encodings against the bytes captured from a real 3.8.0 server (the bytes are
 * in this file), and the multi / multiRead result decoding (MultiResponse).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPEN_ACL_UNSAFE, Perms, makeDigestAcl } from '../../src/client/acl.js';
import {
  BadVersionError,
  NoAuthError,
  NoNodeError,
  NodeExistsError,
  RolledBackError,
  RuntimeInconsistencyError,
  ZooKeeperError,
} from '../../src/client/errors.js';
import { Chroot } from '../../src/client/paths.js';
import { JuteReader, JuteWriter } from '../../src/client/protocol/jute.js';
import { CreateFlags, OpCode, Xid } from '../../src/client/protocol/op-codes.js';
import {
  STAT_BYTES,
  readAcl,
  readChildren2,
  readConnectResponse,
  readGetData,
  readStat,
  readWatcherEvent,
  writeAcl,
  writeAuth,
  writeConnectRequest,
  writeCreate,
  writeGetData,
  writePathInt,
  writePathWatch,
  writeRequestHeader,
  writeSetData,
  writeStat,
  type Stat,
} from '../../src/client/protocol/records.js';
import {
  TransactionError,
  readMulti,
  readMultiRead,
  transactionFailure,
  writeMulti,
  writeMultiRead,
  type ReadOp,
  type TransactionOp,
} from '../../src/client/transaction.js';
import { assertProtocolError, frame, newSessionRequest } from '../support/protocol.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Encode a body without a length prefix. */
function body(writeBody: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  writeBody(w);
  return w.copy();
}

const SESSION_ID = 0x01000009b17f0014n;

const SAMPLE_STAT: Stat = {
  czxid: 0xc5n,
  mzxid: 0x100000002n,
  ctime: 1_700_000_000_123,
  mtime: 1_700_000_000_456,
  version: 3,
  cversion: -1,
  aversion: 2,
  ephemeralOwner: SESSION_ID,
  dataLength: 2,
  numChildren: 7,
  pzxid: 0x7fffffffffffffffn,
};

describe('connect handshake records', () => {
  test('a new-session ConnectRequest (T=30000, readOnly=false) matches the captured bytes', () => {
    const bytes = frame((w) => writeConnectRequest(w, newSessionRequest(30_000)));
    const expected = hex(`0000002d 00000000 00000000 00000000 00007530 00000000 00000000 00000010
      00000000 00000000 00000000 00000000 00`);
    assert.deepEqual(bytes, expected);
    assert.equal(bytes.length, 49, 'frame of 49 bytes (ConnectRequest: 4-byte length + 45)');
  });

  test('a re-attach ConnectRequest carries lastZxid, the session id and its password', () => {
    const password = Buffer.from('0123456789abcdef');
    const bytes = body((w) =>
      writeConnectRequest(w, {
        lastZxidSeen: 0x100000002n,
        timeout: 4000,
        sessionId: SESSION_ID,
        password,
        readOnly: true,
      }),
    );
    const r = new JuteReader(bytes);
    assert.equal(r.int(), 0);
    assert.equal(r.long(), 0x100000002n);
    assert.equal(r.int(), 4000);
    assert.equal(r.long(), SESSION_ID);
    assert.deepEqual(r.bytes(), password);
    assert.equal(r.bool(), true);
    assert.equal(r.remaining, 0);
  });

  const password = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const response37 = Buffer.concat([
    hex('00000025 00000000 00007530 01000009 b17f0014 00000010'),
    password,
    hex('00'),
  ]);

  test('a 37-byte ConnectResponse (captured) decodes', () => {
    const r = new JuteReader(response37, 4);
    assert.equal(r.remaining, 37);
    assert.deepEqual(readConnectResponse(r), {
      timeout: 30000,
      sessionId: SESSION_ID,
      password,
      readOnly: false,
    });
    const ro = Buffer.from(response37);
    ro[ro.length - 1] = 1;
    assert.equal(readConnectResponse(new JuteReader(ro, 4)).readOnly, true);
  });

  test('a 36-byte ConnectResponse (old-client form, no readOnly byte) decodes', () => {
    const r = new JuteReader(response37, 4, response37.length - 1);
    assert.equal(r.remaining, 36);
    assert.deepEqual(readConnectResponse(r), {
      timeout: 30000,
      sessionId: SESSION_ID,
      password,
      readOnly: false,
    });
  });

  test('a ConnectResponse shorter than 36 bytes is a ProtocolError', () => {
    for (let length = 0; length < 36; length++) {
      assertProtocolError(
        () => readConnectResponse(new JuteReader(response37, 4, 4 + length)),
        `${length} bytes`,
      );
    }
  });

  test('a ConnectResponse whose password length overruns the frame is a ProtocolError', () => {
    const bad = Buffer.from(response37);
    bad.writeInt32BE(100, 4 + 16);
    assertProtocolError(() => readConnectResponse(new JuteReader(bad, 4)));
  });
});

describe('request records (captured bytes)', () => {
  test('create /hx, data "hi", OPEN_ACL_UNSAFE, flags 1, xid 1', () => {
    const bytes = frame((w) => {
      writeRequestHeader(w, 1, OpCode.create);
      writeCreate(w, {
        path: '/hx',
        data: Buffer.from('hi'),
        acl: OPEN_ACL_UNSAFE,
        flags: CreateFlags.ephemeral,
      });
    });
    const expected = hex(`00000034 00000001 00000001 00000003 2f687800 00000268 69000000 01000000
      1f000000 05776f72 6c640000 0006616e 796f6e65 00000001`);
    assert.deepEqual(bytes, expected);
  });

  test('createTTL appends the ttl as a long', () => {
    const bytes = body((w) =>
      writeCreate(w, {
        path: '/t',
        data: null,
        acl: OPEN_ACL_UNSAFE,
        flags: CreateFlags.persistentWithTtl,
        ttl: 5000,
      }),
    );
    assert.deepEqual(bytes.subarray(bytes.length - 12), hex('00000005 0000000000001388'));
    assert.deepEqual(bytes.subarray(6, 10), hex('ffffffff'), 'null data is length -1');
  });

  test('getData /hx watch=true, xid 2', () => {
    const bytes = frame((w) => {
      writeRequestHeader(w, 2, OpCode.getData);
      writePathWatch(w, '/hx', true);
    });
    assert.deepEqual(bytes, hex('00000010 00000002 00000004 00000003 2f687801'));
  });

  test('ping request', () => {
    const bytes = frame((w) => writeRequestHeader(w, Xid.ping, OpCode.ping));
    assert.deepEqual(bytes, hex('00000008 fffffffe 0000000b'));
  });

  test('auth digest "u:p"', () => {
    const bytes = frame((w) => {
      writeRequestHeader(w, Xid.auth, OpCode.auth);
      writeAuth(w, 'digest', Buffer.from('u:p'));
    });
    assert.deepEqual(
      bytes,
      hex('0000001d fffffffc 00000064 00000000 00000006 64696765 73740000 0003753a 70'),
    );
  });

  test('setData and delete records', () => {
    assert.deepEqual(
      body((w) => writeSetData(w, '/a', Buffer.from('x'), -1)),
      hex('00000002 2f61 00000001 78 ffffffff'),
    );
    assert.deepEqual(
      body((w) => writePathInt(w, '/a', 5)),
      hex('00000002 2f61 00000005'),
    );
  });

  test('ACL round trip through writeAcl / readAcl', () => {
    const acl = [...OPEN_ACL_UNSAFE, makeDigestAcl('alice', 'secret', Perms.READ | Perms.WRITE)];
    assert.deepEqual(readAcl(new JuteReader(body((w) => writeAcl(w, acl)))), acl);
  });
});

describe('response records', () => {
  test('Stat: 68 bytes, every field in wire order', () => {
    const bytes = body((w) => writeStat(w, SAMPLE_STAT));
    assert.equal(bytes.length, 68);
    assert.equal(STAT_BYTES, 68);
    const r = new JuteReader(bytes);
    assert.deepEqual(readStat(r), SAMPLE_STAT);
    assert.equal(r.remaining, 0);
  });

  test('Stat from hand-written bytes', () => {
    const bytes = hex(`
      0000000000000001 0000000000000002 0000018bcfe56800 0000018bcfe56801
      00000004 00000005 00000006 01000008189f0000 00000007 00000008 0000000000000009`);
    assert.deepEqual(readStat(new JuteReader(bytes)), {
      czxid: 1n,
      mzxid: 2n,
      ctime: 0x18bcfe56800,
      mtime: 0x18bcfe56801,
      version: 4,
      cversion: 5,
      aversion: 6,
      ephemeralOwner: 0x01000008189f0000n,
      dataLength: 7,
      numChildren: 8,
      pzxid: 9n,
    });
  });

  test('getData record round trip through writeGetData / readGetData (the compact copy TreeCache keeps)', () => {
    const record = { data: Buffer.from([0, 1, 0xff, 0x80]), stat: { ...SAMPLE_STAT, dataLength: 4 } };
    const bytes = body((w) => writeGetData(w, record));
    assert.equal(bytes.length, 4 + 4 + STAT_BYTES);
    const latin1 = Buffer.from(bytes.toString('latin1'), 'latin1');
    assert.deepEqual(readGetData(new JuteReader(latin1)), record, 'survives a latin1 string');
  });

  test('a Stat of 67 bytes is a ProtocolError', () => {
    const bytes = body((w) => writeStat(w, SAMPLE_STAT));
    assertProtocolError(() => readStat(new JuteReader(bytes, 0, 67)));
  });

  test('create reply (CreateResponse "/hx")', () => {
    const reply = hex('00000017 00000001 00000000 000000c5 00000000 00000003 2f6878');
    const r = new JuteReader(reply, 4);
    assert.equal(r.int(), 1);
    assert.equal(r.long(), 0xc5n);
    assert.equal(r.int(), 0);
    assert.equal(r.requiredString(), '/hx');
    assert.equal(r.remaining, 0);
  });

  test('getData reply shape as captured: xid 2, zxid 0xc5, data "hi", Stat', () => {
    const stat: Stat = { ...SAMPLE_STAT, dataLength: 2, ephemeralOwner: SESSION_ID };
    const statBytes = body((w) => writeStat(w, stat));
    const reply = Buffer.concat([
      hex('0000005a 00000002 00000000 000000c5 00000000 00000002 6869'),
      statBytes,
    ]);
    assert.equal(reply.length - 4, 0x5a, 'the captured length prefix covers the Stat');
    const r = new JuteReader(reply, 4);
    assert.equal(r.int(), 2);
    assert.equal(r.long(), 0xc5n);
    assert.equal(r.int(), 0);
    const result = readGetData(r);
    assert.deepEqual(result.data, Buffer.from('hi'));
    assert.deepEqual(result.stat, stat);
    assert.equal(r.remaining, 0);
  });

  test('getData reply with null data gives an empty buffer', () => {
    const bytes = Buffer.concat([hex('ffffffff'), body((w) => writeStat(w, SAMPLE_STAT))]);
    const result = readGetData(new JuteReader(bytes));
    assert.equal(result.data.length, 0);
  });

  test('getData /nope reply header carries NoNode (-101)', () => {
    const r = new JuteReader(hex('00000010 00000003 00000000 000000c5 ffffff9b'), 4);
    assert.equal(r.int(), 3);
    assert.equal(r.long(), 0xc5n);
    assert.equal(r.int(), -101);
    assert.equal(r.remaining, 0);
  });

  test('ping reply', () => {
    const r = new JuteReader(hex('00000010 fffffffe 00000000 000000c4 00000000'), 4);
    assert.equal(r.int(), Xid.ping);
    assert.equal(r.long(), 0xc4n);
    assert.equal(r.int(), 0);
  });

  test('notification (NodeDataChanged, SyncConnected, "/hx")', () => {
    const r = new JuteReader(
      hex('0000001f ffffffff ffffffff ffffffff 00000000 00000003 00000003 00000003 2f6878'),
      4,
    );
    assert.equal(r.int(), Xid.notification);
    assert.equal(r.long(), -1n);
    assert.equal(r.int(), 0);
    assert.deepEqual(readWatcherEvent(r), { type: 3, state: 3, path: '/hx' });
  });

  test('getChildren2 reply', () => {
    const bytes = body((w) => {
      w.stringVector(['a', 'b']);
      writeStat(w, SAMPLE_STAT);
    });
    assert.deepEqual(readChildren2(new JuteReader(bytes)), { children: ['a', 'b'], stat: SAMPLE_STAT });
  });
});

describe('multi (op 14)', () => {
  const deleteHx: TransactionOp = { type: 'delete', path: '/hx', version: -1 };

  test('writeMulti of [delete /hx -1] after the header equals the captured bytes', () => {
    const bytes = frame((w) => {
      writeRequestHeader(w, 4, OpCode.multi);
      writeMulti(w, [deleteHx]);
    });
    assert.deepEqual(
      bytes,
      hex('00000025 00000004 0000000e 00000002 00ffffff ff000000 032f6878 ffffffff ffffffff 01ffffff ff'),
    );
  });

  test('writeMulti of create, set and check', () => {
    const ops: TransactionOp[] = [
      {
        type: 'create',
        opCode: OpCode.create,
        path: '/a',
        record: { path: '/a', data: Buffer.from('x'), acl: OPEN_ACL_UNSAFE, flags: 0 },
      },
      { type: 'set', path: '/b', data: Buffer.from('y'), version: 3 },
      { type: 'check', path: '/c', version: 0 },
    ];
    const expected = Buffer.concat([
      hex('00000001 00 ffffffff'),
      body((w) => writeCreate(w, { path: '/a', data: Buffer.from('x'), acl: OPEN_ACL_UNSAFE, flags: 0 })),
      hex('00000005 00 ffffffff'),
      hex('00000002 2f62 00000001 79 00000003'),
      hex('0000000d 00 ffffffff'),
      hex('00000002 2f63 00000000'),
      hex('ffffffff 01 ffffffff'),
    ]);
    assert.deepEqual(
      body((w) => writeMulti(w, ops)),
      expected,
    );
  });

  test('readMulti of the captured reply [DeleteResult]', () => {
    const reply = hex(
      '00000022 00000004 00000000 000000c7 00000000 00000002 00000000 00ffffff ff01ffff ffff',
    );
    const r = new JuteReader(reply, 4);
    assert.equal(r.int(), 4);
    assert.equal(r.long(), 0xc7n);
    assert.equal(r.int(), 0);
    const results = readMulti(r, [deleteHx], (p) => p);
    assert.deepEqual(results, [{ type: 'delete' }]);
    assert.equal(r.remaining, 0);
    assert.equal(transactionFailure(results), undefined);
  });

  test('readMulti success with create, create2, setData and check; create paths leave the chroot', () => {
    const chroot = new Chroot('/app');
    const ops: TransactionOp[] = [
      {
        type: 'create',
        opCode: OpCode.create,
        path: '/app/a',
        record: { path: '/app/a', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 },
      },
      {
        type: 'create',
        opCode: OpCode.createContainer,
        path: '/app/c',
        record: { path: '/app/c', data: null, acl: OPEN_ACL_UNSAFE, flags: 4 },
      },
      { type: 'set', path: '/app/b', data: null, version: -1 },
      { type: 'check', path: '/app/b', version: 1 },
    ];
    const bytes = body((w) => {
      w.int(OpCode.create);
      w.bool(false);
      w.int(0);
      w.string('/app/a0000000001');
      w.int(OpCode.create2);
      w.bool(false);
      w.int(0);
      w.string('/app/c');
      writeStat(w, SAMPLE_STAT);
      w.int(OpCode.setData);
      w.bool(false);
      w.int(0);
      writeStat(w, SAMPLE_STAT);
      w.int(OpCode.check);
      w.bool(false);
      w.int(0);
      w.int(-1);
      w.bool(true);
      w.int(-1);
    });
    const r = new JuteReader(bytes);
    const results = readMulti(r, ops, (p) => chroot.toClient(p));
    assert.deepEqual(results, [
      { type: 'create', path: '/a0000000001' },
      { type: 'create', path: '/c', stat: SAMPLE_STAT },
      { type: 'set', stat: SAMPLE_STAT },
      { type: 'check' },
    ]);
    assert.equal(r.remaining, 0);
    assert.equal(transactionFailure(results), undefined);
  });

  /** A failed-transaction reply: every result is an ErrorResult (header err == body err). */
  function failureReply(codes: number[]): Buffer {
    return body((w) => {
      for (const code of codes) {
        w.int(-1);
        w.bool(false);
        w.int(code);
        w.int(code);
      }
      w.int(-1);
      w.bool(true);
      w.int(-1);
    });
  }

  const threeOps: TransactionOp[] = [
    {
      type: 'create',
      opCode: OpCode.create,
      path: '/app/a',
      record: { path: '/app/a', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 },
    },
    { type: 'set', path: '/app/b', data: null, version: 3 },
    { type: 'delete', path: '/app/c', version: -1 },
  ];

  test('readMulti failure: 0 → RolledBackError, -103 → BadVersionError, -2 → RuntimeInconsistencyError', () => {
    const chroot = new Chroot('/app');
    const results = readMulti(new JuteReader(failureReply([0, -103, -2])), threeOps, (p) =>
      chroot.toClient(p),
    );
    assert.equal(results.length, 3);
    const errors = results.map((result) => {
      assert.equal(result.type, 'error');
      return (result as { type: 'error'; error: ZooKeeperError }).error;
    });
    assert.ok(errors[0] instanceof RolledBackError, `op 0: ${errors[0]?.name}`);
    assert.ok(errors[1] instanceof BadVersionError, `op 1: ${errors[1]?.name}`);
    assert.ok(errors[2] instanceof RuntimeInconsistencyError, `op 2: ${errors[2]?.name}`);
    assert.equal(errors[1]!.code, -103);
    assert.equal(errors[1]!.op, 'set');
    assert.equal(errors[1]!.path, '/b', 'error paths are client paths');
    assert.equal(errors[2]!.op, 'delete');
    assert.equal(errors[2]!.path, '/c');

    const failure = transactionFailure(results);
    assert.ok(failure instanceof TransactionError);
    assert.equal(failure.failedIndex, 1);
    assert.ok(failure.error instanceof BadVersionError);
    assert.equal(failure.code, -103);
    assert.equal(failure.results, results);
  });

  test('transactionFailure picks the real failing index (first op, last op)', () => {
    const first = transactionFailure(
      readMulti(new JuteReader(failureReply([-101, -2, -2])), threeOps, (p) => p),
    );
    assert.equal(first?.failedIndex, 0);
    assert.ok(first?.error instanceof NoNodeError);
    const last = transactionFailure(
      readMulti(new JuteReader(failureReply([0, 0, -110])), threeOps, (p) => p),
    );
    assert.equal(last?.failedIndex, 2);
    assert.ok(last?.error instanceof NodeExistsError);
    const middle = transactionFailure(
      readMulti(new JuteReader(failureReply([0, -102, -2])), threeOps, (p) => p),
    );
    assert.equal(middle?.failedIndex, 1);
    assert.ok(middle?.error instanceof NoAuthError);
  });

  test('fewer multi results than operations is a ProtocolError', () => {
    assertProtocolError(() => readMulti(new JuteReader(failureReply([0, -103])), threeOps, (p) => p));
    assertProtocolError(
      () => readMulti(new JuteReader(hex('ffffffff 01 ffffffff')), [deleteHx], (p) => p),
      'empty reply for one op',
    );
  });

  test('more multi results than operations is a ProtocolError', () => {
    assertProtocolError(() => readMulti(new JuteReader(failureReply([0, 0, 0, -103])), threeOps, (p) => p));
  });

  test('an unexpected multi result type is a ProtocolError', () => {
    const bytes = hex('00000004 00 00000000 ffffffff 01 ffffffff');
    assertProtocolError(() => readMulti(new JuteReader(bytes), [deleteHx], (p) => p));
  });

  test('a multi reply without the terminator is a ProtocolError', () => {
    assertProtocolError(() => readMulti(new JuteReader(hex('00000002 00 00000000')), [deleteHx], (p) => p));
  });
});

describe('multiRead (op 22)', () => {
  const ops: ReadOp[] = [
    { type: 'getData', path: '/a' },
    { type: 'getChildren', path: '/b' },
    { type: 'getData', path: '/nope' },
    { type: 'getChildren', path: '/gone' },
  ];

  test('writeMultiRead encodes getData / getChildren with watch=false', () => {
    const bytes = body((w) => writeMultiRead(w, ops.slice(0, 2)));
    assert.deepEqual(
      bytes,
      hex('00000004 00 ffffffff 00000002 2f61 00 00000008 00 ffffffff 00000002 2f62 00 ffffffff 01 ffffffff'),
    );
  });

  test('readMultiRead: data, children and per-op errors', () => {
    const bytes = body((w) => {
      w.int(OpCode.getData);
      w.bool(false);
      w.int(0);
      w.bytes(Buffer.from('hi'));
      writeStat(w, SAMPLE_STAT);
      w.int(OpCode.getChildren);
      w.bool(false);
      w.int(0);
      w.stringVector(['x', 'y']);
      for (let i = 0; i < 2; i++) {
        w.int(-1);
        w.bool(false);
        w.int(-101);
        w.int(-101);
      }
      w.int(-1);
      w.bool(true);
      w.int(-1);
    });
    const r = new JuteReader(bytes);
    const results = readMultiRead(r, ops);
    assert.equal(r.remaining, 0);
    assert.equal(results.length, 4);
    assert.deepEqual(results[0], { type: 'getData', data: Buffer.from('hi'), stat: SAMPLE_STAT });
    assert.deepEqual(results[1], { type: 'getChildren', children: ['x', 'y'] });
    for (const [index, result] of results.slice(2).entries()) {
      assert.equal(result.type, 'error');
      const error = (result as { type: 'error'; error: ZooKeeperError }).error;
      assert.ok(error instanceof NoNodeError);
      assert.equal(error.path, ops[index + 2]!.path);
      assert.equal(error.op, ops[index + 2]!.type);
    }
  });

  test('a multiRead result count mismatch is a ProtocolError', () => {
    const one = hex('ffffffff 00 ffffff9b ffffff9b ffffffff 01 ffffffff');
    assertProtocolError(() => readMultiRead(new JuteReader(one), ops), 'fewer');
    assertProtocolError(() => readMultiRead(new JuteReader(one), []), 'more');
  });

  test('an unexpected multiRead result type is a ProtocolError', () => {
    assertProtocolError(() =>
      readMultiRead(new JuteReader(hex('00000002 00 00000000 ffffffff 01 ffffffff')), ops.slice(0, 1)),
    );
  });
});
