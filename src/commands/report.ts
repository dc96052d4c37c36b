/**
 * `ccrouter report` (docs/report.md): compare the two models from the records in a log directory.
 * Exit 0 on success, 2 on bad usage or bad input (the message names the flag or file), 1 otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { usageProblem } from './args.js';
import { CCR_ERR_USAGE, exitCodeFor } from '../errors.js';
import { analyze, buildReport, type ReportOptions } from '../report/build.js';
import { jsonText, neutralize } from '../report/format.js';
import { renderHtml } from '../report/render-html.js';
import { renderText } from '../report/render-text.js';
import { parseMemory } from '../report/database.js';
import { MAX_TIME } from '../report/schema.js';
import { parseBucket } from '../report/sections/timeline.js';

export { analyze, buildReport, renderHtml, renderText };
export { labelledScores, openLogs, type LabelledScore, type LoadOptions } from '../report/load.js';
export type { ChartData, Report } from '../report/types.js';

export const REPORT_USAGE = `Usage: ccrouter report --logs DIR [options]

Compare the champion and the challenger from the records under DIR, searched recursively (every
pairs*.jsonl, the Parquet ccrouter compact wrote, events.jsonl, outcomes.jsonl) plus any
--outcomes files.

Options:
  --logs DIR          log directory (required); repeatable: one per instance, figures over the union
  --outcomes FILE     more outcome lines (JSON Lines); repeatable, later files win
  --format FORMAT     text (default), json or html
  --out FILE          write the report to FILE instead of stdout
  --segment FIELD     break figures down by the record field fields.FIELD
  --since T           only records with time >= T (ISO 8601 or epoch milliseconds)
  --until T           only records with time < T
  --value FIELD       weigh records by fields.FIELD (an amount): value caught and lost
  --mature DURATION   label figures use only records older than DURATION before the last
                      record (labels arrive late), e.g. 30d, 12h, 90m
  --verdict METRIC    what the verdict decides on: accuracy (default), auc or matched
  --sequential        accuracy verdict on the always-valid sequential p-value
  --memory SIZE       memory the report may use (default 2g); beyond it work spills to a temporary directory
  --strict            fail on a Parquet file that cannot be read as pair records instead of skipping it
  --bucket DURATION   timeline bucket (30s, 5m, 1h, 1d; default: from the window's length)
  -h, --help          show this help
`;

export type ReportFormat = 'text' | 'json' | 'html';

interface Writable {
  write(chunk: string): boolean;
  once?(event: 'drain', listener: () => void): unknown;
}

export interface ReportIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * `--since`/`--until`: epoch milliseconds, or ISO 8601. A date-time without an offset is read as
 * UTC (not the machine's zone), so the same command gives the same report everywhere.
 */
export function parseTime(flag: string, value: string): number {
  const v = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) {
    const t = Number(v);
    if (Math.abs(t) <= MAX_TIME) return t;
    throw new CCR_ERR_USAGE(`${flag}: "${value}" is beyond the range of a date (±${MAX_TIME} epoch milliseconds)`);
  }
  const m = ISO.exec(v);
  if (m) {
    const withZone = v.length > 10 && m[1] === undefined ? `${v.replace(' ', 'T')}Z` : v.replace(' ', 'T');
    const t = Date.parse(withZone);
    if (Number.isFinite(t)) return t;
  }
  throw new CCR_ERR_USAGE(`${flag}: "${value}" is neither ISO 8601 (2026-05-01T12:00:00Z) nor epoch milliseconds`);
}

interface ParsedArgs {
  help: boolean;
  format: ReportFormat;
  out?: string;
  options: ReportOptions;
}

