/**
 * Four-letter words (ZooKeeper Administrator's Guide, "ZooKeeper Commands: The Four Letter Words"): a fresh connection, four ASCII bytes, a text answer
 * until the server closes. The session uses `isro` to find a read-write server while read-only.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint } from './connection.js';

export function fourLetterWord(
  endpoint: Endpoint,
  command: string,
  timeoutMs: number,
  tlsOptions?: tls.ConnectionOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const { host, port } = endpoint;
    const socket = tlsOptions ? tls.connect({ ...tlsOptions, host, port }) : net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => socket.destroy(new Error(`${command} to ${host}:${port} timed out`)),
      timeoutMs,
    );
    timer.unref();
    socket.on(tlsOptions ? 'secureConnect' : 'connect', () => socket.end(command));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
