/**
 * Server-side SASL DIGEST-MD5 for test servers. The recipe, verified on Debian's ZooKeeper
 * 3.8.0 / OpenJDK 17 with kazoo 2.8 (`sasl_options={'mechanism': 'DIGEST-MD5', ...}`):
 *
 * 1. A JAAS file with a `Server` section (the default `zookeeper.sasl.serverconfig`):
 *    ```
 *    Server {
 *      org.apache.zookeeper.server.auth.DigestLoginModule required
 *      user_alice="secret";
 *    };
 *    ```
 * 2. The JVM option `-Djava.security.auth.login.config=<that file>`. This alone makes SASL
 *    logins work (the session gets the id `sasl:alice`).
 * 3. zoo.cfg `authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider`.
 *    Without a SASL provider, ACLs with the `sasl` scheme are rejected with InvalidACL. Any key
 *    starting with `authProvider.` works (ZooKeeper turns cfg keys into `zookeeper.*` system
 *    properties and loads every `zookeeper.authProvider.*`); `.sasl` avoids clashing with a
 *    user's `authProvider.1`.
 *
 * Nothing else is needed: no Kerberos, no `zookeeper.sessionRequireClientSASLAuth`. Clients that
 * do not use SASL still connect. A wrong password makes the server close the connection
 * ("Closing client connection due to SASL authentication failure"); kazoo reports AuthFailedError
 * (on the first request: its `start()` may already have returned). An unknown user fails the same
 * way. The client side, as tested in test/integration/tls-sasl-server.test.ts:
 *
 * ```python
 * from kazoo.client import KazooClient
 * from kazoo.security import make_acl
 * zk = KazooClient(hosts='127.0.0.1:<port>',
 *                  sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'alice', 'password': 'secret'})
 * zk.start()
 * zk.create('/n', b'x', acl=[make_acl('sasl', 'alice', all=True)])   # ACL sasl:alice, perms 31
 * ```
 *
 * Another user (a valid login) then gets NoAuthError on `/n`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** SASL DIGEST-MD5 users of a test server (user name → password; a JAAS file is written for them). */
export interface SaslServerOptions {
  /** User name → password, for DIGEST-MD5. */
  users: Record<string, string>;
}

export interface SaslServerSetup {
  jaasFile: string;
  javaOptions: string[];
  config: Record<string, string>;
}

export const SASL_AUTH_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';

/** Write `<dir>/jaas.conf` and return the JVM options and zoo.cfg entries that enable it. */
export async function setUpSaslServer(dir: string, options: SaslServerOptions): Promise<SaslServerSetup> {
  const users = Object.entries(options.users);
  if (users.length === 0) throw new TypeError('sasl.users: name at least one user');
  for (const [name, password] of users) {
    // Names are bare tokens in the JAAS file and passwords quoted strings: keep both unambiguous.
    if (!/^[A-Za-z0-9._-]+$/.test(name))
      throw new TypeError(`sasl.users: user name ${JSON.stringify(name)} must match [A-Za-z0-9._-]+`);
    if (/["\\\r\n]/.test(password))
      throw new TypeError(
        `sasl.users.${name}: the password must not contain quotes, backslashes or line breaks`,
      );
  }
  const jaasFile = join(dir, 'jaas.conf');
  const lines = users.map(([name, password]) => `  user_${name}="${password}"`).join('\n');
  await writeFile(
    jaasFile,
    `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n${lines};\n};\n`,
  );
  return {
    jaasFile,
    javaOptions: [`-Djava.security.auth.login.config=${jaasFile}`],
    config: { 'authProvider.sasl': SASL_AUTH_PROVIDER },
  };
}
