/** Which files a report reads (SPEC 2, 6, 8.5): every pairs*.jsonl, events.jsonl, outcomes. */
import fs from 'node:fs';
import path from 'node:path';
import { CCR_ERR_INPUT } from '../errors.js';

export interface LogFiles {
  dir: string;
  /** Every `pairs*.jsonl`: rotated (`pairs.1.jsonl`) and per-worker (`pairs-w2.jsonl`) files. */
  pairs: string[];
  /** `DIR/events.jsonl`, when present. */
  events: string | null;
  /** `DIR/outcomes.jsonl` (when present), then each `--outcomes` file in the order given. */
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
  const pairs = entries
    .filter((name) => PAIRS.test(name) && isFile(path.join(dir, name)))
    .sort(collator.compare)
    .map((name) => path.join(dir, name));
  if (pairs.length === 0) throw new CCR_ERR_INPUT(`--logs ${dir}: no pairs*.jsonl files (no pair records)`);
  const events = path.join(dir, 'events.jsonl');
  const outcomes = path.join(dir, 'outcomes.jsonl');
  for (const file of extraOutcomes) {
    if (!isFile(file)) throw new CCR_ERR_INPUT(`--outcomes ${file}: no such file`);
  }
  return {
    dir,
    pairs,
    events: isFile(events) ? events : null,
    outcomes: [...(isFile(outcomes) ? [outcomes] : []), ...extraOutcomes],
  };
}
