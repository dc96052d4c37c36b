/**
 * Served latency while the admin port is busy (docs/benchmarks.md, "Serving while the admin port is
 * busy"). A ccrouter serves a steady open loop on its public port while, phase by phase, nothing else
 * happens (baseline), a large NDJSON outcomes batch is POSTed to its admin port, or a large valid
 * config is written to its config file so that it reloads. Each phase's p99 is divided by the
 * baseline p99 of the same build and round; the median of those ratios is printed in a markdown table.
 *
 *   node --import tsx bench/admin-load.ts [--build DIR]... [--rounds 3] [--rate 500] [--seconds 5]
 *
 * `--build` may be repeated to compare builds (copies of dist/ inside the repository) in one run:
 * their order alternates from round to round, and so does the order of the phases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';
import { stringify } from 'yaml';
import { checked, count, flags, listOf, oneOf, positive, UsageError } from './lib/args.js';
import { foreignShare, machineReading, pin, pinnedLayout, runWithProcesses, sleep, waitQuiet } from './lib/proc.js';
import { ms, table } from './lib/report.js';
import { median } from './lib/stats.js';
import { OpenLoopGenerator } from './load/generator.js';
import type { OpenLoopResult } from './load/open-loop.js';
import { ccrouterBuild, ccrouterCommand, ccrouterConfig, serveCcrouter, type CcrouterCommand, type RunningCcrouter } from './peers/ccrouter.js';
import { startUpstream } from './peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The admin port answers 413 to a larger outcomes body (docs/reliability.md). */
export const OUTCOMES_LIMIT_MIB = 16;
export const PHASES = ['baseline', 'outcomes', 'reload'] as const;
export type Phase = (typeof PHASES)[number];
/** The disturbance starts this long after the phase's open loop, so that every phase has a calm start. */
const DISTURB_AFTER_MS = 500;
/** Pause after each phase: the outcomes written to disk and the pair records flushed. */
const SETTLE_MS = 1000;
/** An admin call or a reload not done after this long fails the run. */
const ADMIN_TIMEOUT_MS = 60_000;
const TOKEN_ENV = 'CCROUTER_BENCH_ADMIN_TOKEN';

export const USAGE = `Usage: node --import tsx bench/admin-load.ts [options]

Serves a steady open-loop rate through ccrouter (pinned: ccrouter on core 0; the models, the load
generator and this tool on core 1) and measures served latency in three phases per round: baseline,
while an NDJSON outcomes batch is POSTed to the admin port (with the token), and while a large valid
config (a long routes list) is written to the config file so that ccrouter reloads it. Prints p50/p99
per phase and p99 ÷ the same round's baseline p99, medians over rounds, as a markdown table.

  --build DIR         a ccrouter build: a directory with cli.js inside the repository, e.g. a copy of
                      dist/ (cp -r dist bench/results/dist-before); repeat to compare builds in one run
                      (default: the repository's own, dist/ when built, else the sources)
  --ccrouter HOW      auto | dist | tsx: the default build from dist/ or the sources (default auto)
  --rounds N          rounds; builds and phases alternate their order (default 3)
  --rate R            served requests per second (default 500)
  --seconds S         open-loop seconds per phase; the admin call starts ${DISTURB_AFTER_MS} ms in (default 5)
  --outcomes-mib M    size of the outcomes batch, at most ${OUTCOMES_LIMIT_MIB} (default ${OUTCOMES_LIMIT_MIB})
  --config-kib K      size of the config written for the reload, at most 1024 (default 512)
  --phases LIST       comma-separated: outcomes, reload (default both; the baseline always runs)
  --wait-quiet S      before each round, wait up to S s for other processes to use under 10 % of the
                      CPU (default 30; 0 does not wait)
  --layout L          pinned | unpinned: every process free on every core, so that work ccrouter moves
                      to another thread can take the other core (default pinned)
  -h, --help
`;

export interface Build {
  label: string;
  cmd: CcrouterCommand;
}

