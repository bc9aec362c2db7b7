/**
 * Expire a live session for real, the way kazoo's and Curator's test kits do: a second connection
 * re-attaches the session (the server then drops the owner's connection) and closes it. The owner
 * reconnects and is told its session has expired, exactly as after a server-side timeout.
 */
import { closeRawSession, NoConnectResponseError, openRawSession, type RawSession } from './raw-session.js';

/** A session to expire: its id and password (`zk.sessionId`, `zk.sessionPassword`). */
export interface SessionCredentials {
  sessionId: bigint;
  sessionPassword: Buffer;
}

const TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 5;

/**
 * Expire `session` on the ensemble at `connectString` (`host:port[,host:port...][/chroot]`; the
 * first server is used). Returns once the server reports the session expired.
 *
 * @example
 * ```ts
 * await expireSession(server.connectString, { sessionId, sessionPassword });
 * ```
 */
export async function expireSession(connectString: string, session: SessionCredentials): Promise<void> {
  const { host, port } = firstServer(connectString);
  // The owner reconnects on its own and may re-attach the session while our ConnectRequest awaits
  // its answer (the server then closes our connection before the ConnectResponse is written) or
  // between our re-attach and our closeSession (the server then drops our connection instead).
  // So re-attach until the server answers "expired": each round either closes the session, finds
  // it gone, or lost the race to the owner and tries again.
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let raw: RawSession;
    try {
      raw = await openRawSession(
        host,
        port,
        { sessionId: session.sessionId, password: session.sessionPassword, timeout: TIMEOUT_MS },
        TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof NoConnectResponseError) continue;
      throw error;
    }
    const { connection, response } = raw;
    if (response.timeout <= 0) {
      connection.close(); // expired (or unknown): done
      return;
    }
    await closeRawSession(connection, TIMEOUT_MS).catch(() => {});
  }
  throw new Error(
    `session 0x${session.sessionId.toString(16)} could not be expired in ${MAX_ATTEMPTS} attempts`,
  );
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
