/**
 * A real, standalone ZooKeeper server for tests, modelled on Curator's `TestingServer`: each
 * instance runs its own JVM on a loopback port with its own data directory.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'winston';
import { expireSession, type SessionCredentials } from './expire-session.js';
import { fourLetterWord } from './four-letter-word.js';
import { resolveClasspath } from './installation.js';
import { closeRawSession, openRawSession } from './raw-session.js';
import { SupervisedProcess, type ExitStatus } from './supervised-process.js';

export interface ZooKeeperServerOptions {
  /** Client port on 127.0.0.1. Default: a free port. */
  port?: number;
  /**
   * ZooKeeper's tickTime in ms. Default 500. The session timeouts the server accepts are
   * [2 × tickTime, 60000] ms, so the default allows timeouts from 1 s.
   */
  tickTime?: number;
  /** Data directory, kept on `close()`. Default: a fresh temporary directory removed on `close()`. */
  dataDir?: string;
  /** Extra zoo.cfg settings; they override the defaults (except clientPort, clientPortAddress and dataDir). */
  config?: Record<string, string>;
  /** Extra JVM options, e.g. `['-Xmx256m']`; they come after (and so override) the kit's `-D` options. */
  javaOptions?: string[];
  /** How long `start()` and `restart()` wait for the server to serve, in ms. Default 30000. */
  startTimeout?: number;
  /** Receives the kit's own progress messages. Default: none (the server's log goes to `logFile`). */
  logger?: Logger;
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 40;
/** Settings the kit owns: changing them would make `port`/`dataDir` lie. */
const RESERVED_KEYS = ['clientPort', 'clientPortAddress', 'dataDir'];
/** Attempts when a free port we picked was taken before the JVM could bind it. */
const PORT_ATTEMPTS = 3;

const SYSTEM_PROPERTIES = [
  '-Dzookeeper.4lw.commands.whitelist=*',
  '-Dzookeeper.extendedTypesEnabled=true', // TTL nodes
  '-Dzookeeper.admin.enableServer=false', // no HTTP admin server on port 8080
  '-Dzookeeper.jmx.log4j.disable=true',
];

interface Settings {
  tickTime: number;
  config: Record<string, string>;
  javaOptions: string[];
  startTimeout: number;
  classpath: string;
  logger: Logger | undefined;
}

/** Raised when the JVM could not bind the client port. */
class PortInUseError extends Error {}

/**
 * A standalone ZooKeeper server (Debian's `zookeeper` package, run with `java`) for tests.
 *
 * `start()` returns once the server really serves (it answers `ruok` and accepts a session), and
 * the JVM never outlives this process, even if this process is killed.
 *
 * @example
 * ```ts
 * await using server = await ZooKeeperServer.start();
 * const client = new Client(server.connectString);
 * // ...
 * await server.restart();                  // same port, same data
 * await server.expireSession({ sessionId, sessionPassword });
 * ```
 */
