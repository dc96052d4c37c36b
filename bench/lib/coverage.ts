/**
 * Shadow coverage from ccrouter's pair records: per measurement (the `<tag>` of request ids
 * `<tag>-<n>`), the share of records in which both models were called (neither outcome `skipped`,
 * as the report's `shadowCoverage`). A cheap text scan, not a JSON parse: runs stay large.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface Coverage {
  records: number;
  /** Both models called. */
  covered: number;
  /** Shadow skipped because `shadowLimit` calls were in flight. */
  overLimit: number;
  /** Records with a model error other than `skipped` (timeouts of the slow challenger, ...). */
  errors: number;
  /** Mean latency of the challenger calls made, ms (null when none). */
  challengerMs: number | null;
}

const ID = /"requestId":"([^"]*)-\d+"/;
const CHALLENGER_MS = /"challenger":\{[^}]*?"latencyMs":([\d.]+)/;

export async function coverageByTag(logDir: string): Promise<Map<string, Coverage>> {
  const out = new Map<string, Coverage>();
  const latency = new Map<string, { sum: number; n: number }>();
  if (!fs.existsSync(logDir)) return out;
  const files = fs.readdirSync(logDir).filter((f) => /^pairs.*\.jsonl$/.test(f));
  for (const f of files) {
    const rl = readline.createInterface({ input: fs.createReadStream(path.join(logDir, f)), crlfDelay: Infinity });
    for await (const line of rl) {
      const m = ID.exec(line);
      if (!m) continue;
      const tag = m[1]!;
      let c = out.get(tag);
      if (!c) out.set(tag, (c = { records: 0, covered: 0, overLimit: 0, errors: 0, challengerMs: null }));
      c.records++;
      if (!line.includes('"kind":"skipped"')) c.covered++;
      if (line.includes('shadowLimit')) c.overLimit++;
      if (/"kind":"(timeout|connect|status|parse|canceled)"/.test(line)) c.errors++;
      const l = CHALLENGER_MS.exec(line);
      if (l) {
        const acc = latency.get(tag) ?? { sum: 0, n: 0 };
        acc.sum += Number(l[1]);
        acc.n++;
        latency.set(tag, acc);
      }
    }
  }
  for (const [tag, acc] of latency) out.get(tag)!.challengerMs = acc.n > 0 ? acc.sum / acc.n : null;
  return out;
}
