#!/usr/bin/env node
/**
 * The design's floor: the smallest shadow proxy built from ccrouter's parts, with none of its
 * features. A fastify route takes the body as a raw Buffer, calls the champion (and, with --shadow,
 * the challenger at once) through an undici `Pool`, answers with the champion's status, content
 * type and body, and writes one JSON line per request through an async pino destination. No
 * assignment, no score, no deadline, no passed-back headers, no metrics, no admin server.
 *
 * It is what ccrouter would cost if it did nothing else: the gap between this peer and ccrouter in
 * the same run is ccrouter's own work, and the gap between this peer and the plain proxy is what the
 * stack allows on the machine.
 *
 *   node bench/peers/sketch.mjs --champion URL [--challenger URL --shadow] [--log FILE] [--port 0]
 *
 * Prints `sketch listening on http://HOST:PORT`. Exits when its stdin closes or on SIGTERM.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    champion: { type: 'string' },
    challenger: { type: 'string' },
    shadow: { type: 'boolean', default: false },
    log: { type: 'string', default: '/dev/null' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values.champion) throw new Error('--champion: required (the champion model URL)');
if (values.shadow && !values.challenger) throw new Error('--challenger: required with --shadow');

// ccrouter's caps: 1 024 served connections per model, plus shadowLimit (1 024) for the challenger.
const champion = new Pool(values.champion, { connections: 1024 });
const challenger = values.shadow ? new Pool(values.challenger, { connections: 2048 }) : null;
const dest = pino.destination({ dest: values.log, sync: false, minLength: 12 * 1024 });
const log = pino({ base: null, timestamp: pino.stdTimeFunctions.epochTime }, dest);

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

async function call(pool, body) {
  const started = performance.now();
  try {
    const res = await pool.request({ method: 'POST', path: '/score', headers: { 'content-type': 'application/json' }, body });
    const answer = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, type: res.headers['content-type'], body: answer, ms: performance.now() - started };
  } catch (err) {
    return { status: 0, type: undefined, body: null, ms: performance.now() - started, error: err.message };
  }
}

app.post('/predict', async (req, reply) => {
  const shadow = challenger === null ? null : call(challenger, req.body);
  const served = await call(champion, req.body);
  if (served.status === 0) reply.code(502).send({ error: served.error });
  else reply.code(served.status).type(served.type ?? 'application/json').send(served.body);
  const requestId = req.headers['x-request-id'];
  if (shadow === null) log.info({ requestId, champion: { status: served.status, ms: served.ms } }, 'pair');
  else void shadow.then((s) => log.info({ requestId, champion: { status: served.status, ms: served.ms }, challenger: { status: s.status, ms: s.ms } }, 'pair'));
  return reply;
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app.close().finally(() => { dest.flushSync(); process.exit(0); });
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('error', stop).resume();

const address = await app.listen({ host: values.host, port: Number(values.port) });
process.stdout.write(`sketch listening on ${address}\n`);
