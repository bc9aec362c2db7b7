/**
 * FrameFault, the matching and counting of FaultProxy's frame faults: which requests match (op,
 * path, housekeeping xids), nth and times, re-arming when a chosen request's connection ended
 * first, removal, and bad input.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OpCode, Xid } from '../../src/client/protocol/op-codes.js';
import { FrameFault, type FrameMatch } from '../../src/testing/frame-fault.js';
import type { RequestInfo } from '../../src/testing/frame-tap.js';

let nextXid = 1;
function request(op: 'create' | 'getData' | 'multi' | 'ping', ...paths: string[]): RequestInfo {
  return { xid: op === 'ping' ? Xid.ping : nextXid++, type: OpCode[op], op, paths };
}

function fault(match: FrameMatch): { fault: FrameFault; removed: FrameFault[] } {
  const removed: FrameFault[] = [];
  return { fault: new FrameFault(match, (f) => removed.push(f)), removed };
}

describe('FrameFault', () => {
  test('op and path (string, RegExp, function; any path of a multi) must all match', () => {
    const byString = fault({ op: 'create', path: '/a' }).fault;
    assert.equal(byString.take(request('getData', '/a')), false, 'another op');
    assert.equal(byString.take(request('create', '/b')), false, 'another path');
    assert.equal(byString.take(request('create', '/a')), true);
    assert.equal(
      fault({ path: /^\/jobs\// }).fault.take(request('multi', '/x', '/jobs/1')),
      true,
      'a multi by any op',
    );
    assert.equal(
      fault({ op: OpCode.create, path: (p) => p.endsWith('-') }).fault.take(request('create', '/lock-')),
      true,
      'op by number',
    );
  });

  test('without op only ordinary requests match: a ping never counts unless asked for', () => {
    assert.equal(fault({}).fault.take(request('ping')), false);
    assert.equal(fault({ op: 'ping' }).fault.take(request('ping')), true);
  });

  test('nth skips earlier matches; times fires that often, then the fault removes itself', () => {
    const { fault: f, removed } = fault({ op: 'create', nth: 2, times: 2 });
    assert.equal(f.take(request('create', '/1')), false);
    const second = request('create', '/2');
    assert.equal(f.take(second), true);
    assert.equal(f.take(request('getData', '/x')), false, 'not a match: not counted');
    const third = request('create', '/3');
    assert.equal(f.take(third), true);
    assert.equal(f.take(request('create', '/4')), false, 'two firings are already pending');
    assert.equal(f.fire({ request: second }), true);
    assert.equal(f.fire({ request: third }), true);
    assert.equal(f.fired, 2);
    assert.deepEqual([f.active, removed], [false, [f]]);
    assert.equal(f.take(request('create', '/5')), false);
  });

  test('a taken request whose connection ended first is released: the next match is taken instead', async () => {
    const { fault: f } = fault({ op: 'create' });
    assert.equal(f.take(request('create', '/1')), true);
    f.release();
    const next = request('create', '/2');
    assert.equal(f.take(next), true);
    f.fire({ request: next });
    assert.equal((await f.happened).request, next);
  });

  test('remove() disarms: a request already taken is let through', () => {
    const { fault: f, removed } = fault({});
    const taken = request('create', '/1');
    assert.equal(f.take(taken), true);
    f.remove();
    f.remove();
    assert.deepEqual(removed, [f], 'removed once');
    assert.equal(f.fire({ request: taken }), false);
    assert.equal(f.fired, 0);
  });

  test('bad input is a clear error', () => {
    assert.throws(() => fault({ op: 'nosuchop' as never }), TypeError);
    for (const nth of [0, 1.5, -1, NaN]) assert.throws(() => fault({ nth }), RangeError, String(nth));
    assert.throws(() => fault({ times: 0 }), RangeError);
    assert.equal(fault({ times: Infinity }).fault.active, true, 'times: Infinity is allowed');
  });
});
