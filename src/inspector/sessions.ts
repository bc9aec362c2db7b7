/**
 * The servers' live sessions and their client addresses, from the `cons` four-letter word
 * (ZooKeeper Administrator's Guide: "cons: list full connection/session details for all clients
 * connected to this server"). A server that does not whitelist `cons` answers
 * "cons is not executed because it is not in the whitelist."; then nothing is known.
 */
import { fourLetterWord } from '../client/connection/four-letter-word.js';
import { parseHosts } from '../client/hosts.js';

/** Session id (`0x…`, as `cons` and zkCli print it) → client address (`host:port`). */
export type SessionAddresses = Map<string, string>;

/** `0x…` for a session id: unsigned 64-bit hex without leading zeros, as Java's `Long.toHexString`. */
export function sessionHex(id: bigint): string {
  return `0x${BigInt.asUintN(64, id).toString(16)}`;
}

/** One `cons` line: ` /127.0.0.1:49018[1](queued=0,…,sid=0x10000a5c4e50000,…)`. */
const CONNECTION = /^\s*\/?(\S+?)\[\d+\]\((?:[^)]*?,)?sid=(0x[0-9a-f]+)/;

/** The sessions a `cons` answer lists, with their client addresses. */
export function parseCons(answer: string): SessionAddresses {
  const sessions: SessionAddresses = new Map();
  for (const line of answer.split('\n')) {
    const match = CONNECTION.exec(line);
    if (match) sessions.set(match[2]!, match[1]!);
  }
  return sessions;
}

/**
 * Ask every server for its connections. Resolves `undefined` unless every server answered
 * `cons`: a session connected to a server we could not ask would look dead.
 */
export async function liveSessions(
  servers: readonly string[],
  timeoutMs: number,
): Promise<SessionAddresses | undefined> {
  if (servers.length === 0) return undefined;
  const { endpoints } = parseHosts(servers);
  const answers = await Promise.all(
    endpoints.map((endpoint) =>
      fourLetterWord(endpoint, 'cons', timeoutMs).then(
        (answer) => (answer.includes('not in the whitelist') ? undefined : answer),
        () => undefined,
      ),
    ),
  );
  if (answers.some((answer) => answer === undefined)) return undefined;
  const sessions: SessionAddresses = new Map();
  for (const answer of answers) for (const [id, address] of parseCons(answer!)) sessions.set(id, address);
  return sessions;
}
