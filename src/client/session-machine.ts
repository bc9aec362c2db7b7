/**
 * The session's connection logic as a pure state machine: `transition(state, event)` returns the
 * next state and the effects (data) the `Session` shell executes — open a connection, start or
 * cancel a timer, report a state, expire the session. No sockets, no clocks, no randomness: the
 * shell passes `now` and a random number in the events that need them, so every rule is
 * unit-tested (test/unit/session-machine.test.ts).
 *
 * Phases (compare zookeeper-client-rust's `SessionState` and kazoo's `_session_callback`, which
 * map the same events onto CONNECTED / SUSPENDED / LOST):
 * - `idle`: not started.
 * - `waiting`: between attempts (back-off).
 * - `connecting`: a socket is open to one host and the ConnectRequest is out; bounded by the
 *   connect timeout.
 * - `handshaking`: the server answered with a live session; SASL, auth packets, watch
 *   re-registration and the flush of queued requests run before CONNECTED is reported.
 * - `connected`: normal traffic (read-write or read-only).
 * - `discarding`: a session this client already declared LOST came back on a connection: it is
 *   closed for real (closeSession) so its ephemerals go, then a fresh session starts.
 * - `closing` / `closed`: `close()` was called; `failed`: a terminal error (auth failed).
 *
 * Timer rules (DESIGN.md, "Session and state machine"):
 * - Connect timeout per host: the requested session timeout ÷ hosts before the first connection,
 *   the negotiated one ÷ hosts after it (Java's ClientCnxn: `connectTimeout =
 *   negotiatedSessionTimeout / hostProvider.size()`); a configured `connectTimeout` wins.
 * - Read timeout = negotiated × 2/3, ping after negotiated / 3 of silence, at most every 10 s
 *   (ClientCnxn's `readTimeout` and `MAX_SEND_PING_INTERVAL`). The connection enforces both.
 * - LOST timer: runs in every phase but `connected` once a session exists and no server confirms
 *   it. Started when a working connection is lost (from the last byte heard), restarted when a
 *   server re-confirms the session (its handshake), cancelled only when CONNECTED is reported.
 *   When it fires, the session is LOST (kazoo's model) and the next connection starts a new one.
 * - Back-off: none between the hosts of one cycle (kazoo's `_connect_loop` tries every host in
 *   turn). After a working connection dropped, the first attempt goes out after a small random
 *   pause, at most min(200 ms, negotiated / 10): enough to spread a fleet that lost its
 *   connections at once (no thundering herd), short enough that a server that is up sees us back
 *   at once (Java sleeps up to 1 s before every reconnect). Only after a full cycle of hosts
 *   failed does the pause grow: exponential from 50 ms, capped at 1 s (Java's StaticHostProvider
 *   spin delay), with "equal jitter" (half fixed, half random) so that retries stay spread.
 */
import type { Endpoint, LivenessTimers } from './connection/connection.js';
import { ConnectionState, KeeperState } from './states.js';

export type Phase =
  | { readonly name: 'idle' }
  | { readonly name: 'waiting' }
  | {
      readonly name: 'connecting';
      readonly attempt: number;
      readonly endpoint: Endpoint;
      readonly requestedSession: bigint;
    }
  | {
      readonly name: 'handshaking';
      readonly attempt: number;
      readonly endpoint: Endpoint;
      readonly readOnly: boolean;
      readonly sameSession: boolean;
    }
  | {
      readonly name: 'connected';
      readonly attempt: number;
      readonly endpoint: Endpoint;
      readonly readOnly: boolean;
    }
  | { readonly name: 'discarding'; readonly attempt: number }
  | { readonly name: 'closing' }
  | { readonly name: 'closed' }
  | { readonly name: 'failed' };

export interface MachineConfig {
  /** The hosts in the order they are tried (the shell shuffles them once if asked to). */
  readonly endpoints: readonly Endpoint[];
  /** Requested session timeout, ms. */
  readonly sessionTimeout: number;
  /** A fixed per-host connect timeout, ms; default: the rule above. */
  readonly connectTimeout: number | undefined;
}

