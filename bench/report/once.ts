/** One run of one.ts in a process of its own, so that its peak RSS is its own. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/stats.js';
import type { Mode } from './one.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Run {
  wallMs: number;
  cpuMs: number;
  maxRssBytes: number;
}

export function once(mode: Mode, logs: string, memory: string | undefined): Run {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'one.ts'), '--mode', mode, '--logs', logs,
    ...(memory ? ['--memory', memory] : [])], { cwd: path.resolve(HERE, '..', '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Run;
}

/** Each field's median over `runs`. */
export function medianRun(runs: readonly Run[]): Run {
  return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)), maxRssBytes: median(runs.map((r) => r.maxRssBytes)) };
}

/** `12.3 s (cpu 20.1 s)`: wall-clock and CPU time. */
export const showTimes = (r: Run): string => `${(r.wallMs / 1000).toFixed(1)} s (cpu ${(r.cpuMs / 1000).toFixed(1)} s)`;

/** `12.3 s (cpu 20.1 s) 1.27 GB`: the times and the peak RSS. */
export const showRun = (r: Run): string => `${showTimes(r)} ${(r.maxRssBytes / 1e9).toFixed(2)} GB`;

/** `2.21× (cpu 2.36×)`: `r`'s times over `base`'s. */
export const showRatio = (r: Run, base: Run): string =>
  `${(r.wallMs / base.wallMs).toFixed(2)}× (cpu ${(r.cpuMs / base.cpuMs).toFixed(2)}×)`;
