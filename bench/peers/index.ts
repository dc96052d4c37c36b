/**
 * The peers measured side by side. Each runs as its own process on 127.0.0.1 (pinned to the
 * proxy core in the pinned layout) in front of the shared upstream models.
 */
import type { PeerInfo } from '../lib/results.js';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, start, type Proc } from '../lib/proc.js';
import { startCcrouter, type CcrouterCommand, type CcrouterPeerOptions } from './ccrouter.js';
import { startNginx } from './nginx.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const UPSTREAM_SCRIPT = path.join(HERE, 'upstream.mjs');

/** A port free on 127.0.0.1 at the time of asking. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A model server (bench/peers/upstream.mjs) answering after `delayMs`, on `cpus` (null: unpinned). */
export async function startUpstream(name: string, delayMs: number, cpus: string | null): Promise<{ proc: Proc; url: string }> {
  const { proc, match } = await start(name, process.execPath, [UPSTREAM_SCRIPT, '--port', '0', '--delay', String(delayMs)], { cpus, ready: /listening on (http:\/\/\S+)/ });
  return { proc, url: match! };
}

export interface Upstreams {
  champion: string;
  challenger: string;
  /** The challenger delayed (by SLOW_DELAY_MS unless the caller chose another delay). */
  slow: string;
}

/** The slow challenger's delay, ms. */
export const SLOW_DELAY_MS = 200;

/** The model servers the peers stand in front of: champion, challenger, and the challenger delayed. */
export async function startUpstreams(cpus: string | null, slowDelayMs = SLOW_DELAY_MS): Promise<{ upstreams: Upstreams; procs: Proc[] }> {
  const champion = await startUpstream('champion', 0, cpus);
  const challenger = await startUpstream('challenger', 0, cpus);
  const slow = await startUpstream('challenger-slow', slowDelayMs, cpus);
  return { upstreams: { champion: champion.url, challenger: challenger.url, slow: slow.url }, procs: [champion.proc, challenger.proc, slow.proc] };
}

export interface PeerContext {
  upstreams: Upstreams;
  /** Where the peer under test runs: `0` when pinned, null when unpinned. */
  cpus: string | null;
  /** A fresh directory for this peer's files. */
  dir: string;
  ccrouter: CcrouterCommand;
}

export interface RunningPeer {
  url: string;
  proc: Proc;
  /** ccrouter's records directory (shadow coverage is read from its pairs file). */
  logDir: string | null;
}

/** A peer's description (stored with the results) plus how to start it. */
export interface PeerDef extends PeerInfo {
  needs: string | null;
  /** Measured only when named in `--peers` (a reference for focused runs, not part of the table). */
  onRequest?: true;
  start(ctx: PeerContext): Promise<RunningPeer>;
}

/** A ccrouter peer: `ccrouter serve` in front of the champion and the fast or the slow challenger. */
function ccrouterPeer(id: string, label: string, what: string, slowChallenger: boolean, options: Omit<CcrouterPeerOptions, 'champion' | 'challenger'>): PeerDef {
  return {
    id,
    label,
    what,
    ccrouter: true,
    slowChallenger,
    shadow: options.shadow,
    needs: null,
    async start(ctx) {
      const challenger = slowChallenger ? ctx.upstreams.slow : ctx.upstreams.challenger;
      const r = await startCcrouter(id, ctx.ccrouter, { champion: ctx.upstreams.champion, challenger, ...options }, ctx.dir, ctx.cpus);
      return { url: r.url, proc: r.proc, logDir: r.logDir };
    },
  };
}

/** The design's floor (bench/peers/sketch.mjs), with or without the challenger call. */
function sketchPeer(id: string, label: string, what: string, shadow: boolean): PeerDef {
  return {
    id,
    label,
    what,
    ccrouter: false,
    slowChallenger: false,
    shadow,
    needs: null,
    onRequest: true,
    async start(ctx) {
      const args = [path.join(HERE, 'sketch.mjs'), '--champion', ctx.upstreams.champion, '--log', path.join(ctx.dir, 'sketch.jsonl')];
      if (shadow) args.push('--challenger', ctx.upstreams.challenger, '--shadow');
      fs.mkdirSync(ctx.dir, { recursive: true });
      const { proc, match } = await start(id, process.execPath, args, { cpus: ctx.cpus, ready: /listening on (http:\/\/\S+)/ });
      return { url: match!, proc, logDir: null };
    },
  };
}

