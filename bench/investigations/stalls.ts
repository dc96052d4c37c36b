/**
 * Where the slow requests of an open loop come from. Runs peers at a fixed rate (pinned like the
 * benchmark: peer on core 0; load generator and upstream models on core 1), with a probe preloaded in
 * every process (bench/investigations/loop-probe.mjs: event-loop lateness, what the main thread did meanwhile,
 * GC pauses) and the machine's steal time sampled here, then groups the slow requests into stalls and
 * gives each a cause: the machine (a process frozen, or a core stolen by the hypervisor, for half the
 * stall's worst latency or more), the peer itself (GC, own work, waiting for its core), the load
 * generator or the upstream models (whichever lost the most time):
 *
 *   node --import tsx bench/investigations/stalls.ts [--peers direct,ccr-noshadow,ccr-shadow] [--rate 1000]
 *                                     [--seconds 10] [--rounds 2] [--slow-ms 5] [--top 5] [--json FILE]
 *
 * Peers: direct, fastify-proxy, ccr-shadow, ccr-noshadow, ccr-slow (alternating, A B C … C B A).
 * "ran" is time a process's main thread was on a core, "waited" time it was runnable while another
 * thread, process or the hypervisor had the core, "frozen" neither (from /proc/thread-self/schedstat).
 * The p99 "without the stalls it did not cause" drops the slow requests of stalls caused elsewhere;
 * it is a diagnostic, not the benchmark's figure, and it cannot exceed --slow-ms when every slow
 * request is dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { checked, count, flags, listOf, positive } from '../lib/args.js';
import { CLOCK_TICKS, coreTimes, pin, pinnedLayout, runWithProcesses, sleep, stopAll, type Proc } from '../lib/proc.js';
import { quantile, median } from '../lib/stats.js';
import { type OpenLoopResult } from '../load/open-loop.js';
import { OpenLoopGenerator } from '../load/generator.js';
import { ccrouterCommand } from '../peers/ccrouter.js';
import { PEERS as PEER_DEFS, SLOW_DELAY_MS, startUpstream, type Upstreams } from '../peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loop-probe.mjs');
const PEER_IDS = ['direct', 'fastify-proxy', 'ccr-shadow', 'ccr-noshadow', 'ccr-slow'] as const;
type PeerId = (typeof PEER_IDS)[number];

const HELP = `Usage: node --import tsx bench/investigations/stalls.ts [options]

Runs each peer at a fixed open-loop rate (peer on core 0, load generator and models on core 1) with a
probe in every process, groups the slow requests into stalls, and gives each stall a cause: the
machine (a process frozen or a core stolen by the hypervisor), the peer itself (GC, own work, waiting
for its core), the load generator or the upstream models. Prints the worst stalls with what every
process did during them, and a summary per peer.

  --peers LIST    ${PEER_IDS.join(', ')} (default direct,ccr-noshadow,ccr-shadow)
  --rate N        requests per second (default 1000)
  --seconds S     seconds per measurement (default 10)
  --rounds N      alternating rounds (default 2)
  --slow-ms MS    a request slower than this is slow (default 5)
  --top N         stalls listed per measurement (default 5)
  --json FILE     also write every measurement and probe summary as JSON
  -h, --help
`;

const values = flags(HELP, {
  peers: { type: 'string' },
  rate: { type: 'string' },
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  'slow-ms': { type: 'string' },
  top: { type: 'string' },
  json: { type: 'string' },
});
const [PEERS, RATE, SECONDS, ROUNDS, SLOW_MS, TOP] = checked(
  () =>
    [
      listOf<PeerId>('--peers', values.peers, PEER_IDS, ['direct', 'ccr-noshadow', 'ccr-shadow']),
      positive('--rate', values.rate, 1000),
      positive('--seconds', values.seconds, 10),
      count('--rounds', values.rounds, 2),
      positive('--slow-ms', values['slow-ms'], 5),
      count('--top', values.top, 5),
    ] as const,
);
const { pinned, proxy: PROXY_CPUS, load: LOAD_CPUS } = pinnedLayout();

interface ProbeEvent {
  k: 'late' | 'gc' | 'steal';
  t: number;
  ms: number | number[];
  ranMs?: number;
  waitMs?: number;
  kind?: string;
}

/** A process with the probe in it, and where its probe writes. */
interface Probed {
  name: string;
  file: string;
}

