#!/usr/bin/env node
/**
 * A minimal model server for the benchmarks: answers every request with `{"score":0.42}` once the
 * request body is read, after an optional fixed delay. Run as its own process so that it can be
 * pinned with taskset:
 *
 *   node bench/peers/upstream.mjs --port 0 [--delay 200] [--host 127.0.0.1]
 *
 * Prints `upstream listening on http://HOST:PORT` once it accepts connections. Exits when its stdin
 * closes (the harness died) or on SIGTERM/SIGINT.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    delay: { type: 'string', default: '0' },
  },
});
const port = Number(values.port);
const delay = Number(values.delay);
if (!Number.isInteger(port) || port < 0) throw new Error(`--port: expected an integer >= 0, got ${values.port}`);
if (!Number.isFinite(delay) || delay < 0) throw new Error(`--delay: expected milliseconds >= 0, got ${values.delay}`);

const BODY = Buffer.from('{"score":0.42}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

function answer(res) {
  res.writeHead(200, HEADERS);
  res.end(BODY);
}

const server = http.createServer((req, res) => {
  req.resume();
  req.once('end', delay > 0 ? () => setTimeout(answer, delay, res) : () => answer(res));
});
// Long enough that no proxy's pooled connection is closed under it during a run.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The harness keeps our stdin open; EOF means it is gone, and so should we be.
process.stdin.on('end', stop).on('error', stop).resume();

server.listen(port, values.host, () => {
  const a = server.address();
  process.stdout.write(`upstream listening on http://${a.address}:${a.port} (delay ${delay} ms)\n`);
});
