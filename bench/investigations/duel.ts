/**
 * Two peers saturated at the same time on the same core: a comparison of CPU per request that the
 * machine's slow phases cannot bias. Both peers share the proxy core (core 0), each is driven by
 * its own wrk on the load core, and both runs start and stop together, so a stall of the host or a
 * noisy neighbour hits both alike. The scheduler shares the core between the two busy processes,
 * so each one's CPU per request (its CPU time ÷ its answers) is measured under the same conditions;
 * the throughput each gets follows from that share.
 *
 *   node --import tsx bench/investigations/duel.ts --a fastify-proxy --b ccr-noshadow --rounds 8
 *
 * Two builds of ccrouter, for a change on the hot path (a build directory must lie inside the
 * repository, so that its imports resolve through node_modules/):
 *
 *   cp -r dist bench/results/dist-before && npm run build   # after the change
 *   node --import tsx bench/investigations/duel.ts --a ccr-noshadow --a-build bench/results/dist-before --b ccr-noshadow
 *
 * The slow challenger (ccr-slow): sharing the core halves each peer's rate and so the shadow calls
 * in flight, which set that peer's extra cost; a longer delay keeps about as many in flight as alone
 * (how long: docs/benchmarks.md, "The slow challenger side by side"; the shadow coverage printed per
 * round shows where `shadowLimit` was reached):
 *
 *   node --import tsx bench/investigations/duel.ts --a ccr-slow --a-build bench/results/dist-before --b ccr-slow --slow-delay 300
 *
 * This is a diagnostic, not the benchmark's method: `npm run bench` measures each peer alone.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checked, count, flags, nodeFlags, oneOf, positive, usageError } from '../lib/args.js';
import { cpuSeconds, foreignShare, machineReading, pin, pinnedLayout, processTree, runWithProcesses, sleep, stopAll } from '../lib/proc.js';
import { coverageByTag } from '../lib/coverage.js';
import { median } from '../lib/stats.js';
import { defaultTool, saturate, writeWrkScript } from '../load/saturate.js';
import { ccrouterBuild, ccrouterCommand, type CcrouterCommand } from '../peers/ccrouter.js';
import { availablePeers, PEERS, SLOW_DELAY_MS, startUpstreams, type RunningPeer } from '../peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const IDS = PEERS.map((p) => p.id);
const USAGE = `Usage: node --import tsx bench/investigations/duel.ts --a PEER --b PEER [options]

Saturates two peers at the same time, both on the proxy core (wrk and the models on the other
core), and prints per round and as the median of the rounds each one's CPU per request and
throughput, and B against A.

  --a PEER            reference peer: ${IDS.join(', ')}
  --b PEER            peer to measure against it (the same as --a with another build)
  --a-build DIR       the ccrouter build A's ccrouter peer runs (default: dist/, or the sources)
  --b-build DIR       the same for B, e.g. a copy of dist/ from before a change (inside the repository)
  --a-node-args=ARGS  node flags for A's ccrouter, e.g. --a-node-args=--max-semi-space-size=64
  --b-node-args=ARGS  the same for B
  --rounds N          rounds; the peer started first alternates (default 6)
  --seconds S         measured seconds per round, after 1 s unmeasured (default 5)
  --connections N     saturation connections per peer (default 50)
  --slow-delay MS     the slow challenger's delay (default ${SLOW_DELAY_MS}); each peer gets about half the rate
                      it has alone, so 300-400 keeps about as many shadow calls in flight as alone
  -h, --help
`;
const values = flags(USAGE, {
  a: { type: 'string' },
  b: { type: 'string' },
  'a-build': { type: 'string' },
  'b-build': { type: 'string' },
  'a-node-args': { type: 'string', default: '' },
  'b-node-args': { type: 'string', default: '' },
  rounds: { type: 'string' },
  seconds: { type: 'string' },
  connections: { type: 'string' },
  'slow-delay': { type: 'string' },
});
const [SIDES, ROUNDS, SECONDS, CONNECTIONS, SLOW_DELAY] = checked(() => {
  if (values.a === undefined) usageError('--a: a peer is required');
  if (values.b === undefined) usageError('--b: a peer is required');
  const side = (s: 'A' | 'B', id: string, dir: string | undefined, nodeArgs: string): Side => {
    const cmd = build(`--${s.toLowerCase()}-build`, dir);
    const node = nodeFlags(nodeArgs);
    const label = [id, dir === undefined ? '' : `(${dir})`, node.join(' ')].filter(Boolean).join(' ');
    return { side: s, id, ccrouter: { ...cmd, args: [...node, ...cmd.args] }, label };
  };
  const a = side('A', oneOf('--a', values.a, IDS, IDS[0]!), values['a-build'], values['a-node-args']);
  const b = side('B', oneOf('--b', values.b, IDS, IDS[0]!), values['b-build'], values['b-node-args']);
  if (a.id === b.id && a.ccrouter.args.join(' ') === b.ccrouter.args.join(' ')) usageError(`--b: the same peer, build and node flags as --a (${a.id})`);
  return [
    [a, b] as Side[],
    count('--rounds', values.rounds, 6),
    positive('--seconds', values.seconds, 5),
    count('--connections', values.connections, 50),
    positive('--slow-delay', values['slow-delay'], SLOW_DELAY_MS),
  ] as const;
});

interface Side {
  side: 'A' | 'B';
  id: string;
  ccrouter: CcrouterCommand;
  label: string;
}

/** The build `dir` (see ccrouterBuild); without it, the repository's own. */
function build(name: string, dir: string | undefined): CcrouterCommand {
  return dir === undefined ? ccrouterCommand(ROOT) : ccrouterBuild(ROOT, name, dir);
}

