/**
 * Running one ZooKeeper JVM (standalone or ensemble member) the way every launcher of the kit
 * does: under a `SupervisedProcess` (so it never outlives this process), with its output appended
 * to a log file, and "started" meaning "passed a real readiness probe", never "port is open".
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import type { Logger } from 'winston';
import { pollUntil } from './poll.js';
import { SupervisedProcess, type ExitStatus } from './supervised-process.js';

/** How long `stop()` waits after SIGTERM before it SIGKILLs. */
export const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 40;

export const STANDALONE_MAIN = 'org.apache.zookeeper.server.ZooKeeperServerMain';
export const QUORUM_PEER_MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

/** `-D` options every kit JVM gets (they mirror the zoo.cfg defaults, for settings read early). */
export const KIT_SYSTEM_PROPERTIES: readonly string[] = [
  '-Dzookeeper.4lw.commands.whitelist=*',
  '-Dzookeeper.extendedTypesEnabled=true', // TTL nodes
  '-Dzookeeper.admin.enableServer=false', // no HTTP admin server on port 8080
  '-Dzookeeper.jmx.log4j.disable=true',
];

/** The JVM could not bind one of its ports; a launcher that picked the ports may retry with others. */
export class PortInUseError extends Error {}

export interface JvmLaunch {
  mainClass: typeof STANDALONE_MAIN | typeof QUORUM_PEER_MAIN;
  configFile: string;
  classpath: string;
  /** After the kit's own `-D` options, so they win. */
  javaOptions: readonly string[];
  /** Working directory (the data directory). */
  cwd: string;
  /** stdout and stderr of the JVM are appended here. */
  logFile: string;
  /** "ZooKeeper on 127.0.0.1:2181", for messages. */
  description: string;
  startTimeout: number;
  /** Resolves once the JVM serves as required; rejects (with the reason) while it does not yet. */
  ready: (timeoutMs: number) => Promise<void>;
  /** Called as soon as the process exists, before it is ready (so a caller can stop it meanwhile). */
  onSpawn?: (process: SupervisedProcess) => void;
  logger?: Logger | undefined;
}

/**
 * Start the JVM and wait until `ready` passes. On failure the JVM is stopped and the error
 * carries the end of its log (a `PortInUseError` if a port was taken).
 */
export async function launchZooKeeperJvm(launch: JvmLaunch): Promise<SupervisedProcess> {
  const logOffset = fileSize(launch.logFile);
  await appendFile(
    launch.logFile,
    `===== ${new Date().toISOString()} starting ${launch.description} =====\n`,
  );
  const args = [
    '-cp',
    launch.classpath,
    ...KIT_SYSTEM_PROPERTIES,
    ...launch.javaOptions,
    launch.mainClass,
    launch.configFile,
  ];
  const output = openSync(launch.logFile, 'a');
  let proc: SupervisedProcess;
  try {
    proc = await SupervisedProcess.spawn('java', args, { cwd: launch.cwd, output });
  } finally {
    closeSync(output); // the child has its own copy
  }
  launch.onSpawn?.(proc);
  launch.logger?.debug(`${launch.description}: JVM pid ${proc.pid} starting`);

  try {
    await pollUntil((left) => launch.ready(Math.min(left, 2_000)), {
      timeoutMs: launch.startTimeout,
      what: `${launch.description} to serve`,
      abort: async () =>
        proc.running
          ? undefined
          : new Error(`${launch.description} exited during startup (${describeExit(await proc.exited)})`),
      wakeUp: proc.exited,
    });
    // The probe may have passed just as the JVM died.
    if (!proc.running)
      throw new Error(`${launch.description} exited during startup (${describeExit(await proc.exited)})`);
  } catch (error) {
    await proc.terminate(STOP_GRACE_MS);
    const tail = await readLogTail(launch.logFile, logOffset);
    const reason = error instanceof Error ? error.message : String(error);
    const message = `${reason}\n--- last lines of ${launch.logFile} ---\n${tail}`;
    throw /Address already in use/.test(tail) ? new PortInUseError(message) : new Error(message);
  }
  launch.logger?.info(`${launch.description}: serving (pid ${proc.pid})`);
  return proc;
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last lines written to the log since `offset`. */
async function readLogTail(path: string, offset: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await file.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } finally {
    await file.close();
  }
}
