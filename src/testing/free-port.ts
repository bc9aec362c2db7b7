/**
 * Picking loopback ports for the processes and proxies the testing kit starts.
 *
 * Ports are picked *outside* the kernel's ephemeral range when possible. A server that is stopped
 * and restarted on the same port (`restart()`) must find that port still free, and a port in the
 * ephemeral range can meanwhile become the local end of any outgoing connection, such as one of the
 * many short four-letter-word connections the kit itself makes.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/** Linux's default, used if /proc cannot be read. */
const DEFAULT_EPHEMERAL: readonly [number, number] = [32768, 60999];
const LOWEST = 10_000;
const ATTEMPTS = 50;

/**
 * A port nothing listens on right now on `host`. Another process can still take it before we
 * bind it, so callers that hand it to a JVM retry on "Address already in use".
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const range = portRange();
  if (range) {
    const [low, high] = range;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const port = low + Math.floor(Math.random() * (high - low + 1));
      if (await canListen(host, port)) return port;
    }
  }
  return listenOn(host, 0); // let the kernel choose (inside the ephemeral range)
}

/** `count` distinct free ports. */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await findFreePort(host));
  return [...ports];
}

/** Where to pick from: below the ephemeral range, else above it; undefined if neither has room. */
function portRange(): [number, number] | undefined {
  const [low, high] = ephemeralRange();
  if (low - 1 - LOWEST >= 1_000) return [LOWEST, low - 1];
  if (65_535 - (high + 1) >= 1_000) return [high + 1, 65_535];
  return undefined;
}

function ephemeralRange(): readonly [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // Not Linux, or no /proc.
  }
  return DEFAULT_EPHEMERAL;
}

async function canListen(host: string, port: number): Promise<boolean> {
  try {
    await listenOn(host, port);
    return true;
  } catch {
    return false; // EADDRINUSE, EACCES, ...
  }
}

/** Listen on `port` (0: any), close again, and return the port that was bound. */
function listenOn(host: string, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(port, host, () => {
      const bound = (probe.address() as AddressInfo).port;
      probe.close(() => resolvePort(bound));
    });
  });
}
