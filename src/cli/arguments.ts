/**
 * The command line: `zookeeper-coordination inspect --hosts <connect string> [path] [--json]
 * [--watch] [--max-nodes N] [--timeout ms]`, parsed with `node:util` `parseArgs` into one typed
 * value. Anything malformed is a `UsageError` (exit code 2).
 */
import { parseArgs } from 'node:util';

/** Exit codes of the command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Usage: zookeeper-coordination inspect --hosts <host:port[,host:port…][/chroot]> [path] [options]

Shows the coordination recipes under path (default "/"): locks, elections, semaphores, queues,
parties, partitioners, counters, leases and services, in kazoo's or Curator's layout, with their
holders and waiters.

Options:
  --hosts <connect string>  the ZooKeeper servers (default 127.0.0.1:2181)
  --json                    print the model as JSON (one line per inspection with --watch)
  --watch                   print again whenever something under path changes (Ctrl-C ends)
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
  return {
    command,
    hosts: values.hosts ?? '127.0.0.1:2181',
    path,
    json: values.json ?? false,
    watch: values.watch ?? false,
    maxNodes: positive(values['max-nodes'], 10_000, 'max-nodes'),
    timeout: positive(values.timeout, 10_000, 'timeout'),
  };
}
