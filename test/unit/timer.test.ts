/**
 * The timer module: long durations are chained `setTimeout`s (Node clamps a delay >= 2^31 ms to
 * 1 ms), `Infinity` sets no timer, bad durations are `InvalidArgumentError`. The chaining is
 * tested with node:test's mock timers and a small injected `maxDelay`, never by waiting.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { InvalidArgumentError } from '../../src/client/errors.js';
import { checkDuration, MAX_TIMER_DELAY, startTimer } from '../../src/client/timer.js';

/**
 * Mocked setTimeout, wrapped in a spy that records every delay asked for. `tick(...steps)`
 * advances the clock step by step: a timer set by a callback during one tick is due from the
 * mock's clock after that tick, so a chain is advanced one chunk per step.
 */
function fakeTimers(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const spy = t.mock.method(globalThis, 'setTimeout');
  return {
    tick: (...steps: number[]) => {
      for (const ms of steps) t.mock.timers.tick(ms);
    },
    delays: () => spy.mock.calls.map((call) => call.arguments[1] as number),
  };
}

describe('timer', () => {
  test('scenario 6: a duration longer than maxDelay is chained in chunks and fires once, at the end', (t) => {
    const clock = fakeTimers(t);
    let fired = 0;
    startTimer(35, () => fired++, { maxDelay: 10 });
    clock.tick(10, 10, 10, 4);
    assert.equal(fired, 0);
    clock.tick(1);
    assert.equal(fired, 1);
    assert.deepEqual(clock.delays(), [10, 10, 10, 5]);
    clock.tick(1000);
    assert.equal(fired, 1);
  });

  test('scenario 6: by default no single setTimeout exceeds 2^31 - 1 ms; 2^31 + 5 ms fires after exactly that', (t) => {
    const clock = fakeTimers(t);
    let fired = 0;
    startTimer(2 ** 31 + 5, () => fired++);
    clock.tick(MAX_TIMER_DELAY, 5);
    assert.equal(fired, 0);
    clock.tick(1);
    assert.equal(fired, 1);
    assert.deepEqual(clock.delays(), [MAX_TIMER_DELAY, 6]);
  });

  test('scenario 6: Infinity sets no timer at all', (t) => {
    const clock = fakeTimers(t);
    let fired = 0;
    const timer = startTimer(Infinity, () => fired++);
    clock.tick(2 ** 40);
    assert.equal(fired, 0);
    assert.deepEqual(clock.delays(), []);
    timer.cancel(); // harmless
  });

  test('cancel between chunks stops the chain; cancel after firing is harmless', (t) => {
    const clock = fakeTimers(t);
    let fired = 0;
    const timer = startTimer(35, () => fired++, { maxDelay: 10 });
    clock.tick(10, 5);
    timer.cancel();
    clock.tick(100);
    assert.equal(fired, 0);
    assert.deepEqual(clock.delays(), [10, 10]);
    const short = startTimer(0, () => fired++);
    clock.tick(0);
    assert.equal(fired, 1);
    short.cancel();
  });

  test('unref: every chunk is unref’d when asked, none otherwise', (t) => {
    const spy = t.mock.method(globalThis, 'setTimeout');
    const quiet = startTimer(60_000, () => {}, { unref: true });
    const loud = startTimer(60_000, () => {});
    const [first, second] = spy.mock.calls.map((call) => call.result as NodeJS.Timeout);
    assert.equal(first!.hasRef(), false);
    assert.equal(second!.hasRef(), true);
    quiet.cancel();
    loud.cancel();
  });

  test('checkDuration: numbers >= 0 and Infinity pass; NaN, negatives and non-numbers are InvalidArgumentError', () => {
    for (const ok of [0, 1, 2 ** 31, Infinity]) assert.equal(checkDuration(ok), ok);
    for (const bad of [NaN, -1, -Infinity, '5', null, undefined, 10n]) {
      assert.throws(() => checkDuration(bad, { op: 'x' }), InvalidArgumentError, String(bad));
    }
    assert.throws(() => startTimer(NaN, () => {}), InvalidArgumentError);
  });
});