export interface Options {
  builds: Build[];
  rounds: number;
  rate: number;
  seconds: number;
  outcomesBytes: number;
  configBytes: number;
  phases: Phase[];
  layout: 'pinned' | 'unpinned';
  waitQuietS: number;
}

/** The run's options from its flags; a flag it cannot use throws a `UsageError` naming it. */
export function parseOptions(argv: string[]): Options {
  const values = flags(USAGE, {
    build: { type: 'string', multiple: true },
    ccrouter: { type: 'string' },
    rounds: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    'outcomes-mib': { type: 'string' },
    'config-kib': { type: 'string' },
    phases: { type: 'string' },
    layout: { type: 'string' },
    'wait-quiet': { type: 'string' },
  }, argv);
  const outcomesMib = positive('--outcomes-mib', values['outcomes-mib'], OUTCOMES_LIMIT_MIB);
  if (outcomesMib > OUTCOMES_LIMIT_MIB) throw new UsageError(`--outcomes-mib: at most ${OUTCOMES_LIMIT_MIB} (the admin port answers 413 above), got ${JSON.stringify(values['outcomes-mib'])}`);
  const configKib = positive('--config-kib', values['config-kib'], 512);
  if (configKib > 1024) throw new UsageError(`--config-kib: at most 1024, got ${JSON.stringify(values['config-kib'])}`);
  const dirs = values.build ?? [];
  const builds: Build[] = [];
  for (const dir of dirs) {
    if (builds.some((b) => path.resolve(b.label) === path.resolve(dir))) throw new UsageError(`--build: ${dir} is given twice`);
    builds.push({ label: dir, cmd: ccrouterBuild(ROOT, '--build', dir) });
  }
  if (values.ccrouter !== undefined && dirs.length > 0) throw new UsageError('--ccrouter: chooses the default build; it cannot go with --build');
  if (builds.length === 0) {
    const cmd = ccrouterCommand(ROOT, oneOf('--ccrouter', values.ccrouter, ['auto', 'dist', 'tsx'] as const, 'auto'));
    builds.push({ label: cmd.build === 'dist' ? 'dist' : 'sources', cmd });
  }
  const disturbances = listOf('--phases', values.phases, ['outcomes', 'reload'] as const, ['outcomes', 'reload']);
  return {
    builds,
    rounds: count('--rounds', values.rounds, 3),
    rate: positive('--rate', values.rate, 500),
    seconds: positive('--seconds', values.seconds, 5),
    outcomesBytes: Math.floor(outcomesMib * 1024 * 1024),
    configBytes: Math.floor(configKib * 1024),
    layout: oneOf('--layout', values.layout, ['pinned', 'unpinned'] as const, 'pinned'),
    waitQuietS: positive('--wait-quiet', values['wait-quiet'], 30, true),
    phases: ['baseline', ...PHASES.filter((p): p is Exclude<Phase, 'baseline'> => p !== 'baseline' && disturbances.includes(p))],
  };
}

/** NDJSON outcomes of `bytes` at most: one `{"requestId","label"}` per line (never valid JSON as a whole). */
export function outcomesBatch(bytes: number): { body: Buffer; items: number } {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const line = `{"requestId":"admin-load-${i}","label":${i % 2}}\n`;
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
  }
  return { body: Buffer.from(lines.join('')), items: lines.length };
}

/**
 * The bench config with filler routes appended until its YAML is about `bytes` long. `variant`
 * changes every filler path, so that each config written is a change the proxy loads.
 */
export function largeConfig(base: Record<string, unknown>, bytes: number, variant: number): { config: Record<string, unknown>; text: string; routes: number } {
  const routes = base.routes as unknown[];
  const filler = (i: number) => ({ method: 'POST', path: `/filler/v${String(variant).padStart(4, '0')}/${String(i).padStart(6, '0')}`, score: '/score' });
  const baseSize = Buffer.byteLength(stringify(base));
  const perRoute = Buffer.byteLength(stringify({ routes: [filler(0), filler(1)] })) - Buffer.byteLength(stringify({ routes: [filler(0)] }));
  const n = Math.max(0, Math.ceil((bytes - baseSize) / perRoute));
  const config = { ...base, routes: [...routes, ...Array.from({ length: n }, (_, i) => filler(i))] };
  return { config, text: stringify(config), routes: routes.length + n };
}

