/**
 * Saturation throughput: a closed loop of `connections` keep-alive connections sending
 * POST /predict as fast as answers come back. wrk when it is installed (its own process, C, one
 * thread), else autocannon (bench/load/autocannon.ts in its own Node process). One tool for every
 * peer of a run. Requests carry `x-user-id` cycling over 1 000 users and `x-request-id` `<tag>-<n>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TSX, hasCommand, run } from '../lib/proc.js';
import { BODY, USERS } from './open-loop.js';

export type SaturationTool = 'wrk' | 'autocannon';

/** wrk when it is installed, else autocannon. */
export function defaultTool(): SaturationTool {
  return hasCommand('wrk') ? 'wrk' : 'autocannon';
}

export interface SaturationRequest {
  url: string;
  durationS: number;
  connections: number;
  tag: string;
  cpus: string | null;
}

export interface SaturationResult {
  tag: string;
  requests: number;
  durationS: number;
  rps: number;
  /** Socket errors and non-2xx answers. */
  errors: number;
  latencyMs: { p50: number; p99: number };
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** wrk's Lua: 1 000 pre-formatted requests (one per user), cycled; the tag comes as script argument. */
const WRK_LUA = `
local reqs = {}
local n = ${USERS}
local i = 0
function init(args)
  local tag = args[1] or "sat"
  local body = '${BODY}'
  for k = 1, n do
    reqs[k] = wrk.format("POST", "/predict", {
      ["content-type"] = "application/json",
      ["x-user-id"] = "u-" .. (k - 1),
      ["x-request-id"] = tag .. "-" .. (k - 1),
    }, body)
  end
end
function request()
  i = i % n + 1
  return reqs[i]
end
`;

export function writeWrkScript(dir: string): string {
  const file = path.join(dir, 'predict.lua');
  fs.writeFileSync(file, WRK_LUA);
  return file;
}

/** `1.23ms`, `456.00us`, `1.02s` → milliseconds. */
function wrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

export function parseWrk(out: string, tag: string): SaturationResult {
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  if (!total) throw new Error(`cannot read wrk's output:\n${out}`);
  const requests = Number(total[1]);
  const durationS = Number(total[2]) * (total[3] === 'ms' ? 0.001 : total[3] === 'm' ? 60 : 1);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  return {
    tag,
    requests,
    durationS,
    rps: requests / durationS,
    errors,
    latencyMs: { p50: p50 ? wrkTime(p50[1]!) : NaN, p99: p99 ? wrkTime(p99[1]!) : NaN },
  };
}

export async function saturate(tool: SaturationTool, req: SaturationRequest, wrkScript: string): Promise<SaturationResult> {
  const seconds = Math.max(1, Math.round(req.durationS));
  if (tool === 'wrk') {
    const url = new URL('/predict', req.url).href;
    const out = await run('wrk', 'wrk', ['-t1', `-c${req.connections}`, `-d${seconds}s`, '--latency', '-s', wrkScript, url, '--', req.tag], { cpus: req.cpus, timeoutMs: (seconds + 30) * 1000 });
    return parseWrk(out, req.tag);
  }
  const script = path.join(HERE, 'autocannon.ts');
  const out = await run('autocannon', process.execPath, ['--import', TSX, script, '--url', req.url, '--connections', String(req.connections), '--duration', String(seconds), '--tag', req.tag], {
    cpus: req.cpus,
    timeoutMs: (seconds + 30) * 1000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as SaturationResult;
}
