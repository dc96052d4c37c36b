/**
 * Where a peer spends its time under saturation: a CPU profile (`node --cpu-prof`) summarized by
 * self time per function and per file/package, then a shorter run under `--trace-gc-nvp` summarized
 * as GC pause statistics and bytes allocated and kept by scavenges per request. Pinned like the
 * benchmark (peer on core 0, wrk and upstreams on core 1).
 *
 *   node --import tsx bench/investigations/profile.ts [--peer ccr-shadow] [--seconds 10] [--gc-seconds 5] [--top 25] [--out DIR]
 *                                      [--node-args=--max-semi-space-size=32]
 *
 * The .cpuprofile goes to DIR (default bench/results/profile, git-ignored).
 *
 * Peers: ccr-shadow, ccr-noshadow, ccr-slow, fastify-proxy. Needs wrk (else autocannon) and taskset.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checked, count, flags, nodeFlags, oneOf, positive } from '../lib/args.js';
import { cpuSeconds, pin, processTree, pinnedLayout, runWithProcesses, sleep, start, stopAll, type Proc } from '../lib/proc.js';
import { quantile } from '../lib/stats.js';
import { defaultTool, saturate, writeWrkScript } from '../load/saturate.js';
import { ccrouterCommand, startCcrouter } from '../peers/ccrouter.js';
import { SLOW_DELAY_MS, startUpstream } from '../peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const PEER_IDS = ['ccr-shadow', 'ccr-noshadow', 'ccr-slow', 'fastify-proxy'] as const;
const USAGE = `Usage: node --import tsx bench/investigations/profile.ts [options]

Saturates one peer (pinned: peer on core 0, wrk and the models on core 1) twice: under --cpu-prof,
printing self time per function and per file or package, then under --trace-gc-nvp, printing GC
pauses and bytes allocated and kept per request.

  --peer NAME         ${PEER_IDS.join(', ')} (default ccr-shadow)
  --seconds S         length of the profiled run (default 10)
  --gc-seconds S      length of the GC-traced run (default 5)
  --top N             functions listed (default 25)
  --connections N     saturation connections (default 50)
  --out DIR           where the .cpuprofile goes (default bench/results/profile, git-ignored)
  --ccrouter HOW      auto | dist | tsx (default auto)
  --node-args ARGS    extra node flags for the peer, e.g. "--max-semi-space-size=32"
  -h, --help
`;
const values = flags(USAGE, {
  peer: { type: 'string' },
  seconds: { type: 'string' },
  'gc-seconds': { type: 'string' },
  top: { type: 'string' },
  out: { type: 'string' },
  connections: { type: 'string' },
  ccrouter: { type: 'string' },
  'node-args': { type: 'string', default: '' },
});
const [PEER, SECONDS, GC_SECONDS, TOP, CONNECTIONS, CCROUTER] = checked(
  () =>
    [
      oneOf('--peer', values.peer, PEER_IDS, 'ccr-shadow'),
      positive('--seconds', values.seconds, 10),
      positive('--gc-seconds', values['gc-seconds'], 5),
      count('--top', values.top, 25),
      count('--connections', values.connections, 50),
      oneOf('--ccrouter', values.ccrouter, ['auto', 'dist', 'tsx'] as const, 'auto'),
    ] as const,
);
/** Extra node flags for the peer (to try V8 settings). */
const NODE_ARGS = nodeFlags(values['node-args']);

const tool = defaultTool();
const { pinned, proxy: PROXY_CPUS, load: LOAD_CPUS } = pinnedLayout();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** `node:internal/...` → node core; `.../node_modules/@scope/pkg/...` → the package; ccrouter's own files relative. */
function bucketOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return url.startsWith('node:internal/') ? 'node:internal/' + url.slice(14).split('/')[0] : url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.relative(ROOT, file) || file;
}

/**
 * Self time per function and per file over the samples taken in [fromUs, toUs] (V8's profile clock
 * and process.hrtime are both CLOCK_MONOTONIC), as % of busy time and as µs per request.
 */
