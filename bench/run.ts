/**
 * `npm run bench`: ccrouter against its peers, side by side, in one run (see docs/benchmarks.md).
 *
 * Every peer runs as its own process, started once and warmed up, then re-pinned per layout (pinned:
 * peer under test on core 0, load generators and upstream models on core 1; unpinned: all free).
 * Per layout, rounds alternate the peer order (A B C … then … C B A) and measure, for every peer in
 * turn: saturation throughput (wrk, else autocannon; 50 connections) with the peer's CPU time per
 * request; then, rate by rate, open-loop latency at fixed rates (pinned layout). After the pinned rounds, a fresh ccrouter
 * with a 200 ms challenger runs an open loop for 60 s while its RSS is sampled. Everything listens on
 * 127.0.0.1 only; every process started here is stopped at the end, on error and on Ctrl-C.
 *
 *   npm run bench [-- --rounds 3] [--duration S] [--quick] [--peers a,b] [--layouts pinned,unpinned]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { count, flags, listOf, nodeFlags, numberList, oneOf, positive, runMain } from './lib/args.js';
import { coverageByTag } from './lib/coverage.js';
import { describeMachine } from './lib/machine.js';
import { coreBusy, cpuSeconds, foreignShare, stealShare, hasCommand, killAllSync, machineReading, pin, processTree, rssMiB, sleep, stopAll, waitQuiet, type Proc } from './lib/proc.js';
import { layoutTag, renderMarkdown, writeDocs } from './lib/report.js';
import type { Layout, OlSample, RunOptions, RunResults, SatSample } from './lib/results.js';
import { OpenLoopGenerator } from './load/generator.js';
import { defaultTool, saturate, writeWrkScript, type SaturationTool } from './load/saturate.js';
import { ccrouterCommand, type CcrouterCommand } from './peers/ccrouter.js';
import { availablePeers, PEERS, startUpstreams, type PeerDef, type RunningPeer, type Upstreams } from './peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = path.join(ROOT, 'docs', 'benchmarks.md');
/** Pause after each measurement: lets shadow calls of the last one finish and the peer settle. */
const SETTLE_MS = 300;
/** Unmeasured saturation before each measured one (see measureSaturation). */
const PRIME_S = 1;

const USAGE = `Usage: npm run bench -- [options]

  --rounds N          alternating rounds per layout (default 3; --quick: 1)
  --duration S        seconds per measurement, saturation and each open-loop rate (default: 2 s saturation
                      after 1 s unmeasured, 3 s per open-loop rate; --quick: 1)
  --quick             short smoke run: 1 round, 1 s runs, 15 s RSS series, docs left alone
  --peers LIST        comma-separated subset of: ${PEERS.map((p) => p.id).join(', ')}
                      (default: all but ${PEERS.filter((p) => p.onRequest).map((p) => p.id).join(' and ')}, measured only when named)
  --layouts LIST      pinned,unpinned (default both; pinned needs taskset and 2 cores)
  --rates LIST        open-loop rates in req/s (default 1000,3000)
  --connections N     saturation connections (default 50)
  --rss-seconds S     length of the slow-challenger RSS series (default 60; 0 skips it)
  --rss-rate R        open-loop rate of the RSS series in req/s (default 1000)
  --unpinned-latency  also measure open-loop latency in the unpinned layout
  --tool NAME         wrk | autocannon (default: wrk when installed)
  --ccrouter HOW      auto | dist | tsx: run ccrouter from dist/ or from the sources (default auto)
  --node-args ARGS    extra node flags for every ccrouter peer, e.g. "--max-semi-space-size=64" (default none)
  --json FILE         where to write the raw samples as JSON (default bench/results/latest.json, git-ignored)
  --no-docs           do not rewrite docs/benchmarks.md (default for --quick); --docs forces it
  --retries N         measure again (at most N times) when other processes took over 15 % of the CPU (default 2; --quick: 0)
  --wait-quiet S      before each layout, wait up to S s for other processes to go under 10 % CPU (default 120; --quick: 5)
  --render FILE       measure nothing: print (and with --docs, write) the tables from a --json file
  --keep              keep the temp directory (configs, records, nginx logs)
  -h, --help
`;

