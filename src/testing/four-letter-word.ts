/**
 * ZooKeeper's "four-letter words" (ZooKeeper Administrator's Guide): admin commands sent as the first 4 bytes
 * of a fresh TCP connection. The server answers in plain text and closes the connection.
 */
import { connect } from 'node:net';

/**
 * Send one four-letter word and return the server's whole answer.
 *
 * Only commands in the server's `4lw.commands.whitelist` are executed; any other gets the answer
 * `<cmd> is not executed because it is not in the whitelist.` (`stmk`, which expects 8 more
 * bytes, is not supported).
 *
 * @example
 * ```ts
 * const answer = await fourLetterWord('127.0.0.1', 2181, 'ruok'); // 'imok'
 * ```
 */
export async function fourLetterWord(
  host: string,
  port: number,
  command: string,
  timeoutMs = 5000,
): Promise<string> {
  if (!/^[a-z]{4}$/.test(command)) {
    throw new TypeError(`a four-letter word is 4 lowercase ASCII letters, got ${JSON.stringify(command)}`);
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy(
        new Error(
          `four-letter word '${command}' to ${host}:${port}: no complete answer after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.on('connect', () => socket.write(command, 'ascii'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The answer is complete only when the server closes its side.
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
