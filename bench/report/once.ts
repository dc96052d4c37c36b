/** One run of one.ts in a process of its own, so that its peak RSS is its own. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
