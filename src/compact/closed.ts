/**
 * Which pair files a writer is done with (docs/records.md, "Records at scale"): with rotation, every
 * file of a stream but its highest-numbered one; and every file of a directory whose last
 * start-or-shutdown event is a `shutdown`. `compact` converts only these unless `--all`. The log
 * directory is searched as the report searches it (report/files.ts): one subdirectory per instance
 * (`DIR/<pod>/pairs.3.jsonl`) is judged by its own files and its own `events.jsonl`.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { MANIFEST_NAME } from './manifest.js';
import { MAX_DEPTH } from '../report/files.js';

export interface PairSource {
  /** The path below the log directory, `/`-separated (`pairs.3.jsonl`, `pod-a/pairs.3.jsonl`): unique, the manifest's key. */
  name: string;
  file: string;
  /** False for a file a running writer may still append to. */
  closed: boolean;
}

// pairs.jsonl, pairs.3.jsonl, pairs-w2.jsonl, pairs-w2.3.jsonl (docs/records.md).
const NAME = /^(pairs.*?)(?:\.(\d+))?\.jsonl$/;
const collator = new Intl.Collator('en', { numeric: true });

/** Whether the last `start`/`shutdown` event in `events` is a shutdown: the writer has stopped. */
async function stopped(events: string): Promise<boolean> {
  if (!fs.existsSync(events)) return false;
  let last: string | null = null;
  const lines = readline.createInterface({ input: fs.createReadStream(events), crlfDelay: Infinity });
  for await (const line of lines) {
    // Cheap test first: most event lines are neither.
    if (!line.includes('"start"') && !line.includes('"shutdown"')) continue;
    try {
      const e = JSON.parse(line) as { msg?: unknown; type?: unknown };
      if (e.msg === 'event' && (e.type === 'start' || e.type === 'shutdown')) last = e.type;
    } catch {
      // a cut line is not an event
    }
  }
  return last === 'shutdown';
}

/** The pair files of one directory (no subdirectory), each marked closed or live; `prefix` starts each name. */
async function sourcesIn(dir: string, names: string[], prefix: string): Promise<PairSource[]> {
  names.sort(collator.compare);
  const allClosed = await stopped(path.join(dir, 'events.jsonl'));
  const highest = new Map<string, number>();
  for (const n of names) {
    const [, stem, num] = NAME.exec(n)!;
    if (num !== undefined) highest.set(stem!, Math.max(highest.get(stem!) ?? 0, Number(num)));
  }
  return names.map((name) => {
    const [, stem, num] = NAME.exec(name)!;
    const rotatedAway = num !== undefined && Number(num) < highest.get(stem!)!;
    return { name: prefix + name, file: path.join(dir, name), closed: allClosed || rotatedAway };
  });
}

/**
 * The pair files under `dir`, searched as the report searches (hidden directories, links to
 * directories and anything deeper than the report looks are left alone), each marked closed or live.
 * Directories in `skip` (the Parquet output) and any holding a compact manifest are not entered.
 */
export async function pairSources(dir: string, skip: readonly string[] = []): Promise<PairSource[]> {
  const skipped = new Set(skip.map((d) => path.resolve(d)));
  const out: PairSource[] = [];
  const visit = async (at: string, prefix: string, depth: number): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    const names: string[] = [];
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && depth < MAX_DEPTH) subdirs.push(e.name);
      } else if (NAME.test(e.name) && fs.statSync(path.join(at, e.name), { throwIfNoEntry: false })?.isFile()) {
        names.push(e.name);
      }
    }
    out.push(...(await sourcesIn(at, names, prefix)));
    for (const d of subdirs.sort(collator.compare)) {
      const sub = path.join(at, d);
      if (skipped.has(sub) || fs.existsSync(path.join(sub, MANIFEST_NAME))) continue;
      await visit(sub, `${prefix}${d}/`, depth + 1);
    }
  };
  await visit(path.resolve(dir), '', 0);
  return out;
}
