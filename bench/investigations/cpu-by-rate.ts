/**
 * What a request costs a peer at each rate: user and system CPU per request, and context switches per
 * request, at fixed open-loop rates and at saturation, pinned like the benchmark (peer on core 0; load
 * generator, wrk and upstream models on core 1). A process that sleeps between requests pays for
 * going to sleep and waking up on every few requests; at saturation it never sleeps. How much that
 * costs depends on the machine (docs/benchmarks.md, "What a request costs at a fixed rate"):
 *
 *   node --import tsx bench/investigations/cpu-by-rate.ts [--peers direct,fastify-proxy,ccr-noshadow,ccr-shadow]
 *                                          [--rates 300,1000,3000] [--seconds 3] [--rounds 2]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checked, count, flags, listOf, numberList, positive } from '../lib/args.js';
import { CLOCK_TICKS, hasCommand, pin, processTree, readStat, pinnedLayout, runWithProcesses, sleep } from '../lib/proc.js';
import { median } from '../lib/stats.js';
import { OpenLoopGenerator } from '../load/generator.js';
import { defaultTool, saturate, writeWrkScript } from '../load/saturate.js';
import { ccrouterCommand } from '../peers/ccrouter.js';
import { PEERS, SLOW_DELAY_MS, startUpstream, type RunningPeer, type Upstreams } from '../peers/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PEER_IDS = ['direct', 'fastify-proxy', 'ccr-noshadow', 'ccr-shadow', 'ccr-slow'] as const;
type PeerId = (typeof PEER_IDS)[number];

const USAGE = `Usage: node --import tsx bench/investigations/cpu-by-rate.ts [options]

Measures each peer's user and system CPU per request and its context switches per request at fixed
open-loop rates and at saturation (wrk, 50 connections), pinned: peer on core 0, load and models on
core 1. Rounds alternate the peers; the table gives medians over rounds.

  --peers LIST    ${PEER_IDS.join(', ')} (default direct,fastify-proxy,ccr-noshadow,ccr-shadow)
  --rates LIST    open-loop rates in req/s (default 300,1000,3000)
  --seconds S     seconds per measurement (default 3)
  --rounds N      alternating rounds (default 2)
  --syscalls R    then count each peer's system calls per request at R req/s under strace -c (slows the
                  peer down; needs strace)
  -h, --help
`;

const values = flags(USAGE, { peers: { type: 'string' }, rates: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, syscalls: { type: 'string' } });
const [PEER_LIST, RATES, SECONDS, ROUNDS, SYSCALLS_RATE] = checked(
  () =>
    [
      listOf<PeerId>('--peers', values.peers, PEER_IDS, ['direct', 'fastify-proxy', 'ccr-noshadow', 'ccr-shadow']),
      numberList('--rates', values.rates, [300, 1000, 3000]),
      positive('--seconds', values.seconds, 3),
      count('--rounds', values.rounds, 2),
      values.syscalls === undefined ? null : positive('--syscalls', values.syscalls, 0),
    ] as const,
);
if (!pinnedLayout().pinned) {
  process.stderr.write('cpu-by-rate needs 2 cores and taskset (it pins the peer apart from the load)\n');
  process.exit(1);
}
if (SYSCALLS_RATE !== null && !hasCommand('strace')) {
  process.stderr.write('--syscalls needs strace (apt-get install strace)\n');
  process.exit(1);
}
const tool = defaultTool();

interface Usage {
  user: number;
  system: number;
  voluntary: number;
  involuntary: number;
}

/** CPU seconds and context switches of every thread of the processes (/proc/<pid>/stat and task/<tid>/status). */
function usage(pids: number[]): Usage {
  const u: Usage = { user: 0, system: 0, voluntary: 0, involuntary: 0 };
  for (const pid of pids) {
    const f = readStat(pid);
    if (f === null) continue;
    try {
      u.user += Number(f[11]) / CLOCK_TICKS;
      u.system += Number(f[12]) / CLOCK_TICKS;
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        u.voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
        u.involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
      }
    } catch {
      // the process or thread is gone
    }
  }
  return u;
}

interface Row {
  peer: PeerId;
  rate: number | 'sat';
  userUs: number;
  systemUs: number;
  voluntary: number;
  involuntary: number;
}

