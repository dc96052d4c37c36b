#!/usr/bin/env node
/**
 * The reference peer: plain fastify 5 + @fastify/http-proxy 11 in front of one upstream, with the
 * plugin's defaults (what a user would otherwise put on the hot path).
 *
 *   node bench/peers/fastify-proxy.mjs --upstream http://127.0.0.1:PORT [--port 0]
 *
 * Prints `fastify-proxy listening on http://HOST:PORT`. Exits when its stdin closes or on SIGTERM.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values.upstream) throw new Error('--upstream: required (the champion model URL)');

const app = Fastify({ logger: false });
await app.register(httpProxy, { upstream: values.upstream });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('error', stop).resume();

const address = await app.listen({ host: values.host, port: Number(values.port) });
process.stdout.write(`fastify-proxy listening on ${address}\n`);