interface Sample {
  build: string;
  round: number;
  phase: Phase;
  latency: OpenLoopResult;
  /** Seconds the admin call took to answer, or from the config write to the reload's metric. */
  adminS: number | null;
  foreign: number;
}

function log(line: string): void {
  process.stderr.write(`[admin-load] ${line}\n`);
}

/** `200: 2495, UND_ERR_SOCKET: 5, unfinished: 1`. */
const statuses = (r: OpenLoopResult) => [...Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`), ...(r.unfinished > 0 ? [`unfinished: ${r.unfinished}`] : [])].join(', ');

/** `ccrouter_config_reloads_total` by result, from the admin port's metrics. */
async function reloads(adminUrl: string): Promise<{ loaded: number; rejected: number }> {
  const r = await request(`${adminUrl}/metrics`, { headersTimeout: ADMIN_TIMEOUT_MS, bodyTimeout: ADMIN_TIMEOUT_MS });
  const text = await r.body.text();
  // A counter still at 0 may be left out of the exposition.
  const read = (result: string) => Number(new RegExp(`^ccrouter_config_reloads_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { loaded: read('loaded'), rejected: read('rejected') };
}

/** The last `config_rejected` reason in the events file, for the error message. */
function rejection(logDir: string): string {
  const file = path.join(logDir, 'events.jsonl');
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"config_rejected"')) : [];
  return lines.at(-1) ?? '(no config_rejected event found)';
}

interface Running {
  build: Build;
  ccr: RunningCcrouter;
  base: Record<string, unknown>;
  variant: number;
}

/**
 * Put `text` in place of the config file as editors do (a temp file renamed over it); resolve once
 * it is loaded, with the seconds from the rename.
 */
async function reload(r: Running, text: string): Promise<number> {
  const before = await reloads(r.ccr.adminUrl);
  const tmp = `${r.ccr.configFile}.tmp`;
  fs.writeFileSync(tmp, text);
  const t0 = performance.now();
  fs.renameSync(tmp, r.ccr.configFile);
  const deadline = Date.now() + ADMIN_TIMEOUT_MS;
  for (;;) {
    await sleep(50);
    const now = await reloads(r.ccr.adminUrl);
    if (now.rejected > before.rejected) throw new Error(`${r.build.label}: the config written for the reload was rejected: ${rejection(r.ccr.logDir)}`);
    if (now.loaded > before.loaded) return (performance.now() - t0) / 1000;
    if (Date.now() > deadline) throw new Error(`${r.build.label}: no reload within ${ADMIN_TIMEOUT_MS} ms of writing ${r.ccr.configFile}`);
  }
}