async function main(dir: string): Promise<void> {
  pin(process.pid, '1');
  const up = async (name: string, delay: number) => (await startUpstream(name, delay, '1')).url;
  const upstreams: Upstreams = { champion: await up('champion', 0), challenger: await up('challenger', 0), slow: PEER_LIST.includes('ccr-slow') ? await up('slow-challenger', SLOW_DELAY_MS) : '' };
  const generator = await OpenLoopGenerator.start('1');
  const wrkScript = writeWrkScript(dir);
  const ccrouter = ccrouterCommand(ROOT);
  if (ccrouter.staleWarning) process.stderr.write(`[cpu-by-rate] warning: ${ccrouter.staleWarning}\n`);
  const running = new Map<PeerId, RunningPeer>();
  for (const id of PEER_LIST) {
    const def = PEERS.find((p) => p.id === id)!;
    running.set(id, await def.start({ upstreams, cpus: '0', dir: path.join(dir, id), ccrouter }));
  }
  // Warm every peer up (JIT, pools) before measuring.
  for (const [id, rp] of running) await saturate(tool, { url: rp.url, durationS: 2, connections: 50, tag: `${id}.warm`, cpus: '1' }, wrkScript);

  const rows: Row[] = [];
  process.stdout.write(`peers: ${PEER_LIST.join(', ')}; rates ${RATES.join(', ')} req/s and saturation; ${SECONDS} s each, ${ROUNDS} round(s)\n`);
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? PEER_LIST : [...PEER_LIST].reverse();
    for (const id of order) {
      const rp = running.get(id)!;
      for (const rate of [...RATES, 'sat' as const]) {
        await sleep(300);
        const tree = processTree(rp.proc.pid);
        const a = usage(tree);
        const tag = `r${round}.${rate}`;
        const n =
          rate === 'sat'
            ? (await saturate(tool, { url: rp.url, durationS: Math.max(1, Math.round(SECONDS)), connections: 50, tag, cpus: '1' }, wrkScript)).requests
            : (await generator.run({ url: rp.url, rate, durationS: SECONDS, tag, connections: 128, drainMs: 500 })).completed;
        const b = usage(tree);
        const row: Row = {
          peer: id,
          rate,
          userUs: ((b.user - a.user) * 1e6) / n,
          systemUs: ((b.system - a.system) * 1e6) / n,
          voluntary: (b.voluntary - a.voluntary) / n,
          involuntary: (b.involuntary - a.involuntary) / n,
        };
        rows.push(row);
        process.stdout.write(`round ${round} ${id.padEnd(13)} ${String(rate).padStart(5)}: user ${row.userUs.toFixed(0)} + system ${row.systemUs.toFixed(0)} µs/req, ${row.voluntary.toFixed(2)} voluntary / ${row.involuntary.toFixed(2)} involuntary switches per request\n`);
      }
    }
  }

  process.stdout.write('\nMedians over rounds: CPU µs per request, user + system (context switches per request, voluntary)\n\n');
  const cols = [...RATES.map(String), 'sat'];
  process.stdout.write(`| peer | ${cols.map((c) => (c === 'sat' ? 'saturation' : `${c} req/s`)).join(' | ')} |\n|---|${cols.map(() => '---|').join('')}\n`);
  for (const id of PEER_LIST) {
    const cells = cols.map((c) => {
      const mine = rows.filter((r) => r.peer === id && String(r.rate) === c);
      const u = median(mine.map((r) => r.userUs));
      const s = median(mine.map((r) => r.systemUs));
      const v = median(mine.map((r) => r.voluntary));
      return `${(u + s).toFixed(0)} = ${u.toFixed(0)} + ${s.toFixed(0)} (${v.toFixed(2)})`;
    });
    process.stdout.write(`| ${id} | ${cells.join(' | ')} |\n`);
  }
  if (SYSCALLS_RATE !== null) {
    process.stdout.write(`\nSystem calls per request at ${SYSCALLS_RATE} req/s (strace -c -f; calls made at least once per 20 requests)\n\n`);
    for (const id of PEER_LIST) {
      const counts = await syscallsPerRequest(running.get(id)!, generator, SYSCALLS_RATE, path.join(dir, `${id}.strace`));
      process.stdout.write(`${id.padEnd(13)} ${[...counts].map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ')}\n`);
    }
  }
  await generator.stop();
}

/** strace -c over every thread of the peer during an open loop: calls per answered request, by name. */
async function syscallsPerRequest(rp: RunningPeer, generator: OpenLoopGenerator, rate: number, out: string): Promise<Map<string, number>> {
  const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(rp.proc.pid)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => strace.once('exit', resolve));
  await sleep(1000); // attached to every thread
  const r = await generator.run({ url: rp.url, rate, durationS: SECONDS, tag: 'syscalls', connections: 128, drainMs: 500 });
  strace.kill('SIGINT');
  await exited;
  const counts = new Map<string, number>();
  // "% time  seconds  usecs/call  calls  [errors]  syscall"
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
    if (m && m[2] !== 'total' && Number(m[1]) / r.completed >= 0.05) counts.set(m[2]!, Number(m[1]) / r.completed);
  }
  return new Map([...counts].sort((a, b) => b[1] - a[1]));
}

runWithProcesses('ccrouter-cpu-by-rate-', main);
