/**
 * ccrouter peers: a generated config in a temp directory, then `ccrouter serve --config FILE` as its
 * own process (the built `dist/cli.js` when it exists, else the sources through tsx). Records go to
 * the temp directory's `logs/`, where the harness reads shadow coverage from `pairs.jsonl`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../lib/args.js';
import { TSX, start, type Proc } from '../lib/proc.js';

export interface CcrouterPeerOptions {
  champion: string;
  challenger: string;
  shadow: boolean;
  /** The challenger's timeoutMs (the slow-challenger peer: 1000). */
  challengerTimeoutMs?: number;
  /** `traffic.challenger` (default 0.10). */
  challengerFraction?: number;
  /** A `fleet` section: levers shared through this Redis. */
  fleet?: { name: string; redis: string; instance: string };
}

export function ccrouterConfig(opts: CcrouterPeerOptions, logDir: string): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    models: {
      champion: { url: opts.champion, version: 'champion-v1', timeoutMs: 1000 },
      challenger: { url: opts.challenger, version: 'challenger-v2', timeoutMs: opts.challengerTimeoutMs ?? 1000 },
    },
    routes: [{ method: 'POST', path: '/predict', score: '/score' }],
    assignment: { unit: 'header:x-user-id', salt: 'bench' },
    traffic: { control: 0.05, challenger: opts.challengerFraction ?? 0.1, shadow: opts.shadow },
    logging: { dir: logDir },
    shutdownGraceMs: 3000,
    ...(opts.fleet ? { fleet: opts.fleet } : {}),
  };
}

export interface CcrouterCommand {
  command: string;
  args: string[];
  /** `dist` or `tsx` (sources), for the report. */
  build: 'dist' | 'tsx';
  /** Set when a file under src/ is newer than dist/cli.js. */
  staleWarning: string | null;
}

function newestMtime(dir: string): { file: string; mtime: number } {
  let best = { file: dir, mtime: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    const cand = entry.isDirectory() ? newestMtime(p) : { file: p, mtime: fs.statSync(p).mtimeMs };
    if (cand.mtime > best.mtime) best = cand;
  }
  return best;
}

/** How to run `ccrouter serve` from the repository at `root`. */
export function ccrouterCommand(root: string, prefer: 'auto' | 'dist' | 'tsx' = 'auto'): CcrouterCommand {
  const dist = path.join(root, 'dist', 'cli.js');
  if (prefer !== 'tsx' && fs.existsSync(dist)) {
    const newest = newestMtime(path.join(root, 'src'));
    const stale = newest.mtime > fs.statSync(dist).mtimeMs ? `${path.relative(root, newest.file)} is newer than dist/cli.js: run \`npm run build\`` : null;
    return { command: process.execPath, args: [dist], build: 'dist', staleWarning: stale };
  }
  if (prefer === 'dist') throw new Error(`--ccrouter dist: ${dist} does not exist (npm run build)`);
  return { command: process.execPath, args: ['--import', TSX, path.join(root, 'src', 'cli.ts')], build: 'tsx', staleWarning: null };
}

/**
 * How to run a given build of ccrouter: `DIR/cli.js`, checked to exist and to lie inside the
 * repository at `root` (its imports resolve through the repository's node_modules/). `flag` names
 * the flag in the message of the `UsageError` thrown otherwise.
 */
export function ccrouterBuild(root: string, flag: string, dir: string): CcrouterCommand {
  const cli = path.resolve(dir, 'cli.js');
  if (!fs.existsSync(cli)) throw new UsageError(`${flag}: ${cli} does not exist`);
  if (path.relative(root, cli).startsWith('..')) throw new UsageError(`${flag}: ${dir} is outside the repository (${root})`);
  return { command: process.execPath, args: [cli], build: 'dist', staleWarning: null };
}

export interface RunningCcrouter {
  proc: Proc;
  url: string;
  adminUrl: string;
  logDir: string;
  /** The config file it serves (and watches). */
  configFile: string;
}

/** `ccrouter serve` with a generated bench config in `dir`. */
export async function startCcrouter(name: string, cmd: CcrouterCommand, opts: CcrouterPeerOptions, dir: string, cpus: string | null, extraNodeArgs: string[] = []): Promise<RunningCcrouter> {
  const logDir = path.join(dir, 'logs');
  return serveCcrouter(name, { ...cmd, args: [...extraNodeArgs, ...cmd.args] }, ccrouterConfig(opts, logDir), dir, cpus);
}

/**
 * `ccrouter serve --config DIR/ccrouter.yaml` with `config` (its `logging.dir` is where the records
 * go); `env` adds variables to the child's environment (an admin token).
 */
export async function serveCcrouter(name: string, cmd: CcrouterCommand, config: Record<string, unknown>, dir: string, cpus: string | null, env: NodeJS.ProcessEnv = {}): Promise<RunningCcrouter> {
  fs.mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'ccrouter.yaml');
  fs.writeFileSync(configFile, stringify(config));
  const { proc, match } = await start(name, cmd.command, [...cmd.args, 'serve', '--config', configFile], {
    cpus,
    cwd: dir,
    env: { ...process.env, ...env },
    ready: /serving on http:\/\/\S+ \(admin http:\/\/[^)\s]+\)/,
  });
  const [, url, adminUrl] = /serving on (\S+) \(admin ([^)\s]+)\)/.exec(match!)!;
  const logging = config.logging as { dir: string };
  return { proc, url: url!, adminUrl: adminUrl!, logDir: logging.dir, configFile };
}
