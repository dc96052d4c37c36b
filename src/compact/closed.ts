/**
 * Which pair files a writer is done with (docs/records.md, "Records at scale"): with rotation, every
 * file of a stream but its highest-numbered one; and every file of a directory whose last
 * start-or-shutdown event is a `shutdown`. `compact` converts only these unless `--all`.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface PairSource {
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

/** The pair files directly in `dir`, each marked closed or live. */
export async function pairSources(dir: string): Promise<PairSource[]> {
  const names = fs.readdirSync(dir).filter((n) => NAME.test(n) && fs.statSync(path.join(dir, n)).isFile()).sort(collator.compare);
  const allClosed = await stopped(path.join(dir, 'events.jsonl'));
  const highest = new Map<string, number>();
  for (const n of names) {
    const [, stem, num] = NAME.exec(n)!;
    if (num !== undefined) highest.set(stem!, Math.max(highest.get(stem!) ?? 0, Number(num)));
  }
  return names.map((name) => {
    const [, stem, num] = NAME.exec(name)!;
    const rotatedAway = num !== undefined && Number(num) < highest.get(stem!)!;
    return { name, file: path.join(dir, name), closed: allClosed || rotatedAway };
  });
}
