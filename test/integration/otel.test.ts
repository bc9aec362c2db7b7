/**
 * The OpenTelemetry adapter (`zookeeper-coordination/otel`) against a real ZooKeeper 3.8, with
 * the SDK's in-memory span exporter and a metric reader collected on demand: one span per
 * operation with the database conventions' attributes (a multi as BATCH), failed operations
 * ended exactly once, a fired watch linked to the span that set it, and the metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DiagLogLevel, SpanStatusCode, diag, type DiagLogger } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { Lock, errors } from '../../src/index.js';
import { instrumentZooKeeper, type ZooKeeperInstrumentation } from '../../src/otel/index.js';
import { ZooKeeperServer } from '../../src/testing/index.js';
import { connect, uniqueRoot } from '../support/client.js';
import { Deferred, eventually, within } from '../support/wait.js';

/** A metric reader the test collects from when it wants. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  async metric(name: string): Promise<MetricData | undefined> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === name);
  }
}

/** Every diag message of WARN and above (the SDK warns there when a span is ended twice). */
class WarningLog implements DiagLogger {
  readonly messages: string[] = [];
  error = (message: string) => this.messages.push(message);
  warn = (message: string) => this.messages.push(message);
  info = () => {};
  debug = () => {};
  verbose = () => {};
}

