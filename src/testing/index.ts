/**
 * Test tooling (`zookeeper-coordination/testing`): real ZooKeeper servers and ensembles per test,
 * TLS and SASL test servers, a fault-injecting proxy, session expiry and four-letter words.
 * Needs Java and Debian's `zookeeper` package (and `openssl` for TLS).
 */
export { ZooKeeperServer, type ZooKeeperServerOptions } from './zookeeper-server.js';
export {
  ZooKeeperCluster,
  type ZooKeeperClusterOptions,
  type ClusterMember,
  type MemberMode,
  type RestartWaitFor,
} from './zookeeper-cluster.js';
export {
  FaultProxy,
  type ProxyTarget,
  type FaultProxyOptions,
  type ProxyDirection,
  type AfterSwallow,
} from './fault-proxy.js';
export { FrameFault, type FrameMatch, type FaultedFrame } from './frame-fault.js';
export type { OpName, RequestInfo, ReplyInfo } from './frame-tap.js';
export { createTestCertificates, type TestCertificates, type CertificateFiles } from './certificates.js';
export type { TlsServerOptions, ServerTlsInfo, ClientAuth } from './server-tls.js';
export type { SaslServerOptions } from './sasl.js';
export { ZooKeeperNotInstalledError, INSTALL_COMMAND } from './installation.js';
export { fourLetterWord } from './four-letter-word.js';
export { expireSession, type SessionCredentials } from './expire-session.js';
export {
  openRawSession,
  NoConnectResponseError,
  closeRawSession,
  RawConnection,
  type RawSession,
  type RawSessionRequest,
  type RawConnectOptions,
} from './raw-session.js';
export { timing } from './timing.js';