function readProbe(file: string): ProbeEvent[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeEvent);
}

/**
 * What a process did during [from, to]: GC pauses, and how late its loop ran, split into time its
 * main thread ran, waited runnable for a core, and neither (frozen: the virtual core itself was not
 * running, i.e. hypervisor steal, or the thread was blocked in a system call).
 */
interface Activity {
  gcMs: number;
  gcMaxMs: number;
  gcKinds: Record<string, number>;
  lateMs: number;
  ranMs: number;
  waitMs: number;
  frozenMs: number;
}

function activity(events: ProbeEvent[], from: number, to: number): Activity {
  const a: Activity = { gcMs: 0, gcMaxMs: 0, gcKinds: {}, lateMs: 0, ranMs: 0, waitMs: 0, frozenMs: 0 };
  for (const e of events) {
    if (e.k === 'steal') continue;
    const ms = e.ms as number;
    // A late tick at t covers [t − lateness − period, t]; a GC pause covers [t, t + ms].
    const [s, f] = e.k === 'gc' ? [e.t, e.t + ms] : [e.t - ms - 2, e.t];
    if (f < from || s > to) continue;
    if (e.k === 'gc') {
      a.gcMs += ms;
      a.gcMaxMs = Math.max(a.gcMaxMs, ms);
      a.gcKinds[e.kind!] = (a.gcKinds[e.kind!] ?? 0) + 1;
    } else {
      a.lateMs += ms;
      a.ranMs += e.ranMs!;
      a.waitMs += e.waitMs!;
      a.frozenMs += Math.max(0, ms + 2 - e.ranMs! - e.waitMs!);
    }
  }
  return a;
}

/** Hypervisor steal per core during [from, to] (10 ms resolution, so the window is widened by 10 ms). */
function stealDuring(events: ProbeEvent[], from: number, to: number): number[] {
  const out: number[] = [];
  for (const e of events) {
    if (e.k !== 'steal' || e.t < from || e.t > to + 10) continue;
    (e.ms as number[]).forEach((v, i) => (out[i] = (out[i] ?? 0) + v));
  }
  return out;
}

function fmtActivity(a: Activity): string {
  const gc = a.gcMs > 0 ? `GC ${a.gcMs.toFixed(1)} ms (${Object.entries(a.gcKinds).map(([k, n]) => `${n} ${k}`).join(', ')}; max ${a.gcMaxMs.toFixed(1)})` : 'no GC';
  const late = a.lateMs > 0 ? `loop late ${a.lateMs.toFixed(1)} ms (ran ${a.ranMs.toFixed(1)}, waited ${a.waitMs.toFixed(1)}, frozen ${a.frozenMs.toFixed(1)})` : 'loop on time';
  return `${gc}; ${late}`;
}

interface Stall {
  /** Offset from the start of the measurement. */
  atMs: number;
  startWall: number;
  endWall: number;
  requests: number;
  maxMs: number;
}

/** Slow requests whose lifetimes touch (within 5 ms) form one stall. */
function findStalls(t: NonNullable<OpenLoopResult['timeline']>): Stall[] {
  const out: Stall[] = [];
  let cur: Stall | null = null;
  t.latencyMs.forEach((ms, i) => {
    if (ms <= SLOW_MS) return;
    const s = t.startWallMs + i * t.intervalMs;
    if (cur !== null && s <= cur.endWall + 5) {
      cur.endWall = Math.max(cur.endWall, s + ms);
      cur.requests++;
      cur.maxMs = Math.max(cur.maxMs, ms);
    } else {
      cur = { atMs: s - t.startWallMs, startWall: s, endWall: s + ms, requests: 1, maxMs: ms };
      out.push(cur);
    }
  });
  return out;
}

interface Running {
  proc: Proc;
  url: string;
  probe: Probed;
}

/** Start a process with the probe preloaded (`launch` gets the node flags to add). */
/**
 * Start a process with the probe preloaded (through NODE_OPTIONS, which the processes that `launch`
 * starts inherit). `idle`: its lateness timer starts off and is turned on (SIGUSR2) only while the
 * process is measured.
 */
