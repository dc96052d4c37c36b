/**
 * `ccrouter demo`: the whole loop on built-in models — two demo model servers, ccrouter between them,
 * labelled traffic, outcomes posted to the admin API, then the report (text on stdout, HTML file).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseFlags } from './args.js';
import { request } from 'undici';
import { loadConfigObject } from '../config/load.js';
import { CCR_ERR_USAGE } from '../errors.js';
import { startDemoModels } from '../demo/models.js';
import { sendTraffic, timelineBucketMs } from '../demo/traffic.js';
import { startServer } from '../server.js';
import { runReport } from './report.js';

export const DEMO_USAGE = `Usage: ccrouter demo [--requests N] [--out DIR] [--seed N] [--calibration FILE]

Start two built-in demo models (fraud-v7 champion, fraud-v8 challenger), ccrouter between them,
send N labelled requests, post their outcomes, and print the report. Records and report.html are
left in DIR.

Options:
  -n, --requests N   requests to send (default 3000; at least 1000 for a clear verdict)
  -o, --out DIR      where records and report.html go (default ./demo-out)
      --seed N       traffic seed (default 1)
      --calibration FILE
                     normalize scores with this table (from ccrouter calibrate): decisions
                     use one threshold on the normalized score, injected at /normalized_score
  -h, --help         show this help
`;

const TOKEN_ENV = 'CCROUTER_DEMO_TOKEN';

export async function runDemo(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
      requests: { type: 'string', short: 'n' },
      out: { type: 'string', short: 'o' },
      seed: { type: 'string' },
      calibration: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
  if (values.help) {
    process.stdout.write(DEMO_USAGE);
    return 0;
  }
  const requests = positiveInt(values.requests ?? '3000', '--requests');
  const seed = positiveInt(values.seed ?? '1', '--seed');
  const out = path.resolve(values.out ?? 'demo-out');
  const tty = process.stderr.isTTY === true;
  const say = (line: string) => process.stderr.write(line + '\n');

  // A fresh run: earlier records in DIR would mix two demos in one report (a calibration table
  // kept there survives).
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(out)) {
    if (/^(pairs.*|events.*|outcomes)\.jsonl$|^report\.html$/.test(f)) fs.rmSync(path.join(out, f));
  }

  const models = await startDemoModels();
  const token = randomBytes(16).toString('hex');
  const env = { ...process.env, [TOKEN_ENV]: token };
  const loaded = loadConfigObject(
    {
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0, tokenEnv: TOKEN_ENV },
      models: {
        champion: { url: models.champion.url, version: models.champion.version, timeoutMs: 2000 },
        challenger: { url: models.challenger.url, version: models.challenger.version, timeoutMs: 2000 },
      },
      routes: [
        { method: 'POST', path: '/predict', score: '/score' },
        // Batch routes of the demo models (docs/requests.md#batches); the generated traffic uses /predict.
        { method: 'POST', path: '/v2/models/fraud/infer', preset: 'kserve-v2' },
        { method: 'POST', path: '/v1/models/fraud:predict', preset: 'tfserving' },
      ],
      decision: { threshold: 0.5 },
      assignment: { unit: 'header:x-user-id', salt: 'demo-fraud-v8', seed: 42 },
      traffic: { control: 0.1, challenger: 0.2, shadow: true },
      control: { patch: { decision: 'approve' } },
      // `amount` lets the report weigh what each model catches in money (--value amount).
      logging: { dir: out, fields: { country: '/country', amount: '/amount' } },
      shutdownGraceMs: 5000,
      ...(values.calibration ? { calibration: { file: path.resolve(values.calibration), inject: '/normalized_score' } } : {}),
    },
    env,
  );
  say(`ccrouter demo: champion ${models.champion.version} at ${models.champion.url}, challenger ${models.challenger.version} at ${models.challenger.url}`);
  const server = await startServer(loaded, { env, defaultMetrics: false });
  let bucketMs = 1000;
  try {
    say(`ccrouter demo: proxy on ${server.url} (admin ${server.adminUrl}), config ${loaded.id}; sending ${requests} requests`);
    const traffic = await sendTraffic({
      url: server.url,
      path: '/predict',
      requests,
      concurrency: 16,
      seed,
      onProgress: tty ? (done, total) => { if (done % 250 === 0 || done === total) process.stderr.write(`\r  ${done}/${total} requests`); } : undefined,
    });
    if (tty) process.stderr.write('\n');
    bucketMs = timelineBucketMs(traffic.endedAt - traffic.startedAt);
    say(`ccrouter demo: ${traffic.ok} answered 2xx, ${traffic.failed} failed; groups ${JSON.stringify(traffic.byGroup)}`);

    const body = traffic.outcomes.map((o) => JSON.stringify(o)).join('\n');
    const res = await request(`${server.adminUrl}/outcomes`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body });
    const posted = (await res.body.json()) as { accepted: number; rejected: unknown[] };
    if (res.statusCode !== 200) throw new Error(`posting outcomes answered ${res.statusCode}`);
    say(`ccrouter demo: ${posted.accepted} outcomes posted (${posted.rejected.length} rejected)`);
  } finally {
    await server.shutdown();
    await models.close();
  }

  const html = path.join(out, 'report.html');
  const reportArgs = ['--logs', out, '--value', 'amount', '--bucket', `${bucketMs}ms`];
  const htmlCode = await runReport([...reportArgs, '--format', 'html', '--out', html]);
  if (htmlCode !== 0) return htmlCode;
  const textCode = await runReport([...reportArgs, '--format', 'text']);
  say(`ccrouter demo: records and report in ${out} (open ${html})`);
  return textCode;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CCR_ERR_USAGE(`${flag}: must be a whole number >= 1, got ${JSON.stringify(value)}`);
  return n;
}
