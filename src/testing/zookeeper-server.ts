/**
 * A real, standalone ZooKeeper server for tests, modelled on Curator's `TestingServer`: each
 * instance runs its own JVM on a loopback port with its own data directory.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'winston';
import { createTestCertificates, type TestCertificates } from './certificates.js';
import { expireSession, type SessionCredentials } from './expire-session.js';
import { fourLetterWord } from './four-letter-word.js';
import { findFreePort } from './free-port.js';
import { resolveClasspath } from './installation.js';
import { closeRawSession, openRawSession, type RawConnectOptions } from './raw-session.js';
import { setUpSaslServer, type SaslServerOptions } from './sasl.js';
import { tlsConfig, type ClientAuth, type ServerTlsInfo, type TlsServerOptions } from './server-tls.js';
import type { SupervisedProcess } from './supervised-process.js';
import { timing } from './timing.js';
import { checkUserConfig, renderConfig } from './zoo-config.js';
import {
  describeExit,
  launchZooKeeperJvm,
  PortInUseError,
  STANDALONE_MAIN,
  STOP_GRACE_MS,
} from './zookeeper-jvm.js';

/** Options of `ZooKeeperServer.start`: port, data directory, extra zoo.cfg entries, TLS, SASL. */
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
  /** Extra zoo.cfg settings; they override the defaults (except the ports, their addresses and dataDir). */
  config?: Record<string, string>;
  /** Extra JVM options, e.g. `['-Xmx256m']`; they come after (and so override) the kit's `-D` options. */
  javaOptions?: string[];
  /** How long `start()` and `restart()` wait for the server to serve, in ms. Default `timing(30000)`. */
  startTimeout?: number;
  /** Receives the kit's own progress messages. Default: none (the server's log goes to `logFile`). */
  logger?: Logger;
  /**
   * Also serve TLS on a second, free port (see `tls`): the kit makes a CA, a server and a client
   * certificate with `openssl`. The plain `port` keeps working.
   */
  tls?: TlsServerOptions;
  /** Accept SASL DIGEST-MD5 logins of these users (recipe in sasl.ts); plain clients still connect. */
  sasl?: SaslServerOptions;
}

const HOST = '127.0.0.1';
/** Settings the kit owns: changing them would make `port`/`tls.port`/`dataDir` lie. */
const RESERVED_KEYS = [
  'clientPort',
  'clientPortAddress',
  'dataDir',
  'secureClientPort',
  'secureClientPortAddress',
];
/** Attempts when a free port we picked was taken before the JVM could bind it. */
const PORT_ATTEMPTS = 3;

interface Settings {
  tickTime: number;
  /** The kit's extra settings (TLS, SASL) and then the user's. */
  config: Record<string, string>;
  javaOptions: string[];
  startTimeout: number;
  classpath: string;
  logger: Logger | undefined;
  tls: { certificates: TestCertificates; clientAuth: ClientAuth } | undefined;
}

/**
 * A standalone ZooKeeper server (Debian's `zookeeper` package, run with `java`) for tests.
 *
 * `start()` returns once the server really serves (it answers `ruok` and accepts a session, on
 * the TLS port too if there is one), and the JVM never outlives this process, even if this
 * process is killed.
 *
 * @example
 * ```ts
 * await using server = await ZooKeeperServer.start();
 * const client = new Client(server.connectString);
 * // ...
 * await server.restart();                  // same port, same data
 * await server.expireSession({ sessionId, sessionPassword });
 *
 * await using secure = await ZooKeeperServer.start({ tls: { clientAuth: 'need' }, sasl: { users: { alice: 'secret' } } });
 * const { port, ca, cert, key, serverName } = secure.tls!;
 * const socket = tls.connect({ host: '127.0.0.1', port, ca, cert, key, servername: serverName });
 * ```
 */
