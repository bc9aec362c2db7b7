/**
 * FrameTap, the frame reader of FaultProxy: frames split across chunks or coalesced into one,
 * requests decoded (op, xid, every path of a multi or a setWatches), replies matched to their
 * request by xid, and non-ZooKeeper traffic passed on unread — always with the exact bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPEN_ACL_UNSAFE } from '../../src/client/acl.js';
import { ProtocolError } from '../../src/client/errors.js';
import { JuteWriter } from '../../src/client/protocol/jute.js';
import { CreateFlags, OpCode, Xid } from '../../src/client/protocol/op-codes.js';
import {
  writeConnectRequest,
  writeCreate,
  writePathWatch,
  writeRequestHeader,
  writeSetWatches,
} from '../../src/client/protocol/records.js';
import { writeMulti, writeMultiRead } from '../../src/client/transaction.js';
import { FrameTap, type TappedFrame } from '../../src/testing/frame-tap.js';
import { frame, newSessionRequest } from '../support/protocol.js';

const connectRequest = frame((w) => writeConnectRequest(w, newSessionRequest()));
const connectResponse = frame((w) => {
  w.int(0);
  w.int(10_000);
  w.long(0x1234n);
  w.bytes(Buffer.alloc(16, 7));
  w.bool(false);
});

function request(xid: number, type: number, record: (w: JuteWriter) => void = () => {}): Buffer {
  return frame((w) => {
    writeRequestHeader(w, xid, type);
    record(w);
  });
}

function reply(xid: number, zxid: bigint, err: number): Buffer {
  return frame((w) => {
    w.int(xid);
    w.long(zxid);
    w.int(err);
  });
}

/** A tap that records every frame each way. */
function recordingTap(): { tap: FrameTap; toServer: TappedFrame[]; toClient: TappedFrame[] } {
  const toServer: TappedFrame[] = [];
  const toClient: TappedFrame[] = [];
  return {
    tap: new FrameTap(
      (f) => toServer.push(f),
      (f) => toClient.push(f),
    ),
    toServer,
    toClient,
  };
}

const bytesOf = (frames: TappedFrame[]): Buffer => Buffer.concat(frames.map((f) => f.bytes));

const createFoo = request(1, OpCode.create, (w) =>
  writeCreate(w, {
    path: '/foo',
    data: Buffer.from('x'),
    acl: OPEN_ACL_UNSAFE,
    flags: CreateFlags.persistent,
  }),
);
const getDataBar = request(2, OpCode.getData, (w) => writePathWatch(w, '/bar', true));
const ping = request(Xid.ping, OpCode.ping);

