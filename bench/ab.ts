/**
 * Two builds of ccrouter side by side: saturation throughput and CPU per request in alternating
 * rounds (A B, B A, …), pinned like the benchmark (ccrouter on core 0, wrk and the models on
 * core 1). For a change on the hot path: keep a copy of `dist/` from before it, build, and compare.
 *
 *   cp -r dist bench/results/dist-before && npm run build
 *   node --import tsx bench/ab.ts --a bench/results/dist-before --b dist --peer ccr-noshadow
 *
 * A build directory must lie inside the repository (its imports resolve through node_modules/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checked, count, flags, oneOf, positive, usageError } from './lib/args.js';
import { cpuSeconds, foreignShare, machineReading, pin, processTree, pinnedLayout, runWithProcesses, sleep, stopAll } from './lib/proc.js';
import { median } from './lib/stats.js';
import { defaultTool, saturate, writeWrkScript } from './load/saturate.js';
import { startCcrouter, type RunningCcrouter } from './peers/ccrouter.js';
import { startUpstream } from './peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = ['ccr-shadow', 'ccr-noshadow', 'ccr-slow'] as const;
const USAGE = `Usage: node --import tsx bench/ab.ts --a DIR [--b DIR] [options]

Saturates two builds of ccrouter in alternating rounds (pinned: ccrouter on core 0, wrk and the
models on core 1) and prints, per round and as the median of the paired ratios, throughput and
CPU per request of B against A.

  --a DIR             build to compare against, e.g. a copy of dist/ from before a change
                      (inside the repository, so that node_modules/ resolves)
  --b DIR             build to measure (default dist)
  --peer NAME         configuration, as in the benchmark: ${PEERS.join(', ')} (default ccr-noshadow)
  --rounds N          alternating rounds (default 6)
  --seconds S         measured seconds per run, after 1 s unmeasured (default 3)
  --connections N     saturation connections (default 50)
  -h, --help
`;
const values = flags(USAGE, {
  a: { type: 'string' },
  b: { type: 'string' },
  peer: { type: 'string' },
  rounds: { type: 'string' },
  seconds: { type: 'string' },
  connections: { type: 'string' },
});
const [A, B, PEER, ROUNDS, SECONDS, CONNECTIONS] = checked(
  () =>
    [
      build('--a', values.a),
      build('--b', values.b ?? 'dist'),
      oneOf('--peer', values.peer, PEERS, 'ccr-noshadow'),
      count('--rounds', values.rounds, 6),
      positive('--seconds', values.seconds, 3),
      count('--connections', values.connections, 50),
    ] as const,
);

/** `DIR/cli.js`, checked to exist. */
function build(name: string, dir: string | undefined): string {
  if (dir === undefined) usageError(`${name}: a build directory is required`);
  const cli = path.resolve(dir, 'cli.js');
  if (!fs.existsSync(cli)) usageError(`${name}: ${cli} does not exist`);
  if (path.relative(ROOT, cli).startsWith('..')) usageError(`${name}: ${dir} is outside the repository (${ROOT})`);
  return cli;
}

const tool = defaultTool();
const { pinned, proxy: PROXY_CPUS, load: LOAD_CPUS } = pinnedLayout();

interface Sample {
  rps: number;
  cpuUsPerReq: number;
  foreign: number;
}

async function main(tmp: string): Promise<void> {
  if (pinned) pin(process.pid, LOAD_CPUS!);
  const wrkScript = writeWrkScript(tmp);
  const champion = (await startUpstream('champion', 0, LOAD_CPUS)).url;
  const challenger = (await startUpstream('challenger', PEER === 'ccr-slow' ? 200 : 0, LOAD_CPUS)).url;
  const opts = { champion, challenger, shadow: PEER !== 'ccr-noshadow', challengerTimeoutMs: 1000, challengerFraction: PEER === 'ccr-slow' ? 0 : 0.1 };
  const peers: Record<'A' | 'B', RunningCcrouter> = {
    A: await startCcrouter('A', { command: process.execPath, args: [A], build: 'dist', staleWarning: null }, opts, path.join(tmp, 'a'), PROXY_CPUS),
    B: await startCcrouter('B', { command: process.execPath, args: [B], build: 'dist', staleWarning: null }, opts, path.join(tmp, 'b'), PROXY_CPUS),
  };
  process.stdout.write(`A = ${path.relative(ROOT, A)}, B = ${path.relative(ROOT, B)}; ${PEER}, ${pinned ? 'pinned' : 'unpinned'}, ${tool} ${CONNECTIONS} connections, ${SECONDS} s per run\n`);

  const measure = async (id: 'A' | 'B', round: number): Promise<Sample> => {
    const peer = peers[id];
    await saturate(tool, { url: peer.url, durationS: 1, connections: CONNECTIONS, tag: `ab.r${round}.${id}.warm`, cpus: LOAD_CPUS }, wrkScript);
    await sleep(200);
    const pids = processTree(peer.proc.pid);
    const cpu0 = cpuSeconds(pids);
    const m0 = machineReading();
    const r = await saturate(tool, { url: peer.url, durationS: SECONDS, connections: CONNECTIONS, tag: `ab.r${round}.${id}`, cpus: LOAD_CPUS }, wrkScript);
    const foreign = foreignShare(m0, machineReading());
    const s = { rps: r.rps, cpuUsPerReq: ((cpuSeconds(pids) - cpu0) * 1e6) / r.requests, foreign };
    process.stdout.write(`round ${round} ${id}: ${Math.round(s.rps).toLocaleString('en-US')} req/s, ${s.cpuUsPerReq.toFixed(1)} µs/req, foreign ${(foreign * 100).toFixed(0)} %${r.errors ? `, ${r.errors} errors` : ''}\n`);
    return s;
  };

  const rps: number[] = [];
  const cpu: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: Array<'A' | 'B'> = round % 2 === 1 ? ['A', 'B'] : ['B', 'A'];
    const got: Partial<Record<'A' | 'B', Sample>> = {};
    for (const id of order) got[id] = await measure(id, round);
    rps.push(got.B!.rps / got.A!.rps);
    cpu.push(got.B!.cpuUsPerReq / got.A!.cpuUsPerReq);
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(3)}× (rounds ${xs.map((x) => x.toFixed(2)).join(' ')})`;
  process.stdout.write(`\nB vs A, median of paired rounds: throughput ${fmt(rps)}; CPU per request ${fmt(cpu)}\n`);
  await stopAll(5000);
}

runWithProcesses('ccrouter-ab-', main);