export class ZooKeeperServer implements AsyncDisposable {
  readonly host = HOST;
  private process: SupervisedProcess | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private currentPort: number,
    /** The data directory (snapshots, transaction logs, zoo.cfg and zookeeper.log). */
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly settings: Settings,
  ) {}

  /** Start a server and wait until it serves. */
  static async start(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    const classpath = resolveClasspath(); // first, so a missing install leaves no temp dir behind
    const config = options.config ?? {};
    for (const key of RESERVED_KEYS) {
      if (key in config) throw new TypeError(`config.${key} is managed by ZooKeeperServer (see the port and dataDir options; the host is always ${HOST})`);
    }
    for (const [key, value] of Object.entries(config)) {
      if (/[\r\n]/.test(key + value)) throw new TypeError(`config.${key}: line breaks are not allowed`);
    }

    let dataDir: string;
    if (options.dataDir === undefined) {
      dataDir = await mkdtemp(join(tmpdir(), 'zk-test-'));
    } else {
      dataDir = resolve(options.dataDir);
      await mkdir(dataDir, { recursive: true });
    }
    const server = new ZooKeeperServer(options.port ?? (await findFreePort()), dataDir, options.dataDir === undefined, {
      tickTime: options.tickTime ?? 500,
      config,
      javaOptions: options.javaOptions ?? [],
      startTimeout: options.startTimeout ?? 30_000,
      classpath,
      logger: options.logger,
    });
    // On failure the data directory is kept: the error message points at its log.
    await server.launch(options.port === undefined);
    return server;
  }

  get port(): number {
    return this.currentPort;
  }

  /** `127.0.0.1:<port>`, for a client's connect string. */
  get connectString(): string {
    return `${HOST}:${this.currentPort}`;
  }

  /** The server's output (stdout and stderr of every run, appended). */
  get logFile(): string {
    return join(this.dataDir, 'zookeeper.log');
  }

  /** The JVM's pid while it runs. */
  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** Stop the server (SIGTERM, SIGKILL after 5 s) and wait until the JVM has exited. Data is kept. */
  async stop(): Promise<void> {
    const proc = this.process;
    if (!proc) return;
    this.settings.logger?.debug(`stopping ZooKeeper on ${this.connectString} (pid ${proc.pid})`);
    const status = await proc.terminate(STOP_GRACE_MS);
    if (this.process === proc) this.process = undefined;
    this.settings.logger?.debug(`ZooKeeper on ${this.connectString} stopped (${describeExit(status)})`);
  }

  /** Stop the server if it runs, then start it again on the same port with the same data. */
  async restart(): Promise<void> {
    if (this.closing) throw new Error('ZooKeeperServer is closed');
    await this.stop();
    await this.launch(false);
  }

  /** Stop the server and remove its data directory if `start()` created it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.stop();
      if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** SIGKILL the JVM now (a crash, for fault tests). `restart()` brings it back. */
  kill(): void {
    this.process?.kill();
  }

  /** Send a four-letter word (e.g. `'srvr'`, `'mntr'`); all of them are whitelisted. */
  fourLetterWord(command: string): Promise<string> {
    return fourLetterWord(HOST, this.currentPort, command);
  }

  /** Expire a client's session for real (see `expireSession`). */
  expireSession(session: SessionCredentials): Promise<void> {
    return expireSession(this.connectString, session);
  }

  private async launch(mayChangePort: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launchOnce();
        return;
      } catch (error) {
        if (!(error instanceof PortInUseError) || !mayChangePort || attempt === PORT_ATTEMPTS) throw error;
        this.settings.logger?.debug(`port ${this.currentPort} was taken; retrying on another port`);
        this.currentPort = await findFreePort();
      }
    }
  }

  private async launchOnce(): Promise<void> {
    const configFile = join(this.dataDir, 'zoo.cfg');
    await writeFile(configFile, this.renderConfig());
    const logOffset = fileSize(this.logFile);
    await appendFile(this.logFile, `===== ${new Date().toISOString()} starting ZooKeeper on ${this.connectString} =====\n`);

    const args = ['-cp', this.settings.classpath, ...SYSTEM_PROPERTIES, ...this.settings.javaOptions, 'org.apache.zookeeper.server.ZooKeeperServerMain', configFile];
    const output = openSync(this.logFile, 'a');
    let proc: SupervisedProcess;
    try {
      proc = await SupervisedProcess.spawn('java', args, { cwd: this.dataDir, output });
    } finally {
      closeSync(output); // the child has its own copy
    }
    this.process = proc;
    this.settings.logger?.debug(`ZooKeeper JVM pid ${proc.pid} starting on ${this.connectString}`);

    try {
      await this.waitUntilServing(proc);
    } catch (error) {
      await proc.terminate(STOP_GRACE_MS);
      if (this.process === proc) this.process = undefined;
      const tail = await readLogTail(this.logFile, logOffset);
      const reason = error instanceof Error ? error.message : String(error);
      const message = `${reason}\n--- last lines of ${this.logFile} (kept with the data directory) ---\n${tail}`;
      throw /Address already in use/.test(tail) ? new PortInUseError(message) : new Error(message);
    }
    this.settings.logger?.info(`ZooKeeper serving on ${this.connectString} (pid ${proc.pid}, data ${this.dataDir})`);
  }

  private renderConfig(): string {
    const { tickTime, config } = this.settings;
    const entries: Record<string, string> = {
      tickTime: String(tickTime),
      minSessionTimeout: String(2 * tickTime),
      maxSessionTimeout: '60000',
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      ...config,
      clientPortAddress: HOST,
      clientPort: String(this.currentPort),
      dataDir: this.dataDir,
    };
    return Object.entries(entries).map(([key, value]) => `${key}=${value}\n`).join('');
  }

  /**
   * Poll until the server really serves. A listening port proves little (a JVM missing a class
   * still binds it, spec/tls.md §1), so require `imok`, our own data directory in `conf` (not
   * another server that took the port), and a session handshake.
   */
  private async waitUntilServing(proc: SupervisedProcess): Promise<void> {
    const { startTimeout } = this.settings;
    const deadline = Date.now() + startTimeout;
    let lastProblem = 'no answer yet';
    for (;;) {
      if (!proc.running) throw new Error(`ZooKeeper exited during startup (${describeExit(await proc.exited)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`ZooKeeper did not serve on ${this.connectString} within ${startTimeout} ms (last problem: ${lastProblem})`);
      try {
        await this.probe(Math.min(left, 2_000));
        if (proc.running) return;
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
      }
      await Promise.race([delay(50), proc.exited]);
    }
  }

  private async probe(timeoutMs: number): Promise<void> {
    const ruok = await fourLetterWord(HOST, this.currentPort, 'ruok', timeoutMs);
    if (ruok.trim() !== 'imok') throw new Error(`ruok answered ${JSON.stringify(ruok)}`);
    const conf = await fourLetterWord(HOST, this.currentPort, 'conf', timeoutMs);
    // Standalone `conf` lists the snapshot directory, <dataDir>/version-2.
    if (!conf.split('\n').includes(`dataDir=${join(this.dataDir, 'version-2')}`)) throw new Error(`another ZooKeeper answers on port ${this.currentPort}`);
    const { connection, response } = await openRawSession(HOST, this.currentPort, {}, timeoutMs);
    if (response.timeout <= 0) {
      connection.close();
      throw new Error('the server refused a new session');
    }
    await closeRawSession(connection, timeoutMs);
  }
}

/** A port nothing listens on right now (another process could still take it: see PORT_ATTEMPTS). */
async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
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

function describeExit(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}