const tool = defaultTool();
const { pinned, proxy: PROXY_CPUS, load: LOAD_CPUS } = pinnedLayout();

interface Sample {
  rps: number;
  cpuUsPerReq: number;
  /** Share of one core this peer got. */
  share: number;
}

async function main(tmp: string): Promise<void> {
  const { peers, skipped } = availablePeers(SIDES.map((s) => s.id));
  if (skipped.length > 0) usageError(skipped.map((s) => `${s.peer.id}: ${s.reason}`).join('; '));
  if (LOAD_CPUS !== null) pin(process.pid, LOAD_CPUS);
  const wrkScript = writeWrkScript(tmp);
  const { upstreams } = await startUpstreams(LOAD_CPUS, SLOW_DELAY);
  for (const s of SIDES) if (s.ccrouter.staleWarning) process.stderr.write(`warning: ${s.ccrouter.staleWarning}\n`);
  const running: Record<string, RunningPeer> = {};
  for (const s of SIDES) {
    const peer = peers.find((p) => p.id === s.id)!;
    running[s.side] = await peer.start({ upstreams, cpus: PROXY_CPUS, dir: path.join(tmp, s.side), ccrouter: s.ccrouter });
  }
  const slow = peers.some((p) => p.slowChallenger) ? `, slow challenger ${SLOW_DELAY} ms` : '';
  process.stdout.write(`A = ${SIDES[0]!.label}, B = ${SIDES[1]!.label}; ${pinned ? 'both on core ' + PROXY_CPUS : 'unpinned'}, ${tool} ${CONNECTIONS} connections each, ${SECONDS} s per round${slow}\n`);

  const both = (order: Side[], durationS: number, tag: string) =>
    Promise.all(order.map((s) => saturate(tool, { url: running[s.side]!.url, durationS, connections: CONNECTIONS, tag: `${tag}.${s.side}`, cpus: LOAD_CPUS }, wrkScript)));

  const ratios = { cpu: [] as number[], rps: [] as number[] };
  const cpuOf: Record<string, number[]> = { A: [], B: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? SIDES : [...SIDES].reverse();
    await both(order, 1, `duel.r${round}.warm`);
    await sleep(200);
    const pids = Object.fromEntries(order.map((s) => [s.side, processTree(running[s.side]!.proc.pid)]));
    const cpu0 = Object.fromEntries(order.map((s) => [s.side, cpuSeconds(pids[s.side]!)]));
    const m0 = machineReading();
    const t0 = performance.now();
    const results = await both(order, SECONDS, `duel.r${round}`);
    const wallS = (performance.now() - t0) / 1000;
    const foreign = foreignShare(m0, machineReading());
    const got: Record<string, Sample> = {};
    for (const [i, s] of order.entries()) {
      const r = results[i]!;
      const cpu = cpuSeconds(pids[s.side]!) - cpu0[s.side]!;
      got[s.side] = { rps: r.rps, cpuUsPerReq: (cpu * 1e6) / r.requests, share: cpu / wallS };
      if (r.errors) process.stdout.write(`round ${round} ${s.side}: ${r.errors} errors\n`);
    }
    const line = SIDES.map((s) => `${s.side} ${Math.round(got[s.side]!.rps).toLocaleString('en-US')} req/s, ${got[s.side]!.cpuUsPerReq.toFixed(1)} µs/req, ${(got[s.side]!.share * 100).toFixed(0)} % of a core`);
    process.stdout.write(`round ${round}: ${line.join(' | ')} | foreign ${(foreign * 100).toFixed(0)} %\n`);
    for (const s of SIDES) cpuOf[s.side]!.push(got[s.side]!.cpuUsPerReq);
    ratios.cpu.push(got.B!.cpuUsPerReq / got.A!.cpuUsPerReq);
    ratios.rps.push(got.B!.rps / got.A!.rps);
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(3)}× (rounds ${xs.map((x) => x.toFixed(2)).join(' ')})`;
  process.stdout.write(`\nCPU per request, median of the rounds: A ${median(cpuOf.A!).toFixed(1)} µs, B ${median(cpuOf.B!).toFixed(1)} µs\n`);
  process.stdout.write(`B vs A, median of the paired rounds:\n`);
  process.stdout.write(`  CPU per request          ${fmt(ratios.cpu)}\n`);
  process.stdout.write(`  A's CPU ÷ B's            ${fmt(ratios.cpu.map((x) => 1 / x))}  (B's throughput against A's, each alone on the core)\n`);
  process.stdout.write(`  throughput side by side  ${fmt(ratios.rps)}  (follows the scheduler's split of the core as well)\n`);
  await stopAll(5000);
  // Records are complete once the peers have stopped. A peer that skipped shadow calls did less work.
  for (const s of SIDES) {
    const logDir = running[s.side]!.logDir;
    if (logDir === null) continue;
    const cov = await coverageByTag(logDir);
    const rounds = Array.from({ length: ROUNDS }, (_, i) => cov.get(`duel.r${i + 1}.${s.side}`));
    const pct = rounds.map((c) => (c === undefined || c.records === 0 ? '—' : `${((100 * c.covered) / c.records).toFixed(1)} %`));
    process.stdout.write(`shadow coverage of ${s.side} per round: ${pct.join(' ')}\n`);
  }
}

runWithProcesses('ccrouter-duel-', main);
