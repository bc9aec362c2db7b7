/**
 * The command line: `zookeeper-coordination inspect --hosts <connect string> [path] [--json]
 * [--watch] [--serve [--port N] [--host H]] [--max-nodes N] [--timeout ms]`, parsed with `node:util` `parseArgs` into one typed
 * value. Anything malformed is a `UsageError` (exit code 2).
 */
import { parseArgs } from 'node:util';

/** Exit codes of the command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Usage: zookeeper-coordination inspect --hosts <host:port[,host:port…][/chroot]> [path] [options]

Shows the coordination recipes under path (default "/"): locks, elections, semaphores, queues,
parties, partitioners, counters, leases, services, groups, TTL nodes and protected nodes, in
kazoo's or Curator's layout, with their holders and waiters.

Options:
  --hosts <connect string>  the ZooKeeper servers (default 127.0.0.1:2181)
  --json                    print the model as JSON (one line per inspection with --watch)
  --watch                   print again whenever something under path changes (Ctrl-C ends)
  --serve                   serve a live web view instead, and print its URL (Ctrl-C ends)
  --port <n>                the web view's port (default 0: a free one)
  --host <address>          the web view's address (default 127.0.0.1: this machine only)
  --max-nodes <n>           stop reading after n znodes (default 10000)
  --timeout <ms>            give up connecting after this long (default 10000)
  --help                    this text
`;

/** A command line the command cannot run. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What `inspect` was asked to do. */
export interface InspectArguments {
  command: 'inspect';
  hosts: string;
  path: string;
  json: boolean;
  watch: boolean;
  /** Serve the live web view (`serveInspector`) on `host`:`port` instead of printing. */
  serve: boolean;
  port: number;
  host: string;
  maxNodes: number;
  timeout: number;
}

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parse `argv` (without node and the script); `'help'` when help was asked for. */
export function parseArguments(argv: readonly string[]): InspectArguments | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        hosts: { type: 'string' },
        json: { type: 'boolean' },
        watch: { type: 'boolean' },
        serve: { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        'max-nodes': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, path = '/', ...extra] = positionals;
  if (command !== 'inspect')
    throw new UsageError(
      command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command)}`,
    );
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!path.startsWith('/'))
    throw new UsageError(`the path must start with "/", got ${JSON.stringify(path)}`);
  if (values.serve && (values.watch || values.json))
    throw new UsageError('--serve shows the model in a browser: it takes neither --watch nor --json');
  if (!values.serve && (values.port !== undefined || values.host !== undefined))
    throw new UsageError('--port and --host are options of --serve');
  if (values.port !== undefined && (!/^\d+$/.test(values.port) || Number(values.port) > 65_535))
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  return {
    command,
    hosts: values.hosts ?? '127.0.0.1:2181',
    path,
    json: values.json ?? false,
    watch: values.watch ?? false,
    serve: values.serve ?? false,
    port: Number(values.port ?? 0),
    host: values.host ?? '127.0.0.1',
    maxNodes: positive(values['max-nodes'], 10_000, 'max-nodes'),
    timeout: positive(values.timeout, 10_000, 'timeout'),
  };
}