async function startProbed<T>(name: string, dir: string, idle: boolean, launch: () => Promise<T>): Promise<{ started: T; probe: Probed }> {
  const file = path.join(dir, `probe-${name}.jsonl`);
  const saved = process.env.NODE_OPTIONS;
  const env = { CCR_PROBE_OUT: file, CCR_PROBE_IDLE: idle ? '1' : '0', NODE_OPTIONS: `${saved ?? ''} --import=${pathToFileURL(PROBE).href}`.trim() };
  Object.assign(process.env, env);
  try {
    return { started: await launch(), probe: { name, file } };
  } finally {
    delete process.env.CCR_PROBE_OUT;
    delete process.env.CCR_PROBE_IDLE;
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
}

async function upstream(name: string, delayMs: number, dir: string): Promise<Running> {
  const { started, probe } = await startProbed(name, dir, false, () => startUpstream(name, delayMs, LOAD_CPUS));
  return { proc: started.proc, url: started.url, probe };
}

/** A peer as the benchmark starts it (bench/peers), with the probe in it. */
async function startPeer(id: PeerId, dir: string, upstreams: Upstreams): Promise<Running> {
  const def = PEER_DEFS.find((p) => p.id === id)!;
  const ccrouter = ccrouterCommand(ROOT);
  if (ccrouter.staleWarning) process.stderr.write(`[stalls] warning: ${ccrouter.staleWarning}\n`);
  const { started, probe } = await startProbed(id, dir, true, () => def.start({ upstreams, cpus: PROXY_CPUS, dir: path.join(dir, id), ccrouter }));
  return { proc: started.proc, url: started.url, probe };
}

/** Who lost the most time during a stall. */
type Cause = 'machine' | 'peer: GC' | 'peer: own work' | 'peer: waiting for a core' | 'generator' | 'upstream models' | 'unexplained';
const CAUSES: Cause[] = ['machine', 'peer: GC', 'peer: own work', 'peer: waiting for a core', 'generator', 'upstream models', 'unexplained'];

interface AnalysedStall extends Stall {
  during: Record<string, Activity>;
  stealMs: number[];
  cause: Cause;
  sendLagMaxMs: number;
}

/**
 * A stall's cause: the machine when some process was frozen (neither running nor waiting to run), or
 * a core was stolen by the hypervisor, for at least half of the stall's worst latency; else the process
 * whose loop was late the longest (≥ 1 ms), and for the peer itself whether it was mostly in GC, running
 * its own code, or waiting for its core (its own other threads, or another process on it).
 */
function causeOf(peer: string, during: Record<string, Activity>, stealMs: number[], worstMs: number): Cause {
  const acts = Object.entries(during);
  if (Math.max(0, ...stealMs, ...acts.map(([, a]) => a.frozenMs)) >= worstMs / 2) return 'machine';
  const [name, a] = acts.reduce((best, cur) => (cur[1].lateMs + cur[1].gcMs > best[1].lateMs + best[1].gcMs ? cur : best));
  if (a.lateMs + a.gcMs < 1) return 'unexplained';
  if (name === 'generator') return 'generator';
  if (name !== peer) return 'upstream models';
  if (a.gcMs >= Math.max(a.ranMs, a.waitMs) / 2) return 'peer: GC';
  return a.ranMs >= a.waitMs ? 'peer: own work' : 'peer: waiting for a core';
}

interface Measurement {
  peer: PeerId;
  round: number;
  p50: number;
  p99: number;
  max: number;
  /** p99 without the slow requests of stalls the peer did not cause (a diagnostic, not the benchmark's figure). */
  p99Own: number;
  slow: number;
  /** Slow requests by their stall's cause. */
  byCause: Record<Cause, number>;
  errors: number;
  stalls: AnalysedStall[];
  /** Whole-run activity per process, and steal per core. */
  whole: Record<string, Activity>;
  stealMs: number[];
}

interface Raw {
  peer: PeerId;
  round: number;
  result: OpenLoopResult;
  processes: Probed[];
}

/** Hypervisor steal per core, sampled by this process every 10 ms (/proc/stat's unit) while it measures. */
function stealSampler(): { events: ProbeEvent[]; stop: () => void } {
  const toMs = 1000 / CLOCK_TICKS;
  const events: ProbeEvent[] = [];
  let prev = coreTimes();
  const timer = setInterval(() => {
    const cur = coreTimes();
    const d = cur.map((c, i) => (c.steal - (prev[i]?.steal ?? c.steal)) * toMs);
    prev = cur;
    if (d.some((v) => v > 0)) events.push({ k: 'steal', t: performance.timeOrigin + performance.now(), ms: d });
  }, 10);
  return { events, stop: () => clearInterval(timer) };
}

async function main(dir: string): Promise<void> {
  if (pinned) pin(process.pid, LOAD_CPUS!);
  // The generator is its own process, as in the benchmark, with the probe in it.
  const { started: generator, probe: generatorProbe } = await startProbed('generator', dir, false, () => OpenLoopGenerator.start(LOAD_CPUS));

  const champion = await upstream('champion', 0, dir);
  const challenger = await upstream('challenger', 0, dir);
  const slow = PEERS.includes('ccr-slow') ? await upstream('slow-challenger', SLOW_DELAY_MS, dir) : null;
  const up: Upstreams = { champion: champion.url, challenger: challenger.url, slow: slow?.url ?? challenger.url };
  const upstreams = [champion, challenger, ...(slow ? [slow] : [])];

  const running = new Map<PeerId, Running>();
  for (const id of PEERS) running.set(id, await startPeer(id, dir, up));
  process.stdout.write(`peers: ${PEERS.join(', ')}; ${RATE} req/s for ${SECONDS} s, ${ROUNDS} round(s); pinned: ${pinned}; slow > ${SLOW_MS} ms\n`);
  for (const id of PEERS) await generator.run({ url: running.get(id)!.url, rate: RATE, durationS: 3, tag: 'warm', drainMs: 1000 });

  // Measure everything first; the probe files are read afterwards, so that parsing them cannot
  // disturb a measurement.
  const steal = stealSampler();
  const raws: Raw[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? PEERS : [...PEERS].reverse();
    for (const id of order) {
      const peer = running.get(id)!;
      peer.proc.child.kill('SIGUSR2'); // its probe's timer on
      await sleep(300);
      const result = await generator.run({ url: peer.url, rate: RATE, durationS: SECONDS, tag: `st.r${round}`, drainMs: 2000, timeline: true });
      peer.proc.child.kill('SIGUSR2'); // and off
      process.stdout.write(`  ${id} round ${round}: p99 ${result.latencyMs.p99.toFixed(2)} ms\n`);
      raws.push({ peer: id, round, result, processes: [peer.probe, generatorProbe, ...upstreams.map((u) => u.probe)] });
    }
  }
  steal.stop();
  await sleep(600); // the probes flush every 250 ms
  await generator.stop();
  const events = new Map<string, ProbeEvent[]>();
  const eventsOf = (p: Probed) => events.get(p.name) ?? (events.set(p.name, readProbe(p.file)), events.get(p.name)!);
  const results = raws.map((r) => analyse(r, eventsOf, steal.events));
  for (const m of results) print(m);
  summary(results);
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ rate: RATE, seconds: SECONDS, slowMs: SLOW_MS, results }, null, 2));
  await stopAll(5000);
}