export const PEERS: PeerDef[] = [
  {
    id: 'direct',
    label: 'direct',
    what: 'the upstream model itself (a dedicated instance on the proxy core): the floor',
    ccrouter: false,
    slowChallenger: false,
    shadow: false,
    needs: null,
    async start(ctx) {
      const { proc, url } = await startUpstream('direct', 0, ctx.cpus);
      return { url, proc, logDir: null };
    },
  },
  {
    id: 'fastify-proxy',
    label: 'fastify http-proxy',
    what: 'plain fastify 5 + @fastify/http-proxy 11 (`upstream: champion`, plugin defaults)',
    ccrouter: false,
    slowChallenger: false,
    shadow: false,
    needs: null,
    async start(ctx) {
      const script = path.join(HERE, 'fastify-proxy.mjs');
      const { proc, match } = await start('fastify-proxy', process.execPath, [script, '--upstream', ctx.upstreams.champion], { cpus: ctx.cpus, ready: /listening on (http:\/\/\S+)/ });
      return { url: match!, proc, logDir: null };
    },
  },
  sketchPeer('sketch-shadow', 'sketch shadow', 'the design floor (bench/peers/sketch.mjs): fastify route, raw body, both models through undici `Pool.request`, answer the champion\'s, one async pino line; none of ccrouter\'s features', true),
  sketchPeer('sketch-noshadow', 'sketch shadow off', 'the same sketch calling the champion only', false),
  ccrouterPeer('ccr-shadow', 'ccrouter shadow', 'ccrouter, control 0.05, challenger 0.10, shadow on, fast challenger', false, { shadow: true }),
  ccrouterPeer('ccr-noshadow', 'ccrouter shadow off', 'ccrouter, same config with `traffic.shadow: false` (served model only)', false, { shadow: false }),
  // Challenger fraction 0: the slow model is only ever called in shadow, so the served latency shows
  // what a slow shadow costs the served path (with 0.10 the tenth served by the slow model would be the p99).
  ccrouterPeer(
    'ccr-slow',
    'ccrouter, challenger +200 ms',
    'ccrouter, control 0.05, challenger 0 (every request shadowed to the challenger), challenger answering after 200 ms (timeoutMs 1000, shadowLimit 1024)',
    true,
    { shadow: true, challengerTimeoutMs: 1000, challengerFraction: 0 },
  ),
  {
    id: 'ccr-fleet',
    label: 'ccrouter shadow, fleet',
    what: 'ccr-shadow with `fleet` (levers shared through a redis-server of its own on 127.0.0.1): what the fleet costs the request path',
    ccrouter: true,
    slowChallenger: false,
    shadow: true,
    needs: 'redis-server',
    onRequest: true,
    async start(ctx) {
      const port = await freePort();
      fs.mkdirSync(ctx.dir, { recursive: true });
      // Unpinned: Redis is the fleet's, not the proxy's; it answers two reads a second here.
      await start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', ctx.dir],
        { cpus: null, ready: /Ready to accept connections/ });
      const fleet = { name: 'bench', redis: `redis://127.0.0.1:${port}`, instance: 'bench-1' };
      const r = await startCcrouter('ccr-fleet', ctx.ccrouter, { champion: ctx.upstreams.champion, challenger: ctx.upstreams.challenger, shadow: true, fleet }, ctx.dir, ctx.cpus);
      return { url: r.url, proc: r.proc, logDir: r.logDir };
    },
  },
  {
    id: 'nginx-pass',
    label: 'nginx proxy_pass',
    what: 'nginx, one worker, `proxy_pass` to a keep-alive champion upstream',
    ccrouter: false,
    slowChallenger: false,
    shadow: false,
    needs: 'nginx',
    async start(ctx) {
      const r = await startNginx('nginx-pass', { champion: ctx.upstreams.champion }, ctx.dir, ctx.cpus);
      return { url: r.url, proc: r.proc, logDir: null };
    },
  },
  {
    id: 'nginx-mirror',
    label: 'nginx mirror, challenger +200 ms',
    what: 'nginx, one worker, `proxy_pass` to the champion and `mirror` to the challenger delayed 200 ms',
    ccrouter: false,
    slowChallenger: true,
    shadow: true,
    needs: 'nginx',
    async start(ctx) {
      const r = await startNginx('nginx-mirror', { champion: ctx.upstreams.champion, mirror: ctx.upstreams.slow }, ctx.dir, ctx.cpus);
      return { url: r.url, proc: r.proc, logDir: null };
    },
  },
];

/** The peers that can run here, and the ones skipped with the reason. */
export function availablePeers(only: string[] | null): { peers: PeerDef[]; skipped: Array<{ peer: PeerDef; reason: string }> } {
  const peers: PeerDef[] = [];
  const skipped: Array<{ peer: PeerDef; reason: string }> = [];
  for (const p of PEERS) {
    if (only === null ? p.onRequest === true : !only.includes(p.id)) continue;
    if (p.needs !== null && !hasCommand(p.needs)) skipped.push({ peer: p, reason: `${p.needs} is not on PATH` });
    else peers.push(p);
  }
  return { peers, skipped };
}