interface Options extends RunOptions {
  retries: number;
  render: string | null;
  peers: string[] | null;
  unpinnedLatency: boolean;
  tool: SaturationTool | null;
  ccrouter: 'auto' | 'dist' | 'tsx';
  nodeArgs: string[];
  json: string;
  docs: boolean;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const values = flags(USAGE, {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    peers: { type: 'string' },
    layouts: { type: 'string' },
    rates: { type: 'string' },
    connections: { type: 'string' },
    'rss-seconds': { type: 'string' },
    'rss-rate': { type: 'string' },
    'unpinned-latency': { type: 'boolean', default: false },
    tool: { type: 'string' },
    ccrouter: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    json: { type: 'string' },
    docs: { type: 'boolean' },
    'no-docs': { type: 'boolean' },
    keep: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string' },
    retries: { type: 'string' },
    render: { type: 'string' },
  }, argv);
  const quick = values.quick;
  const duration = values.duration === undefined ? null : positive('--duration', values.duration, 3);
  return {
    rounds: count('--rounds', values.rounds, quick ? 1 : 3),
    satDurationS: duration === null ? (quick ? 1 : 2) : Math.max(1, Math.round(duration)),
    olDurationS: duration ?? (quick ? 1 : 3),
    warmupS: quick ? 2 : 3,
    rates: numberList('--rates', values.rates, [1000, 3000]),
    connections: count('--connections', values.connections, 50),
    layouts: listOf<Layout>('--layouts', values.layouts, ['pinned', 'unpinned'], ['pinned', 'unpinned']),
    rssSeconds: positive('--rss-seconds', values['rss-seconds'], quick ? 15 : 60, true),
    rssIntervalS: 5,
    rssRate: positive('--rss-rate', values['rss-rate'], 1000),
    quick,
    waitQuietS: positive('--wait-quiet', values['wait-quiet'], quick ? 5 : 120, true),
    retries: count('--retries', values.retries, quick ? 0 : 2, true),
    render: values.render ?? null,
    peers: values.peers === undefined ? null : listOf('--peers', values.peers, PEERS.map((d) => d.id), []),
    unpinnedLatency: values['unpinned-latency'],
    tool: values.tool === undefined ? null : oneOf<SaturationTool>('--tool', values.tool, ['wrk', 'autocannon'], 'wrk'),
    ccrouter: oneOf('--ccrouter', values.ccrouter, ['auto', 'dist', 'tsx'], 'auto'),
    nodeArgs: nodeFlags(values['node-args']),
    json: values.json ?? path.join(ROOT, 'bench', 'results', 'latest.json'),
    docs: values['no-docs'] ? false : values.docs ?? !quick,
    keep: values.keep,
  };
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** `foreign 12% (steal 8%)`: other processes' and the hypervisor's share of the CPU during a measurement. */
const disturbed = (m: { foreign: number; steal?: number }) => `foreign ${Math.round(m.foreign * 100)}% (steal ${Math.round((m.steal ?? NaN) * 100)}%)`;
const busy = (cores: number[]) => `cores ${cores.map((b) => Math.round(b * 100) + '%').join('/')}`;
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

interface Ctx {
  opts: Options;
  tool: SaturationTool;
  wrkScript: string;
  tmp: string;
  ccr: CcrouterCommand;
  peers: PeerDef[];
  res: RunResults;
  allCpus: string;
  retrySpentMs: number;
  budgetNoted: boolean;
  /** The peers, by id, while they run. */
  running: Map<string, RunningPeer>;
}

/** CPU seconds of every peer but the one under test (they should be idle meanwhile). */
function neighboursSeconds(ctx: Ctx, except: RunningPeer): number {
  let sum = 0;
  for (const rp of ctx.running.values()) if (rp !== except && rp.proc.running) sum += cpuSeconds(processTree(rp.proc.pid));
  return sum;
}

async function measureSaturation(ctx: Ctx, layout: Layout, round: number, peer: PeerDef, rp: RunningPeer, loadCpus: string | null, attempt: number): Promise<SatSample> {
  const tag = `${layoutTag(layout)}.${roundTag(round, attempt)}.sat`;
  // An unmeasured second first: pools emptied by undici's idle timeouts fill up again, so the
  // measured seconds see the steady state.
  await saturate(ctx.tool, { url: rp.url, durationS: PRIME_S, connections: ctx.opts.connections, tag: `${tag}.prime`, cpus: loadCpus }, ctx.wrkScript);
  const tree = processTree(rp.proc.pid);
  const cpu0 = cpuSeconds(tree);
  const n0 = neighboursSeconds(ctx, rp);
  const m0 = machineReading();
  const r = await saturate(ctx.tool, { url: rp.url, durationS: ctx.opts.satDurationS, connections: ctx.opts.connections, tag, cpus: loadCpus }, ctx.wrkScript);
  const m1 = machineReading();
  const cpu = cpuSeconds(tree) - cpu0;
  const neighbours = (neighboursSeconds(ctx, rp) - n0) / r.durationS;
  return {
    layout,
    round,
    peer: peer.id,
    tag,
    rps: r.rps,
    requests: r.requests,
    errors: r.errors,
    cpuUsPerReq: r.requests > 0 ? (cpu * 1e6) / r.requests : NaN,
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    coreBusy: coreBusy(m0.cores, m1.cores),
    rssMiB: rssMiB(processTree(rp.proc.pid)),
    foreign: foreignShare(m0, m1),
    steal: stealShare(m0.cores, m1.cores),
    neighbours,
  };
}

interface Layouts {
  proxy: string | null;
  load: string | null;
}

/** Without taskset there is no pinned layout, and nothing to re-pin: null everywhere. */
function cpusOf(ctx: Ctx, layout: Layout): Layouts {
  if (!ctx.res.machine.taskset) return { proxy: null, load: null };
  return layout === 'pinned' ? { proxy: '0', load: '1' } : { proxy: ctx.allCpus, load: ctx.allCpus };
}

function pinTree(pid: number, cpus: string | null): void {
  if (cpus !== null) for (const p of processTree(pid)) pin(p, cpus);
}

/**
 * One set of processes for the whole run, re-pinned for each layout (`taskset -a -p`, every thread):
 * the peers warm up once, and a later layout does not pay start-up again.
 */
async function runAll(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const first = cpusOf(ctx, opts.layouts[0]!);
  if (first.load !== null) pin(process.pid, first.load);
  await quietMachine(ctx, opts.layouts[0]!);
  log(`starting upstreams, generator and ${ctx.peers.length} peers`);
  const loadProcs: Proc[] = [];
  const running = ctx.running;
  let generator: OpenLoopGenerator | null = null;
  try {
    const { upstreams, procs } = await startUpstreams(first.load);
    loadProcs.push(...procs);
    generator = await OpenLoopGenerator.start(first.load);
    loadProcs.push(generator.proc);
    // The generator's first seconds (JIT, connections) would otherwise land on the first peer measured.
    await generator.run({ url: upstreams.champion, rate: Math.max(...opts.rates), durationS: opts.warmupS, tag: 'gen.warm', connections: 128, drainMs: 1000 });
    for (const peer of ctx.peers) {
      running.set(peer.id, await peer.start({ upstreams, cpus: first.proxy, dir: path.join(ctx.tmp, peer.id), ccrouter: ctx.ccr }));
    }
    for (const peer of ctx.peers) {
      await saturate(ctx.tool, { url: running.get(peer.id)!.url, durationS: opts.warmupS, connections: opts.connections, tag: 'warm', cpus: first.load }, ctx.wrkScript);
      await sleep(SETTLE_MS);
    }
    log('warmed up');

    for (const [i, layout] of opts.layouts.entries()) {
      const cpus = cpusOf(ctx, layout);
      // The harness itself (and so wrk, which it starts) stays on the load side.
      if (cpus.load !== null) pin(process.pid, cpus.load);
      for (const p of loadProcs) if (p.running) pinTree(p.pid, cpus.load);
      for (const rp of running.values()) pinTree(rp.proc.pid, cpus.proxy);
      if (i > 0) await quietMachine(ctx, layout);
      await runRounds(ctx, layout, running, generator, layout === 'pinned' ? cpus.load : null);
      const slowPeer = ctx.peers.find((p) => p.id === 'ccr-slow');
      if (layout === 'pinned' && opts.rssSeconds > 0 && slowPeer) await rssSeries(ctx, slowPeer, upstreams, generator, cpus.proxy);
    }
  } finally {
    await stopPeers(ctx, running);
    await generator?.stop();
    await Promise.allSettled(loadProcs.map((p) => p.stop(2000)));
  }
}

async function runRounds(ctx: Ctx, layout: Layout, running: Map<string, RunningPeer>, generator: OpenLoopGenerator, loadCpus: string | null): Promise<void> {
  const { opts, res } = ctx;
  const L = layoutTag(layout);
  const latency = layout === 'pinned' || opts.unpinnedLatency;
  // Within a round the same figure is measured for every peer back to back (saturation of each peer,
  // then each rate for each peer), so that two peers' figures are seconds apart, not a whole peer's
  // battery of measurements: on a shared machine the speed drifts on that scale.
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? ctx.peers : [...ctx.peers].reverse();
    const tag = `${layout} round ${round}/${opts.rounds}`;
    for (const peer of order) {
      const rp = running.get(peer.id)!;
      if (!rp.proc.running) throw new Error(`${peer.id} exited during the run:\n${rp.proc.output}`);
      const sat = await lessDisturbed(ctx, `${peer.id} saturation`, (attempt) => measureSaturation(ctx, layout, round, peer, rp, loadCpus, attempt));
      res.sat.push(sat);
      await sleep(SETTLE_MS);
      const parts = [`${fmt(sat.rps)} req/s`, `${fmt(sat.cpuUsPerReq)} µs/req`, busy(sat.coreBusy), disturbed(sat), `idle peers ${Math.round(sat.neighbours * 100)}% of a core`];
      if (sat.errors > 0) parts.push(`${sat.errors} errors`);
      log(`${tag} ${peer.id.padEnd(13)} saturation ${parts.join(' | ')}`);
    }
    if (!latency) continue;
    for (const rate of opts.rates) {
      for (const peer of order) {
        const rp = running.get(peer.id)!;
        if (!rp.proc.running) throw new Error(`${peer.id} exited during the run:\n${rp.proc.output}`);
        const sample = await lessDisturbed(ctx, `${peer.id} @${rate}`, async (attempt): Promise<OlSample> => {
          const olTag = `${L}.${roundTag(round, attempt)}.ol${rate}`;
          const tree = processTree(rp.proc.pid);
          const cpu0 = cpuSeconds(tree);
          const m0 = machineReading();
          const result = await generator.run({ url: rp.url, rate, durationS: opts.olDurationS, tag: olTag, connections: 128, drainMs: 1000 });
          const m1 = machineReading();
          const cpuUsPerReq = result.completed > 0 ? ((cpuSeconds(tree) - cpu0) * 1e6) / result.completed : NaN;
          return { layout, round, peer: peer.id, rate, tag: olTag, result, cpuUsPerReq, rssMiB: rssMiB(processTree(rp.proc.pid)), coreBusy: coreBusy(m0.cores, m1.cores), foreign: foreignShare(m0, m1), steal: stealShare(m0.cores, m1.cores) };
        });
        res.ol.push(sample);
        const result = sample.result;
        log(`${tag} ${peer.id.padEnd(13)} @${rate} p50 ${fmt(result.latencyMs.p50, 2)} p99 ${result.unfinished > 0 ? '≥' : ''}${fmt(result.latencyMs.p99, 2)} ms${result.errors > 0 ? ` (${result.errors} errors)` : ''} | ${fmt(sample.cpuUsPerReq!)} µs/req | ${busy(sample.coreBusy!)} | ${disturbed(sample)}`);
        await sleep(SETTLE_MS);
      }
    }
  }
}

