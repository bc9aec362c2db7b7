/**
 * Service discovery with a real curator-x-discovery 5.4 process (test/interop/curator/
 * DiscoveryOps.java) on one server and base path, both directions: Curator registers, we
 * discover it, choose it through our ServiceProvider and write its bytes back identically; we
 * register, Curator's ServiceDiscovery deserializes ours (a LinkedHashMap payload, and the
 * Spring Cloud and Dubbo 3 presets read as their `ZookeeperInstance` class) and Curator's
 * ServiceProvider picks it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ServiceDiscovery,
  ServiceProvider,
  dubbo3,
  springCloudZookeeper,
  type ZookeeperInstancePayload,
} from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { eventually } from '../support/wait.js';

const server = await serverForFile();

interface CuratorView {
  id: string;
  address: string;
  port: number;
  payloadClass: string | null;
  payload: unknown;
  serviceType: string;
  enabled: boolean;
}

describe('service discovery interop with curator-x-discovery 5.4', () => {
  test('Curator registers: we discover it, our provider chooses it, and we write its bytes back identically', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const basePath = `${uniqueRoot('discovery')}/services`;
    await peer.request('discovery.register', {
      basePath,
      name: 'billing',
      instanceId: 'java-1',
      address: '10.0.0.9',
      port: 8080,
      payload: { zone: 'eu-1', weight: 3, tags: ['a'] },
    });
    const discovery = new ServiceDiscovery(zk, { basePath });
    t.after(() => discovery.close());
    assert.deepEqual(await discovery.queryForNames(), ['billing']);
    const [found] = await discovery.queryForInstances('billing');
    assert.equal(found?.id, 'java-1');
    assert.equal(found?.address, '10.0.0.9');
    assert.equal(found?.port, 8080);
    assert.equal(found?.payloadClass, 'java.util.LinkedHashMap');
    assert.deepEqual(found?.payload, { zone: 'eu-1', weight: 3, tags: ['a'] });
    const bytes = (await zk.get(`${basePath}/billing/java-1`)).data;
    assert.equal(
      discovery.serializer.serialize(found!).toString('utf8'),
      bytes.toString('utf8'),
      "Curator's bytes",
    );

    const provider = new ServiceProvider(discovery, 'billing');
    t.after(() => provider.close());
    await provider.start();
    assert.equal(provider.getInstance()?.id, 'java-1');
    const ours = await discovery.registerService({
      name: 'billing',
      id: 'node-1',
      address: '10.0.0.10',
      port: 8081,
    });
    await eventually(() => provider.getAllInstances().length === 2, 'ours joins the provider');
    assert.deepEqual(new Set([1, 2].map(() => provider.getInstance()?.id)), new Set(['java-1', 'node-1']));
    await peer.request('discovery.unregister', { basePath, instanceId: 'java-1' });
    await eventually(() => provider.getInstance()?.id === ours.id, "Curator's instance went");
  });

  test("we register: Curator's ServiceDiscovery deserializes ours (a LinkedHashMap payload) and its ServiceProvider picks it", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const basePath = `${uniqueRoot('discovery')}/services`;
    const discovery = new ServiceDiscovery(zk, { basePath });
    t.after(() => discovery.close());
    const me = await discovery.registerService({
      name: 'billing',
      address: '10.0.0.5',
      port: 8080,
      payload: { zone: 'eu-1', weight: 3, ratio: 0.25, tags: ['a', 'b'], note: 'é "quoted" 😀' },
      serviceType: 'STATIC',
    });
    const { instances } = (await peer.request('discovery.query', {
      basePath,
      name: 'billing',
    })) as unknown as {
      instances: CuratorView[];
    };
    assert.deepEqual(instances, [
      {
        id: me.id,
        address: '10.0.0.5',
        port: 8080,
        serviceType: 'STATIC',
        enabled: true,
        payloadClass: 'java.util.LinkedHashMap',
        payload: { zone: 'eu-1', weight: 3, ratio: 0.25, tags: ['a', 'b'], note: 'é "quoted" 😀' },
      },
    ]);
    for (const strategy of ['roundRobin', 'random', 'sticky'])
      assert.deepEqual(
        (await peer.request('discovery.provider', { basePath, name: 'billing', strategy, picks: 3 }))['ids'],
        [me.id, me.id, me.id],
      );
    await discovery.unregisterService(me);
    assert.deepEqual((await peer.request('discovery.query', { basePath, name: 'billing' }))['instances'], []);
  });

  for (const [label, preset] of [
    ['Spring Cloud Zookeeper', springCloudZookeeper],
    ['Dubbo 3', dubbo3],
  ] as const) {
    test(`the ${label} preset: a Java reader of its ZookeeperInstance class reads ours, and we read its`, async (t) => {
      const zk = await connect(t, server);
      const peer = await CuratorPeer.start(t, server.connectString);
      const basePath = `${uniqueRoot('discovery')}${preset.basePath}`;
      const discovery = new ServiceDiscovery<ZookeeperInstancePayload>(zk, { basePath });
      t.after(() => discovery.close());
      const me = await discovery.registerService(
        preset.instance({
          name: 'billing',
          address: '10.0.0.5',
          port: 20880,
          metadata: { zone: 'eu-1', b: '2', a: '1' },
        }),
      );
      const { instances } = (await peer.request('discovery.query', {
        basePath,
        name: 'billing',
        payloadClass: preset.payloadClass,
      })) as unknown as { instances: CuratorView[] };
      assert.equal(instances.length, 1);
      assert.equal(instances[0]!.id, me.id);
      assert.equal(instances[0]!.payloadClass, preset.payloadClass, 'deserialized as the framework class');
      assert.deepEqual(instances[0]!.payload, me.payload);

      await peer.request('discovery.register', {
        basePath,
        name: 'billing',
        instanceId: 'java-1',
        address: '10.0.0.9',
        port: 20881,
        payloadClass: preset.payloadClass,
        payload: { id: 'java-1', name: 'billing', metadata: { zone: 'us-1' } },
      });
      const java = await discovery.queryForInstance('billing', 'java-1');
      assert.equal(java?.payloadClass, preset.payloadClass);
      assert.deepEqual(java?.payload, { id: 'java-1', name: 'billing', metadata: { zone: 'us-1' } });
    });
  }
});
