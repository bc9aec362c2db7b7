/**
 * Connect strings: `"h1:p1,h2:p2/chroot"` or an array of `"host:port"` (the Java client's ConnectStringParser).
 * IPv6 hosts are written in brackets; the default port is 2181.
 */
import type { Endpoint } from './connection/connection.js';
import { InvalidArgumentError } from './errors.js';
import { validatePath } from './paths.js';

export interface ParsedHosts {
  endpoints: Endpoint[];
  /** '' when there is no chroot (or it is '/'). */
  chroot: string;
}

const DEFAULT_PORT = 2181;

function parseEndpoint(text: string): Endpoint {
  const entry = text.trim();
  let host: string;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close === -1) throw new InvalidArgumentError(`invalid host "${entry}": missing ]`);
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new InvalidArgumentError(`invalid host "${entry}"`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = entry.lastIndexOf(':');
    host = colon === -1 ? entry : entry.slice(0, colon);
    portText = colon === -1 ? undefined : entry.slice(colon + 1);
  }
  if (host === '') throw new InvalidArgumentError(`invalid host "${entry}": empty host name`);
  const port = portText === undefined ? DEFAULT_PORT : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new InvalidArgumentError(`invalid port in "${entry}"`);
  }
  return { host, port };
}

export function parseHosts(hosts: string | readonly string[]): ParsedHosts {
  let list: string[];
  let chroot = '';
  if (typeof hosts === 'string') {
    const slash = hosts.indexOf('/');
    if (slash !== -1) {
      chroot = hosts.slice(slash);
      hosts = hosts.slice(0, slash);
    }
    list = hosts.split(',');
  } else if (Array.isArray(hosts) && hosts.every((h) => typeof h === 'string')) {
    list = [...hosts];
  } else {
    throw new InvalidArgumentError('hosts must be a connect string or an array of "host:port" strings');
  }
  list = list.filter((entry) => entry.trim() !== '');
  if (list.length === 0) throw new InvalidArgumentError('hosts is empty');
  if (chroot !== '') {
    validatePath(chroot, 'chroot');
    if (chroot === '/') chroot = '';
  }
  return { endpoints: list.map(parseEndpoint), chroot };
}

/** Fisher–Yates shuffle (a copy): spreads a fleet's clients over the ensemble. */
export function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