function analyse(raw: Raw, eventsOf: (p: Probed) => ProbeEvent[], stealEvents: ProbeEvent[]): Measurement {
  const r = raw.result;
  const t = r.timeline!;
  const from = t.startWallMs;
  const to = t.startWallMs + t.latencyMs.length * t.intervalMs;
  const whole = Object.fromEntries(raw.processes.map((p) => [p.name, activity(eventsOf(p), from, to)]));
  const byCause = Object.fromEntries(CAUSES.map((c) => [c, 0])) as Record<Cause, number>;
  const stalls = findStalls(t)
    .sort((a, b) => b.maxMs - a.maxMs)
    .map((s): AnalysedStall => {
      const i0 = Math.max(0, Math.floor((s.startWall - t.startWallMs) / t.intervalMs));
      const i1 = Math.min(t.lagMs.length, Math.ceil((s.endWall - t.startWallMs) / t.intervalMs));
      const during = Object.fromEntries(raw.processes.map((p) => [p.name, activity(eventsOf(p), s.startWall - 2, s.endWall)]));
      const stealMs = stealDuring(stealEvents, s.startWall, s.endWall);
      const cause = causeOf(raw.peer, during, stealMs, s.maxMs);
      byCause[cause] += s.requests;
      return { ...s, during, stealMs, cause, sendLagMaxMs: Math.max(0, ...t.lagMs.slice(i0, i1)) };
    });
  // Drop the slow requests of stalls that something else than the peer caused.
  const elsewhere = stalls.filter((s) => !s.cause.startsWith('peer') && s.cause !== 'unexplained');
  const own = t.latencyMs.filter((ms, i) => {
    if (ms <= SLOW_MS) return true;
    const at = t.startWallMs + i * t.intervalMs;
    return !elsewhere.some((s) => at >= s.startWall && at <= s.endWall);
  });
  return {
    peer: raw.peer,
    round: raw.round,
    p50: r.latencyMs.p50,
    p99: r.latencyMs.p99,
    max: r.latencyMs.max,
    p99Own: quantile(own, 0.99),
    slow: t.latencyMs.filter((x) => x > SLOW_MS).length,
    byCause,
    errors: r.errors + r.unfinished,
    stalls,
    whole,
    stealMs: stealDuring(stealEvents, from, to),
  };
}

