/**
 * Finding Java and the ZooKeeper jars before starting a server, so that a machine without them
 * gets one clear error naming the install command instead of a JVM stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's `zookeeper` package depends on `default-jre`, so this one command installs both. */
export const INSTALL_COMMAND = 'sudo apt-get update && sudo apt-get install -y zookeeper';

/** Where Debian's `zookeeper` package puts the server jar. */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/**
 * zookeeper.jar's manifest Class-Path pulls in most dependencies but not netty-codec (needed by
 * the Netty connection factory); slf4j-simple makes the server log readable.
 */
const DEFAULT_CLASSPATH = [
  ZOOKEEPER_JAR,
  '/usr/share/java/netty-codec.jar',
  '/usr/share/java/slf4j-simple.jar',
];

/** Java or the ZooKeeper jars are missing; the message names the command that installs them. */
export class ZooKeeperNotInstalledError extends Error {
  constructor(problems: readonly string[]) {
    super(
      `Cannot start a ZooKeeper test server: ${problems.join('; ')}. Install Java and ZooKeeper with: ${INSTALL_COMMAND}`,
    );
    this.name = 'ZooKeeperNotInstalledError';
  }
}

/** The PATH on which `java -version` last succeeded (the check costs a JVM start). */
let javaFoundOnPath: string | undefined;

/**
 * The classpath to run the server with: `$ZOOKEEPER_CLASSPATH` if set (every entry must exist),
 * else the Debian jars that are present. Throws `ZooKeeperNotInstalledError` if anything is missing.
 */
export function resolveClasspath(env: NodeJS.ProcessEnv = process.env): string {
  const problems: string[] = [];
  let classpath: string;
  const fromEnv = env['ZOOKEEPER_CLASSPATH'];
  if (fromEnv) {
    const missing = fromEnv
      .split(':')
      .filter((entry) => entry !== '' && !existsSync(entry.replace(/\/\*$/, '')));
    if (missing.length > 0)
      problems.push(`ZOOKEEPER_CLASSPATH names files that do not exist: ${missing.join(', ')}`);
    classpath = fromEnv;
  } else {
    if (!existsSync(ZOOKEEPER_JAR)) problems.push(`ZooKeeper is not installed (${ZOOKEEPER_JAR} is missing)`);
    classpath = DEFAULT_CLASSPATH.filter((jar) => existsSync(jar)).join(':');
  }
  const javaProblem = checkJava(env['PATH'] ?? '');
  if (javaProblem) problems.push(javaProblem);
  if (problems.length > 0) throw new ZooKeeperNotInstalledError(problems);
  return classpath;
}

/** A description of what is wrong with `java` on PATH, or undefined if it runs. */
function checkJava(path: string): string | undefined {
  if (javaFoundOnPath === path) return undefined;
  const result = spawnSync('java', ['-version'], {
    stdio: 'ignore',
    timeout: 30_000,
    env: { ...process.env, PATH: path },
  });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : `exit code ${result.status}`;
    return `Java is not installed (\`java -version\` failed: ${why})`;
  }
  javaFoundOnPath = path;
  return undefined;
}