async function postOutcomes(r: Running, body: Buffer, items: number, token: string): Promise<number> {
  const t0 = performance.now();
  const res = await request(`${r.ccr.adminUrl}/outcomes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body,
    headersTimeout: ADMIN_TIMEOUT_MS,
    bodyTimeout: ADMIN_TIMEOUT_MS,
  });
  const text = await res.body.text();
  const s = (performance.now() - t0) / 1000;
  if (res.statusCode !== 200) throw new Error(`${r.build.label}: POST /outcomes answered ${res.statusCode}: ${text.slice(0, 300)}`);
  const accepted = (JSON.parse(text) as { accepted?: number }).accepted;
  if (accepted !== items) throw new Error(`${r.build.label}: POST /outcomes accepted ${accepted} of ${items} items: ${text.slice(0, 300)}`);
  return s;
}

/** One phase of one round for one build: the open loop, with the phase's admin call started meanwhile. */
async function measure(r: Running, phase: Phase, round: number, ctx: Ctx): Promise<Sample> {
  const { opts, generator } = ctx;
  const tag = `al.r${round}.${phase}`;
  // Built before the load starts: this tool shares its core with the load generator.
  const config = phase === 'reload' ? largeConfig(r.base, opts.configBytes, ++r.variant).text : '';
  const m0 = machineReading();
  const loop = generator.run({ url: r.ccr.url, rate: opts.rate, durationS: opts.seconds, tag, connections: 128, drainMs: 20_000 });
  let adminS: number | null = null;
  if (phase !== 'baseline') {
    await sleep(DISTURB_AFTER_MS);
    adminS = phase === 'outcomes' ? await postOutcomes(r, ctx.outcomes.body, ctx.outcomes.items, ctx.token) : await reload(r, config);
  }
  const latency = await loop;
  const foreign = foreignShare(m0, machineReading());
  if (!r.ccr.proc.running) throw new Error(`${r.build.label}: ccrouter exited during ${tag}:\n${r.ccr.proc.output}`);
  return { build: r.build.label, round, phase, latency, adminS, foreign };
}

/** Wait (at most `maxS` seconds) for a quiet machine; false when it never was. */
async function quietMachine(maxS: number): Promise<boolean> {
  const share = await waitQuiet(maxS, (s) => log(`other processes use ${Math.round(s * 100)} % of the CPU; waiting for a quiet machine`));
  return share < 0.1;
}

interface Ctx {
  opts: Options;
  generator: OpenLoopGenerator;
  token: string;
  outcomes: { body: Buffer; items: number };
}

async function main(opts: Options, tmp: string): Promise<void> {
  const startedAt = new Date();
  const layout = pinnedLayout();
  const pinned = layout.pinned && opts.layout === 'pinned';
  const [proxy, load] = pinned ? [layout.proxy, layout.load] : [null, null];
  if (load !== null) pin(process.pid, load);
  const token = `bench-${process.pid}-${startedAt.getTime()}`;
  const champion = await startUpstream('champion', 0, load);
  const challenger = await startUpstream('challenger', 0, load);
  const generator = await OpenLoopGenerator.start(load);
  const outcomes = outcomesBatch(opts.outcomesBytes);
  const ctx: Ctx = { opts, generator, token, outcomes };

  const running: Running[] = [];
  let routes = 0;
  let configBytes = 0;
  for (const [i, build] of opts.builds.entries()) {
    if (build.cmd.staleWarning) log(`warning: ${build.label}: ${build.cmd.staleWarning}`);
    const dir = path.join(tmp, `build-${i}`);
    const base = { ...ccrouterConfig({ champion: champion.url, challenger: challenger.url, shadow: true }, path.join(dir, 'logs')), admin: { host: '127.0.0.1', port: 0, tokenEnv: TOKEN_ENV } };
    // It starts with a config as large as the ones written later: a reload changes the filler paths,
    // not the size of the route table the served requests go through.
    const first = largeConfig(base, opts.configBytes, 0);
    routes = first.routes;
    configBytes = Buffer.byteLength(first.text);
    const ccr = await serveCcrouter(`ccrouter-${i}`, build.cmd, first.config, dir, proxy, { [TOKEN_ENV]: token });
    running.push({ build, ccr, base, variant: 0 });
  }
  const estimateS = opts.builds.length * (3 + opts.rounds * opts.phases.length * (opts.seconds + SETTLE_MS / 1000 + 1));
  log(`${opts.builds.length} build(s): ${opts.builds.map((b) => b.label).join(', ')}; ${opts.rounds} rounds of ${opts.phases.join(', ')}; about ${Math.ceil(estimateS / 10) * 10} s`);
  for (const r of running) {
    await generator.run({ url: r.ccr.url, rate: opts.rate, durationS: 3, tag: 'al.warm', connections: 128, drainMs: 5000 });
  }

  const samples: Sample[] = [];
  let busyRounds = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    if (!(await quietMachine(opts.waitQuietS))) busyRounds++;
    const odd = round % 2 === 1;
    for (const r of odd ? running : [...running].reverse()) {
      for (const phase of odd ? opts.phases : [...opts.phases].reverse()) {
        const s = await measure(r, phase, round, ctx);
        samples.push(s);
        const l = s.latency.latencyMs;
        const admin = s.adminS === null ? '' : ` | ${phase === 'outcomes' ? 'answered' : 'loaded'} after ${s.adminS.toFixed(2)} s`;
        log(`round ${round}/${opts.rounds} ${r.build.label} ${phase.padEnd(8)} p50 ${ms(l.p50)} p99 ${s.latency.unfinished > 0 ? '≥' : ''}${ms(l.p99)} max ${ms(l.max)} ms${admin} | errors ${s.latency.errors + s.latency.unfinished}${s.latency.errors + s.latency.unfinished > 0 ? ` (${statuses(s.latency)})` : ''} | foreign ${Math.round(s.foreign * 100)} %`);
        await sleep(SETTLE_MS);
      }
    }
  }
  const argv = process.argv.slice(2);
  const where = pinned ? `ccrouter pinned to core ${proxy}, the models, the load generator and this tool to core ${load}` : opts.layout === 'unpinned' ? 'every process free on every core' : 'unpinned (taskset or a second core missing)';
  const header =
    `Run of ${startedAt.toISOString()} (${Math.round((Date.now() - startedAt.getTime()) / 1000)} s): \`node --import tsx bench/admin-load.ts${argv.length > 0 ? ' ' + argv.join(' ') : ''}\`\n\n` +
    `Open loop of ${opts.rate} req/s for ${opts.seconds} s per phase, the admin call ${DISTURB_AFTER_MS} ms in; ${opts.rounds} round(s), builds and phases alternating their order; ` +
    `outcomes batch ${(outcomes.body.length / 1024 / 1024).toFixed(1)} MiB of NDJSON (${outcomes.items.toLocaleString('en-US')} items); ` +
    `config ${Math.round(configBytes / 1024)} KiB of YAML (${routes.toLocaleString('en-US')} routes); ${where}.` +
    (busyRounds > 0 ? ` ${busyRounds} of ${opts.rounds} round(s) started while other processes used over 10 % of the CPU (waited ${opts.waitQuietS} s): read the "foreign CPU" column.` : '');
  process.stdout.write(`\n${header}\n\n${renderTable(samples, opts)}\n`);
}

/**
 * The markdown table: per build and phase the medians over rounds, and the median of the rounds'
 * p99 ÷ the same round's baseline p99 (with their range).
 */
export function renderTable(samples: Sample[], opts: Pick<Options, 'phases'>): string {
  const rows: string[][] = [];
  const builds = [...new Set(samples.map((s) => s.build))];
  for (const build of builds) {
    const of = (phase: Phase) => samples.filter((s) => s.build === build && s.phase === phase);
    const baseline = new Map(of('baseline').map((s) => [s.round, s.latency.latencyMs.p99]));
    for (const phase of opts.phases) {
      const ss = of(phase);
      if (ss.length === 0) continue;
      const lower = ss.some((s) => s.latency.unfinished > 0) ? '≥ ' : '';
      const ratios = ss.map((s) => s.latency.latencyMs.p99 / (baseline.get(s.round) ?? NaN)).filter(Number.isFinite);
      const ratio = phase === 'baseline' ? '1' : ratios.length === 0 ? 'n/a' : `${lower}${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
      const admin = phase === 'baseline' ? '—' : `${median(ss.map((s) => s.adminS)).toFixed(2)} (${phase === 'outcomes' ? 'answered' : 'reloaded'})`;
      const errors = ss.reduce((a, s) => a + s.latency.errors + s.latency.unfinished, 0);
      const med = (f: (s: Sample) => number) => ms(median(ss.map(f)));
      rows.push([build, phase, med((s) => s.latency.latencyMs.p50), lower + med((s) => s.latency.latencyMs.p99), lower + med((s) => s.latency.latencyMs.max),
        ratio, admin, String(errors), `${Math.round(median(ss.map((s) => s.foreign)) * 100)} %`]);
    }
  }
  return table(['build', 'phase', 'p50 ms', 'p99 ms', 'max ms', 'p99 ÷ baseline p99 (rounds)', 'admin call, s', 'errors', 'foreign CPU'], rows);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const opts = checked(() => parseOptions(process.argv.slice(2)));
  runWithProcesses('ccrouter-admin-load-', (tmp) => main(opts, tmp));
}