describe('FrameTap', () => {
  test('a stream fed one byte at a time comes out as whole frames, byte-exact', () => {
    const { tap, toServer } = recordingTap();
    const stream = Buffer.concat([connectRequest, createFoo, getDataBar, ping]);
    for (let i = 0; i < stream.length; i++) tap.fromClient(stream.subarray(i, i + 1));
    assert.deepEqual(
      toServer.map((f) =>
        f.kind === 'request' ? `${f.request.op} ${f.request.xid} ${f.request.paths.join(',')}` : f.kind,
      ),
      ['connect', 'create 1 /foo', 'getData 2 /bar', 'ping -2 '],
    );
    assert.deepEqual(bytesOf(toServer), stream);
  });

  test('coalesced frames in one chunk, and a chunk ending mid-frame, are split correctly', () => {
    const { tap, toServer } = recordingTap();
    const stream = Buffer.concat([connectRequest, createFoo, getDataBar]);
    const cut = connectRequest.length + createFoo.length + 3; // inside getData's header
    tap.fromClient(stream.subarray(0, cut));
    assert.deepEqual(
      toServer.map((f) => f.kind),
      ['connect', 'request'],
    );
    tap.fromClient(stream.subarray(cut));
    assert.deepEqual(
      toServer.map((f) => f.kind),
      ['connect', 'request', 'request'],
    );
    assert.deepEqual(bytesOf(toServer), stream);
  });

  test('replies are matched to their request by xid; a notification matches none', () => {
    const { tap, toServer, toClient } = recordingTap();
    tap.fromClient(Buffer.concat([connectRequest, createFoo, getDataBar, ping]));
    const replies = Buffer.concat([
      connectResponse,
      reply(1, 10n, 0),
      reply(-1, -1n, 0),
      reply(2, 11n, -101),
      reply(Xid.ping, 11n, 0),
      reply(9, 12n, 0),
    ]);
    tap.fromServer(replies.subarray(0, 7));
    tap.fromServer(replies.subarray(7));
    assert.deepEqual(bytesOf(toClient), replies);
    assert.equal(toClient[0]!.kind, 'connected');
    const matched = toClient.slice(1).map((f) => {
      assert.equal(f.kind, 'reply');
      return [f.reply.xid, f.reply.zxid, f.reply.err, f.request?.op];
    });
    assert.deepEqual(matched, [
      [1, 10n, 0, 'create'],
      [-1, -1n, 0, undefined],
      [2, 11n, -101, 'getData'],
      [-2, 11n, 0, 'ping'],
      [9, 12n, 0, undefined],
    ]);
    const sent = toServer.filter((f) => f.kind === 'request');
    assert.equal(
      toClient[1]!.kind === 'reply' && toClient[1]!.request,
      sent[0]!.kind === 'request' && sent[0]!.request,
      'the very request object',
    );
  });

  test('a multi and a multiRead expose the path of every op; setWatches every watched path', () => {
    const { tap, toServer } = recordingTap();
    const multi = request(3, OpCode.multi, (w) =>
      writeMulti(w, [
        {
          type: 'create',
          opCode: OpCode.createTTL,
          path: '/a',
          record: {
            path: '/a',
            data: null,
            acl: OPEN_ACL_UNSAFE,
            flags: CreateFlags.persistentWithTtl,
            ttl: 5000,
          },
        },
        {
          type: 'create',
          opCode: OpCode.create,
          path: '/b',
          record: { path: '/b', data: Buffer.from('bb'), acl: OPEN_ACL_UNSAFE, flags: CreateFlags.ephemeral },
        },
        { type: 'set', path: '/c', data: Buffer.from('c'), version: -1 },
        { type: 'check', path: '/d', version: 3 },
        { type: 'delete', path: '/e', version: -1 },
      ]),
    );
    const multiRead = request(4, OpCode.multiRead, (w) =>
      writeMultiRead(w, [
        { type: 'getData', path: '/f' },
        { type: 'getChildren', path: '/g' },
      ]),
    );
    const setWatches = request(-8, OpCode.setWatches2, (w) =>
      writeSetWatches(w, {
        relativeZxid: 5n,
        data: ['/h'],
        exist: ['/i'],
        child: [],
        persistent: ['/j'],
        persistentRecursive: ['/k'],
      }),
    );
    tap.fromClient(Buffer.concat([connectRequest, multi, multiRead, setWatches]));
    assert.deepEqual(
      toServer.slice(1).map((f) => f.kind === 'request' && [f.request.op, f.request.paths]),
      [
        ['multi', ['/a', '/b', '/c', '/d', '/e']],
        ['multiRead', ['/f', '/g']],
        ['setWatches2', ['/h', '/i', '/j', '/k']],
      ],
    );
  });

  test('an undecodable record is still forwarded, with no paths', () => {
    const { tap, toServer } = recordingTap();
    const garbage = request(5, OpCode.create, (w) => w.int(1_000_000)); // a string length past the frame's end
    const unknown = request(6, 999, (w) => w.int(1));
    tap.fromClient(Buffer.concat([connectRequest, garbage, unknown]));
    assert.deepEqual(
      toServer.slice(1).map((f) => f.kind === 'request' && [f.request.xid, f.request.op, f.request.paths]),
      [
        [5, 'create', []],
        [6, undefined, []],
      ],
    );
    assert.deepEqual(bytesOf(toServer), Buffer.concat([connectRequest, garbage, unknown]));
  });

  test('a four-letter word (even split before its 4th byte) passes raw, both ways', () => {
    const { tap, toServer, toClient } = recordingTap();
    tap.fromClient(Buffer.from('ru'));
    assert.equal(toServer.length, 0);
    tap.fromClient(Buffer.from('ok'));
    tap.fromServer(Buffer.from('imok'));
    assert.deepEqual(toServer, [{ kind: 'raw', bytes: Buffer.from('ruok') }]);
    assert.deepEqual(toClient, [{ kind: 'raw', bytes: Buffer.from('imok') }]);
  });

  test('a negative frame length is a ProtocolError', () => {
    const { tap } = recordingTap();
    tap.fromClient(connectRequest);
    assert.throws(() => tap.fromClient(Buffer.from([0xff, 0xff, 0xff, 0xf0])), ProtocolError);
  });
});
