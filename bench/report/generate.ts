/**
 * Writes realistic ccrouter logs for the report benchmark: N pair records spread over per-worker
 * files (`pairs-w<k>.jsonl`, rotated as `pairs-w<k>.<i>.jsonl` past --rotate records), an
 * `events.jsonl` announcing a start config and one ramp step, and `outcomes.jsonl` labelling a share
 * of the requests (most by requestId, some by unit).
 *
 *   node --import tsx bench/report/generate.ts [--records 1000000] [--out .tmp/bench-logs]
 *        [--workers 2] [--rotate 250000] [--labelled 0.3] [--seed 1]
 *
 * Lines are built as strings, not through JSON.stringify of objects, so that generating a million
 * records stays a small step before the benchmark, which measures the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { count, flags, positive, runMain, UsageError } from '../lib/args.js';

const USAGE = `Usage: node --import tsx bench/report/generate.ts [options]

Writes realistic ccrouter records for the report benchmark: pair files per worker (rotated),
events.jsonl with a start and a ramp step, and outcomes.jsonl labelling a share of the requests.
Replaces DIR.

  --records N    pair records (default 1000000)
  --out DIR      where (default .tmp/bench-logs)
  --workers N    pair files written side by side, pairs-w<k>.jsonl (default 2)
  --rotate N     records per file before it rotates (default 250000)
  --labelled P   share of requests given an outcome, 0 to 1 (default 0.3)
  --seed N       random seed (default 1)
  -h, --help
`;

export interface GenerateOptions {
  records: number;
  dir: string;
  workers?: number;
  /** Records per file before a worker's log rotates. */
  rotate?: number;
  /** Share of requests that get an outcome line. */
  labelled?: number;
  seed?: number;
}

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'BR', 'IN'];
const START = 1_795_000_000_000;
const CONFIG_A = '3fa1c09b2e7d';
const CONFIG_B = '9c41d2e07a15';