export interface MachineState {
  readonly config: MachineConfig;
  readonly phase: Phase;
  /** 0n: no session (the next connection asks for a new one). */
  readonly sessionId: bigint;
  readonly password: Buffer;
  /** The negotiated timeout; undefined until the first connection. */
  readonly negotiatedTimeout: number | undefined;
  readonly keeperState: KeeperState;
  readonly state: ConnectionState;
  /** Index into `config.endpoints` of the next host to try. */
  readonly next: number;
  /** Failed attempts since the last connection that worked. */
  readonly failures: number;
  /** Consecutive attempts that failed on a TLS certificate. */
  readonly certificateFailures: number;
  /** The last attempt number handed out; events of other attempts are stale. */
  readonly attempt: number;
  /** A read-write server found while read-only: the next connection goes there, at once. */
  readonly preferred: Endpoint | undefined;
  /** The session was created by a read-only server: it is local to it and cannot move. */
  readonly readOnlyLocalSession: boolean;
  /** Whether the LOST timer is running. */
  readonly lostTimer: boolean;
}

export type TimerName = 'lost' | 'backoff';

/** How a connection ended, as the machine needs to know it. */
export type CloseKind =
  /** Network failure, timeout, server closed: retry. */
  | 'lost'
  /** The server rejected our credentials (auth packet or SASL): terminal. */
  | 'authFailed'
  /** Closed on purpose after closeSession. */
  | 'closed';

export type SessionEvent =
  | { readonly type: 'start' }
  | { readonly type: 'timerFired'; readonly timer: TimerName }
  | {
      readonly type: 'connectResponse';
      readonly attempt: number;
      readonly sessionId: bigint;
      readonly password: Buffer;
      /** The negotiated timeout; <= 0 means the session expired. */
      readonly timeout: number;
      readonly readOnly: boolean;
    }
  /** The shell finished authenticating, re-registering watches and flushing the queue. */
  | { readonly type: 'established'; readonly attempt: number }
  | {
      readonly type: 'connectionClosed';
      readonly attempt: number;
      readonly kind: CloseKind;
      /** Why, for a terminal failure. */
      readonly error?: Error | undefined;
      /** A TLS certificate was refused (either side); several in a row across every host is terminal. */
      readonly certificateError?: Error | undefined;
      /** When the connection last received a byte, and now (ms, same clock). */
      readonly lastReceivedAt: number;
      readonly now: number;
      /** A number in [0, 1) for the back-off jitter. */
      readonly random: number;
    }
  | { readonly type: 'readWriteServerFound'; readonly attempt: number; readonly endpoint: Endpoint }
  | { readonly type: 'close' }
  /** The shell finished closing (closeSession answered or the socket is gone). */
  | { readonly type: 'closed' };

export type Effect =
  | {
      readonly type: 'connect';
      readonly attempt: number;
      readonly endpoint: Endpoint;
      /** The connect timeout (TCP + ConnectResponse), ms; any duration (the shell's timers chain). */
      readonly timeoutMs: number;
      /** The session timeout to ask for: the requested one, as the int32 the ConnectRequest carries. */
      readonly sessionTimeout: number;
      readonly sessionId: bigint;
      readonly password: Buffer;
    }
  /** Start normal traffic on the connection, with its ping and read-timeout rules. */
  | { readonly type: 'activate'; readonly attempt: number; readonly timers: LivenessTimers }
  /** Authenticate, re-register watches (all of them on the same session), flush; then `established`. */
  | { readonly type: 'establish'; readonly attempt: number; readonly sameSession: boolean }
  /** CONNECTED: wake `start()`, tell watchers about the reconnect, probe for a read-write server. */
  | { readonly type: 'ready'; readonly readOnly: boolean; readonly reconnected: boolean }
  | {
      readonly type: 'closeConnection';
      readonly attempt: number;
      readonly reason: 'expired' | 'switching' | 'closing';
    }
  /** Send closeSession on the connection (its ephemerals go), then close it. */
  | { readonly type: 'closeSession'; readonly attempt: number }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'cancelTimer'; readonly timer: TimerName }
  /** The session is gone: fail queued requests, tell every watcher (after the `emit` of EXPIRED_SESSION). */
  | { readonly type: 'expire'; readonly sessionId: bigint }
  /** A terminal failure: fail everything with `error`. */
  | { readonly type: 'fail'; readonly error: Error }
  | { readonly type: 'emit'; readonly state: ConnectionState; readonly keeperState: KeeperState };

export interface Transition {
  readonly state: MachineState;
  readonly effects: readonly Effect[];
}

const EMPTY_PASSWORD = Buffer.alloc(16);
/** Java's ClientCnxn `MAX_SEND_PING_INTERVAL`. */
const MAX_PING_INTERVAL = 10_000;
/** The bound of the random pause before the first reconnect attempt after a drop. */
const RECONNECT_JITTER = 200;
/** The pause after the first failed cycle of hosts; it doubles per failed cycle up to the cap. */
const BACKOFF_BASE = 50;
/** StaticHostProvider's spin delay after a full cycle: the longest pause between cycles. */
const BACKOFF_CAP = 1000;
/** A connect timeout below this fails TLS handshakes on a busy machine. */
const MIN_CONNECT_TIMEOUT = 1000;
const MAX_INT32 = 2 ** 31 - 1;