describe('OpenTelemetry adapter', () => {
  let server: ZooKeeperServer;
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const warnings = new WarningLog();
  let instrumentation: ZooKeeperInstrumentation;

  before(async () => {
    server = await ZooKeeperServer.start();
    diag.setLogger(warnings, DiagLogLevel.WARN);
    instrumentation = instrumentZooKeeper({ tracerProvider, meterProvider });
  });
  after(async () => {
    instrumentation.disable();
    diag.disable();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    await server?.stop();
  });

  /** The finished spans of one session's operations. */
  const spansOf = (sessionId: bigint, name?: string): ReadableSpan[] =>
    exporter
      .getFinishedSpans()
      .filter(
        (span) =>
          span.attributes['zookeeper.session.id'] === `0x${sessionId.toString(16)}` &&
          (name === undefined || span.attributes['db.operation.name'] === name),
      );

  test('a span per operation with the database attributes; a multi is BATCH with its size', async (t) => {
    exporter.reset();
    const zk = await connect(t, server);
    const path = uniqueRoot('otel');
    await zk.create(path, 'data');
    await zk.get(path);
    await zk.getChildren(path);
    await zk.transaction().create(`${path}/a`).create(`${path}/b`).commit();

    const [get] = spansOf(zk.sessionId, 'get');
    assert.equal(spansOf(zk.sessionId, 'get').length, 1);
    assert.equal(get!.name, 'get');
    assert.equal(get!.kind, 2 /* SpanKind.CLIENT */);
    assert.equal(get!.attributes['db.system.name'], 'zookeeper');
    assert.equal(get!.attributes['zookeeper.path'], path);
    assert.equal(
      `${get!.attributes['server.address']}:${get!.attributes['server.port']}`,
      zk.connectedServer,
    );
    assert.equal(get!.attributes['db.namespace'], undefined, 'no chroot');
    assert.equal(get!.attributes['db.response.status_code'], undefined);
    assert.equal(get!.status.code, SpanStatusCode.UNSET);
    assert.equal(spansOf(zk.sessionId, 'create').length, 1);
    assert.equal(spansOf(zk.sessionId, 'getChildren').length, 1);
    const [batch] = spansOf(zk.sessionId, 'BATCH');
    assert.equal(batch!.attributes['db.operation.batch.size'], 2);
    assert.equal(batch!.attributes['zookeeper.path'], undefined);
    for (const span of spansOf(zk.sessionId))
      assert.ok(!Object.values(span.attributes).includes('data'), 'no node data in attributes');
  });

  test('a failed operation: status code and error type, its span ended exactly once', async (t) => {
    exporter.reset();
    warnings.messages.length = 0;
    const root = uniqueRoot('chroot');
    const admin = await connect(t, server);
    await admin.create(root);
    const zk = await connect(t, `${server.connectString}${root}`);
    await assert.rejects(zk.get('/missing'), errors.NoNodeError);
    await assert.rejects(zk.delete('/missing'), errors.NoNodeError);
    await assert.rejects(zk.transaction().create('/x').delete('/missing').commit(), errors.TransactionError);
    const failed = spansOf(zk.sessionId).filter((span) => span.status.code === SpanStatusCode.ERROR);
    assert.deepEqual(
      failed.map((span) => span.attributes['db.operation.name']),
      ['get', 'delete', 'BATCH'],
      'one span each',
    );
    for (const span of failed) {
      assert.equal(span.attributes['db.response.status_code'], '-101');
      assert.equal(span.attributes['db.namespace'], root);
      assert.equal(span.name, `${span.attributes['db.operation.name']} ${root}`);
    }
    assert.equal(failed[0]!.attributes['error.type'], 'NoNodeError');
    assert.equal(failed[0]!.attributes['zookeeper.path'], '/missing', 'the client path');
    assert.equal(failed[2]!.attributes['error.type'], 'TransactionError');
    assert.deepEqual(warnings.messages, [], 'no span ended twice');
  });

  test('a fired watch is a span linked to the span of the request that set it', async (t) => {
    exporter.reset();
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const path = uniqueRoot('watch');
    await zk.create(path, 'a');
    const fired = new Deferred();
    await zk.get(path, { watch: () => fired.resolve() });
    await other.set(path, 'b');
    await within(fired.promise, 'the watch fires');
    const [setter] = spansOf(zk.sessionId, 'get');
    const watch = await eventually(
      () => exporter.getFinishedSpans().find((span) => span.name === 'watch NodeDataChanged'),
      'the watch span',
    );
    assert.equal(watch.attributes['zookeeper.path'], path);
    assert.equal(watch.attributes['zookeeper.watch.kind'], 'data');
    assert.deepEqual(
      watch.links.map((link) => link.context.spanId),
      [setter!.spanContext().spanId],
    );
  });

  test('metrics: operation duration, pending requests, session state, watch count, lock wait and hold', async (t) => {
    const zk = await connect(t, server);
    instrumentation.observe(zk);
    const path = uniqueRoot('metrics');
    await zk.create(path);
    await assert.rejects(zk.get(`${path}/none`), errors.NoNodeError);
    await zk.get(path, { watch: () => {} });
    const lock = new Lock(zk, `${path}/lock`);
    assert.equal(await lock.acquire(), true);
    await lock.release();

    const duration = await reader.metric('db.client.operation.duration');
    assert.equal(duration?.descriptor.unit, 's');
    const point = (attributes: Record<string, unknown>) =>
      duration!.dataPoints.find((p) =>
        Object.entries(attributes).every(([key, value]) => p.attributes[key] === value),
      );
    const failedGet = point({ 'db.operation.name': 'get', 'db.response.status_code': '-101' });
    assert.ok(failedGet, 'a data point for the failed get');
    assert.equal(failedGet.attributes['error.type'], 'NoNodeError');
    assert.equal(failedGet.attributes['db.system.name'], 'zookeeper');
    assert.ok((failedGet.value as { count: number }).count >= 1);

    const pending = await reader.metric('zookeeper.client.pending_requests');
    assert.equal(
      pending!.dataPoints.reduce((sum, p) => sum + (p.value as number), 0),
      0,
      'nothing pending once every call settled',
    );
    const sessions = await reader.metric('zookeeper.client.session.state');
    const connected = sessions!.dataPoints.find(
      (p) => p.attributes['zookeeper.session.state'] === 'CONNECTED',
    );
    assert.ok((connected!.value as number) >= 1);
    const watches = await reader.metric('zookeeper.client.watch.count');
    const ours = watches!.dataPoints.find(
      (p) => p.attributes['zookeeper.session.id'] === `0x${zk.sessionId.toString(16)}`,
    );
    assert.equal(ours!.value, 1);
    const wait = await reader.metric('zookeeper.lock.wait.duration');
    assert.ok(wait!.dataPoints.some((p) => p.attributes['zookeeper.lock.acquired'] === true));
    const hold = await reader.metric('zookeeper.lock.hold.duration');
    const released = hold!.dataPoints.find((p) => p.attributes['zookeeper.lock.outcome'] === 'released');
    assert.equal((released!.value as { count: number }).count, 1);
  });

  test('connect attempts and lock acquires are spans too; disable() stops everything', async (t) => {
    exporter.reset();
    const zk = await connect(t, server);
    const connects = exporter.getFinishedSpans().filter((span) => span.name === 'connect');
    assert.equal(connects.length, 1);
    assert.equal(connects[0]!.attributes['zookeeper.session.id'], `0x${zk.sessionId.toString(16)}`);
    assert.equal(connects[0]!.attributes['zookeeper.connect.reconnect'], false);
    const lock = new Lock(zk, uniqueRoot('lock'));
    await lock.acquire();
    const [acquire] = exporter.getFinishedSpans().filter((span) => span.name === 'Lock acquire');
    assert.equal(acquire!.attributes['zookeeper.lock.fencing_token'], lock.fencingToken.toString());
    await lock.release();

    const separate = instrumentZooKeeper({ tracerProvider, meterProvider });
    separate.disable();
    instrumentation.disable();
    exporter.reset();
    await zk.get('/');
    assert.deepEqual(exporter.getFinishedSpans(), []);
    instrumentation = instrumentZooKeeper({ tracerProvider, meterProvider });
  });
});
