/**
 * The OpenTelemetry adapter (`zookeeper-coordination/otel`): it subscribes to the library's
 * diagnostics channels (`CHANNELS`, src/client/diagnostics.ts) and turns them into spans and
 * metrics, the way OpenTelemetry's instrumentations for undici or ioredis consume theirs. The
 * library itself never imports `@opentelemetry/api` (an optional peer dependency): only this
 * subpath does.
 *
 * Spans follow the database client conventions: one CLIENT span per request (`db.system.name`
 * `zookeeper`, `db.operation.name` the client method, `BATCH` for a multi with
 * `db.operation.batch.size`, `db.namespace` the chroot, `db.response.status_code` and
 * `error.type` on failure, `server.address`/`server.port`, `zookeeper.path`,
 * `zookeeper.session.id`), one per connection attempt and one per lock acquire; a fired watch is
 * a span linked to the span of the request that set it. A rejected request publishes both
 * `error` and `asyncEnd`: the span is ended once, at `asyncEnd` (or at `end` when it failed
 * synchronously, when no `asyncEnd` follows).
 *
 * @example
 *   import { instrumentZooKeeper } from 'zookeeper-coordination/otel';
 *   const instrumentation = instrumentZooKeeper(); // the global tracer and meter providers
 *   instrumentation.observe(zk); // watch-count gauge for this client
 *   // ... later
 *   instrumentation.disable();
 */
import diagnostics_channel from 'node:diagnostics_channel';
import {
  SpanKind,
  SpanStatusCode,
  context,
  metrics,
  trace,
  type Attributes,
  type Histogram,
  type MeterProvider,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
  type UpDownCounter,
} from '@opentelemetry/api';
import type { ZooKeeperClient } from '../client/client.js';
import {
  CHANNELS,
  type ConnectContext,
  type LockAcquireContext,
  type LockEvent,
  type OperationContext,
  type SessionStateEvent,
  type WatchTriggerEvent,
} from '../client/diagnostics.js';

export interface ZooKeeperInstrumentationOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
}

/** The instrumentation scope name of every span and metric. */
export const INSTRUMENTATION_NAME = 'zookeeper-coordination';

/** How many watch-setting spans are remembered for linking their watch's event (oldest dropped first). */
const MAX_WATCH_LINKS = 10_000;

/** The client states counted by the `zookeeper.client.session.state` metric (LOST is "no session"). */
const COUNTED_STATES = new Set(['CONNECTED', 'SUSPENDED']);

/** The traces the adapter follows: each channel's span, and how a context starts and ends it. */
interface SpanRule<C extends object> {
  channel: string;
  start(ctx: C): Span;
  finish(span: Span, ctx: C, ms: number): void;
}

/**
 * Spans and metrics for every `ZooKeeperClient` in the process, from the diagnostics channels,
 * until `disable()`.
 */
