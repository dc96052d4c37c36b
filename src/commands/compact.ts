/**
 * `ccrouter compact --logs DIR [--out DIR2] [--all] [--delete] [--memory SIZE]` (docs/records.md,
 * "Records at scale"): closed pair files to Parquet. Exit 0 when every file taken was converted, 1
 * when one could not be (each is named, and kept), 2 on bad usage or input.
 */
import { parseFlags } from './args.js';
import { compact } from '../compact/convert.js';
import { CCR_ERR_USAGE, exitCodeFor } from '../errors.js';
import { parseMemory } from '../report/database.js';
import { neutralize } from '../report/format.js';

export const COMPACT_USAGE = `Usage: ccrouter compact --logs DIR [--out DIR2] [--all] [--delete] [--memory SIZE]

Convert closed pair files under DIR, subdirectories included (rotated files, and every file of a
writer whose shutdown event was written) into zstd Parquet under DIR2/pairs/date=YYYY-MM-DD/,
listed in DIR2/manifest.json (DIR/pod-a/pairs.3.jsonl becomes pod-a~pairs.3.parquet).
Running it again converts only what is new. Safe to run from cron while the proxy writes.

Options:
  --logs DIR      the log directory, searched recursively (required)
  --out DIR2      where Parquet and the manifest go (default DIR/parquet)
  --all           convert live files too (they are never deleted)
  --delete        remove each closed source once its Parquet was read back and counted equal
  --memory SIZE   memory the conversion may use (default 2g)
  -h, --help      show this help
`;

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export async function runCompact(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const say = (m: string) => void io.stderr.write(`ccrouter compact: ${neutralize(m)}\n`);
  try {
    const values = parseFlags(argv, {
      logs: { type: 'string' },
      out: { type: 'string' },
      all: { type: 'boolean' },
      delete: { type: 'boolean' },
      memory: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(COMPACT_USAGE);
      return 0;
    }
    if (!values.logs) throw new CCR_ERR_USAGE('--logs DIR is required');
    if (values.out === '') throw new CCR_ERR_USAGE('--out: needs a directory');
    const started = Date.now();
    const onProgress = io.stderr.isTTY ? (m: string) => say(`${m} (${((Date.now() - started) / 1000).toFixed(1)} s)`) : undefined;
    const r = await compact({
      logs: values.logs,
      ...(values.out !== undefined ? { out: values.out } : {}),
      all: values.all ?? false,
      delete: values.delete ?? false,
      ...(values.memory !== undefined ? { memory: parseMemory('--memory', values.memory) } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    const rows = r.converted.reduce((s, c) => s + c.rows, 0);
    io.stdout.write(`${r.out}: converted ${r.converted.length} file${r.converted.length === 1 ? '' : 's'} (${rows} rows), ` +
      `${r.upToDate.length} already converted, ${r.live.length} live left for later` +
      `${r.deleted.length > 0 ? `, ${r.deleted.length} deleted` : ''}\n`);
    for (const f of r.failed) say(`${f.name}: ${f.reason} (the file is kept)`);
    return r.failed.length > 0 ? 1 : 0;
  } catch (err) {
    say((err as Error).message);
    if ((err as { code?: string }).code === 'CCR_ERR_USAGE') io.stderr.write('Run "ccrouter compact --help" for usage.\n');
    return exitCodeFor(err);
  }
}