/** The state before `start`: resume `session` if given (kazoo's `client_id`). */
export function initialState(
  config: MachineConfig,
  session?: { id: bigint; password: Buffer },
): MachineState {
  return {
    config,
    phase: { name: 'idle' },
    sessionId: session?.id ?? 0n,
    password: session?.password ?? EMPTY_PASSWORD,
    negotiatedTimeout: undefined,
    keeperState: KeeperState.CLOSED,
    state: ConnectionState.LOST,
    next: 0,
    failures: 0,
    certificateFailures: 0,
    attempt: 0,
    preferred: undefined,
    readOnlyLocalSession: false,
    lostTimer: false,
  };
}

/** Per-host connect timeout: requested ÷ hosts before the first connection, negotiated ÷ hosts after. */
export function connectTimeout(state: MachineState): number {
  const { config } = state;
  if (config.connectTimeout !== undefined) return config.connectTimeout;
  const base = state.negotiatedTimeout ?? config.sessionTimeout;
  return Math.max(MIN_CONNECT_TIMEOUT, base / config.endpoints.length);
}

/**
 * The ConnectRequest's timeout is an int32 of ms; a longer request asks for the most it can say
 * (the server clamps it to its maxSessionTimeout anyway).
 */
export function wireSessionTimeout(requested: number): number {
  return Math.min(Math.floor(requested), MAX_INT32);
}

/** The connection's liveness rules for a negotiated timeout (Java's ClientCnxn). */
export function connectionTimers(negotiatedTimeout: number): LivenessTimers {
  return {
    readTimeout: (negotiatedTimeout * 2) / 3,
    pingInterval: Math.min(negotiatedTimeout / 3, MAX_PING_INTERVAL),
  };
}

/**
 * The pause after `cycles` full cycles of failed hosts: 50 ms doubling per cycle up to 1 s, half of
 * it fixed and half random (`random` in [0, 1)).
 */
export function backoff(cycles: number, random: number): number {
  const cap = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** Math.min(cycles - 1, 30));
  return cap / 2 + (random * cap) / 2;
}

/** One step: the phase and event decide the next state and what the shell must do. */
export function transition(state: MachineState, event: SessionEvent): Transition {
  const step = new Step(state);
  step.apply(event);
  return { state: step.state, effects: step.effects };
}

/**
 * A copy of `state`, field by field: an object literal of one shape, where spreading a state
 * (`{ ...state, ...changes }` per change) took V8's slow clone path on every connect.
 */
