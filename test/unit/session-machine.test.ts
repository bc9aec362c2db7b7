/**
 * The session's connection state machine, driven without sockets: every event is data, every
 * effect is checked as data (src/client/session-machine.ts; DESIGN.md, "Session and state machine").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backoff,
  connectTimeout,
  connectionTimers,
  initialState,
  transition,
  type Effect,
  type MachineConfig,
  type MachineState,
  type SessionEvent,
} from '../../src/client/session-machine.js';
import { ConnectionState } from '../../src/client/states.js';

const A = { host: 'a', port: 1 };
const B = { host: 'b', port: 2 };
const C = { host: 'c', port: 3 };
const SESSION = 0x1234n;
const PASSWORD = Buffer.alloc(16, 7);
const OTHER_SESSION = 0x5678n;

/** Drives the machine: `send` applies one event and returns its effects. */
class Driver {
  state: MachineState;
  constructor(config: Partial<MachineConfig> = {}) {
    this.state = initialState({
      endpoints: [A, B],
      sessionTimeout: 30_000,
      connectTimeout: undefined,
      ...config,
    });
  }

  send(event: SessionEvent): Effect[] {
    const { state, effects } = transition(this.state, event);
    this.state = state;
    return [...effects];
  }

  get attempt(): number {
    return this.state.attempt;
  }

  /** The server answers the current attempt. */
  respond(options: { sessionId?: bigint; timeout?: number; readOnly?: boolean } = {}): Effect[] {
    return this.send({
      type: 'connectResponse',
      attempt: this.attempt,
      sessionId: options.sessionId ?? SESSION,
      password: PASSWORD,
      timeout: options.timeout ?? 4000,
      readOnly: options.readOnly ?? false,
    });
  }

  /** The current attempt's connection closed. */
  closed(
    options: {
      kind?: 'lost' | 'authFailed' | 'closed';
      error?: Error;
      certificateError?: Error;
      lastReceivedAt?: number;
      now?: number;
      random?: number;
    } = {},
  ): Effect[] {
    return this.send({
      type: 'connectionClosed',
      attempt: this.attempt,
      kind: options.kind ?? 'lost',
      error: options.error,
      certificateError: options.certificateError,
      lastReceivedAt: options.lastReceivedAt ?? 0,
      now: options.now ?? 0,
      random: options.random ?? 0.5,
    });
  }

  /** start → connect → handshake → established: CONNECTED on `SESSION`. */
  connected(options: { timeout?: number; readOnly?: boolean } = {}): void {
    this.send({ type: 'start' });
    this.respond(options);
    this.send({ type: 'established', attempt: this.attempt });
    assert.equal(this.state.phase.name, 'connected');
  }

  /** Connected, then the connection drops: SUSPENDED, the LOST timer running. */
  suspended(): Effect[] {
    this.connected();
    const effects = this.closed({ lastReceivedAt: 1000, now: 1000 });
    assert.equal(this.state.state, ConnectionState.SUSPENDED);
    return effects;
  }
}

function ofType<T extends Effect['type']>(
  effects: readonly Effect[],
  type: T,
): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}

function connects(effects: readonly Effect[]): Extract<Effect, { type: 'connect' }>[] {
  return ofType(effects, 'connect');
}

function emitted(effects: readonly Effect[]): string[] {
  return ofType(effects, 'emit').map((e) => `${e.state}/${e.keeperState}`);
}

function lostTimer(effects: readonly Effect[]): number | undefined {
  return ofType(effects, 'startTimer').find((e) => e.timer === 'lost')?.ms;
}

