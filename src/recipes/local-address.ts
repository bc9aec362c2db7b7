/**
 * This host's address, as the Curator recipes default to it: a service instance's `address`
 * (curator-x-discovery's `ServiceInstanceBuilder.getAllLocalIPs`) and a group member's payload
 * (curator-framework's `CuratorFrameworkFactory.getLocalAddress`); `hostAddress` is the latter
 * exactly (a PersistentTtlNode's touch data).
 */
import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';

/** The first non-loopback, non-link-local address of this host (IPv4 first), or null when it has none. */
export function localAddress(): string | null {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.startsWith('fe80:'));
  return (addresses.find((a) => a!.family === 'IPv4') ?? addresses[0])?.address ?? null;
}

let resolved: Promise<string> | undefined;

/**
 * Curator's default node data, `CuratorFrameworkFactory.getLocalAddress()`:
 * `InetAddress.getLocalHost().getHostAddress()` — this host's name resolved (hosts file first,
 * IPv4 first as Java prefers; often `127.0.0.1` or `127.0.1.1`), '' when it does not resolve.
 * Looked up once per process.
 */
export function hostAddress(): Promise<string> {
  resolved ??= lookup(hostname(), { family: 4 })
    .catch(() => lookup(hostname()))
    .then(
      (found) => found.address,
      () => '',
    );
  return resolved;
}
