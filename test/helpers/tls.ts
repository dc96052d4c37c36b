/**
 * A private CA and a server certificate for 127.0.0.1 made with openssl for the test, and a real
 * https model server on 127.0.0.1 port 0 that uses them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { serveUpstream, type Behaviour, type Upstream } from './upstream.js';
import { tempDir } from './proxy.js';

export interface TestCertificates {
  /** The CA certificate's PEM file. */
  caFile: string;
  key: string;
  cert: string;
}

/** Whether openssl can be run (the tests that need it say they are skipped otherwise). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA, and a certificate for IP 127.0.0.1 and localhost signed by it, in a fresh directory. */
export function makeCertificates(): TestCertificates {
  const dir = tempDir('ccrouter-tls-');
  const f = (name: string) => path.join(dir, name);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=ccrouter test CA']);
  run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  return { caFile: f('ca.pem'), key: fs.readFileSync(f('server.key'), 'utf8'), cert: fs.readFileSync(f('server.pem'), 'utf8') };
}

/** An https model server with `certs`' server certificate, behaving as `behaviour`. */
export function startHttpsUpstream(certs: TestCertificates, behaviour: Behaviour): Promise<Upstream> {
  return serveUpstream('https', (handler) => {
    const server = https.createServer({ key: certs.key, cert: certs.cert }, handler);
    // A handshake the client refuses (unknown CA) must not end the test with an unhandled error.
    server.on('tlsClientError', () => {});
    return server;
  }, behaviour);
}
