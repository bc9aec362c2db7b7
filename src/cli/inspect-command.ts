/**
 * `zookeeper-coordination inspect`: connect, inspect, print (a table or JSON), and with `--watch`
 * print again after every change under the path — one persistent recursive watch, set before
 * the first read, events debounced, so a burst of changes gives one new print; until `signal`.
 */
import { ZooKeeperClient } from '../client/client.js';
import { InvalidArgumentError, ZooKeeperError } from '../client/errors.js';
import type { WatchListener } from '../client/states.js';
import { parseHosts } from '../client/hosts.js';
import { formatInspection } from '../inspector/format.js';
import { inspect } from '../inspector/inspect.js';
import type { Inspection } from '../inspector/model.js';
import { EXIT, UsageError, type InspectArguments } from './arguments.js';

/** Where the command writes. */
export interface Output {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Quiet time after a change before printing again, ms. */
const DEBOUNCE_MS = 200;

/** `host:port` of every server of a connect string, for `cons`. */
export function serversOf(hosts: string): string[] {
  return parseHosts(hosts).endpoints.map(({ host, port }) =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  );
}

/** Connect to `hosts`: a malformed or unreachable connect string is a `UsageError`. */
export async function connect(hosts: string, timeout: number): Promise<ZooKeeperClient> {
  let client: ZooKeeperClient;
  try {
    client = new ZooKeeperClient({ hosts });
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(`--hosts: ${error.message}`);
    throw error;
  }
  try {
    await client.start({ timeout, failFast: true });
  } catch (error) {
    await client.close();
    if (error instanceof ZooKeeperError) throw new UsageError(`cannot connect to ${hosts}: ${error.message}`);
    throw error;
  }
  return client;
}

function render(inspection: Inspection, json: boolean): string {
  return json ? `${JSON.stringify(inspection)}\n` : formatInspection(inspection);
}

/** Run `inspect` with parsed arguments; resolves the exit code. `signal` ends `--watch`. */
export async function runInspect(
  args: InspectArguments,
  output: Output,
  signal?: AbortSignal,
): Promise<number> {
  const client = await connect(args.hosts, args.timeout);
  try {
    const options = { maxNodes: args.maxNodes, servers: serversOf(args.hosts) };
    const print = async (): Promise<void> => {
      output.stdout.write(render(await inspect(client, args.path, options), args.json));
    };
    if (!args.watch) {
      await print();
      return EXIT.ok;
    }
    let timer: NodeJS.Timeout | undefined;
    let printing = Promise.resolve();
    const printLater: WatchListener = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        printing = printing
          .then(() => (args.json ? undefined : output.stdout.write('\n')))
          .then(print)
          .catch(
            (error: unknown) => void output.stderr.write(`inspect failed: ${(error as Error).message}\n`),
          );
      }, DEBOUNCE_MS);
    };
    // The watch is set before the first read, so no change after that read goes unseen.
    await client.addWatch(args.path, printLater, { recursive: true });
    try {
      await print();
      await new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        else signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearTimeout(timer);
      await printing;
      await client.removeWatches(args.path, 'persistentRecursive', printLater).catch(() => {});
    }
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
