/**
 * A throwaway PKI for TLS tests, made with the `openssl` command line exactly as verified in
 * ZooKeeper Administrator's Guide, "Quorum TLS"/client TLS: a CA, a server certificate for 127.0.0.1/localhost and a client certificate,
 * all PEM (ZooKeeper 3.8 reads PEM key and trust stores directly, so no keytool is needed).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The name the server certificate is issued to (its SAN also holds IP:127.0.0.1). */
export const SERVER_NAME = 'localhost';

/** Paths of the generated PEM files. */
export interface CertificateFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Server certificate followed by its unencrypted PKCS#8 key: ZooKeeper's `ssl.keyStore` (type PEM). */
  serverKeyStore: string;
  clientCert: string;
  clientKey: string;
}

/** A throw-away CA, server and client certificate set for TLS tests. */
export interface TestCertificates {
  dir: string;
  files: CertificateFiles;
  /** The CA certificate (PEM): a client's `ca`, the server's trust store. */
  ca: Buffer;
  /** The client certificate and key (PEM), signed by the CA. */
  clientCert: Buffer;
  clientKey: Buffer;
  /** What the server certificate is issued to: pass it as `servername` (or dial 127.0.0.1). */
  serverName: string;
}

const FILE_NAMES: CertificateFiles = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  serverKeyStore: 'server.pem',
  clientCert: 'client.crt',
  clientKey: 'client.key',
};

const DAYS = '3650';
const SERVER_EXTENSIONS =
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' +
  `subjectAltName=IP:127.0.0.1,DNS:${SERVER_NAME}\n`;
// ZooKeeper does not hostname-check client certificates, so the client needs no SAN.
const CLIENT_EXTENSIONS =
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/**
 * Create (or reuse, if `dir` already holds a complete set) a CA, a server and a client
 * certificate in `dir`. Several servers can share one `dir`, and so one CA.
 *
 * @example
 * ```ts
 * const certs = await createTestCertificates('/tmp/my-certs');
 * tls.connect({ host: '127.0.0.1', port, ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
 * ```
 */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  dir = resolve(dir);
  const files = Object.fromEntries(
    Object.entries(FILE_NAMES).map(([key, name]) => [key, join(dir, name)]),
  ) as unknown as CertificateFiles;
  if (!Object.values(files).every((path) => existsSync(path))) {
    await mkdir(dir, { recursive: true });
    await generate(dir, files);
  }
  const [ca, clientCert, clientKey] = await Promise.all([
    readFile(files.caCert),
    readFile(files.clientCert),
    readFile(files.clientKey),
  ]);
  return { dir, files, ca, clientCert, clientKey, serverName: SERVER_NAME };
}

async function generate(dir: string, files: CertificateFiles): Promise<void> {
  const openssl = async (...args: string[]): Promise<void> => {
    try {
      await run('openssl', args, { cwd: dir, timeout: 60_000 });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new Error('TLS test servers need the openssl command (sudo apt-get install -y openssl)');
      throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
    }
  };
  await writeFile(join(dir, 'server.ext'), SERVER_EXTENSIONS);
  await writeFile(join(dir, 'client.ext'), CLIENT_EXTENSIONS);

  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    files.caKey,
    '-out',
    files.caCert,
    '-days',
    DAYS,
    '-subj',
    '/CN=zookeeper-testing-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  // The two leaf keys are independent: make them in parallel (RSA key generation dominates).
  await Promise.all([
    issue('server', `/CN=${SERVER_NAME}`, files.serverKey, files.serverCert),
    issue('client', '/CN=zookeeper-testing-client', files.clientKey, files.clientCert),
  ]);
  // OpenSSL 3 writes `-nodes` keys as unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), which ZooKeeper's PEM reader accepts.
  const [cert, key] = await Promise.all([
    readFile(files.serverCert, 'utf8'),
    readFile(files.serverKey, 'utf8'),
  ]);
  await writeFile(files.serverKeyStore, cert + key);

  async function issue(name: string, subject: string, keyFile: string, certFile: string): Promise<void> {
    const csr = join(dir, `${name}.csr`);
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', subject);
    // A random serial per certificate (not -CAcreateserial: two parallel signings would race on ca.srl).
    await openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      files.caCert,
      '-CAkey',
      files.caKey,
      '-set_serial',
      randomSerial(),
      '-out',
      certFile,
      '-days',
      DAYS,
      '-extfile',
      join(dir, `${name}.ext`),
    );
  }
}

function randomSerial(): string {
  return `0x${randomBytes(8).toString('hex')}`;
}