export class ZooKeeperServer implements AsyncDisposable {
  readonly host = HOST;
  private process: SupervisedProcess | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private currentPort: number,
    private securePort: number | undefined,
    /** The data directory (snapshots, transaction logs, zoo.cfg and zookeeper.log). */
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly settings: Settings,
  ) {}

  /** Start a server and wait until it serves. */
  static async start(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    const classpath = resolveClasspath(); // first, so a missing install leaves no temp dir behind
    const userConfig = options.config ?? {};
    checkUserConfig(
      userConfig,
      RESERVED_KEYS,
      `ZooKeeperServer (see the port, dataDir and tls options; the host is always ${HOST})`,
    );

    let dataDir: string;
    if (options.dataDir === undefined) {
      dataDir = await mkdtemp(join(tmpdir(), 'zk-test-'));
    } else {
      dataDir = resolve(options.dataDir);
      await mkdir(dataDir, { recursive: true });
    }
    const config: Record<string, string> = {};
    const javaOptions: string[] = [];
    let tls: Settings['tls'];
    try {
      if (options.tls) {
        const certificates = await createTestCertificates(options.tls.certDir ?? join(dataDir, 'tls'));
        const clientAuth = options.tls.clientAuth ?? 'none';
        Object.assign(config, tlsConfig(certificates, clientAuth));
        tls = { certificates, clientAuth };
      }
      if (options.sasl) {
        const sasl = await setUpSaslServer(dataDir, options.sasl);
        Object.assign(config, sasl.config);
        javaOptions.push(...sasl.javaOptions);
      }
    } catch (error) {
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
    const server = new ZooKeeperServer(
      options.port ?? (await findFreePort()),
      tls ? await findFreePort() : undefined,
      dataDir,
      options.dataDir === undefined,
      {
        tickTime: options.tickTime ?? 500,
        config: { ...config, ...userConfig },
        javaOptions: [...javaOptions, ...(options.javaOptions ?? [])],
        startTimeout: options.startTimeout ?? timing(30_000),
        classpath,
        logger: options.logger,
        tls,
      },
    );
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

  /** The TLS port and the credentials to use it, if started with the `tls` option. */
  get tls(): ServerTlsInfo | undefined {
    const tls = this.settings.tls;
    if (!tls || this.securePort === undefined) return undefined;
    const { certificates } = tls;
    return {
      port: this.securePort,
      connectString: `${HOST}:${this.securePort}`,
      ca: certificates.ca,
      cert: certificates.clientCert,
      key: certificates.clientKey,
      serverName: certificates.serverName,
      clientAuth: tls.clientAuth,
    };
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

  /** Stop the server if it runs, then start it again on the same port(s) with the same data. */
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

  private async launch(mayChangePorts: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launchOnce();
        return;
      } catch (error) {
        if (!(error instanceof PortInUseError) || !mayChangePorts || attempt === PORT_ATTEMPTS) throw error;
        this.settings.logger?.debug(`a port of ${this.connectString} was taken; retrying on other ports`);
        this.currentPort = await findFreePort();
        if (this.securePort !== undefined) this.securePort = await findFreePort();
      }
    }
  }

  private async launchOnce(): Promise<void> {
    const configFile = join(this.dataDir, 'zoo.cfg');
    await writeFile(configFile, this.renderConfig());
    const tls = this.tls;
    const proc = await launchZooKeeperJvm({
      mainClass: STANDALONE_MAIN,
      configFile,
      classpath: this.settings.classpath,
      javaOptions: this.settings.javaOptions,
      cwd: this.dataDir,
      logFile: this.logFile,
      description: `ZooKeeper on ${this.connectString}${tls ? ` (TLS on ${tls.connectString})` : ''}`,
      startTimeout: this.settings.startTimeout,
      ready: (timeoutMs) => this.probe(timeoutMs),
      onSpawn: (spawned) => (this.process = spawned),
      logger: this.settings.logger,
    }).catch((error: unknown) => {
      this.process = undefined;
      throw error;
    });
    this.process = proc;
  }

  private renderConfig(): string {
    const { tickTime, config } = this.settings;
    const secure: Record<string, string> =
      this.securePort === undefined
        ? {}
        : { secureClientPortAddress: HOST, secureClientPort: String(this.securePort) };
    return renderConfig({
      tickTime: String(tickTime),
      minSessionTimeout: String(2 * tickTime),
      maxSessionTimeout: '60000',
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      ...config,
      clientPortAddress: HOST,
      clientPort: String(this.currentPort),
      ...secure,
      dataDir: this.dataDir,
    });
  }

  /**
   * One readiness check. A listening port proves little (a JVM missing a class still binds it,
   * ZooKeeper's Netty connection factory), so require `imok`, our own data directory in `conf` (not another server
   * that took the port), and a session handshake on every port (for TLS: with the kit's
   * certificates, since only a ConnectResponse proves acceptance).
   */
  private async probe(timeoutMs: number): Promise<void> {
    const ruok = await fourLetterWord(HOST, this.currentPort, 'ruok', timeoutMs);
    if (ruok.trim() !== 'imok') throw new Error(`ruok answered ${JSON.stringify(ruok)}`);
    const conf = await fourLetterWord(HOST, this.currentPort, 'conf', timeoutMs);
    // Standalone `conf` lists the snapshot directory, <dataDir>/version-2.
    if (!conf.split('\n').includes(`dataDir=${join(this.dataDir, 'version-2')}`))
      throw new Error(`another ZooKeeper answers on port ${this.currentPort}`);
    await handshake(this.currentPort, timeoutMs);
    const tls = this.tls;
    if (tls)
      await handshake(tls.port, timeoutMs, {
        tls: { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName },
      });
  }
}

/** Open and close a new session; throws unless the server accepts it. */
async function handshake(port: number, timeoutMs: number, options: RawConnectOptions = {}): Promise<void> {
  const { connection, response } = await openRawSession(HOST, port, {}, timeoutMs, options);
  if (response.timeout <= 0) {
    connection.close();
    throw new Error(`the server refused a new session on port ${port}`);
  }
  await closeRawSession(connection, timeoutMs);
}