const fmtSteal = (ms: number[]) => (ms.some((v) => v > 0) ? `steal ${ms.map((v, i) => `core ${i} ${v} ms`).join(', ')}` : 'no steal');

function print(m: Measurement): void {
  const w = (s: string) => process.stdout.write(s + '\n');
  w(`\n${m.peer} round ${m.round}: p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms (${m.p99Own.toFixed(2)} without the stalls it did not cause), max ${m.max.toFixed(1)} ms; ${m.slow} slow request(s) in ${m.stalls.length} stall(s); ${m.errors} error(s); ${fmtSteal(m.stealMs)}`);
  for (const [name, a] of Object.entries(m.whole)) w(`  whole run, ${name.padEnd(16)} ${fmtActivity(a)}`);
  for (const s of m.stalls.slice(0, TOP)) {
    w(`  stall at +${(s.atMs / 1000).toFixed(2)} s, ${(s.endWall - s.startWall).toFixed(1)} ms long: ${s.requests} slow request(s), worst ${s.maxMs.toFixed(1)} ms; cause: ${s.cause}; generator send lag max ${s.sendLagMaxMs.toFixed(1)} ms; ${fmtSteal(s.stealMs)}`);
    for (const [name, a] of Object.entries(s.during)) if (a.gcMs > 0 || a.lateMs > 0) w(`    ${name.padEnd(16)} ${fmtActivity(a)}`);
  }
}

/** Per peer, over rounds: p99s, slow requests by cause, and the p99 without the stalls it did not cause. */
function summary(results: Measurement[]): void {
  const w = (s: string) => process.stdout.write(s + '\n');
  w(`\nSummary over ${ROUNDS} round(s) at ${RATE} req/s (added: paired with direct's same round, median)`);
  const direct = (m: Measurement) => results.find((d) => d.peer === 'direct' && d.round === m.round);
  for (const id of PEERS) {
    const ms = results.filter((r) => r.peer === id);
    const slow = ms.reduce((a, m) => a + m.slow, 0);
    const pct = (x: number) => (slow > 0 ? `${((x / slow) * 100).toFixed(0)} %` : '—');
    const added = (f: (m: Measurement) => number) => (id === 'direct' || !PEERS.includes('direct') ? '' : `, added ${median(ms.map((m) => f(m) - f(direct(m)!))).toFixed(2)} ms`);
    const list = (f: (m: Measurement) => number) => ms.map((m) => f(m).toFixed(2)).join(' / ');
    w(`  ${id}: p99 ${list((m) => m.p99)} ms${added((m) => m.p99)}`);
    w(`    without the stalls it did not cause: p99 ${list((m) => m.p99Own)} ms${added((m) => m.p99Own)}`);
    w(`    ${slow} slow request(s) by cause: ${CAUSES.map((c) => `${c} ${pct(ms.reduce((a, m) => a + m.byCause[c], 0))}`).join(', ')}`);
  }
}

runWithProcesses('ccrouter-stalls-', main);