describe('session machine: connecting', () => {
  test('start connects to the first host and reports CONNECTING (still LOST: no session yet)', () => {
    const d = new Driver();
    const effects = d.send({ type: 'start' });
    assert.deepEqual(emitted(effects), ['LOST/CONNECTING']);
    const [connect] = connects(effects);
    assert.deepEqual(connect?.endpoint, A);
    assert.equal(connect?.sessionId, 0n);
    assert.equal(d.state.phase.name, 'connecting');
  });

  test('a failed host is followed at once by the next one; a full failed cycle pauses first', () => {
    const d = new Driver();
    d.send({ type: 'start' });
    const first = d.closed();
    assert.deepEqual(connects(first)[0]?.endpoint, B, 'the next host, no pause inside a cycle');
    const second = d.closed({ random: 0.5 });
    assert.deepEqual(connects(second), []);
    assert.deepEqual(ofType(second, 'startTimer'), [{ type: 'startTimer', timer: 'backoff', ms: 37.5 }]);
    assert.equal(d.state.phase.name, 'waiting');
    const again = d.send({ type: 'timerFired', timer: 'backoff' });
    assert.deepEqual(connects(again)[0]?.endpoint, A, 'the cycle starts over');
  });

  test('failed cycles back off exponentially from 50 ms to a 1 s cap, half fixed and half random', () => {
    const d = new Driver({ endpoints: [A], sessionTimeout: 10_000 });
    d.send({ type: 'start' });
    const pauses: number[] = [];
    for (let cycle = 1; cycle <= 8; cycle++) {
      const effects = d.closed({ random: 0.5 });
      pauses.push(ofType(effects, 'startTimer').find((e) => e.timer === 'backoff')!.ms);
      d.send({ type: 'timerFired', timer: 'backoff' });
    }
    assert.deepEqual(pauses, [37.5, 75, 150, 300, 600, 750, 750, 750]);
    assert.equal(backoff(3, 0), 100, 'the fixed half');
    assert.equal(backoff(3, 0.999), 199.9, 'plus at most the random half');
    assert.equal(backoff(1000, 0.999), 999.5, 'never above the cap');
  });

  test('after a drop the first attempt waits at most 200 ms, spread by the random number; a success resets the back-off', () => {
    const d = new Driver({ endpoints: [A], sessionTimeout: 10_000 });
    d.connected({ timeout: 10_000 });
    d.closed();
    d.send({ type: 'timerFired', timer: 'backoff' });
    const failed = d.closed({ random: 0 });
    assert.equal(ofType(failed, 'startTimer').find((e) => e.timer === 'backoff')?.ms, 25, 'one failed cycle');
    d.send({ type: 'timerFired', timer: 'backoff' });
    d.respond({ timeout: 10_000 });
    d.send({ type: 'established', attempt: d.attempt });
    const spread = [0, 0.25, 0.5, 0.999].map((random) => {
      const fresh = new Driver({ endpoints: [A], sessionTimeout: 10_000 });
      fresh.connected({ timeout: 10_000 });
      return ofType(fresh.closed({ random }), 'startTimer').find((e) => e.timer === 'backoff')?.ms;
    });
    assert.deepEqual(spread, [0, 50, 100, 199.8]);
    const again = d.closed({ random: 0.5 });
    assert.equal(
      ofType(again, 'startTimer').find((e) => e.timer === 'backoff')?.ms,
      100,
      'no back-off left over',
    );
  });

  test('a TLS certificate refused by every host is terminal: AUTH_FAILED, nothing more is tried', () => {
    const d = new Driver();
    d.send({ type: 'start' });
    const refused = new Error('certificate refused');
    d.closed({ certificateError: refused });
    const effects = d.closed({ certificateError: refused });
    assert.deepEqual(connects(effects), []);
    assert.deepEqual(ofType(effects, 'fail'), [{ type: 'fail', error: refused }]);
    assert.deepEqual(emitted(effects), ['LOST/AUTH_FAILED']);
    assert.equal(d.state.phase.name, 'failed');
  });

  test('handshake with a new session: activate with the timers of the negotiated timeout, establish, then CONNECTED', () => {
    const d = new Driver();
    d.send({ type: 'start' });
    const effects = d.respond({ timeout: 6000 });
    assert.deepEqual(ofType(effects, 'activate'), [
      { type: 'activate', attempt: d.attempt, timers: { readTimeout: 4000, pingInterval: 2000 } },
    ]);
    assert.deepEqual(ofType(effects, 'establish'), [
      { type: 'establish', attempt: d.attempt, sameSession: false },
    ]);
    assert.equal(d.state.sessionId, SESSION);
    assert.equal(d.state.negotiatedTimeout, 6000);
    assert.equal(d.state.phase.name, 'handshaking');
    const ready = d.send({ type: 'established', attempt: d.attempt });
    assert.deepEqual(ofType(ready, 'ready'), [{ type: 'ready', readOnly: false, reconnected: false }]);
    assert.deepEqual(emitted(ready), ['CONNECTED/CONNECTED']);
  });

  test('handshake with the same session after SUSPENDED: all watches restored, watchers told of the reconnect', () => {
    const d = new Driver();
    d.suspended();
    assert.equal(
      connects(d.send({ type: 'timerFired', timer: 'backoff' }))[0]?.sessionId,
      SESSION,
      'asks for the same session',
    );
    assert.deepEqual(
      d.send({ type: 'timerFired', timer: 'backoff' }),
      [],
      'a late back-off timer does nothing',
    );
    const effects = d.respond();
    assert.deepEqual(ofType(effects, 'establish'), [
      { type: 'establish', attempt: d.attempt, sameSession: true },
    ]);
    const ready = d.send({ type: 'established', attempt: d.attempt });
    assert.deepEqual(ofType(ready, 'ready'), [{ type: 'ready', readOnly: false, reconnected: true }]);
    assert.deepEqual(ofType(ready, 'cancelTimer'), [{ type: 'cancelTimer', timer: 'lost' }]);
    assert.deepEqual(emitted(ready), ['CONNECTED/CONNECTED']);
  });

  test('resuming a given session (client_id) asks for it on the first connect', () => {
    const state = initialState(
      { endpoints: [A], sessionTimeout: 10_000, connectTimeout: undefined },
      { id: SESSION, password: PASSWORD },
    );
    const { effects } = transition(state, { type: 'start' });
    assert.equal(connects(effects)[0]?.sessionId, SESSION);
    assert.equal(connects(effects)[0]?.password, PASSWORD);
  });

  test('an expired answer: the session is LOST, a fresh one is asked for at once on the next host', () => {
    const d = new Driver();
    d.suspended();
    d.send({ type: 'timerFired', timer: 'backoff' });
    const effects = d.respond({ timeout: 0 });
    assert.deepEqual(
      ofType(effects, 'closeConnection').map((e) => e.reason),
      ['expired'],
    );
    assert.deepEqual(ofType(effects, 'expire'), [{ type: 'expire', sessionId: SESSION }]);
    assert.deepEqual(emitted(effects), ['LOST/EXPIRED_SESSION']);
    const [connect] = connects(effects);
    assert.equal(connect?.sessionId, 0n);
    assert.equal(d.state.sessionId, 0n);
  });

  test('events of an earlier attempt are ignored', () => {
    const d = new Driver();
    d.send({ type: 'start' });
    const stale = d.attempt;
    d.closed();
    const effects = d.send({
      type: 'connectResponse',
      attempt: stale,
      sessionId: SESSION,
      password: PASSWORD,
      timeout: 4000,
      readOnly: false,
    });
    assert.deepEqual(effects, []);
    assert.equal(d.state.phase.name, 'connecting');
  });
});

