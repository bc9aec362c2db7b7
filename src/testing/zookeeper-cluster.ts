/**
 * A real ZooKeeper ensemble for tests, modelled on Curator's `TestingCluster`: one
 * `QuorumPeerMain` JVM per member on loopback, each with its own ports and data directory.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'winston';
import { fourLetterWord } from './four-letter-word.js';
import { findFreePorts } from './free-port.js';
import { resolveClasspath } from './installation.js';
import { pollUntil } from './poll.js';
import { closeRawSession, openRawSession } from './raw-session.js';
import type { SupervisedProcess } from './supervised-process.js';
import { timing } from './timing.js';
import { checkUserConfig, renderConfig } from './zoo-config.js';
import {
  describeExit,
  launchZooKeeperJvm,
  PortInUseError,
  QUORUM_PEER_MAIN,
  STOP_GRACE_MS,
} from './zookeeper-jvm.js';

/** Options of `ZooKeeperCluster.start`: number of members, tick time and the other server settings. */
export interface ZooKeeperClusterOptions {
  /** Number of members. Default 3. */
  size?: number;
  /** tickTime in ms. Default 500. Session timeouts of 1–10 s are accepted whatever the tickTime. */
  tickTime?: number;
  /**
   * Let a member that lost the quorum serve read-only sessions (ZooKeeper's readonlymode.enabled): sets
   * `-Dreadonlymode.enabled=true` and, since 3.6 needs it for read-only sessions,
   * `localSessionsEnabled=true` with `localSessionsUpgradingEnabled=true`. Note that new sessions
   * are then local to one member until they create an ephemeral node. Default false.
   */
  readOnlyMode?: boolean;
  /** Extra zoo.cfg settings for every member; they override the defaults (except ports, dataDir and `server.N`). */
  config?: Record<string, string>;
  /** Extra JVM options for every member, after (and so overriding) the kit's. */
  javaOptions?: string[];
  /** How long `start()`, `restart()`, `leader()` and `waitForQuorum()` wait, in ms. Default `timing(60000)`. */
  startTimeout?: number;
  /** Receives the kit's progress messages. Default: none (each member logs to its `logFile`). */
  logger?: Logger;
}

/** What `srvr` says about a member, plus `down` (no JVM or no answer) and `not-serving` (JVM up, e.g. looking for a quorum). */
export type MemberMode =
  'leader' | 'follower' | 'observer' | 'read-only' | 'standalone' | 'not-serving' | 'down';

/**
 * What `restart()` waits for: `quorum` (the member is leader or follower), `serving` (it serves
 * sessions, read-only counts) or `started` (its JVM answers four-letter words).
 */
export type RestartWaitFor = 'quorum' | 'serving' | 'started';

/** One server of a `ZooKeeperCluster`: its id and its client, quorum and election ports. */
export interface ClusterMember {
  /** The `myid`, 1-based. */
  readonly id: number;
  /** Client port on 127.0.0.1. */
  readonly port: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  /** `127.0.0.1:<port>`. */
  readonly connectString: string;
  readonly running: boolean;
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined;
  readonly dataDir: string;
  /** The member's output, appended over every run. */
  readonly logFile: string;
}

const HOST = '127.0.0.1';
const RESERVED_KEYS = [
  'clientPort',
  'clientPortAddress',
  'dataDir',
  'dataLogDir',
  'secureClientPort',
  'secureClientPortAddress',
  /^server\.\d+$/,
];
const PORT_ATTEMPTS = 3;
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
/** The largest session timeout the ensemble accepts; the smallest is 1 s. */
const MAX_SESSION_TIMEOUT = 10_000;

interface Settings {
  size: number;
  tickTime: number;
  readOnlyMode: boolean;
  config: Record<string, string>;
  javaOptions: string[];
  startTimeout: number;
  classpath: string;
  logger: Logger | undefined;
}

class Member implements ClusterMember {
  process: SupervisedProcess | undefined;

  constructor(
    readonly id: number,
    readonly port: number,
    readonly quorumPort: number,
    readonly electionPort: number,
    readonly dataDir: string,
  ) {}

  get connectString(): string {
    return `${HOST}:${this.port}`;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  get logFile(): string {
    return join(this.dataDir, 'zookeeper.log');
  }

  get configFile(): string {
    return join(this.dataDir, 'zoo.cfg');
  }
}

/**
 * A ZooKeeper ensemble of real `QuorumPeerMain` processes on 127.0.0.1.
 *
 * `start()` returns once every member serves and exactly one of them is leader. Members can be
 * crashed, stopped and restarted with their data; no JVM outlives this process.
 *
 * @example
 * ```ts
 * await using cluster = await ZooKeeperCluster.start({ size: 3, readOnlyMode: true });
 * const client = new Client(cluster.connectString);
 * const leader = await cluster.leader();
 * cluster.kill(leader);                        // crash it
 * const next = await cluster.leader();         // a new leader among the others
 * await cluster.restart(leader);               // rejoins as a follower
 * cluster.pause(next);                         // freeze it (SIGSTOP) past syncLimit...
 * cluster.resume(next);                        // ...and let it run again (SIGCONT)
 * ```
 */
export class ZooKeeperCluster implements AsyncDisposable {
  private closing: Promise<void> | undefined;

