/**
 * Recognising TLS certificate failures among connection errors: they are configuration errors,
 * not transient ones, so the session stops retrying once every server failed this way.
 */
import { TlsError } from '../errors.js';
import type { Endpoint } from './connection.js';

/** OpenSSL verification codes Node reports for an untrusted or mismatched server certificate. */
const VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The `TlsError` for `error` (or its causes) when it is a certificate failure; undefined otherwise. */
export function certificateError(error: unknown, endpoint: Endpoint): TlsError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as NodeJS.ErrnoException).code;
    // Alerts from the server (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE, ..._CERTIFICATE_UNKNOWN) mean it refused our certificate.
    // A refusal can also surface as a failed write (EPROTO) carrying the server's alert.
    const refused =
      code === 'EPROTO' &&
      /alert (bad certificate|certificate unknown|unknown ca|certificate required)/i.test(current.message);
    if (code !== undefined && (VERIFY_CODES.has(code) || /^ERR_SSL_.*CERTIFICATE/.test(code) || refused)) {
      return new TlsError(`TLS to ${endpoint.host}:${endpoint.port} failed: ${current.message} (${code})`, {
        cause: current,
      });
    }
  }
  return undefined;
}