export async function generate(opts: GenerateOptions): Promise<{ files: string[]; outcomes: number }> {
  const workers = opts.workers ?? 2;
  const rotate = opts.rotate ?? 250_000;
  const labelled = opts.labelled ?? 0.3;
  // Alea: seedable and fast (the benchmark needs speed, not quality).
  const rand = seedrandom.alea(String(opts.seed ?? 1));
  fs.mkdirSync(opts.dir, { recursive: true });
  const span = 24 * 3600 * 1000;
  const step = span / Math.max(1, opts.records);

  fs.writeFileSync(
    path.join(opts.dir, 'events.jsonl'),
    `{"level":30,"time":${START - 1000},"msg":"event","type":"start","config":"${CONFIG_A}","traffic":{"control":0.05,"challenger":0.05}}\n` +
      `{"level":30,"time":${START + span / 2},"msg":"event","type":"ramp_step","config":"${CONFIG_B}","traffic":{"control":0.05,"challenger":0.1},"from":0.05,"to":0.1}\n`,
  );

  const files: string[] = [];
  const streams: { out: fs.WriteStream; n: number; part: number; buf: string[] }[] = [];
  const open = (k: number, part: number) => {
    const file = path.join(opts.dir, part === 0 ? `pairs-w${k}.jsonl` : `pairs-w${k}.${part}.jsonl`);
    files.push(file);
    return fs.createWriteStream(file);
  };
  for (let k = 1; k <= workers; k++) streams.push({ out: open(k, 0), n: 0, part: 0, buf: [] });
  const outcomes = fs.createWriteStream(path.join(opts.dir, 'outcomes.jsonl'));
  let outBuf: string[] = [];
  let nOutcomes = 0;

  const write = async (s: fs.WriteStream, text: string) => {
    if (!s.write(text)) await new Promise<void>((r) => s.once('drain', () => r()));
  };

  for (let i = 0; i < opts.records; i++) {
    const time = Math.floor(START + i * step);
    const config = time < START + span / 2 ? CONFIG_A : CONFIG_B;
    const ramp = config === CONFIG_A ? 0.05 : 0.1;
    const unitN = Math.floor(rand() * 200_000);
    const unit = `u-${unitN}`;
    const bucket = rand();
    const group = bucket < 0.05 ? 'control' : bucket >= 1 - ramp ? 'challenger' : 'champion';
    const label = rand() < 0.08 ? 1 : 0;
    // Latent risk: both models see it, the challenger a little more sharply.
    const risk = label ? 0.55 + rand() * 0.45 : rand() * 0.6;
    const s7 = Math.min(1, Math.max(0, risk * 0.9 + (rand() - 0.5) * 0.3));
    const s8 = Math.min(1, Math.max(0, risk * 0.95 + (rand() - 0.5) * 0.2));
    const servedChallenger = group === 'challenger';
    const skipShadow = rand() < 0.01;
    const outcome = (version: string, score: number, threshold: number, base: number, shadow: boolean) => {
      if (shadow && skipShadow) {
        return `{"version":"${version}","status":null,"latencyMs":null,"score":null,"decision":null,"error":{"kind":"skipped","message":"shadow limit"}}`;
      }
      const latency = (base * Math.exp((rand() - 0.5) * 1.2)).toFixed(2);
      const r = rand();
      if (r < 0.004) {
        return `{"version":"${version}","status":null,"latencyMs":250.1,"score":null,"decision":null,"error":{"kind":"timeout","message":"timed out after 250 ms"}}`;
      }
      if (r < 0.006) {
        return `{"version":"${version}","status":503,"latencyMs":${latency},"score":null,"decision":null,"error":{"kind":"status","message":"HTTP 503"}}`;
      }
      return `{"version":"${version}","status":200,"latencyMs":${latency},"score":${score.toFixed(4)},"decision":${score >= threshold},"error":null}`;
    };
    const champ = outcome('fraud-v7', s7, 0.5, 12, servedChallenger);
    const chall = outcome('fraud-v8', s8, 0.6, 15, !servedChallenger);
    const dc = champ.includes('"decision":true') ? true : champ.includes('"decision":false') ? false : null;
    const dh = chall.includes('"decision":true') ? true : chall.includes('"decision":false') ? false : null;
    const agree = dc === null || dh === null ? null : dc === dh;
    const fallback = servedChallenger && !chall.includes('"error":null');
    const requestId = `r${i.toString(36)}-${(unitN * 7919).toString(36)}`;
    const line =
      `{"level":30,"time":${time},"msg":"pair","requestId":"${requestId}","route":"POST /predict","config":"${config}",` +
      `"unit":"${unit}","assigned":"key","bucket":${bucket},"group":"${group}","served":"${servedChallenger && !fallback ? 'challenger' : 'champion'}",` +
      `"fallback":${fallback},"champion":${champ},"challenger":${chall},"agree":${agree},` +
      `"fields":{"country":"${COUNTRIES[unitN % COUNTRIES.length]}"}}\n`;
    const w = streams[i % workers]!;
    w.buf.push(line);
    w.n++;
    if (w.buf.length >= 2000) {
      await write(w.out, w.buf.join(''));
      w.buf = [];
    }
    // Rotate before the next record, not after the last: no empty trailing file.
    if (w.n >= rotate && i + workers < opts.records) {
      if (w.buf.length) await write(w.out, w.buf.join(''));
      w.buf = [];
      w.out.end();
      w.part++;
      w.n = 0;
      w.out = open((i % workers) + 1, w.part);
    }
    if (rand() < labelled) {
      nOutcomes++;
      outBuf.push(
        rand() < 0.9
          ? `{"level":30,"time":${time + 60_000},"msg":"outcome","requestId":"${requestId}","label":${label}}\n`
          : `{"level":30,"time":${time + 60_000},"msg":"outcome","unit":"${unit}","label":${label}}\n`,
      );
      if (outBuf.length >= 2000) {
        await write(outcomes, outBuf.join(''));
        outBuf = [];
      }
    }
  }
  for (const w of streams) {
    if (w.buf.length) await write(w.out, w.buf.join(''));
    await new Promise((r) => w.out.end(r));
  }
  if (outBuf.length) await write(outcomes, outBuf.join(''));
  await new Promise((r) => outcomes.end(r));
  return { files, outcomes: nOutcomes };
}

async function main(): Promise<void> {
  const values = flags(USAGE, {
    records: { type: 'string' },
    out: { type: 'string' },
    workers: { type: 'string' },
    rotate: { type: 'string' },
    labelled: { type: 'string' },
    seed: { type: 'string' },
  });
  const out = values.out ?? '.tmp/bench-logs';
  const records = count('--records', values.records, 1_000_000);
  const labelled = positive('--labelled', values.labelled, 0.3, true);
  if (labelled > 1) throw new UsageError(`--labelled: expected a share between 0 and 1, got ${JSON.stringify(values.labelled)}`);
  const opts = {
    records,
    dir: out,
    workers: count('--workers', values.workers, 2),
    rotate: count('--rotate', values.rotate, 250_000),
    labelled,
    seed: count('--seed', values.seed, 1, true),
  };
  const t0 = performance.now();
  fs.rmSync(out, { recursive: true, force: true });
  const res = await generate(opts);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(`wrote ${records} pair records in ${res.files.length} files and ${res.outcomes} outcomes to ${out} in ${secs} s\n`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('generate.ts')) {
  runMain(main);
}
