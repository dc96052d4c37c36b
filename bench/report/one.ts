/**
 * One measured run in a process of its own, so that its peak RSS is its own (scale.ts starts it):
 * `bare` (bare-scan.ts over the pair files), `sketch` (bare-scan.ts: what an approximate report would
 * read in one pass; `sketch-no-labels` and `sketch-no-hours` leave a part out), or `report` (`ccrouter report --format json`).
 * Prints one JSON line: {wallMs, cpuMs, maxRssBytes}.
 *
 *   node --import tsx bench/report/one.ts --mode MODE --logs DIR [--memory 2g]
 */
import { runReport } from '../../src/commands/report.js';
import { flags, oneOf, runMain, UsageError } from '../lib/args.js';
import { bareScanSql, sketchScanSql, withFreshDb } from './bare-scan.js';

const MODES = ['bare', 'sketch', 'sketch-no-labels', 'sketch-no-hours', 'report'] as const;
export type Mode = (typeof MODES)[number];

const USAGE = `Usage: node --import tsx bench/report/one.ts --mode MODE --logs DIR [--memory SIZE]

One measured run; prints {wallMs, cpuMs, maxRssBytes} as one JSON line.

  --mode MODE    bare (DuckDB's scan of the pair files), sketch (one pass computing what an
                 approximate report would need; sketch-no-labels and sketch-no-hours leave out
                 the outcomes or the per-hour grouping) or report (default: report --format json)
  --logs DIR     the logs to read
  --memory SIZE  the report's --memory (default: the report's default, 2g)
  -h, --help
`;

async function main(): Promise<void> {
  const values = flags(USAGE, { mode: { type: 'string' }, logs: { type: 'string' }, memory: { type: 'string' } });
  const mode = oneOf('--mode', values.mode, MODES, 'report');
  if (!values.logs) throw new UsageError('--logs: required');
  const dir = values.logs;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (mode !== 'report') {
    const sql = mode === 'bare' ? bareScanSql(dir)
      : sketchScanSql(dir, { labels: mode !== 'sketch-no-labels', hours: mode !== 'sketch-no-hours' });
    await withFreshDb(async (conn) => void (await conn.runAndReadAll(sql)));
  } else {
    let bytes = 0;
    const err: string[] = [];
    const code = await runReport(['--logs', dir, '--format', 'json', ...(values.memory ? ['--memory', values.memory] : [])], {
      stdout: { write: (s: string) => ((bytes += s.length), true) },
      stderr: { write: (s: string) => (err.push(s), true), isTTY: false },
    });
    if (code !== 0 || bytes === 0) throw new Error(`report failed (exit ${code}): ${err.join('')}`);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // resourceUsage().maxRSS is in KiB: the process's peak, DuckDB's threads included.
  process.stdout.write(JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

runMain(main);