function copyState(state: MachineState): Mutable<MachineState> {
  return {
    config: state.config,
    phase: state.phase,
    sessionId: state.sessionId,
    password: state.password,
    negotiatedTimeout: state.negotiatedTimeout,
    keeperState: state.keeperState,
    state: state.state,
    next: state.next,
    failures: state.failures,
    certificateFailures: state.certificateFailures,
    attempt: state.attempt,
    preferred: state.preferred,
    readOnlyLocalSession: state.readOnlyLocalSession,
    lostTimer: state.lostTimer,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Builds one transition: the next state (copied on its first change, never the input) and the effects, in order. */
class Step {
  readonly effects: Effect[] = [];
  private copy: Mutable<MachineState> | undefined;

  constructor(public state: MachineState) {}

  private set(changes: Partial<MachineState>): void {
    if (this.copy === undefined) this.state = this.copy = copyState(this.state);
    Object.assign(this.copy, changes);
  }

  private effect(effect: Effect): void {
    this.effects.push(effect);
  }

  apply(event: SessionEvent): void {
    const { phase } = this.state;
    if ('attempt' in event && (!('attempt' in phase) || phase.attempt !== event.attempt)) return; // stale
    switch (event.type) {
      case 'start':
        if (phase.name !== 'idle') return;
        this.keeperState(KeeperState.CONNECTING);
        this.connectNext();
        return;
      case 'timerFired':
        if (event.timer === 'backoff') {
          if (phase.name === 'waiting') this.connectNext();
        } else this.lostTimerFired();
        return;
      case 'connectResponse':
        this.connectResponse(event);
        return;
      case 'established':
        this.established();
        return;
      case 'connectionClosed':
        this.connectionClosed(event);
        return;
      case 'readWriteServerFound':
        if (phase.name !== 'connected' || !phase.readOnly) return;
        this.set({ preferred: event.endpoint });
        this.effect({ type: 'closeConnection', attempt: phase.attempt, reason: 'switching' });
        return;
      case 'close':
        this.close();
        return;
      case 'closed':
        if (phase.name !== 'closing') return;
        this.set({ phase: { name: 'closed' } });
        // A terminal failure (AUTH_FAILED) stays the reported state; closing adds nothing to it.
        if (this.state.keeperState !== KeeperState.AUTH_FAILED) this.keeperState(KeeperState.CLOSED);
        return;
    }
  }

  /** Open a connection to the next host (the preferred read-write server first). */
  private connectNext(): void {
    let { next, preferred } = this.state;
    const { endpoints } = this.state.config;
    let endpoint: Endpoint;
    if (preferred) {
      endpoint = preferred;
      preferred = undefined;
    } else {
      endpoint = endpoints[next]!;
      next = (next + 1) % endpoints.length;
    }
    if (this.state.readOnlyLocalSession) {
      // A session made by a read-only server is local to it and cannot move: start afresh.
      this.expire();
      this.set({ readOnlyLocalSession: false });
    }
    const attempt = this.state.attempt + 1;
    this.set({
      next,
      preferred,
      attempt,
      phase: { name: 'connecting', attempt, endpoint, requestedSession: this.state.sessionId },
    });
    const { sessionId, password } = this.state;
    this.effect({
      type: 'connect',
      attempt,
      endpoint,
      timeoutMs: connectTimeout(this.state),
      sessionTimeout: wireSessionTimeout(this.state.config.sessionTimeout),
      sessionId,
      password,
    });
  }

  private connectResponse(event: Extract<SessionEvent, { type: 'connectResponse' }>): void {
    const { phase } = this.state;
    if (phase.name !== 'connecting') return;
    this.set({ certificateFailures: 0 });
    if (event.timeout <= 0) {
      // The server says the session expired (kazoo: LOST); a new one starts on the next host.
      this.effect({ type: 'closeConnection', attempt: phase.attempt, reason: 'expired' });
      this.expire();
      this.set({ failures: 0 });
      this.connectNext();
      return;
    }
    if (phase.requestedSession !== 0n && this.state.sessionId === 0n) {
      // The LOST timer declared this session LOST while we were re-attaching it; users were told
      // its ephemerals are gone, so end it for real and start a fresh one.
      this.set({ phase: { name: 'discarding', attempt: phase.attempt } });
      this.effect({ type: 'closeSession', attempt: phase.attempt });
      return;
    }
    const sameSession = event.sessionId === this.state.sessionId;
    this.set({
      sessionId: event.sessionId,
      password: event.password,
      negotiatedTimeout: event.timeout,
      failures: 0,
      readOnlyLocalSession: this.state.readOnlyLocalSession || (!sameSession && event.readOnly),
      phase: {
        name: 'handshaking',
        attempt: phase.attempt,
        endpoint: phase.endpoint,
        readOnly: event.readOnly,
        sameSession,
      },
    });
    // The server just confirmed the session: it lives at least another negotiated timeout.
    this.startTimer('lost', event.timeout);
    this.effect({ type: 'activate', attempt: phase.attempt, timers: connectionTimers(event.timeout) });
    this.effect({ type: 'establish', attempt: phase.attempt, sameSession });
  }

  private established(): void {
    const { phase } = this.state;
    if (phase.name !== 'handshaking') return;
    this.set({
      phase: {
        name: 'connected',
        attempt: phase.attempt,
        endpoint: phase.endpoint,
        readOnly: phase.readOnly,
      },
    });
    this.cancelTimer('lost');
    const reconnected = phase.sameSession && this.state.state === ConnectionState.SUSPENDED;
    this.effect({ type: 'ready', readOnly: phase.readOnly, reconnected });
    this.keeperState(phase.readOnly ? KeeperState.CONNECTED_RO : KeeperState.CONNECTED);
  }

  private connectionClosed(event: Extract<SessionEvent, { type: 'connectionClosed' }>): void {
    const { phase } = this.state;
    switch (phase.name) {
      case 'connecting': {
        const failures = this.state.failures + 1;
        const certificateFailures = event.certificateError ? this.state.certificateFailures + 1 : 0;
        this.set({ failures, certificateFailures });
        if (event.certificateError && certificateFailures >= this.state.config.endpoints.length) {
          // Every server rejected us, or we rejected every server: retrying cannot help.
          this.fail(event.certificateError);
          return;
        }
        const hosts = this.state.config.endpoints.length;
        if (failures % hosts === 0) this.wait(backoff(failures / hosts, event.random));
        else this.connectNext();
        return;
      }
      case 'discarding':
        this.connectNext();
        return;
      case 'handshaking':
      case 'connected': {
        if (event.kind === 'authFailed') {
          this.fail(event.error ?? new Error('authentication failed'));
          return;
        }
        this.keeperState(KeeperState.CONNECTING);
        if (this.state.negotiatedTimeout !== undefined) {
          this.startTimer(
            'lost',
            Math.max(0, event.lastReceivedAt + this.state.negotiatedTimeout - event.now),
          );
        }
        // Switching to a read-write server: go at once; otherwise a short random pause.
        if (this.state.preferred) this.connectNext();
        else this.wait(this.jitter(event.random));
        return;
      }
      default:
        return;
    }
  }

  /** No server confirmed the session within its timeout: it is LOST. */
  private lostTimerFired(): void {
    if (!this.state.lostTimer) return;
    this.set({ lostTimer: false });
    const { phase } = this.state;
    switch (phase.name) {
      case 'waiting':
      case 'connecting':
        // A connect in flight asked for the old session; its answer is handled in connectResponse.
        this.expire();
        this.keeperState(KeeperState.CONNECTING);
        return;
      case 'handshaking':
        // Re-attached, but too late: users are told LOST; end the server's session too.
        this.expire();
        this.keeperState(KeeperState.CONNECTING);
        this.set({ phase: { name: 'discarding', attempt: phase.attempt } });
        this.effect({ type: 'closeSession', attempt: phase.attempt });
        return;
      default:
        return;
    }
  }

  private close(): void {
    const { phase } = this.state;
    if (phase.name === 'closing' || phase.name === 'closed') return;
    this.cancelTimer('lost');
    if (phase.name === 'waiting') this.effect({ type: 'cancelTimer', timer: 'backoff' });
    this.set({ phase: { name: 'closing' } });
    // (`discarding`: its closeSession is already in flight; the shell waits for it.)
    if (phase.name === 'handshaking' || phase.name === 'connected')
      this.effect({ type: 'closeSession', attempt: phase.attempt });
    else if (phase.name === 'connecting')
      this.effect({ type: 'closeConnection', attempt: phase.attempt, reason: 'closing' });
  }

  private wait(ms: number): void {
    this.set({ phase: { name: 'waiting' } });
    this.effect({ type: 'startTimer', timer: 'backoff', ms });
  }

  /** The pause before the first attempt after a drop: random, bounded so it never eats the session's budget. */
  private jitter(random: number): number {
    const bound =
      this.state.negotiatedTimeout === undefined
        ? RECONNECT_JITTER
        : Math.min(RECONNECT_JITTER, this.state.negotiatedTimeout / 10);
    return random * bound;
  }

  private startTimer(timer: TimerName, ms: number): void {
    if (timer === 'lost') this.set({ lostTimer: true });
    this.effect({ type: 'startTimer', timer, ms });
  }

  private cancelTimer(timer: 'lost'): void {
    if (!this.state.lostTimer) return;
    this.set({ lostTimer: false });
    this.effect({ type: 'cancelTimer', timer });
  }

  /** The session is gone: forget it (nothing to do if there is none). */
  private expire(): void {
    this.cancelTimer('lost');
    const { sessionId } = this.state;
    if (sessionId === 0n) return;
    this.set({ sessionId: 0n, password: EMPTY_PASSWORD });
    this.keeperState(KeeperState.EXPIRED_SESSION);
    this.effect({ type: 'expire', sessionId });
  }

  private fail(error: Error): void {
    this.cancelTimer('lost');
    this.set({ phase: { name: 'failed' } });
    this.keeperState(KeeperState.AUTH_FAILED);
    this.effect({ type: 'fail', error });
  }

  /** Report a keeper state and the kazoo state derived from it (SUSPENDED only while a session may live). */
  private keeperState(keeperState: KeeperState): void {
    if (keeperState === this.state.keeperState) return;
    let state: ConnectionState;
    if (keeperState === KeeperState.CONNECTED || keeperState === KeeperState.CONNECTED_RO)
      state = ConnectionState.CONNECTED;
    else if (keeperState === KeeperState.CONNECTING)
      state = this.state.state === ConnectionState.LOST ? ConnectionState.LOST : ConnectionState.SUSPENDED;
    else state = ConnectionState.LOST;
    this.set({ keeperState, state });
    this.effect({ type: 'emit', state, keeperState });
  }
}
