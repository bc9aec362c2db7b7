/**
 * Test tooling (`zookeeper-coordination/testing`): a real ZooKeeper server per test, session
 * expiry and four-letter words. Needs Java and Debian's `zookeeper` package.
 */
export { ZooKeeperServer, type ZooKeeperServerOptions } from './zookeeper-server.js';
export { ZooKeeperNotInstalledError, INSTALL_COMMAND } from './installation.js';
export { fourLetterWord } from './four-letter-word.js';
export { expireSession, type SessionCredentials } from './expire-session.js';
export { openRawSession, closeRawSession, RawConnection, type RawSession, type RawSessionRequest } from './raw-session.js';
