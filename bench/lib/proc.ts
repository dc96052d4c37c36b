/**
 * Child processes of the harness: started (optionally pinned with taskset), tracked, and always
 * killed — at the end, on error and on Ctrl-C. Also the /proc readings: CPU time and RSS of a
 * process and its descendants, per-core busy time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMain } from './args.js';

const live = new Set<Proc>();

/** tsx's loader as a URL: children may run in another directory, where `--import tsx` would not resolve. */
export const TSX = import.meta.resolve('tsx');

export interface StartOptions {
  /** CPU list for taskset (`0`, `1`, `0-1`); none: inherit the harness's affinity. */
  cpus?: string | null;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Wait for a stdout line matching this; its first group (or the whole match) is returned. */
  ready?: RegExp;
  readyTimeoutMs?: number;
}

export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  #output = '';
  #exited: Promise<number | null>;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    if (child.pid === undefined) throw new Error(`${name}: could not start`);
    this.pid = child.pid;
    const keep = (chunk: Buffer) => {
      // The last few KB, for error messages.
      this.#output = (this.#output + chunk.toString('utf8')).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.#exited.then(() => live.delete(this));
    live.add(this);
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}

/** Start a process; with `ready`, resolve once its stdout prints the matching line. */
export async function start(name: string, command: string, args: string[], options: StartOptions = {}): Promise<{ proc: Proc; match: string | null }> {
  const [cmd, argv] = options.cpus ? ['taskset', ['-c', options.cpus, command, ...args]] : [command, args];
  // stdin stays an open pipe: our own peers exit when it closes (the harness is gone).
  const child = spawn(cmd, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const proc = new Proc(name, child);
  if (!options.ready) return { proc, match: null };
  const ready = options.ready;
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const match = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const m = ready.exec(buf);
      if (m) {
        cleanup();
        resolve(m[1] ?? m[0]);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${name} exited (code ${code}) before it was ready:\n${proc.output}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${proc.output}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  }).catch(async (err: Error) => {
    await proc.stop(1000);
    throw err;
  });
  return { proc, match };
}

/** Run a command to completion and return its stdout (throws on a non-zero exit). */
export function run(name: string, command: string, args: string[], options: { cpus?: string | null; timeoutMs?: number } = {}): Promise<string> {
  return start(name, command, args, { cpus: options.cpus }).then(
    ({ proc }) =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        proc.child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
        proc.child.stdin!.end();
        const timer = setTimeout(() => void proc.stop(1000), options.timeoutMs ?? 120_000);
        void proc.exited().then((code) => {
          clearTimeout(timer);
          if (code === 0) resolve(out);
          else reject(new Error(`${name} exited with ${code}:\n${proc.output}`));
        });
      }),
  );
}

/** Stop every process still running (best effort, in parallel). */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.allSettled([...live].map((p) => p.stop(graceMs)));
}

/** Synchronous last resort (process 'exit'): SIGKILL what is left. */
export function killAllSync(): void {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * The diagnostics' layout, the benchmark's pinned one: the peer on core 0, the load and the models on
 * core 1. Unpinned (null CPUs) without 2 cores or taskset.
 */
export function pinnedLayout(): { pinned: boolean; proxy: string | null; load: string | null } {
  const pinned = os.availableParallelism() >= 2 && hasCommand('taskset');
  return { pinned, proxy: pinned ? '0' : null, load: pinned ? '1' : null };
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Set the affinity of a running process and all its threads. */
export function pin(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed`);
}

export const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** The process and its descendants (nginx: master and workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === null) continue;
    const ppid = Number(stat[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Fields of /proc/PID/stat after the command name: [state, ppid, ...]. */
export function readStat(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU seconds of the process tree (all threads). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = readStat(pid);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    if (f !== null) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident set size of the process tree, in MiB (VmRSS). */
export function rssMiB(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** CPU seconds of this process, its live descendants, and its children already reaped (wrk runs). */
export function ownSeconds(): number {
  const f = readStat(process.pid);
  // cutime and cstime (fields 16, 17): children waited for.
  const reaped = f === null ? 0 : (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
  return cpuSeconds(processTree(process.pid)) + reaped;
}

/**
 * Share of the machine's CPU time used by processes that are not ours (other users' jobs, and the
 * hypervisor's steal) between two readings: the measure of how disturbed a measurement was.
 */
export function foreignShare(before: { cores: Array<{ busy: number; total: number }>; own: number }, after: { cores: Array<{ busy: number; total: number }>; own: number }): number {
  let busy = 0;
  let total = 0;
  after.cores.forEach((a, i) => {
    busy += a.busy - before.cores[i]!.busy;
    total += a.total - before.cores[i]!.total;
  });
  if (total <= 0) return 0;
  return Math.max(0, (busy / CLOCK_TICKS - (after.own - before.own)) / (total / CLOCK_TICKS));
}

/** Share of the machine's CPU the hypervisor stole between two coreTimes() readings (part of foreignShare). */
export function stealShare(before: CoreTimes[], after: CoreTimes[]): number {
  let steal = 0;
  let total = 0;
  after.forEach((a, i) => {
    steal += a.steal - before[i]!.steal;
    total += a.total - before[i]!.total;
  });
  return total > 0 ? steal / total : 0;
}

/** A reading for foreignShare() and stealShare(). */
export function machineReading(): { cores: CoreTimes[]; own: number } {
  return { cores: coreTimes(), own: ownSeconds() };
}

/** Jiffies per core from /proc/stat: busy (steal included), total, and steal (the hypervisor's). */
export interface CoreTimes {
  busy: number;
  total: number;
  steal: number;
}

export function coreTimes(): CoreTimes[] {
  const out: CoreTimes[] = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    out[Number(m[1])] = { busy: total - idle, total, steal: v[7] ?? 0 };
  }
  return out;
}

/** Busy share of each core between two coreTimes() readings. */
export function coreBusy(before: Array<{ busy: number; total: number }>, after: Array<{ busy: number; total: number }>): number[] {
  return after.map((a, i) => {
    const b = before[i]!;
    const dt = a.total - b.total;
    return dt > 0 ? (a.busy - b.busy) / dt : 0;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Run a tool that starts processes: `main` gets a fresh temporary directory (`<prefix>XXXXXX`). On the
 * way out (done, error, Ctrl-C or exit) every process started is stopped and the directory removed.
 */
export function runWithProcesses(prefix: string, main: (tmp: string) => Promise<void>): void {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => {
    killAllSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  process.on('SIGINT', () => void stopAll(2000).finally(() => process.exit(130)));
  runMain(() => main(tmp), () => stopAll(3000));
}

/**
 * Wait (at most `maxS` seconds) until processes not started here use under `quiet` of the CPU,
 * calling `onWait(share)` before each further wait. Returns the last share seen: under `quiet`
 * when the machine became quiet.
 */
export async function waitQuiet(maxS: number, onWait: (share: number) => void, quiet = 0.1): Promise<number> {
  const deadline = Date.now() + maxS * 1000;
  for (;;) {
    const m0 = machineReading();
    await sleep(1000);
    const share = foreignShare(m0, machineReading());
    if (share < quiet || Date.now() >= deadline) return share;
    onWait(share);
    await sleep(2000);
  }
}
