/**
 * Running a SASL exchange on a fresh connection (op 102, GetSASLRequest / SetSASLResponse),
 * before any other request, as kazoo does. The server answers SASL packets at once; nothing
 * else is in flight, so the normal reply queue matches them. A rejected password is answered
 * with AuthFailed and the server closes the connection: the session reports AUTH_FAILED.
 */
import type { Connection } from '../connection/connection.js';
import { AuthFailedError, InvalidArgumentError } from '../errors.js';
import { OpCode } from '../protocol/op-codes.js';
import { DigestMd5Client, type DigestMd5Options } from './digest-md5.js';

/** SASL login of the client (DIGEST-MD5 with a username and password). */
export interface SaslOptions extends DigestMd5Options {
  mechanism: 'DIGEST-MD5';
}

export function checkSaslOptions(options: SaslOptions): void {
  if (options.mechanism !== 'DIGEST-MD5')
    throw new InvalidArgumentError(`unsupported SASL mechanism ${String(options.mechanism)}; use DIGEST-MD5`);
  if (typeof options.username !== 'string' || typeof options.password !== 'string') {
    throw new InvalidArgumentError('sasl.username and sasl.password must be strings');
  }
}

function exchange(connection: Connection, token: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    connection.send({
      type: OpCode.sasl,
      op: 'sasl',
      write: (w) => w.bytes(token),
      read: (r) => r.bytes() ?? Buffer.alloc(0),
      resolve: (value) => resolve(value as Buffer),
      reject,
    }),
  );
}

/** Authenticate `connection`; resolves when the server accepted the credentials. */
export async function authenticateSasl(connection: Connection, options: SaslOptions): Promise<void> {
  const client = new DigestMd5Client(options);
  let token: Buffer | null = client.initialResponse();
  // Two round trips for DIGEST-MD5; the bound guards against a server that never finishes.
  for (let step = 0; step < 5 && token !== null; step++) {
    const challenge = await exchange(connection, token);
    try {
      token = client.evaluate(challenge);
    } catch (error) {
      throw new AuthFailedError(
        { op: 'sasl', cause: error },
        `SASL DIGEST-MD5 failed: ${(error as Error).message}`,
      );
    }
  }
  if (!client.complete) throw new AuthFailedError({ op: 'sasl' }, 'SASL exchange did not complete');
}