export class ZooKeeperInstrumentation implements Disposable {
  private readonly tracer: Tracer;
  private readonly duration: Histogram;
  private readonly pending: UpDownCounter;
  private readonly sessions: UpDownCounter;
  private readonly lockWait: Histogram;
  private readonly lockHold: Histogram;
  private readonly observed = new Set<ZooKeeperClient>();
  /** `sessionId kind watchPath` → the span of the request that set that watch. */
  private readonly watchLinks = new Map<string, SpanContext>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(options: ZooKeeperInstrumentationOptions = {}) {
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
    const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
    // The conventions' buckets for database durations, plus longer ones for lock waits and holds.
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 600] },
      });
    this.duration = seconds('db.client.operation.duration', 'Duration of ZooKeeper requests');
    this.lockWait = seconds('zookeeper.lock.wait.duration', 'Time from a lock acquire call to its outcome');
    this.lockHold = seconds('zookeeper.lock.hold.duration', 'Time a lock was held, until released or lost');
    this.pending = meter.createUpDownCounter('zookeeper.client.pending_requests', {
      description: 'Requests sent or queued and not answered yet',
      unit: '{request}',
    });
    this.sessions = meter.createUpDownCounter('zookeeper.client.session.state', {
      description: 'Clients per session state (CONNECTED, SUSPENDED)',
      unit: '{client}',
    });
    meter
      .createObservableGauge('zookeeper.client.watch.count', {
        description: 'Watch listeners registered, per observed client',
        unit: '{watch}',
      })
      .addCallback((result) => {
        for (const client of this.observed) {
          if (client.closed) this.observed.delete(client);
          else result.observe(client.watchCount, sessionAttributes(client.sessionId));
        }
      });

    this.follow<OperationContext>({
      channel: CHANNELS.operation,
      start: (ctx) => {
        this.pending.add(1);
        const name = operationName(ctx);
        return this.tracer.startSpan(
          ctx.chroot ? `${name} ${ctx.chroot}` : name,
          { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'zookeeper', 'db.operation.name': name } },
          context.active(),
        );
      },
      finish: (span, ctx, ms) => {
        this.pending.add(-1);
        const attributes = operationAttributes(ctx);
        span.setAttributes(attributes);
        if (ctx.path !== undefined) span.setAttribute('zookeeper.path', ctx.path);
        if (ctx.xid !== undefined) span.setAttribute('zookeeper.xid', ctx.xid);
        if (ctx.zxid !== undefined) span.setAttribute('zookeeper.zxid', `0x${ctx.zxid.toString(16)}`);
        if (ctx.batchSize !== undefined) span.setAttribute('db.operation.batch.size', ctx.batchSize);
        span.setAttribute('zookeeper.session.id', sessionHex(ctx.sessionId));
        if (ctx.error !== undefined) failSpan(span, ctx.error);
        else if (ctx.watch !== undefined && ctx.path !== undefined)
          this.rememberWatch(`${ctx.sessionId} ${ctx.watch} ${ctx.path}`, span.spanContext());
        this.duration.record(ms / 1000, attributes);
      },
    });
    this.follow<ConnectContext>({
      channel: CHANNELS.connect,
      start: (ctx) =>
        this.tracer.startSpan(
          'connect',
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'db.system.name': 'zookeeper',
              'server.address': ctx.serverAddress,
              'server.port': ctx.serverPort,
              'zookeeper.connect.attempt': ctx.attempt,
              'zookeeper.connect.reconnect': ctx.reconnect,
              'zookeeper.connect.tls': ctx.tls,
            },
          },
          context.active(),
        ),
      finish: (span, ctx) => {
        span.setAttribute('zookeeper.session.id', sessionHex(ctx.sessionId));
        if (ctx.readOnly !== undefined) span.setAttribute('zookeeper.connect.read_only', ctx.readOnly);
        if (ctx.error !== undefined) failSpan(span, ctx.error);
      },
    });
    this.follow<LockAcquireContext>({
      channel: CHANNELS.lockAcquire,
      start: (ctx) =>
        this.tracer.startSpan(
          `${ctx.recipe} acquire`,
          { attributes: { 'zookeeper.recipe': ctx.recipe, 'zookeeper.path': ctx.path } },
          context.active(),
        ),
      finish: (span, ctx, ms) => {
        const attributes: Attributes = {
          'zookeeper.recipe': ctx.recipe,
          'zookeeper.lock.acquired': ctx.acquired === true,
        };
        span.setAttributes(attributes);
        if (ctx.node !== undefined) span.setAttribute('zookeeper.lock.node', ctx.node);
        if (ctx.fencingToken !== undefined)
          span.setAttribute('zookeeper.lock.fencing_token', ctx.fencingToken.toString());
        if (ctx.error !== undefined) failSpan(span, ctx.error);
        this.lockWait.record(ms / 1000, attributes);
      },
    });
    this.listen<SessionStateEvent>(CHANNELS.sessionState, ({ from, to }) => {
      if (from === to) return;
      if (COUNTED_STATES.has(from)) this.sessions.add(-1, { 'zookeeper.session.state': from });
      if (COUNTED_STATES.has(to)) this.sessions.add(1, { 'zookeeper.session.state': to });
    });
    this.listen<WatchTriggerEvent>(CHANNELS.watchTrigger, (event) => this.watchFired(event));
    const held = (outcome: string) => (event: LockEvent) =>
      this.lockHold.record((event.heldMs ?? 0) / 1000, {
        'zookeeper.recipe': event.recipe,
        'zookeeper.lock.outcome': outcome,
      });
    this.listen<LockEvent>(CHANNELS.lockReleased, held('released'));
    this.listen<LockEvent>(CHANNELS.lockLost, held('lost'));
  }

  /** Report this client's watch count (`zookeeper.client.watch.count`) until it is closed. */
  observe(client: ZooKeeperClient): this {
    this.observed.add(client);
    return this;
  }

  /** Stop following the channels (spans in progress are left unended). Idempotent. */
  disable(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.observed.clear();
    this.watchLinks.clear();
  }

  [Symbol.dispose](): void {
    this.disable();
  }

  /** One span per trace of `rule.channel`, ended exactly once. */
  private follow<C extends object>(rule: SpanRule<C>): void {
    const spans = new WeakMap<C, { span: Span; started: number }>();
    const finish = (ctx: C) => {
      const entry = spans.get(ctx);
      if (entry === undefined) return; // ended already, or started before we subscribed
      spans.delete(ctx);
      rule.finish(entry.span, ctx, performance.now() - entry.started);
      entry.span.end();
    };
    const handlers: diagnostics_channel.TracingChannelSubscribers<C> = {
      start: (ctx) => spans.set(ctx, { span: rule.start(ctx), started: performance.now() }),
      // A synchronous failure publishes `error` before `end`, and no asyncEnd follows.
      end: (ctx) => {
        if ((ctx as { error?: unknown }).error !== undefined) finish(ctx);
      },
      asyncStart: () => {},
      asyncEnd: finish,
      error: () => {}, // the context carries the error; the span ends at asyncEnd
    };
    const channel = diagnostics_channel.tracingChannel<unknown, C>(rule.channel);
    channel.subscribe(handlers);
    this.unsubscribers.push(() => channel.unsubscribe(handlers));
  }

  private listen<E>(name: string, onMessage: (event: E) => void): void {
    const handler = (message: unknown) => onMessage(message as E);
    diagnostics_channel.subscribe(name, handler);
    this.unsubscribers.push(() => diagnostics_channel.unsubscribe(name, handler));
  }

  private rememberWatch(key: string, spanContext: SpanContext): void {
    this.watchLinks.delete(key); // re-inserted as the newest
    this.watchLinks.set(key, spanContext);
    if (this.watchLinks.size > MAX_WATCH_LINKS)
      this.watchLinks.delete(this.watchLinks.keys().next().value as string);
  }

  /** A fired watch: a span linked to the request that set it (one-shot watches are forgotten then). */
  private watchFired(event: WatchTriggerEvent): void {
    const key = `${event.sessionId} ${event.kind} ${event.watchPath}`;
    const setBy = this.watchLinks.get(key);
    if (setBy !== undefined && !event.kind.startsWith('persistent')) this.watchLinks.delete(key);
    this.tracer
      .startSpan(
        `watch ${event.type}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'db.system.name': 'zookeeper',
            'zookeeper.path': event.path,
            'zookeeper.watch.path': event.watchPath,
            'zookeeper.watch.kind': event.kind,
            'zookeeper.watch.event': event.type,
            'zookeeper.session.id': sessionHex(event.sessionId),
          },
          links: setBy === undefined ? [] : [{ context: setBy }],
        },
        context.active(),
      )
      .end();
  }
}

/** Subscribe to the channels with the given (or global) providers. */
export function instrumentZooKeeper(options: ZooKeeperInstrumentationOptions = {}): ZooKeeperInstrumentation {
  return new ZooKeeperInstrumentation(options);
}

/** `db.operation.name`: the client method, `BATCH` for a multi (the conventions' batch name). */
function operationName(ctx: OperationContext): string {
  return ctx.operation === 'multi' ? 'BATCH' : ctx.operation;
}

/** The attributes shared by an operation's span and its duration metric (low cardinality: no path). */
function operationAttributes(ctx: OperationContext): Attributes {
  const attributes: Attributes = {
    'db.system.name': 'zookeeper',
    'db.operation.name': operationName(ctx),
  };
  if (ctx.chroot) attributes['db.namespace'] = ctx.chroot;
  if (ctx.serverAddress !== undefined) attributes['server.address'] = ctx.serverAddress;
  if (ctx.serverPort !== undefined) attributes['server.port'] = ctx.serverPort;
  if (ctx.errorCode !== undefined) attributes['db.response.status_code'] = String(ctx.errorCode);
  if (ctx.error !== undefined) attributes['error.type'] = errorType(ctx.error);
  return attributes;
}

function failSpan(span: Span, error: unknown): void {
  span.setAttribute('error.type', errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** The error's class name (`NoNodeError`), as `error.type` asks for. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}

function sessionHex(sessionId: bigint): string {
  return `0x${sessionId.toString(16)}`;
}

function sessionAttributes(sessionId: bigint): Attributes {
  return { 'zookeeper.session.id': sessionHex(sessionId) };
}
