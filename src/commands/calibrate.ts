/**
 * `ccrouter calibrate --logs DIR [--outcomes FILE]... [--metric precision] [--out FILE]` (docs/calibration.md):
 * per model version (both roles pooled), the table raw score → precision among labelled records
 * scoring at least that much, from the records joined with their labels as the report joins them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseFlags } from './args.js';
import { CALIBRATION_METRICS } from '../calibration/table.js';
import { calibrationFromLogs } from '../calibration/from-logs.js';
import { CCR_ERR_INPUT, CCR_ERR_USAGE, exitCodeFor } from '../errors.js';
import { jsonText, neutralize } from '../report/format.js';
import { parseMemory } from '../report/database.js';

export const CALIBRATE_USAGE = `Usage: ccrouter calibrate --logs DIR... [--outcomes FILE]... [--metric precision] [--out FILE]

Build score normalization tables from labelled pair records: for each model version, raw score →
precision among labelled records scoring at least that much (non-decreasing). Point the proxy's
calibration.file at the output so one decision.threshold serves both models.

Options:
  --logs DIR        directory with pairs*.jsonl (or compacted Parquet) and outcomes.jsonl (required);
                    repeatable: one per instance, the tables are built over the union
  --memory SIZE     memory it may use (default 2g)
  --outcomes FILE   more outcome files, read after DIR/outcomes.jsonl (repeatable)
  --metric NAME     the metric to map to (default precision; the only one so far)
  --out FILE        write the table here (default: stdout)
  -h, --help        show this help

A version needs at least 50 labelled records with both classes.
`;

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export async function runCalibrate(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  // Messages quote version names from the logs: what a terminal would act on is written escaped.
  const say = (m: string) => void io.stderr.write(`ccrouter calibrate: ${neutralize(m)}\n`);
  try {
    const values = parseFlags(argv, {
      logs: { type: 'string', multiple: true },
      memory: { type: 'string' },
      outcomes: { type: 'string', multiple: true },
      metric: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(CALIBRATE_USAGE);
      return 0;
    }
    if (!values.logs || values.logs.length === 0) throw new CCR_ERR_USAGE('--logs DIR is required');
    if (values.logs.includes('')) throw new CCR_ERR_USAGE('--logs: needs a directory');
    const memory = values.memory !== undefined ? parseMemory('--memory', values.memory) : undefined;
    const metric = values.metric ?? 'precision';
    if (!(CALIBRATION_METRICS as readonly string[]).includes(metric)) {
      throw new CCR_ERR_USAGE(`--metric: must be one of ${CALIBRATION_METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
    }
    const onProgress = io.stderr.isTTY ? say : undefined;
    const { versions, calibration: tables } = await calibrationFromLogs({
      logs: values.logs,
      outcomes: values.outcomes ?? [],
      onNotice: (m) => say(`note: ${m}`),
      ...(memory !== undefined ? { memory } : {}),
      ...(onProgress ? { onProgress } : {}),
    }, metric);
    if (versions.length === 0) throw new CCR_ERR_INPUT(`--logs ${values.logs.join(', ')}: no labelled records with a score (post outcomes first)`);
    const calibration = tables();
    const text = formatCalibration(calibration);
    if (values.out) {
      fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
      fs.writeFileSync(values.out, text);
      const sizes = versions.map((v) => `${v.version}: ${v.records} labelled records`).join(', ');
      say(`wrote ${values.out} (${sizes})`);
    } else {
      io.stdout.write(text);
    }
    return 0;
  } catch (err) {
    say((err as Error).message);
    return exitCodeFor(err);
  }
}

/**
 * One point per line: tables are read by people too. Version names are written with every
 * character a terminal acts on escaped (`\u202e`), which JSON reads back as the same name.
 */
export function formatCalibration(c: { metric: string; models: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>> }): string {
  const models = Object.entries(c.models).map(([v, t]) => `  ${jsonText(v)}: [\n${t.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]`);
  return `{\n "metric": ${jsonText(c.metric)},\n "models": {\n${models.join(',\n')}\n }\n}\n`;
}
