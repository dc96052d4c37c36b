/** What the numbers were measured on: cores, CPU model, kernel, memory, tool versions, load. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { nginxVersion } from '../peers/nginx.js';

export interface Machine {
  nproc: number;
  cpuModel: string;
  kernel: string;
  memGiB: number;
  node: string;
  nginx: string | null;
  wrk: string | null;
  taskset: boolean;
  loadAvg: number[];
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text.split('\n')[0] ?? null;
}

export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    cpuModel = os.cpus()[0]?.model ?? 'unknown';
  }
  const wrk = firstLine('wrk', ['-v']);
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    kernel: `${os.type()} ${os.release()}`,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    nginx: nginxVersion(),
    // `wrk -v` prints "wrk 4.1.0 [epoll] Copyright ..." (and exits 1).
    wrk: wrk === null ? null : wrk.replace(/\s*Copyright.*$/, ''),
    taskset: spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0,
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