/**
 * The machine may be shared: wait (at most --wait-quiet seconds) until processes not started here
 * use under 10 % of the CPU, and say so in the results when they never did.
 */
async function quietMachine(ctx: Ctx, what: string, maxS = ctx.opts.waitQuietS, note = true): Promise<void> {
  const share = await waitQuiet(maxS, (s) => log(`${what}: other processes use ${Math.round(s * 100)} % of the CPU; waiting for a quiet machine`));
  if (share < 0.1 || !note) return;
  const text = `${what}: other processes used ${Math.round(share * 100)} % of the CPU when it started (waited ${maxS} s); see the "foreign CPU" column.`;
  ctx.res.notes.push(text);
  log(text);
}

/** Above this share of foreign CPU a measurement is taken again (once per --retries). */
const DISTURBED = 0.15;
/** Retries stop once they have taken this long in total: the run stays bounded on a busy machine. */
const RETRY_BUDGET_S = 120;

/** Measure; while other processes took over DISTURBED of the CPU, wait for quiet and measure again, keeping the least disturbed. */
/** `r2`, or `r2a3` for the third attempt: records of a measurement taken again keep their own tag. */
function roundTag(round: number, attempt: number): string {
  return attempt === 0 ? `r${round}` : `r${round}a${attempt + 1}`;
}