describe('session machine: connect timeout', () => {
  test('requested timeout ÷ hosts before the first connection, negotiated ÷ hosts after it', () => {
    const d = new Driver({ endpoints: [A, B], sessionTimeout: 30_000 });
    assert.equal(connects(d.send({ type: 'start' }))[0]?.timeoutMs, 15_000);
    d.respond({ timeout: 4000 });
    d.send({ type: 'established', attempt: d.attempt });
    d.closed();
    const reconnect = connects(d.send({ type: 'timerFired', timer: 'backoff' }));
    assert.equal(reconnect[0]?.timeoutMs, 2000);
    assert.equal(connectTimeout(d.state), 2000);
  });

  test('any session timeout: a long one gives a long connect timeout and asks the server for the int32 maximum', () => {
    const d = new Driver({ endpoints: [A, B], sessionTimeout: 2 ** 40 });
    const [connect] = connects(d.send({ type: 'start' }));
    assert.equal(connect?.timeoutMs, 2 ** 39);
    assert.equal(connect?.sessionTimeout, 2 ** 31 - 1);
  });

  test('a configured connect timeout wins; the rule never goes below 1 s', () => {
    assert.equal(
      connectTimeout(initialState({ endpoints: [A, B], sessionTimeout: 30_000, connectTimeout: 700 })),
      700,
    );
    assert.equal(
      connectTimeout(initialState({ endpoints: [A, B, C], sessionTimeout: 2000, connectTimeout: undefined })),
      1000,
    );
  });

  test('ping after a third of the negotiated timeout (at most 10 s), read timeout two thirds', () => {
    assert.deepEqual(connectionTimers(4000), { readTimeout: 8000 / 3, pingInterval: 4000 / 3 });
    assert.deepEqual(connectionTimers(60_000), { readTimeout: 40_000, pingInterval: 10_000 });
  });

  test('the reconnect pause after a working connection dropped stays within a tenth of the session timeout', () => {
    const d = new Driver();
    d.connected({ timeout: 4000 });
    const effects = d.closed({ random: 0.99 });
    const backoff = ofType(effects, 'startTimer').find((e) => e.timer === 'backoff');
    assert.ok(backoff !== undefined && backoff.ms <= 400, `back-off ${backoff?.ms} ms`);
  });
});

