/**
 * Service discovery through the inversify module: `zookeeperModule({ service })` registers the
 * process as part of the client's start and unregisters it on unbind; `ServiceDiscoveryToken`
 * and a started `ServiceProvider` per service name are injectable.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Container, inject, injectable, named } from 'inversify';
import { ServiceDiscovery, ServiceProvider } from '../../src/index.js';
import {
  ServiceDiscoveryToken,
  ServiceProviderToken,
  ZooKeeper,
  zookeeperModule,
} from '../../src/di/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { eventually } from '../support/wait.js';

const server = await serverForFile();

@injectable()
class Caller {
  constructor(
    @inject(ServiceProviderToken) @named('billing') readonly billing: ServiceProvider,
    @inject(ServiceDiscoveryToken) readonly discovery: ServiceDiscovery,
  ) {}
}

test('zookeeperModule({ service }) registers on start and unregisters on unbind; discovery and providers are injected', async (t) => {
  const basePath = `${uniqueRoot('di-discovery')}/services`;
  const admin = await connect(t, server);
  const container = new Container();
  container.load(
    zookeeperModule({
      hosts: server.connectString,
      discovery: { basePath },
      service: { name: 'billing', id: 'me', address: '10.0.0.5', port: 8080, serviceType: 'STATIC' },
      providers: { billing: { strategy: 'roundRobin' } },
    }),
  );
  container.bind(Caller).toSelf();
  t.after(() => container.unbindAllAsync());
  const zk = await container.getAsync(ZooKeeper);
  assert.notEqual(
    await admin.exists(`${basePath}/billing/me`),
    null,
    'registered once the client is resolved',
  );
  const caller = await container.getAsync(Caller);
  assert.equal(caller.discovery.client, zk);
  assert.equal(caller.billing.getInstance()?.id, 'me');
  assert.equal(await container.getAsync(ServiceDiscoveryToken), caller.discovery, 'one discovery per client');
  await caller.discovery.registerService({ name: 'billing', id: 'other' });
  await eventually(() => caller.billing.getAllInstances().length === 2, 'the provider follows');
  await container.unbindAllAsync();
  assert.equal(
    await admin.exists(`${basePath}/billing/me`),
    null,
    'unregistered on unbind (STATIC: persistent)',
  );
  assert.equal(await admin.exists(`${basePath}/billing/other`), null, 'and what it registered since');
});