function summarizeProfile(profile: CpuProfile, fromUs: number, toUs: number, requests: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i]!;
    // A sample's delta is the time since the previous one: attribute it to this sample.
    const us = profile.timeDeltas[i] ?? 0;
    if (byId.get(id)!.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    self.set(id, (self.get(id) ?? 0) + us);
  }
  let total = 0;
  for (const v of self.values()) total += v;
  process.stdout.write(`\nmeasured window: ${((toUs - fromUs) / 1e6).toFixed(1)} s, busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s, ${requests} requests: ${(total / requests).toFixed(0)} µs busy per request\n`);
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const bucket = bucketOf(url, functionName);
    const name = `${functionName || '(anonymous)'}  ${bucket}${url ? ':' + (lineNumber + 1) : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    files.set(bucket, (files.get(bucket) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title} (self time: % of busy time, µs per request)\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      process.stdout.write(`  ${((v / total) * 100).toFixed(1).padStart(5)} %  ${(v / requests).toFixed(1).padStart(6)} µs  ${k}\n`);
    }
  };
  print('Top functions', fns);
  print('By file / package', files);
}

interface GcEvent {
  kind: string;
  pauseMs: number;
  /** Bytes allocated since the previous GC, and bytes a scavenge kept (copied within or promoted out of new space). */
  allocated: number;
  survived: number;
}

const GC_KINDS: Record<string, string> = { s: 'Scavenge', mc: 'Mark-Compact', ms: 'Mark-Sweep', mmc: 'Minor Mark-Compact' };

/** A `--trace-gc-nvp` line: `[pid:0x…]  1234 ms: pause=1.3 mutator=… gc=s … allocated=… promoted=… new_space_survived=…`. */
function parseGcLine(line: string): GcEvent | null {
  const at = line.indexOf('pause=');
  if (at < 0) return null;
  const f = new Map<string, string>();
  for (const kv of line.slice(at).split(' ')) {
    const i = kv.indexOf('=');
    if (i > 0) f.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const gc = f.get('gc');
  if (gc === undefined) return null;
  const scavenge = gc === 's';
  return {
    kind: GC_KINDS[gc] ?? gc,
    pauseMs: Number(f.get('pause')),
    allocated: Number(f.get('allocated') ?? 0),
    survived: scavenge ? Number(f.get('promoted') ?? 0) + Number(f.get('new_space_survived') ?? 0) : 0,
  };
}

function summarizeGc(events: GcEvent[], wallMs: number, requests: number): void {
  process.stdout.write(`\nGC during the measured ${(wallMs / 1000).toFixed(1)} s (--trace-gc-nvp)\n`);
  const kinds = new Map<string, number[]>();
  for (const e of events) kinds.set(e.kind, [...(kinds.get(e.kind) ?? []), e.pauseMs]);
  let all = 0;
  for (const [kind, pauses] of kinds) {
    const sum = pauses.reduce((a, b) => a + b, 0);
    all += sum;
    process.stdout.write(
      `  ${kind.padEnd(20)} n=${String(pauses.length).padStart(5)}  total ${sum.toFixed(0).padStart(6)} ms  p50 ${quantile(pauses, 0.5).toFixed(2)}  p99 ${quantile(pauses, 0.99).toFixed(2)}  max ${Math.max(...pauses).toFixed(2)} ms\n`,
    );
  }
  process.stdout.write(`  all pauses: ${all.toFixed(0)} ms = ${((all / wallMs) * 100).toFixed(1)} % of wall time\n`);
  if (requests > 0) {
    const allocated = events.reduce((a, e) => a + e.allocated, 0);
    const survived = events.reduce((a, e) => a + e.survived, 0);
    process.stdout.write(
      `  per request: ${(allocated / requests / 1024).toFixed(1)} KiB allocated, ${(survived / requests / 1024).toFixed(2)} KiB kept by scavenges (copied or promoted; what makes them slow)\n`,
    );
  }
}

async function startPeer(nodeArgs: string[], dir: string, champion: string, challenger: string): Promise<{ proc: Proc; url: string }> {
  if (PEER === 'fastify-proxy') {
    const script = path.join(ROOT, 'bench', 'peers', 'fastify-proxy.mjs');
    const { proc, match } = await start(PEER, process.execPath, [...nodeArgs, script, '--upstream', champion], { cpus: PROXY_CPUS, ready: /listening on (http:\/\/\S+)/ });
    return { proc, url: match! };
  }
  const cmd = ccrouterCommand(ROOT, CCROUTER);
  if (cmd.staleWarning) process.stderr.write(`[profile] warning: ${cmd.staleWarning}\n`);
  const r = await startCcrouter(PEER, cmd, { champion, challenger, shadow: PEER !== 'ccr-noshadow', challengerTimeoutMs: 1000, challengerFraction: PEER === 'ccr-slow' ? 0 : 0.1 }, dir, PROXY_CPUS, nodeArgs);
  return { proc: r.proc, url: r.url };
}

async function main(tmp: string): Promise<void> {
  // The profile outlives the run (git-ignored by default); the rest (configs, records) does not.
  const out = path.resolve(values.out ?? path.join(ROOT, 'bench', 'results', 'profile'));
  fs.mkdirSync(out, { recursive: true });
  if (pinned) pin(process.pid, LOAD_CPUS!);
  const wrkScript = writeWrkScript(tmp);
  const up = async (name: string, delay: number) => (await startUpstream(name, delay, LOAD_CPUS)).url;
  const champion = await up('champion', 0);
  const challenger = await up('challenger', PEER === 'ccr-slow' ? SLOW_DELAY_MS : 0);
  const load = (url: string, seconds: number, tag: string) => saturate(tool, { url, durationS: seconds, connections: CONNECTIONS, tag, cpus: LOAD_CPUS }, wrkScript);

  // 1. CPU profile.
  const profDir = path.join(out, `cpu-${PEER}-${Date.now()}`);
  const peer = await startPeer([...NODE_ARGS, '--cpu-prof', '--cpu-prof-dir', profDir], path.join(tmp, 'prof'), champion, challenger);
  await load(peer.url, 2, 'prof.warm');
  await sleep(300);
  const cpu0 = cpuSeconds(processTree(peer.proc.pid));
  const from = Number(process.hrtime.bigint() / 1000n);
  const r = await load(peer.url, SECONDS, 'prof.sat');
  const to = Number(process.hrtime.bigint() / 1000n);
  const cpu = cpuSeconds(processTree(peer.proc.pid)) - cpu0;
  await peer.proc.stop(15_000);
  const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f))[0];
  process.stdout.write(`${PEER} under --cpu-prof: ${r.rps.toFixed(0)} req/s, ${((cpu * 1e6) / r.requests).toFixed(0)} µs CPU/req, ${r.errors} errors (profiling slows it down)\n`);
  if (file) {
    process.stdout.write(`profile: ${file} (open in Chrome DevTools › Performance)\n`);
    summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, from, to, r.requests);
  } else process.stdout.write('no .cpuprofile written (did the process exit cleanly?)\n');

  // 2. GC trace.
  const gcPeer = await startPeer([...NODE_ARGS, '--trace-gc-nvp'], path.join(tmp, 'gc'), champion, challenger);
  const events: GcEvent[] = [];
  let measuring = false;
  let partial = '';
  gcPeer.proc.child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    if (!measuring) return;
    for (const line of lines) {
      const e = parseGcLine(line);
      if (e) events.push(e);
    }
  });
  await load(gcPeer.url, 2, 'gc.warm');
  await sleep(300);
  measuring = true;
  const t0 = Date.now();
  const g = await load(gcPeer.url, GC_SECONDS, 'gc.sat');
  const wall = Date.now() - t0;
  measuring = false;
  process.stdout.write(`\n${PEER} under --trace-gc-nvp: ${g.rps.toFixed(0)} req/s, wrk p50 ${g.latencyMs.p50.toFixed(2)} ms, p99 ${g.latencyMs.p99.toFixed(2)} ms`);
  summarizeGc(events, wall, g.requests);
  await stopAll(5000);
}

runWithProcesses('ccrouter-profile-', main);