async function lessDisturbed<T extends { foreign: number }>(ctx: Ctx, what: string, measure: (attempt: number) => Promise<T>): Promise<T> {
  let best = await measure(0);
  for (let i = 0; i < ctx.opts.retries && best.foreign > DISTURBED; i++) {
    if (ctx.retrySpentMs > RETRY_BUDGET_S * 1000) {
      if (!ctx.budgetNoted) {
        ctx.budgetNoted = true;
        ctx.res.notes.push(`The ${RETRY_BUDGET_S} s budget for measuring disturbed runs again was spent: later disturbed measurements were kept as they were.`);
      }
      break;
    }
    log(`${what}: other processes took ${Math.round(best.foreign * 100)} % of the CPU; measuring again`);
    const t0 = Date.now();
    ctx.res.retried++;
    await quietMachine(ctx, what, 30, false);
    await sleep(SETTLE_MS);
    const again = await measure(i + 1);
    ctx.retrySpentMs += Date.now() - t0;
    if (again.foreign < best.foreign) best = again;
  }
  return best;
}

/** Stop the peers (ccrouter flushes its records on SIGTERM), then read ccrouter's shadow coverage. */
async function stopPeers(ctx: Ctx, running: Map<string, RunningPeer>): Promise<void> {
  await Promise.allSettled([...running.values()].map((rp) => rp.proc.stop(8000)));
  for (const [id, rp] of running) {
    if (rp.logDir === null) continue;
    const cov = await coverageByTag(rp.logDir);
    const into = (ctx.res.coverage[id] ??= {});
    for (const [tag, c] of cov) into[tag] = c;
  }
  running.clear();
}

