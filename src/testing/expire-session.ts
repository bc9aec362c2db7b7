/**
 * Expire a live session for real, the way kazoo's and Curator's test kits do: a second connection
 * re-attaches the session (the server then drops the owner's connection) and closes it. The owner
 * reconnects and is told its session has expired, exactly as after a server-side timeout.
 */
import { closeRawSession, openRawSession } from './raw-session.js';

export interface SessionCredentials {
  sessionId: bigint;
  sessionPassword: Buffer;
}

const TIMEOUT_MS = 10_000;

/**
 * Expire `session` on the ensemble at `connectString` (`host:port[,host:port...][/chroot]`; the
 * first server is used). Returns once the server has closed the session; does nothing if the
 * session is already gone.
 *
 * @example
 * ```ts
 * await expireSession(server.connectString, { sessionId, sessionPassword });
 * ```
 */
export async function expireSession(connectString: string, session: SessionCredentials): Promise<void> {
  const { host, port } = firstServer(connectString);
  const { connection, response } = await openRawSession(
    host,
    port,
    { sessionId: session.sessionId, password: session.sessionPassword, timeout: TIMEOUT_MS },
    TIMEOUT_MS,
  );
  if (response.timeout <= 0) {
    connection.close(); // already expired (or unknown): nothing to do
    return;
  }
  await closeRawSession(connection, TIMEOUT_MS);
}

/** The first `host:port` of a connect string, without the chroot; IPv6 hosts may be bracketed. */
export function firstServer(connectString: string): { host: string; port: number } {
  const slash = connectString.indexOf('/');
  const hosts = slash === -1 ? connectString : connectString.slice(0, slash);
  const first = hosts.split(',')[0]?.trim() ?? '';
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(first);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(first);
  const host = bracketed?.[1] ?? plain?.[1];
  const portText = bracketed?.[2] ?? plain?.[2];
  if (!host) throw new TypeError(`cannot find a server in connect string ${JSON.stringify(connectString)}`);
  const port = portText === undefined ? 2181 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`bad port in connect string ${JSON.stringify(connectString)}`);
  }
  return { host, port };
}
