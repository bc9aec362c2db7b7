#!/usr/bin/env node
/**
 * The package's `bin`: `npx zookeeper-coordination inspect --hosts … [path] [--json] [--watch]`.
 * Exit codes: 0 done, 1 failed, 2 bad command line or hosts that cannot be reached.
 */
import { EXIT, parseArguments, USAGE, UsageError } from './arguments.js';
import { runInspect } from './inspect-command.js';

async function main(argv: readonly string[]): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const args = parseArguments(argv);
    if (args === 'help') {
      process.stdout.write(USAGE);
      return EXIT.ok;
    }
    return await runInspect(args, process, stop.signal);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`zookeeper-coordination: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    process.stderr.write(`zookeeper-coordination: ${(error as Error).message}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