describe('session machine: SUSPENDED and the LOST timer', () => {
  test('read timeout: SUSPENDED, the LOST timer runs from the last byte heard for the negotiated timeout', () => {
    const d = new Driver();
    d.connected({ timeout: 6000 });
    // The connection closed itself after readTimeout (4 s) of silence.
    const effects = d.closed({ lastReceivedAt: 10_000, now: 14_000 });
    assert.deepEqual(emitted(effects), ['SUSPENDED/CONNECTING']);
    assert.equal(lostTimer(effects), 2000);
    assert.equal(d.state.phase.name, 'waiting');
  });

  for (const phase of ['waiting', 'connecting'] as const) {
    test(`the LOST timer firing while ${phase}: LOST, queued work expired, a fresh session next`, () => {
      const d = new Driver();
      d.suspended();
      if (phase === 'connecting') d.send({ type: 'timerFired', timer: 'backoff' });
      assert.equal(d.state.phase.name, phase);
      const effects = d.send({ type: 'timerFired', timer: 'lost' });
      assert.deepEqual(ofType(effects, 'expire'), [{ type: 'expire', sessionId: SESSION }]);
      assert.deepEqual(emitted(effects), ['LOST/EXPIRED_SESSION', 'LOST/CONNECTING']);
      assert.equal(d.state.sessionId, 0n);
      if (phase === 'waiting')
        assert.equal(connects(d.send({ type: 'timerFired', timer: 'backoff' }))[0]?.sessionId, 0n);
    });
  }

  test('the LOST timer fired during a connect that asked for the old session: if it comes back, it is closed for real', () => {
    const d = new Driver();
    d.suspended();
    d.send({ type: 'timerFired', timer: 'backoff' });
    d.send({ type: 'timerFired', timer: 'lost' });
    const effects = d.respond({ sessionId: SESSION });
    assert.deepEqual(ofType(effects, 'closeSession'), [{ type: 'closeSession', attempt: d.attempt }]);
    assert.deepEqual(ofType(effects, 'establish'), []);
    assert.equal(d.state.phase.name, 'discarding');
    const next = d.closed({ kind: 'closed' });
    assert.equal(connects(next)[0]?.sessionId, 0n, 'then a fresh session');
  });

  test('the LOST timer runs while handshaking (restarted by the server confirmation) and firing there discards the session', () => {
    const d = new Driver();
    d.suspended();
    d.send({ type: 'timerFired', timer: 'backoff' });
    const handshake = d.respond({ timeout: 4000 });
    assert.equal(lostTimer(handshake), 4000);
    assert.equal(d.state.phase.name, 'handshaking');
    const effects = d.send({ type: 'timerFired', timer: 'lost' });
    assert.deepEqual(ofType(effects, 'expire'), [{ type: 'expire', sessionId: SESSION }]);
    assert.deepEqual(ofType(effects, 'closeSession'), [{ type: 'closeSession', attempt: d.attempt }]);
    assert.deepEqual(
      d.send({ type: 'established', attempt: d.attempt }),
      [],
      'too late: never CONNECTED on the lost session',
    );
  });

  test('switching from a read-only to a read-write server: reconnect there at once, with the LOST timer running', () => {
    const d = new Driver({ endpoints: [A, B, C] });
    d.send({ type: 'start' });
    d.respond({ sessionId: SESSION, readOnly: true });
    // Not a read-only local session for this test: the session existed before (same id).
    d.state = { ...d.state, readOnlyLocalSession: false };
    const ready = d.send({ type: 'established', attempt: d.attempt });
    assert.deepEqual(emitted(ready), ['CONNECTED/CONNECTED_RO']);
    const found = d.send({ type: 'readWriteServerFound', attempt: d.attempt, endpoint: C });
    assert.deepEqual(
      ofType(found, 'closeConnection').map((e) => e.reason),
      ['switching'],
    );
    const effects = d.closed({ lastReceivedAt: 5000, now: 5000 });
    assert.deepEqual(emitted(effects), ['SUSPENDED/CONNECTING']);
    assert.equal(lostTimer(effects), 4000, 'the LOST timer runs while switching');
    assert.deepEqual(connects(effects)[0]?.endpoint, C, 'straight to the read-write server');
    // The read-write server never answers: the session is LOST on time.
    const lost = d.send({ type: 'timerFired', timer: 'lost' });
    assert.deepEqual(emitted(lost), ['LOST/EXPIRED_SESSION', 'LOST/CONNECTING']);
  });

  test('a session created by a read-only server cannot move: it is expired before the switch', () => {
    const d = new Driver({ endpoints: [A, B] });
    d.send({ type: 'start' });
    d.respond({ sessionId: OTHER_SESSION, readOnly: true });
    d.send({ type: 'established', attempt: d.attempt });
    d.send({ type: 'readWriteServerFound', attempt: d.attempt, endpoint: B });
    const effects = d.closed();
    assert.deepEqual(emitted(effects), ['SUSPENDED/CONNECTING', 'LOST/EXPIRED_SESSION']);
    assert.equal(connects(effects)[0]?.sessionId, 0n);
  });
});

