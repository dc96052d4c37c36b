/**
 * Soak: `node --import tsx bench/soak.ts [--minutes 10] [--rate 300]`.
 * Runs `ccrouter serve` as its own process for the given time with mixed traffic, a flapping
 * challenger (healthy → 500s → slow → resets, every 20 s) and a config reload every 30 s; samples
 * the proxy's RSS, open file descriptors and sockets every 10 s; then SIGTERM and checks that every
 * answered request has its pair record. Loopback only; stops by itself. Not part of CI.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { checked, flags, positive } from './lib/args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `Usage: node --import tsx bench/soak.ts [options]

Runs ccrouter serve for the given time with mixed traffic, a challenger that flaps every 20 s
(healthy, 500s, slow, connection resets) and a config reload every 30 s; samples RSS, open file
descriptors and sockets every 10 s; then stops it and checks every answered request has its record.

  --minutes M   how long (default 10)
  --rate R      requests per second (default 300)
  -h, --help
`;
const values = flags(USAGE, { minutes: { type: 'string' }, rate: { type: 'string' } });
const [minutes, rate] = checked(() => [positive('--minutes', values.minutes, 10), positive('--rate', values.rate, 300)] as const);

type Mode = 'healthy' | 'failing' | 'slow' | 'resets';
let challengerMode: Mode = 'healthy';

function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

const champion = await listen((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"score":${(Math.random() * 0.6 + 0.2).toFixed(4)}}`);
  });
});
const challenger = await listen((req, res) => {
  req.resume();
  req.on('end', () => {
    const mode = challengerMode;
    if (mode === 'failing') { res.writeHead(500); res.end('down'); return; }
    if (mode === 'resets') { req.socket.destroy(); return; }
    const answer = () => { if (!res.destroyed) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(`{"score":${(Math.random() * 0.6 + 0.2).toFixed(4)}}`); } };
    if (mode === 'slow') setTimeout(answer, 400).unref(); else answer();
  });
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-soak-'));
const configFile = path.join(dir, 'ccrouter.yaml');
const writeConfig = (challengerFraction: number) => fs.writeFileSync(configFile, stringify({
  listen: { host: '127.0.0.1', port: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  models: {
    champion: { url: champion.url, version: 'soak-champion', timeoutMs: 500 },
    challenger: { url: challenger.url, version: 'soak-challenger', timeoutMs: 300 },
  },
  routes: [{ method: 'POST', path: '/predict', score: '/score' }],
  assignment: { unit: 'header:x-user-id', salt: 'soak' },
  traffic: { control: 0.05, challenger: challengerFraction, shadowLimit: 256 },
  logging: { dir: path.join(dir, 'logs'), fields: { country: '/country' } },
}));
writeConfig(0.1);

const useDist = fs.existsSync(path.join(ROOT, 'dist/cli.js'));
const child = spawn(process.execPath, useDist ? [path.join(ROOT, 'dist/cli.js'), 'serve', '--config', configFile] : ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'serve', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let buf = '';
  child.stdout!.on('data', (d) => { buf += d; const m = /serving on (http:\/\/\S+)/.exec(buf); if (m) resolve(m[1]!); });
  child.once('exit', (code) => reject(new Error(`ccrouter exited ${code}`)));
});
const pid = child.pid!;
const cleanup = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
process.on('SIGINT', () => { cleanup(); process.exit(130); });

function sample(): { rssMiB: number; fds: number; sockets: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`);
  let sockets = 0;
  for (const fd of fds) {
    try { if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++; } catch { /* closed meanwhile */ }
  }
  return { rssMiB: Math.round(rssKiB / 102.4) / 10, fds: fds.length, sockets };
}

// Enough connections that challenger-served requests waiting for a fallback never queue the rest.
const pool = new Pool(url, { connections: 128, keepAliveTimeout: 30_000 });
const countries = ['US', 'GB', 'DE', 'FR', 'BR', 'IN'];
let sent = 0;
let answered = 0;
let failed = 0;
const endAt = Date.now() + minutes * 60_000;
const samples: Array<{ t: number } & ReturnType<typeof sample>> = [];
const t0 = Date.now();
const modes: Mode[] = ['healthy', 'failing', 'healthy', 'slow', 'healthy', 'resets'];
const flap = setInterval(() => { challengerMode = modes[Math.floor((Date.now() - t0) / 20_000) % modes.length]!; }, 1000);
let reloads = 0;
const reload = setInterval(() => { reloads++; writeConfig(reloads % 2 === 0 ? 0.1 : 0.3); }, 30_000);
const sampler = setInterval(() => { const s = sample(); samples.push({ t: Math.round((Date.now() - t0) / 1000), ...s }); console.error(`t=${samples.at(-1)!.t}s rss=${s.rssMiB}MiB fds=${s.fds} sockets=${s.sockets} sent=${sent} answered=${answered} challenger=${challengerMode}`); }, 10_000);

// Open loop at `rate` req/s: a slow proxy does not slow the schedule down.
const interval = 1000 / rate;
let next = performance.now();
while (Date.now() < endAt) {
  next += interval;
  const i = sent++;
  const body = JSON.stringify({ amount: i % 500, country: countries[i % countries.length] });
  // Some requests without a unit key, some with a bad body (400, still recorded).
  const headers: Record<string, string> = i % 10 === 0 ? {} : { 'x-user-id': `u-${i % 5000}` };
  pool.request({ method: 'POST', path: i % 97 === 0 ? '/health' : '/predict', headers, body: i % 101 === 0 ? '{bad' : body })
    .then(async (res) => { await res.body.text(); answered++; })
    .catch(() => { failed++; });
  const wait = next - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
}
clearInterval(flap);
clearInterval(reload);
clearInterval(sampler);
while (answered + failed < sent) await new Promise((r) => setTimeout(r, 50));
await pool.close();
const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
child.kill('SIGTERM');
const code = await exited;
champion.server.close();
challenger.server.close();

const logs = path.join(dir, 'logs');
const records = fs.readdirSync(logs).filter((f) => f.startsWith('pairs')).flatMap((f) => fs.readFileSync(path.join(logs, f), 'utf8').split('\n').filter(Boolean));
const healthChecks = Math.floor((sent - 1) / 97) + 1; // pass-through, no record
const steady = samples.filter((s) => s.t >= 60);
const third = Math.max(1, Math.floor(steady.length / 3));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const first = steady.slice(0, third);
const last = steady.slice(-third);
const summary = {
  minutes, rate, sent, answered, failed, exitCode: code, reloads,
  records: records.length, expectedRecords: answered - healthChecks,
  rssMiB: { firstThird: avg(first.map((s) => s.rssMiB)), lastThird: avg(last.map((s) => s.rssMiB)), max: Math.max(...samples.map((s) => s.rssMiB)) },
  fds: { firstThird: avg(first.map((s) => s.fds)), lastThird: avg(last.map((s) => s.fds)) },
  sockets: { firstThird: avg(first.map((s) => s.sockets)), lastThird: avg(last.map((s) => s.sockets)) },
};
console.log(JSON.stringify(summary, null, 2));
const ok = code === 0 && failed === 0 && summary.records === summary.expectedRecords;
console.log(ok ? 'soak: PASS (every answered request has its record, exit 0)' : 'soak: FAIL');
fs.rmSync(dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
