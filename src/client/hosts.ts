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

const EXAMPLE = '"127.0.0.1:2181" or "zk1:2181,zk2:2181/app"';

function parseEndpoint(text: string): Endpoint {
  const entry = text.trim();
  let host: string;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close === -1) throw new InvalidArgumentError(`invalid host "${entry}": missing ]`);
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':'))
      throw new InvalidArgumentError(`invalid host "${entry}": expected ":port" after "]"`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = entry.lastIndexOf(':');
    host = colon === -1 ? entry : entry.slice(0, colon);
    portText = colon === -1 ? undefined : entry.slice(colon + 1);
    if (host.includes(':'))
      throw new InvalidArgumentError(
        `invalid host "${entry}": more than one ":"; write an IPv6 address in brackets, e.g. "[::1]:2181"`,
      );
  }
  if (host === '') throw new InvalidArgumentError(`invalid host "${entry}": empty host name`);
  if (portText === undefined) return { host, port: DEFAULT_PORT };
  if (!/^\d+$/.test(portText))
    throw new InvalidArgumentError(`invalid port in "${entry}": "${portText}" is not a number`);
  const port = Number(portText);
  if (!(port >= 1 && port <= 65535))
    throw new InvalidArgumentError(`invalid port in "${entry}": ${portText} is out of range (1-65535)`);
  return { host, port };
}

/** `http://…`, `zk://…`: a URL where a connect string belongs. */
function checkNoScheme(text: string): void {
  const scheme = /^\s*([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme)
    throw new InvalidArgumentError(
      `hosts "${text}" is a URL: a connect string has no scheme ("${scheme[1]}://"); write "host:port", e.g. ${EXAMPLE}`,
    );
}

/**
 * Parse `hosts`: a connect string `"h1:p1,h2:p2/chroot"` or an array of `"host:port"`. Errors name
 * the mistake (a URL, a chroot in an array entry or before the last host, a bad port).
 */
export function parseHosts(hosts: string | readonly string[]): ParsedHosts {
  let list: string[];
  let chroot = '';
  if (typeof hosts === 'string') {
    checkNoScheme(hosts);
    const slash = hosts.indexOf('/');
    if (slash !== -1) {
      chroot = hosts.slice(slash);
      hosts = hosts.slice(0, slash);
      // "a:1/app,b:2": the chroot would silently be "/app,b:2" (ConnectStringParser takes all after the first "/").
      if (/,[^,/]*:\d+\s*$/.test(chroot))
        throw new InvalidArgumentError(
          `the chroot "${chroot}" holds a host: the chroot goes once, after the last host, e.g. "zk1:2181,zk2:2181/app"`,
        );
      if (hosts.trim() === '')
        throw new InvalidArgumentError(
          `hosts "${chroot}" names no server before its chroot, e.g. ${EXAMPLE}`,
        );
    }
    list = hosts.split(',');
  } else if (Array.isArray(hosts) && hosts.every((h) => typeof h === 'string')) {
    list = [...hosts];
    for (const entry of list) {
      checkNoScheme(entry);
      const slash = entry.indexOf('/');
      if (slash !== -1)
        throw new InvalidArgumentError(
          `hosts entry "${entry}" has a chroot ("${entry.slice(slash)}"): an array lists "host:port" only; ` +
            `give the chroot in a connect string, after the last host: "${list.map((h) => h.split('/')[0]!.trim()).join(',')}${entry.slice(slash)}"`,
        );
    }
  } else {
    throw new InvalidArgumentError(
      `hosts must be a connect string or an array of "host:port" strings, e.g. ${EXAMPLE}`,
    );
  }
  list = list.filter((entry) => entry.trim() !== '');
  if (list.length === 0)
    throw new InvalidArgumentError(`hosts is empty: give at least one server, e.g. ${EXAMPLE}`);
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

/** An endpoint as a connect string writes it: `host:port`, an IPv6 host in brackets. */
export function endpointText({ host, port }: Endpoint): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
