/**
 * The client side of SASL DIGEST-MD5 (RFC 2831), the mechanism ZooKeeper servers offer with
 * a JAAS `DigestLoginModule` (kazoo's `sasl_options={'mechanism': 'DIGEST-MD5', ...}`).
 *
 * Two steps: the server's challenge (realm, nonce, qop) is answered with a response digest;
 * the server's `rspauth` then proves it knew the password too.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestMd5Options {
  username: string;
  password: string;
  /** SASL service name; ZooKeeper servers use "zookeeper". */
  service?: string;
  /** Server name in the digest-uri; ZooKeeper servers use "zk-sasl-md5". */
  serverName?: string;
}

/** Parse `key=value,key="quoted, value"` directives. */
export function parseDirectives(text: string): Map<string, string> {
  const directives = new Map<string, string>();
  const pattern = /\s*([a-zA-Z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  for (let match = pattern.exec(text); match !== null && match[0] !== ''; match = pattern.exec(text)) {
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '').trim();
    directives.set(match[1]!.toLowerCase(), value);
  }
  return directives;
}

const md5 = (data: Buffer | string): Buffer => createHash('md5').update(data).digest();
const hex = (data: Buffer | string): string => md5(data).toString('hex');
const quote = (value: string): string => `"${value.replace(/(["\\])/g, '\\$1')}"`;

export class DigestMd5Client {
  private readonly digestUri: string;
  private expectedRspauth: string | undefined;
  private done = false;

  constructor(
    private readonly options: DigestMd5Options,
    private readonly makeCnonce: () => string = () => randomBytes(16).toString('hex'),
  ) {
    this.digestUri = `${options.service ?? 'zookeeper'}/${options.serverName ?? 'zk-sasl-md5'}`;
  }

  /** DIGEST-MD5 has no initial response: the client opens with an empty token. */
  initialResponse(): Buffer {
    return Buffer.alloc(0);
  }

  get complete(): boolean {
    return this.done;
  }

  /** Answer a server challenge; returns the next token, or null when the exchange is complete. */
  evaluate(challenge: Buffer): Buffer | null {
    const directives = parseDirectives(challenge.toString('utf8'));
    const rspauth = directives.get('rspauth');
    if (rspauth !== undefined) {
      if (rspauth !== this.expectedRspauth)
        throw new Error('the server failed to prove it knows the password (rspauth mismatch)');
      this.done = true;
      return null;
    }
    const nonce = directives.get('nonce');
    if (nonce === undefined) throw new Error('DIGEST-MD5 challenge without a nonce');
    const qops = (directives.get('qop') ?? 'auth').split(',').map((q) => q.trim());
    if (!qops.includes('auth')) throw new Error(`DIGEST-MD5 server offers no qop=auth (${qops.join(',')})`);
    const realm = directives.get('realm') ?? '';
    const utf8 = directives.get('charset') === 'utf-8';
    const cnonce = this.makeCnonce();
    const nc = '00000001';
    const { username, password } = this.options;
    const credentials = Buffer.from(`${username}:${realm}:${password}`, utf8 ? 'utf8' : 'latin1');
    const a1 = Buffer.concat([md5(credentials), Buffer.from(`:${nonce}:${cnonce}`)]);
    const digest = (a2: string) => hex(`${hex(a1)}:${nonce}:${nc}:${cnonce}:auth:${hex(a2)}`);
    this.expectedRspauth = digest(`:${this.digestUri}`);
    const fields = [
      `username=${quote(username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `cnonce=${quote(cnonce)}`,
      `nc=${nc}`,
      'qop=auth',
      `digest-uri=${quote(this.digestUri)}`,
      'maxbuf=65536',
      `response=${digest(`AUTHENTICATE:${this.digestUri}`)}`,
    ];
    if (utf8) fields.push('charset=utf-8');
    return Buffer.from(fields.join(','), utf8 ? 'utf8' : 'latin1');
  }
}
