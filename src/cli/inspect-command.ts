/**
 * `zookeeper-coordination inspect`: connect, inspect, print (a table or JSON), and with `--watch`
 * print again after every change under the path (`watchInspections`: one persistent recursive
 * watch, a burst of changes read once); with `--serve`, serve the live web view instead.
 */
import { ZooKeeperClient } from '../client/client.js';
import { InvalidArgumentError, ZooKeeperError } from '../client/errors.js';
import { formatInspection } from '../inspector/format.js';
import { inspect } from '../inspector/inspect.js';
import type { Inspection } from '../inspector/model.js';
import { serveInspector } from '../inspector/serve.js';
import { watchInspections } from '../inspector/watch-inspections.js';
import { EXIT, UsageError, type InspectArguments } from './arguments.js';

/** Where the command writes. */
export interface Output {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** How long after a change the next print is read, ms (changes in between join it). */
const DEBOUNCE_MS = 200;

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

/** Run `inspect` with parsed arguments; resolves the exit code. `signal` ends `--watch` and `--serve`. */
export async function runInspect(
  args: InspectArguments,
  output: Output,
  signal?: AbortSignal,
): Promise<number> {
  const client = await connect(args.hosts, args.timeout);
  try {
    const options = { maxNodes: args.maxNodes }; // cons: every server of the connect string
    if (args.serve) {
      await using view = await serveInspector(client, {
        path: args.path,
        port: args.port,
        host: args.host,
        inspect: options,
        ...(signal ? { signal } : {}),
      });
      output.stdout.write(`inspector web view of ${args.path}: ${view.url}\n`);
      await new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        else signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      return EXIT.ok;
    }
    if (!args.watch) {
      output.stdout.write(render(await inspect(client, args.path, options), args.json));
      return EXIT.ok;
    }
    // The web view's live inspection: one recursive watch, a burst of changes read once.
    let printed = 0;
    for await (const { inspection, error } of watchInspections(client, args.path, {
      debounce: DEBOUNCE_MS,
      inspect: options,
      ...(signal ? { signal } : {}),
    })) {
      if (inspection === null) output.stderr.write(`inspect failed: ${error.message}\n`);
      else output.stdout.write((printed++ > 0 && !args.json ? '\n' : '') + render(inspection, args.json));
    }
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
