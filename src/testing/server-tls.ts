/**
 * The zoo.cfg side of a TLS test server, as ZooKeeper's Administrator's Guide describes it: a `secureClientPort`
 * served by the Netty connection factory (the default NIO factory cannot do TLS and exits with
 * "SSL isn't supported in NIOServerCnxn"), with PEM key and trust stores (no passwords).
 * Netty also needs `netty-codec.jar` on the classpath, which `resolveClasspath()` adds: without it
 * the server binds its ports but drops every connection.
 */
import type { TestCertificates } from './certificates.js';

/** Whether a TLS test server requires (`need`), asks for (`want`) or ignores client certificates. */
export type ClientAuth = 'need' | 'want' | 'none';

/** TLS of a test server: where its certificates are, and whether it requires client certificates. */
export interface TlsServerOptions {
  /**
   * Where the CA, server and client certificates go (reused if already there, so servers can
   * share a CA). Default: `<dataDir>/tls`.
   */
  certDir?: string;
  /** `ssl.clientAuth`: whether clients must (`need`), may (`want`) or need not (`none`) show a certificate. Default `none`. */
  clientAuth?: ClientAuth;
}

/**
 * What a test needs to talk TLS to the server, e.g.
 * `tls.connect({ host: '127.0.0.1', port: tls.port, ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName })`.
 */
export interface ServerTlsInfo {
  /** The secure client port on 127.0.0.1. */
  port: number;
  /** `127.0.0.1:<secure port>`. */
  connectString: string;
  /** The CA certificate (PEM) that issued the server and client certificates. */
  ca: Buffer;
  /** A client certificate (PEM) the server trusts. */
  cert: Buffer;
  /** Its private key (PEM). */
  key: Buffer;
  /** The DNS name in the server certificate (`localhost`); its IP SAN is 127.0.0.1. */
  serverName: string;
  clientAuth: ClientAuth;
}

export const NETTY_FACTORY = 'org.apache.zookeeper.server.NettyServerCnxnFactory';

/** zoo.cfg settings for TLS; the secure port itself is the launcher's business. */
export function tlsConfig(certificates: TestCertificates, clientAuth: ClientAuth): Record<string, string> {
  return {
    serverCnxnFactory: NETTY_FACTORY,
    'ssl.keyStore.location': certificates.files.serverKeyStore,
    'ssl.keyStore.type': 'PEM',
    'ssl.trustStore.location': certificates.files.caCert,
    'ssl.trustStore.type': 'PEM',
    'ssl.clientAuth': clientAuth,
  };
}