describe('session machine: auth failure and close', () => {
  for (const phase of ['handshaking', 'connected'] as const) {
    test(`auth failure while ${phase}: AUTH_FAILED, terminal`, () => {
      const d = new Driver();
      d.send({ type: 'start' });
      d.respond();
      if (phase === 'connected') d.send({ type: 'established', attempt: d.attempt });
      const error = new Error('auth failed');
      const effects = d.closed({ kind: 'authFailed', error });
      assert.deepEqual(ofType(effects, 'fail'), [{ type: 'fail', error }]);
      assert.deepEqual(emitted(effects), ['LOST/AUTH_FAILED']);
      assert.deepEqual(connects(effects), []);
      d.send({ type: 'close' });
      assert.deepEqual(emitted(d.send({ type: 'closed' })), [], 'AUTH_FAILED stays the reported state');
    });
  }

  const closing: Record<string, { setup: (d: Driver) => void; expect: Effect['type'][] }> = {
    idle: { setup: () => {}, expect: [] },
    waiting: { setup: (d) => d.suspended(), expect: ['cancelTimer', 'cancelTimer'] },
    connecting: { setup: (d) => d.send({ type: 'start' }), expect: ['closeConnection'] },
    handshaking: {
      setup: (d) => (d.send({ type: 'start' }), d.respond()),
      expect: ['cancelTimer', 'closeSession'],
    },
    connected: { setup: (d) => d.connected(), expect: ['closeSession'] },
    // The closeSession of the lost session is in flight already; the shell waits for it.
    discarding: {
      setup: (d) => (
        d.suspended(),
        d.send({ type: 'timerFired', timer: 'backoff' }),
        d.send({ type: 'timerFired', timer: 'lost' }),
        d.respond()
      ),
      expect: [],
    },
  };
  for (const [phase, { setup, expect }] of Object.entries(closing)) {
    test(`close while ${phase}: ${expect.join(', ') || 'nothing to undo'}, then CLOSED once closed`, () => {
      const d = new Driver();
      setup(d);
      assert.equal(d.state.phase.name, phase);
      const effects = d.send({ type: 'close' });
      assert.deepEqual(
        effects.map((e) => e.type),
        expect,
      );
      assert.deepEqual(d.send({ type: 'close' }), [], 'idempotent');
      assert.deepEqual(d.closed({ kind: 'closed' }), [], 'the connection closing is no news');
      assert.deepEqual(d.send({ type: 'timerFired', timer: 'lost' }), []);
      const closed = d.send({ type: 'closed' });
      assert.deepEqual(emitted(closed), phase === 'idle' ? [] : ['LOST/CLOSED']);
    });
  }
});

describe('session machine: transitions are pure', () => {
  test('a transition never changes the state it was given; an event that changes nothing returns it as it was', () => {
    const d = new Driver();
    const seen: { state: MachineState; snapshot: MachineState }[] = [];
    const record = () => seen.push({ state: d.state, snapshot: { ...d.state } });
    record();
    d.send({ type: 'start' });
    record();
    d.respond();
    record();
    d.send({ type: 'established', attempt: d.attempt });
    record();
    d.closed({ lastReceivedAt: 1000, now: 1000 });
    record();
    d.send({ type: 'timerFired', timer: 'backoff' });
    record();
    d.respond();
    d.send({ type: 'established', attempt: d.attempt });
    record();
    d.send({ type: 'close' });
    record();
    d.send({ type: 'closed' });
    for (const { state, snapshot } of seen) assert.deepEqual(state, snapshot);
    assert.equal(new Set(seen.map(({ state }) => state)).size, seen.length, 'each change made a new state');
    const stale = transition(d.state, { type: 'established', attempt: d.attempt + 1 });
    assert.equal(stale.state, d.state);
    assert.deepEqual(stale.effects, []);
  });
});
