/**
 * The one driver of Apache Curator 5.4 (Debian's jars, installed by scripts/setup.sh; the default
 * JDK) for interop tests and the fleet benchmark: the classpath, compiling a Java program of ours
 * against it on first use (`compileCuratorProgram`; the scale suite's bench/fleet/clients.ts
 * compiles its CuratorFleet.java with it), and `CuratorPeer`, which drives test/interop/curator/CuratorPeer.java
 * (its `*Ops.java` classes list their requests) as a `PeerProcess`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchPeer, PeerProcess } from './peer.js';
import { repositoryFile } from './repository.js';

/** Curator 5.4, the ZooKeeper client it runs on, their dependencies, and Jackson (the peer's JSON). */
export const CURATOR_JARS = [
  'curator-framework',
  'curator-client',
  'curator-recipes',
  'curator-x-discovery',
  'zookeeper',
  'zookeeper-jute',
  'guava',
  'slf4j-api',
  'slf4j-nop',
  'metrics-core',
  'jackson-core',
  'jackson-databind',
  'jackson-annotations',
].map((name) => `/usr/share/java/${name}.jar`);

/** The `-cp` value to run a program compiled into `classes`. */
export function curatorClasspath(classes: string): string {
  return [classes, ...CURATOR_JARS].join(':');
}

/**
 * Compile `sources` (`.java` files, the first one the program's main class) into `classes` when
 * that class is missing or older than any source. Returns undefined when it is ready to run, else
 * why it cannot run.
 */
export function compileCuratorProgram(sources: readonly string[], classes: string): string | undefined {
  const missing = CURATOR_JARS.filter((jar) => !existsSync(jar));
  if (missing.length > 0) return `missing ${missing.join(', ')} (run scripts/setup.sh)`;
  const compiled = join(classes, basename(sources[0]!).replace(/\.java$/, '.class'));
  const built = existsSync(compiled) ? statSync(compiled).mtimeMs : -1;
  if (sources.every((source) => statSync(source).mtimeMs <= built)) return undefined;
  mkdirSync(classes, { recursive: true });
  const javac = spawnSync('javac', ['-cp', CURATOR_JARS.join(':'), '-d', classes, ...sources], {
    encoding: 'utf8',
  });
  if (javac.error) return `javac: ${javac.error.message}`;
  if (javac.status !== 0) return `javac failed: ${javac.stderr.trim().slice(-400)}`;
  return undefined;
}

const PEER_CLASSES = join(dirname(fileURLToPath(import.meta.url)), 'curator-classes');
let peerUnavailable: string | undefined | null = null;

/**
 * CuratorPeer.java first, then every `*Ops.java` it dispatches to, then the stand-ins of Java
 * classes a foreign peer's data names (`payloads/`, e.g. a framework's discovery payload class).
 */
function peerSources(): string[] {
  const folder = repositoryFile('test/interop/curator');
  const ops = readdirSync(folder).filter((file) => file.endsWith('Ops.java'));
  const payloads = readdirSync(join(folder, 'payloads'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.java'))
    .map((file) => join(folder, 'payloads', file));
  return [
    join(folder, 'CuratorPeer.java'),
    ...ops.sort().map((file) => join(folder, file)),
    ...payloads.sort(),
  ];
}

/** Why the Curator peer cannot run (missing jars, javac failed), or undefined when it can. */
export function curatorPeerUnavailable(): string | undefined {
  if (peerUnavailable === null) peerUnavailable = compileCuratorProgram(peerSources(), PEER_CLASSES);
  return peerUnavailable;
}

/** A Curator 5.4 process (one CuratorFramework client, so one session) on `hosts`. */
export class CuratorPeer extends PeerProcess {
  protected override readonly library = 'curator';

  /** Compile (first use), run and wait for its session; asked to exit (then killed) when the test ends. */
  static start(t: TestContext, hosts: string, name = 'peer'): Promise<CuratorPeer> {
    const why = curatorPeerUnavailable();
    if (why) throw new Error(`the Curator peer cannot run: ${why}`);
    return launchPeer(
      CuratorPeer,
      t,
      'java',
      ['-cp', curatorClasspath(PEER_CLASSES), 'CuratorPeer', hosts],
      name,
    );
  }
}
