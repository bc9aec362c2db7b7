/**
 * This host's address, as the Curator recipes default to it: a service instance's `address`
 * (curator-x-discovery's `ServiceInstanceBuilder.getAllLocalIPs`) and a group member's payload
 * (curator-framework's `CuratorFrameworkFactory.getLocalAddress`).
 */
import { networkInterfaces } from 'node:os';

/** The first non-loopback, non-link-local address of this host (IPv4 first), or null when it has none. */
export function localAddress(): string | null {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.startsWith('fe80:'));
  return (addresses.find((a) => a!.family === 'IPv4') ?? addresses[0])?.address ?? null;
}
