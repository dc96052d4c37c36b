/** The CAs an https model is trusted with: the usual roots, plus its `ca` file's (docs/config.md#models-the-champion-and-the-challenger-both-required). */
import { rootCertificates } from 'node:tls';
import type { ModelConfig } from '../config/types.js';
import { readPemCertificates } from '../util/pem.js';

/**
 * undici's `connect.ca` for `model`: undefined without `ca` (Node's default roots, and
 * NODE_EXTRA_CA_CERTS, apply); else the default roots and the file's certificates, since a `ca`
 * given to TLS replaces the roots rather than adding to them. Throws an Error naming `role`'s setting
 * when the file cannot be read or holds no certificate.
 */
export function trustedCas(model: ModelConfig, role: string): string[] | undefined {
  if (model.ca === undefined) return undefined;
  try {
    return [...rootCertificates, readPemCertificates(model.ca)];
  } catch (err) {
    throw new Error(`models.${role}.ca: ${(err as Error).message}`, { cause: err });
  }
}