  private constructor(
    /** The directory holding every member's data directory. */
    readonly rootDir: string,
    private readonly memberList: readonly Member[],
    private readonly settings: Settings,
  ) {}

  /** Start an ensemble and wait until every member serves and there is exactly one leader. */
  static async start(options: ZooKeeperClusterOptions = {}): Promise<ZooKeeperCluster> {
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1)
      throw new TypeError(`size must be a positive integer, got ${size}`);
    const classpath = resolveClasspath();
    const userConfig = options.config ?? {};
    checkUserConfig(userConfig, RESERVED_KEYS, `ZooKeeperCluster (the host is always ${HOST})`);
    const readOnlyMode = options.readOnlyMode ?? false;
    const settings: Settings = {
      size,
      tickTime: options.tickTime ?? 500,
      readOnlyMode,
      config: {
        ...(readOnlyMode ? { localSessionsEnabled: 'true', localSessionsUpgradingEnabled: 'true' } : {}),
        ...userConfig,
      },
      // readonlymode.enabled is read as a plain system property: as a zoo.cfg key it would become
      // `zookeeper.readonlymode.enabled`, which nothing reads.
      javaOptions: [...(readOnlyMode ? ['-Dreadonlymode.enabled=true'] : []), ...(options.javaOptions ?? [])],
      startTimeout: options.startTimeout ?? timing(60_000),
      classpath,
      logger: options.logger,
    };

    for (let attempt = 1; ; attempt++) {
      const cluster = await ZooKeeperCluster.create(settings);
      try {
        await cluster.launchAll();
        return cluster;
      } catch (error) {
        await cluster.killAll();
        // A port we picked was taken meanwhile: every member's config names every port, so start over.
        if (error instanceof PortInUseError && attempt < PORT_ATTEMPTS) {
          settings.logger?.debug('a port of the ensemble was taken; retrying with other ports');
          await rm(cluster.rootDir, { recursive: true, force: true });
          continue;
        }
        throw error; // the directories are kept: the message points at a member's log
      }
    }
  }

  /** The members, by ascending id (`members[i].id === i + 1`). */
  get members(): readonly ClusterMember[] {
    return this.memberList;
  }

  /** Every member's `127.0.0.1:<port>`, comma-separated, for a client. */
  get connectString(): string {
    return this.memberList.map((member) => member.connectString).join(',');
  }

  /** One member's `127.0.0.1:<port>`. */
  connectStringOf(id: number): string {
    return this.member(id).connectString;
  }

  /** Send a four-letter word to one member. */
  fourLetterWord(id: number, command: string, timeoutMs = timing(5_000)): Promise<string> {
    return fourLetterWord(HOST, this.member(id).port, command, timeoutMs);
  }

