/**
 * Payload presets Java readers accept: the instances Spring Cloud Zookeeper and Dubbo 3 register
 * through curator-x-discovery, so a Node service is found by (and finds) them. Both payloads are
 * a `ZookeeperInstance` with `id`, `name` and a `metadata` map of strings, in that order, under
 * `/services`: Spring Cloud's `org.springframework.cloud.zookeeper.discovery.ZookeeperInstance`
 * (`ZookeeperAutoServiceRegistrationAutoConfiguration`: id the application context's id, name
 * the application name, metadata with `instance_status`, URI spec `{scheme}://{address}:{port}`)
 * and Dubbo's `org.apache.dubbo.registry.zookeeper.ZookeeperInstance` (`CuratorFrameworkUtils
 * .build`: instance id `host:port`, name the application, metadata sorted by key, no URI spec).
 */
import type { ServiceInstanceInput } from './service-instance.js';

/**
 * The payload both presets write: Spring Cloud's and Dubbo's `ZookeeperInstance`.
 *
 * @example
 *   const payload: ZookeeperInstancePayload = { id: 'billing', name: 'billing', metadata: { instance_status: 'UP' } };
 */
export interface ZookeeperInstancePayload {
  id: string;
  name: string;
  metadata: Record<string, string>;
}

/**
 * What a preset needs to describe this process.
 *
 * @example
 *   springCloudZookeeper.instance({ name: 'billing', address: '10.0.0.5', port: 8080, metadata: { zone: 'eu-1' } });
 */
export interface PresetInstanceOptions {
  /** The application (service) name. */
  name: string;
  address: string;
  port: number;
  sslPort?: number;
  /** The instance id. Spring: default a random UUID (Curator's builder); Dubbo: always `address:port`. */
  id?: string;
  metadata?: Readonly<Record<string, string>>;
}

/**
 * A preset: the base path its framework uses, the payload class, and the instance it registers.
 *
 * @example
 *   const discovery = new ServiceDiscovery<ZookeeperInstancePayload>(zk, { basePath: dubbo3.basePath });
 *   await discovery.registerService(dubbo3.instance({ name: 'billing', address: '10.0.0.5', port: 20880 }));
 */
export interface DiscoveryPreset {
  readonly basePath: string;
  readonly payloadClass: string;
  instance(options: PresetInstanceOptions): ServiceInstanceInput<ZookeeperInstancePayload>;
}

/**
 * The instance both frameworks register: a `ZookeeperInstance` payload (`id`, `name`,
 * `metadata`) of `payloadClass`, with the instance `id` and payload `payloadId` they choose.
 */
function zookeeperInstance(
  options: PresetInstanceOptions,
  payloadClass: string,
  ids: { id: string | undefined; payloadId: string },
  metadata: Record<string, string>,
  uriSpec: string | null,
): ServiceInstanceInput<ZookeeperInstancePayload> {
  const { name, address, port, sslPort } = options;
  const payload = { id: ids.payloadId, name, metadata };
  return { name, id: ids.id, address, port, sslPort, payload, payloadClass, uriSpec };
}

/**
 * Spring Cloud Zookeeper's registration (`spring.cloud.zookeeper.discovery.*` defaults): under
 * `/services`, metadata with `instance_status: UP` (its load balancer skips other statuses;
 * pass `instance_status` in `metadata` to set another), URI spec `{scheme}://{address}:{port}`.
 *
 * @example
 *   const discovery = new ServiceDiscovery<ZookeeperInstancePayload>(zk, { basePath: springCloudZookeeper.basePath });
 *   await discovery.registerService(springCloudZookeeper.instance({ name: 'billing', address: '10.0.0.5', port: 8080 }));
 */
export const springCloudZookeeper: DiscoveryPreset = {
  basePath: '/services',
  payloadClass: 'org.springframework.cloud.zookeeper.discovery.ZookeeperInstance',
  instance(options) {
    const metadata = { instance_status: 'UP', ...options.metadata };
    const ids = { id: options.id, payloadId: options.name };
    return zookeeperInstance(options, this.payloadClass, ids, metadata, '{scheme}://{address}:{port}');
  },
};

/**
 * Dubbo 3's application-level registration (`ZookeeperServiceDiscovery`): under `/services`
 * (its default group), id `address:port`, the metadata sorted by key as Dubbo writes it (its
 * consumers read `dubbo.metadata.revision`, `dubbo.endpoints`, … from it: pass them in `metadata`).
 *
 * @example
 *   await discovery.registerService(dubbo3.instance({ name: 'billing', address: '10.0.0.5', port: 20880, metadata: { 'dubbo.metadata.storage-type': 'local' } }));
 */
export const dubbo3: DiscoveryPreset = {
  basePath: '/services',
  payloadClass: 'org.apache.dubbo.registry.zookeeper.ZookeeperInstance',
  instance(options) {
    const id = `${options.address}:${options.port}`;
    const metadata = Object.fromEntries(
      Object.entries(options.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    return zookeeperInstance(options, this.payloadClass, { id, payloadId: id }, metadata, null);
  },
};