/** Parses and checks the command line; throws CCR_ERR_USAGE naming the flag at fault. */
export function parseReportArgs(argv: string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        logs: { type: 'string', multiple: true },
        memory: { type: 'string' },
        strict: { type: 'boolean' },
        outcomes: { type: 'string', multiple: true },
        format: { type: 'string' },
        out: { type: 'string' },
        segment: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        value: { type: 'string' },
        mature: { type: 'string' },
        verdict: { type: 'string' },
        sequential: { type: 'boolean' },
        bucket: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new CCR_ERR_USAGE(usageProblem(err as Error));
  }
  if (values.help) return { help: true, format: 'text', options: { logs: '' } };
  if (values.logs === undefined || values.logs.length === 0) throw new CCR_ERR_USAGE('--logs DIR is required');
  if (values.logs.includes('')) throw new CCR_ERR_USAGE('--logs: needs a directory');
  const memory = values.memory !== undefined ? parseMemory('--memory', values.memory) : undefined;
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'html') {
    throw new CCR_ERR_USAGE(`--format: must be text, json or html (got "${format}")`);
  }
  if (values.segment !== undefined && values.segment === '') throw new CCR_ERR_USAGE('--segment: needs a field name');
  if (values.value !== undefined && (values.value === '' || values.value.includes('\0'))) {
    throw new CCR_ERR_USAGE(`--value: needs a field name (the logging.fields name of an amount), got "${values.value}"`);
  }
  const mature = values.mature !== undefined ? parseMature(values.mature) : undefined;
  const verdict = values.verdict;
  if (verdict !== undefined && verdict !== 'accuracy' && verdict !== 'auc' && verdict !== 'matched') {
    throw new CCR_ERR_USAGE(`--verdict: must be accuracy, auc or matched (got "${verdict}")`);
  }
  const since = values.since !== undefined ? parseTime('--since', values.since) : undefined;
  const until = values.until !== undefined ? parseTime('--until', values.until) : undefined;
  if (since !== undefined && until !== undefined && since >= until) {
    throw new CCR_ERR_USAGE(`--since (${values.since}) must be earlier than --until (${values.until})`);
  }
  const bucketMs = values.bucket !== undefined ? parseBucket(values.bucket) : undefined;
  return {
    help: false,
    format,
    ...(values.out !== undefined ? { out: values.out } : {}),
    options: {
      logs: values.logs,
      outcomes: values.outcomes ?? [],
      ...(memory !== undefined ? { memory } : {}),
      ...(values.strict ? { strict: true } : {}),
      ...(values.segment !== undefined ? { segment: values.segment } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(values.value !== undefined ? { value: values.value } : {}),
      ...(mature !== undefined ? { mature } : {}),
      ...(verdict !== undefined ? { verdict } : {}),
      ...(values.sequential ? { sequential: true } : {}),
      ...(bucketMs !== undefined ? { bucketMs } : {}),
    },
  };
}

const MATURE_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--mature`: a duration such as 30d, 12h, 90m, 45s, 500ms or 2w (a bare number is milliseconds). */
export function parseMature(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/i.exec(value.trim());
  const ms = m ? Math.round(Number(m[1]) * MATURE_UNITS[(m[2] ?? 'ms').toLowerCase()]!) : NaN;
  if (!Number.isFinite(ms) || ms > MAX_TIME) {
    throw new CCR_ERR_USAGE(`--mature: "${value}" is not a duration (a number with ms, s, m, h, d or w, such as 30d)`);
  }
  return ms;
}


async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text) && stream.once) await new Promise<void>((resolve) => stream.once!('drain', () => resolve()));
}

/** Renders a report in the given format (the HTML needs the chart series from `analyze`). */
export async function render(format: ReportFormat, opts: ReportOptions): Promise<string> {
  const { report, charts, verdictTest } = await analyze({ ...opts, charts: format === 'html' });
  opts.onProgress?.(`rendering ${format}…`);
  if (format === 'json') return jsonText(report, 2) + '\n';
  if (format === 'html') return renderHtml(report, charts, verdictTest);
  return renderText(report, verdictTest);
}

/** `ccrouter report ARGS`: returns the exit code; never throws. */
export async function runReport(
  argv: string[],
  io: ReportIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    const args = parseReportArgs(argv);
    if (args.help) {
      await write(io.stdout, REPORT_USAGE);
      return 0;
    }
    const started = Date.now();
    const onProgress = io.stderr.isTTY
      ? (msg: string) => void io.stderr.write(`ccrouter report: ${msg} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
      : undefined;
    // Told whether or not stderr is a terminal: they say what the figures leave out or read instead.
    const onNotice = (msg: string) => void io.stderr.write(`ccrouter report: note: ${neutralize(msg)}\n`);
    const text = await render(args.format, { ...args.options, onNotice, ...(onProgress ? { onProgress } : {}) });
    if (args.out !== undefined) {
      try {
        fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
        fs.writeFileSync(args.out, text);
      } catch (err) {
        throw new Error(`--out ${args.out}: ${(err as Error).message}`, { cause: err });
      }
      onProgress?.(`wrote ${args.out}`);
    } else {
      await write(io.stdout, text);
    }
    return 0;
  } catch (err) {
    const code = exitCodeFor(err);
    // A message may quote a file name or a value from the logs.
    io.stderr.write(`ccrouter report: ${neutralize((err as Error).message)}\n`);
    if ((err as { code?: string }).code === 'CCR_ERR_USAGE') io.stderr.write('Run "ccrouter report --help" for usage.\n');
    return code;
  }
}
