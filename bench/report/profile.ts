/**
 * Where a report's queries spend their time, from DuckDB's own profiler (what `EXPLAIN ANALYZE`
 * prints): the report runs as it always does, its phases one at a time, with profiling on for every
 * connection it opens; each query's profile is read as it finishes. Prints a Markdown table of the
 * queries, slowest first (wall and CPU time, DuckDB's peak buffer memory and spill), then the
 * costliest operators of the slowest ones.
 *
 *   node --import tsx bench/report/profile.ts --logs DIR [--memory 2g] [--top 6]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyze } from '../../src/report/build.js';
import { parseMemory } from '../../src/report/database.js';
import type { PhaseRunner } from '../../src/report/phases.js';
import { sqlString, type QueryObserver } from '../../src/report/sql.js';
import { count, flags, runMain, UsageError } from '../lib/args.js';

const USAGE = `Usage: node --import tsx bench/report/profile.ts --logs DIR [options]

Runs ccrouter report over DIR with DuckDB's profiler on and prints, as Markdown, every query's
time, peak buffer memory and spill, slowest first, and the costliest operators of the slowest.

  --logs DIR     the records (e.g. a size cached by bench/report/scale.ts)
  --memory SIZE  the report's --memory (default 2g)
  --top N        queries whose operators are listed (default 6)
  -h, --help
`;

interface Operator {
  name: string;
  seconds: number;
  rows: number;
  detail: string;
}

interface QueryProfile {
  sql: string;
  latency: number;
  cpu: number;
  peakBuffer: number;
  peakTemp: number;
  /** The process's largest resident set sampled since the query before it finished. */
  peakRss: number;
  operators: Operator[];
}

interface ProfileNode {
  operator_name?: string;
  operator_timing?: number;
  operator_cardinality?: number;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
}

function operatorsOf(node: ProfileNode, out: Operator[] = []): Operator[] {
  for (const child of node.children ?? []) {
    const info = child.extra_info ?? {};
    const detail = ['Function', 'Aggregates', 'Join Type', 'Conditions', 'Groups', 'Table']
      .filter((k) => info[k] !== undefined)
      .map((k) => `${k}: ${String(info[k]).replace(/\s+/g, ' ')}`)
      .join('; ');
    out.push({ name: child.operator_name ?? '?', seconds: child.operator_timing ?? 0, rows: child.operator_cardinality ?? 0, detail });
    operatorsOf(child, out);
  }
  return out;
}

/** Turns profiling on for each connection (its own output file) and reads each query's profile. */
function profiler(dir: string, profiles: QueryProfile[], rss: { peak: number }): QueryObserver {
  const files = new Map<object, string>();
  return {
    async connected(conn) {
      const file = path.join(dir, `conn-${files.size}.json`);
      files.set(conn, file);
      await conn.run(`PRAGMA enable_profiling = 'json'`);
      await conn.run(`SET profiling_output = ${sqlString(file)}`);
    },
    async finished(conn, sql) {
      const file = files.get(conn);
      if (!file || !fs.existsSync(file)) return;
      const p = JSON.parse(fs.readFileSync(file, 'utf8')) as ProfileNode & Record<string, number>;
      profiles.push({
        sql: sql.replace(/\s+/g, ' ').trim(),
        latency: p.latency ?? 0,
        cpu: p.cpu_time ?? 0,
        peakBuffer: p.system_peak_buffer_memory ?? 0,
        peakTemp: p.system_peak_temp_dir_size ?? 0,
        peakRss: Math.max(rss.peak, process.memoryUsage.rss()),
        operators: operatorsOf(p),
      });
      rss.peak = 0;
      fs.rmSync(file);
    },
  };
}

/** Phases one at a time, so that each query's profile is its own. */
function oneAtATime(): PhaseRunner {
  let previous: Promise<unknown> = Promise.resolve();
  return (_phase, run) => {
    const p = previous.then(run);
    previous = p.catch(() => undefined);
    return p;
  };
}

const mb = (b: number) => (b / 1e6).toFixed(0);
const cell = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s).replace(/\|/g, '\\|');

async function main(): Promise<void> {
  const values = flags(USAGE, { logs: { type: 'string' }, memory: { type: 'string' }, top: { type: 'string' } });
  if (!values.logs) throw new UsageError('--logs: required');
  const top = count('--top', values.top, 6);
  const memory = values.memory !== undefined ? parseMemory('--memory', values.memory) : undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-profile-'));
  const profiles: QueryProfile[] = [];
  // Sampled from the main thread, which is idle while DuckDB's threads work.
  const rss = { peak: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, process.memoryUsage.rss())), 100);
  try {
    const t0 = performance.now();
    await analyze({ logs: values.logs, phase: oneAtATime(), observer: profiler(tmp, profiles, rss), ...(memory ? { memory } : {}) });
    const wall = (performance.now() - t0) / 1000;
    profiles.sort((a, b) => b.latency - a.latency);
    const summed = profiles.reduce((s, p) => s + p.latency, 0);
    const lines = [
      `report over ${values.logs}: ${wall.toFixed(1)} s in all, ${summed.toFixed(1)} s in the ${profiles.length} profiled queries, ` +
        `peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} MB`,
      '',
      '| query | wall s | cpu s | DuckDB peak buffer MB | spilled MB | process RSS MB |',
      '|---|---:|---:|---:|---:|---:|',
      ...profiles.map((p) => `| ${cell(p.sql, 90)} | ${p.latency.toFixed(2)} | ${p.cpu.toFixed(2)} | ${mb(p.peakBuffer)} | ${mb(p.peakTemp)} | ${mb(p.peakRss)} |`),
    ];
    for (const p of profiles.slice(0, top)) {
      lines.push('', `**${cell(p.sql, 120)}** (${p.latency.toFixed(2)} s)`, '', '| operator | s | rows | what |', '|---|---:|---:|---|');
      for (const o of [...p.operators].sort((a, b) => b.seconds - a.seconds).slice(0, 5)) {
        lines.push(`| ${o.name} | ${o.seconds.toFixed(2)} | ${o.rows} | ${cell(o.detail, 100)} |`);
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    clearInterval(sampler);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);