async function rssSeries(ctx: Ctx, peer: PeerDef, upstreams: Upstreams, generator: OpenLoopGenerator, cpus: string | null): Promise<void> {
  const { opts } = ctx;
  const seconds = opts.rssSeconds;
  const intervalS = opts.rssIntervalS;
  await quietMachine(ctx, 'RSS series');
  log(`RSS series: fresh ${peer.id}, open loop ${opts.rssRate} req/s for ${seconds} s, RSS every ${intervalS} s`);
  const rp = await peer.start({ upstreams, cpus, dir: path.join(ctx.tmp, 'rss', peer.id), ccrouter: ctx.ccr });
  const samples: Array<{ tS: number; rssMiB: number }> = [];
  try {
    const t0 = Date.now();
    const m0 = machineReading();
    const run = generator.run({ url: rp.url, rate: opts.rssRate, durationS: seconds, tag: 'rss.run', connections: 128, drainMs: 1000 });
    for (let t = 0; t <= seconds; t += intervalS) {
      await sleep(Math.max(0, t0 + t * 1000 - Date.now()));
      const rss = rssMiB(processTree(rp.proc.pid));
      samples.push({ tS: t, rssMiB: rss });
      log(`RSS t=${t}s ${rss.toFixed(1)} MiB`);
    }
    const latency = await run;
    const m1 = machineReading();
    await rp.proc.stop(8000);
    const cov = rp.logDir === null ? null : (await coverageByTag(rp.logDir)).get('rss.run') ?? null;
    ctx.res.rss = {
      peer: peer.id,
      rate: opts.rssRate,
      seconds,
      intervalS,
      // A third of the series: the heap has found its size by then (the RSS series in docs/benchmarks.md).
      warmupS: Math.max(intervalS, Math.round(seconds / 3 / intervalS) * intervalS),
      samples,
      latency,
      coverage: cov,
      foreign: foreignShare(m0, m1),
      steal: stealShare(m0.cores, m1.cores),
    };
  } finally {
    await rp.proc.stop(8000);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseOptions(argv);
  if (opts.render !== null) {
    const saved = JSON.parse(fs.readFileSync(opts.render, 'utf8')) as RunResults;
    const md = renderMarkdown(saved);
    process.stdout.write(`${md}\n`);
    if (argv.includes('--docs')) writeDocs(DOCS, md);
    return;
  }
  const startedAt = new Date();
  const machine = describeMachine();
  const notes: string[] = [];
  if (opts.layouts.includes('pinned') && (machine.nproc < 2 || !machine.taskset)) {
    opts.layouts = opts.layouts.filter((l) => l !== 'pinned');
    notes.push(`Pinned layout skipped: it needs taskset and 2 cores (${machine.nproc} cores, taskset ${machine.taskset ? 'found' : 'missing'}).`);
  }
  if (opts.layouts.length === 0) throw new Error('no layout left to run');
  const tool: SaturationTool = opts.tool ?? defaultTool();
  if (tool === 'wrk' && !hasCommand('wrk')) throw new Error('--tool wrk: wrk is not on PATH');
  const ccr = ccrouterCommand(ROOT, opts.ccrouter);
  ccr.args = [...opts.nodeArgs, ...ccr.args];
  if (ccr.staleWarning) {
    notes.push(`ccrouter ran from dist/, but ${ccr.staleWarning}.`);
    log(`warning: ${ccr.staleWarning}`);
  }
  const { peers, skipped } = availablePeers(opts.peers);
  for (const s of skipped) log(`skipped ${s.peer.id}: ${s.reason}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-bench-'));
  cleanupDir = opts.keep ? null : tmp;

  const perPeer = PRIME_S + opts.satDurationS + SETTLE_MS / 1000 + 0.1;
  const perPeerLatency = opts.rates.length * (opts.olDurationS + SETTLE_MS / 1000 + 0.1);
  const estimate = opts.layouts.reduce(
    (a, l) => a + peers.length * opts.rounds * (perPeer + (l === 'pinned' || opts.unpinnedLatency ? perPeerLatency : 0)),
    5 + opts.warmupS + peers.length * (opts.warmupS + 1) + (opts.layouts.includes('pinned') && peers.some((p) => p.id === 'ccr-slow') ? opts.rssSeconds + 3 : 0),
  );
  log(`${peers.length} peers (${peers.map((p) => p.id).join(', ')}), layouts ${opts.layouts.join(' + ')}, ${opts.rounds} rounds, ${tool}; about ${Math.round(estimate / 60 * 10) / 10} min`);
  log(`ccrouter from ${ccr.build === 'dist' ? 'dist/cli.js' : 'src/cli.ts via tsx'}; temp dir ${tmp}`);

  const res: RunResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    elapsedS: 0,
    command: `npm run bench${argv.length > 0 ? ' -- ' + argv.join(' ') : ''}`,
    options: {
      rounds: opts.rounds,
      satDurationS: opts.satDurationS,
      olDurationS: opts.olDurationS,
      warmupS: opts.warmupS,
      rates: opts.rates,
      connections: opts.connections,
      layouts: opts.layouts,
      rssSeconds: opts.rssSeconds,
      rssIntervalS: opts.rssIntervalS,
      rssRate: opts.rssRate,
      quick: opts.quick,
      waitQuietS: opts.waitQuietS,
    },
    machine,
    tool,
    ccrouterBuild:
      (ccr.build === 'dist' ? '`dist/cli.js` (npm run build)' : 'the sources (`src/cli.ts` via tsx)') +
      (opts.nodeArgs.length > 0 ? ` with node flags \`${opts.nodeArgs.join(' ')}\`` : ''),
    peers: peers.map((p) => ({ id: p.id, label: p.label, what: p.what, ccrouter: p.ccrouter, slowChallenger: p.slowChallenger, shadow: p.shadow })),
    skipped: skipped.map((s) => ({ peer: s.peer.id, label: s.peer.label, reason: s.reason })),
    sat: [],
    ol: [],
    coverage: {},
    rss: null,
    notes,
    retried: 0,
  };
  const ctx: Ctx = { opts, tool, wrkScript: writeWrkScript(tmp), tmp, ccr, peers, res, allCpus: `0-${Math.max(0, machine.nproc - 1)}`, retrySpentMs: 0, budgetNoted: false, running: new Map() };

  await runAll(ctx);

  res.finishedAt = new Date().toISOString();
  res.elapsedS = (Date.now() - startedAt.getTime()) / 1000;
  const md = renderMarkdown(res);
  process.stdout.write(`\n${md}\n`);
  if (opts.json) {
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify(res, null, 2) + '\n');
    log(`raw samples written to ${opts.json}`);
  }
  if (opts.docs) {
    writeDocs(DOCS, md);
    log(`results written to ${path.relative(process.cwd(), DOCS)}`);
  }
}

let cleanupDir: string | null = null;
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= stopAll(3000).then(() => {
    if (cleanupDir !== null) fs.rmSync(cleanupDir, { recursive: true, force: true });
  });
  return cleaning;
}

process.on('exit', killAllSync);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process started here`);
    void cleanup().finally(() => process.exit(code));
  });
}

runMain(main, cleanup);
