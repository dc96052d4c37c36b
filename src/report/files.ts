/**
 * Which files a report reads (SPEC 2, 6, 8.5): every pairs*.jsonl, events.jsonl, outcomes. Names are
 * matched here, in Node; every path handed on is absolute and names one file exactly (see
 * `literalPath` in jsonl.ts for how DuckDB is kept from reading it as a pattern).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CCR_ERR_INPUT } from '../errors.js';

export interface LogFiles {
  dir: string;
  /** Every `pairs*.jsonl`: rotated (`pairs.1.jsonl`) and per-worker (`pairs-w2.jsonl`) files. */
  pairs: string[];
  /** `DIR/events.jsonl`, when present. */
  events: string | null;
  /** `DIR/outcomes.jsonl` (when present), then each `--outcomes` file in the order given. All paths absolute. */
  outcomes: string[];
}

const PAIRS = /^pairs.*\.jsonl$/;
// Natural order (pairs.2 before pairs.10): only cosmetic, every pair file is read alike.
const collator = new Intl.Collator('en', { numeric: true });

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Lists the files under `dir`; throws CCR_ERR_INPUT naming the directory or file at fault. */
export function findLogFiles(dir: string, extraOutcomes: readonly string[] = []): LogFiles {
  let entries: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new CCR_ERR_INPUT(`--logs ${dir}: not a directory`);
    entries = fs.readdirSync(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'CCR_ERR_INPUT') throw err;
    throw new CCR_ERR_INPUT(`--logs ${dir}: no such directory`);
  }
  // Absolute: a relative path could start like a URL (`s3:`) or a home directory (`~`) to DuckDB.
  const abs = path.resolve(dir);
  const pairs = entries
    .filter((name) => PAIRS.test(name) && isFile(path.join(abs, name)))
    .sort(collator.compare)
    .map((name) => path.join(abs, name));
  if (pairs.length === 0) throw new CCR_ERR_INPUT(`--logs ${dir}: no pairs*.jsonl files (no pair records)`);
  const events = path.join(abs, 'events.jsonl');
  const outcomes = path.join(abs, 'outcomes.jsonl');
  for (const file of extraOutcomes) {
    if (!isFile(file)) throw new CCR_ERR_INPUT(`--outcomes ${file}: no such file`);
  }
  return {
    dir,
    pairs,
    events: isFile(events) ? events : null,
    outcomes: [...(isFile(outcomes) ? [outcomes] : []), ...extraOutcomes.map((f) => path.resolve(f))],
  };
}