  /** What the member is now, from one `srvr` (no waiting for a state). */
  async mode(id: number): Promise<MemberMode> {
    const member = this.member(id);
    const proc = member.process;
    if (!proc?.running) return 'down';
    try {
      return parseMode(await this.fourLetterWord(id, 'srvr'));
    } catch (error) {
      if (!CONNECTION_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      // A refused or reset connection: a JVM that was just killed (its exit not yet seen), or one
      // still starting. Give a dying JVM a moment to be reaped before calling it alive.
      await Promise.race([proc.exited, delay(200)]);
      return proc.running ? 'not-serving' : 'down';
    }
  }

  /** The id of the current leader, waiting (up to `startTimeout`) until exactly one member says it leads. */
  leader(): Promise<number> {
    return pollUntil(
      async () => {
        const leaders = await this.membersIn('leader');
        if (leaders.length !== 1) throw new Error(`${leaders.length} members say they lead`);
        return leaders[0]!;
      },
      { timeoutMs: this.settings.startTimeout, what: 'a leader', intervalMs: 100 },
    );
  }

  /**
   * Wait until every running member is leader or follower, with exactly one leader, and return the
   * leader's id. Fails at once if too few members run to form a quorum.
   */
  async waitForQuorum(): Promise<number> {
    return pollUntil(
      async () => {
        const running = this.memberList.filter((member) => member.running);
        const modes = await Promise.all(
          running.map(async (member) => [member.id, await this.mode(member.id)] as const),
        );
        const notInQuorum = modes.filter(([, mode]) => mode !== 'leader' && mode !== 'follower');
        if (notInQuorum.length > 0)
          throw new Error(
            `not in the quorum: ${notInQuorum.map(([id, mode]) => `${id} (${mode})`).join(', ')}`,
          );
        const leaders = modes.filter(([, mode]) => mode === 'leader');
        if (leaders.length !== 1) throw new Error(`${leaders.length} leaders`);
        return leaders[0]![0];
      },
      {
        timeoutMs: this.settings.startTimeout,
        what: 'the ensemble to form a quorum',
        intervalMs: 100,
        // Without a majority of running members there is nothing to wait for.
        abort: async () => {
          const running = this.memberList.filter((member) => member.running).length;
          return this.isMajority(running)
            ? undefined
            : new Error(`no quorum possible: ${running} of ${this.settings.size} members run`);
        },
      },
    );
  }

  /** SIGKILL a member now (a crash). `restart(id)` brings it back. */
  kill(id: number): void {
    this.member(id).process?.kill();
  }

  /**
   * Freeze a member (SIGSTOP): its JVM keeps its sockets open but answers nothing, like a long GC
   * pause. Frozen past `syncLimit` ticks, a leader is abandoned by its followers, which elect
   * another. `resume(id)` lets it run again; `kill`, `stop` and `restart` work on a frozen member.
   */
  pause(id: number): void {
    this.member(id).process?.freeze(true);
  }

  /** Let a member frozen by `pause(id)` run again (SIGCONT). */
  resume(id: number): void {
    this.member(id).process?.freeze(false);
  }

  /** Stop a member (SIGTERM, SIGKILL after 5 s) and wait until its JVM has exited. Its data is kept. */
  async stop(id: number): Promise<void> {
    const member = this.member(id);
    const proc = member.process;
    if (!proc) return;
    const status = await proc.terminate(STOP_GRACE_MS);
    if (member.process === proc) member.process = undefined;
    this.settings.logger?.debug(`member ${id} stopped (${describeExit(status)})`);
  }

  /**
   * Stop the member if it runs, start it again with the same ports and data, and wait. By
   * default it waits for what can happen: `quorum` if the running members (this one included)
   * form a majority, else `serving` (read-only) with `readOnlyMode`, else `started`.
   */
  async restart(id: number, options: { waitFor?: RestartWaitFor } = {}): Promise<void> {
    if (this.closing) throw new Error('ZooKeeperCluster is closed');
    const member = this.member(id);
    await this.stop(id);
    const othersRunning = this.memberList.filter((other) => other !== member && other.running).length;
    const waitFor =
      options.waitFor ??
      (this.isMajority(othersRunning + 1) ? 'quorum' : this.settings.readOnlyMode ? 'serving' : 'started');
    await this.launch(member, waitFor);
  }

  /** Kill every member and remove the data directories. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.killAll();
      await rm(this.rootDir, { recursive: true, force: true });
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private static async create(settings: Settings): Promise<ZooKeeperCluster> {
    const rootDir = await mkdtemp(join(tmpdir(), 'zk-cluster-'));
    const ports = await findFreePorts(3 * settings.size);
    const members: Member[] = [];
    for (let i = 0; i < settings.size; i++) {
      const id = i + 1;
      const member = new Member(
        id,
        ports[3 * i]!,
        ports[3 * i + 1]!,
        ports[3 * i + 2]!,
        join(rootDir, `member-${id}`),
      );
      await mkdir(member.dataDir);
      await writeFile(join(member.dataDir, 'myid'), `${id}\n`);
      members.push(member);
    }
    const cluster = new ZooKeeperCluster(rootDir, members, settings);
    await Promise.all(members.map((member) => writeFile(member.configFile, cluster.renderConfig(member))));
    return cluster;
  }

  private member(id: number): Member {
    const member = this.memberList[id - 1];
    if (!member || member.id !== id)
      throw new RangeError(`no member ${id} (ids are 1..${this.memberList.length})`);
    return member;
  }

  private isMajority(count: number): boolean {
    return count > this.settings.size / 2;
  }

  private async membersIn(mode: MemberMode): Promise<number[]> {
    const running = this.memberList.filter((member) => member.running);
    const modes = await Promise.all(
      running.map(async (member) =>
        (await this.mode(member.id).catch(() => 'down')) === mode ? member.id : 0,
      ),
    );
    return modes.filter((id) => id !== 0);
  }

  private async launchAll(): Promise<void> {
    // All at once: no member can reach `quorum` before a majority runs.
    const launches = this.memberList.map((member) => this.launch(member, 'quorum'));
    try {
      await Promise.all(launches);
    } catch (first) {
      // One member failed: the others cannot form the ensemble as configured, so stop waiting for them.
      await this.killAll();
      const results = await Promise.allSettled(launches);
      const failures = results.flatMap((result) =>
        result.status === 'rejected' ? [result.reason as unknown] : [],
      );
      // The first failure is the cause (the others were killed), unless a taken port calls for a retry.
      throw failures.find((failure) => failure instanceof PortInUseError) ?? first;
    }
    await this.waitForQuorum();
    this.settings.logger?.info(
      `ZooKeeper ensemble serving on ${this.connectString} (data in ${this.rootDir})`,
    );
  }

  private async launch(member: Member, waitFor: RestartWaitFor): Promise<void> {
    const proc = await launchZooKeeperJvm({
      mainClass: QUORUM_PEER_MAIN,
      configFile: member.configFile,
      classpath: this.settings.classpath,
      javaOptions: this.settings.javaOptions,
      cwd: member.dataDir,
      logFile: member.logFile,
      description: `ensemble member ${member.id} on ${member.connectString}`,
      startTimeout: this.settings.startTimeout,
      ready: (timeoutMs) => this.probe(member, waitFor, timeoutMs),
      onSpawn: (spawned) => (member.process = spawned),
      logger: this.settings.logger,
    }).catch((error: unknown) => {
      member.process = undefined;
      throw error;
    });
    member.process = proc;
  }

  private renderConfig(member: Member): string {
    const { tickTime, config } = this.settings;
    const servers = Object.fromEntries(
      this.memberList.map((m) => [`server.${m.id}`, `${HOST}:${m.quorumPort}:${m.electionPort}`]),
    );
    return renderConfig({
      tickTime: String(tickTime),
      // Small limits (in ticks) so that elections and follower failures resolve in seconds.
      initLimit: '10',
      syncLimit: '5',
      minSessionTimeout: '1000',
      maxSessionTimeout: String(MAX_SESSION_TIMEOUT),
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      // A one-member ensemble is then a real quorum (leader), not a standalone server.
      standaloneEnabled: 'false',
      ...config,
      clientPortAddress: HOST,
      clientPort: String(member.port),
      dataDir: member.dataDir,
      ...servers,
    });
  }

  /**
   * One readiness check for `waitFor`. `conf` must name this member's data directory, so that
   * another server that took the port does not pass, and serving means accepting a session.
   */
  private async probe(member: Member, waitFor: RestartWaitFor, timeoutMs: number): Promise<void> {
    const ruok = await fourLetterWord(HOST, member.port, 'ruok', timeoutMs);
    if (ruok.trim() !== 'imok') throw new Error(`ruok answered ${JSON.stringify(ruok)}`);
    if (waitFor === 'started') return;
    const conf = await fourLetterWord(HOST, member.port, 'conf', timeoutMs);
    if (!conf.split('\n').includes(`dataDir=${join(member.dataDir, 'version-2')}`)) {
      throw new Error(
        `member ${member.id} does not serve yet, or another ZooKeeper answers on port ${member.port}`,
      );
    }
    const mode = parseMode(await fourLetterWord(HOST, member.port, 'srvr', timeoutMs));
    const wanted: readonly MemberMode[] =
      waitFor === 'quorum' ? ['leader', 'follower'] : ['leader', 'follower', 'read-only'];
    if (!wanted.includes(mode)) throw new Error(`member ${member.id} is ${mode}`);
    // readOnly=true is accepted by read-write and read-only members alike.
    const { connection, response } = await openRawSession(HOST, member.port, { readOnly: true }, timeoutMs);
    if (response.timeout <= 0) {
      connection.close();
      throw new Error(`member ${member.id} refused a new session`);
    }
    await closeRawSession(connection, timeoutMs);
  }

  private async killAll(): Promise<void> {
    await Promise.all(
      this.memberList.map(async (member) => {
        const proc = member.process;
        if (!proc) return;
        await proc.killAndWait();
        if (member.process === proc) member.process = undefined;
      }),
    );
  }
}

/** The mode in a `srvr` answer. */
function parseMode(srvr: string): MemberMode {
  // A member changing role closes every connection, status queries included, without answering.
  if (srvr.trim() === '' || /not currently serving requests/.test(srvr)) return 'not-serving';
  const mode = /^Mode: (\S+)/m.exec(srvr)?.[1];
  switch (mode) {
    case 'leader':
    case 'follower':
    case 'observer':
    case 'read-only':
    case 'standalone':
      return mode;
    default:
      throw new Error(`unexpected srvr answer: ${JSON.stringify(srvr.slice(0, 200))}`);
  }
}
