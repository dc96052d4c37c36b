/** Test helpers: log directories written from objects, and random but reproducible records. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import seedrandom from 'seedrandom';

 
type Obj = Record<string, any>;

/** A fresh temporary directory, removed after the test. */
export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-report-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes JSON Lines files: objects are serialized, strings written as raw lines. */
export function writeLogs(dir: string, files: Record<string, (Obj | string)[]>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, lines] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + (lines.length ? '\n' : ''));
  }
}

export interface OutcomeSpec {
  version?: string;
  status?: number | null;
  latencyMs?: number | null;
  score?: number | null;
  decision?: boolean | null;
  error?: { kind: string; message: string } | null;
  normalized?: number;
}

/** A model outcome: scored by default, an error when `error` is given (then no score). */
export function outcome(o: OutcomeSpec & { role?: 'champion' | 'challenger' }): Obj {
  const role = o.role ?? 'champion';
  const version = o.version ?? (role === 'champion' ? 'm-v1' : 'm-v2');
  if (o.error) {
    const skipped = o.error.kind === 'skipped';
    return { version, status: skipped ? null : (o.status ?? null), latencyMs: skipped ? null : (o.latencyMs ?? 100), score: null, decision: null, error: o.error };
  }
  const score = o.score ?? 0.5;
  return {
    version, status: o.status ?? 200, latencyMs: o.latencyMs ?? 10, score,
    decision: o.decision ?? score >= 0.5, error: null,
    ...(o.normalized !== undefined ? { normalized: o.normalized } : {}),
  };
}

let seq = 0;
/** A pair record with sensible defaults; override any top-level key. */
export function pair(over: Obj = {}): Obj {
  seq++;
  const group = over.group ?? 'champion';
  return {
    level: 30, time: 1_790_000_000_000 + seq, msg: 'pair', requestId: `r-${seq}`, route: 'POST /predict', config: 'cfg-a',
    unit: `u-${seq}`, assigned: 'key', bucket: 0.5, group, served: group === 'challenger' ? 'challenger' : 'champion',
    fallback: false, champion: outcome({ role: 'champion' }), challenger: outcome({ role: 'challenger' }),
    agree: true, fields: {}, ...over,
  };
}

export interface RandomLogs {
  pairs: Obj[];
  events: Obj[];
  outcomes: Obj[];
}

/**
 * Random records exercising every branch: three groups, two configs, tied and discrete scores,
 * errors of every kind, skipped shadows, rejected requests, fallbacks, repeated units, labels by
 * request and by unit (some overwritten later, some invalid), a segment field sometimes missing.
 */
export function randomLogs(seed: number, n: number, opts: { calibrated?: boolean } = {}): RandomLogs {
  const rand = seedrandom.alea(String(seed));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const pairs: Obj[] = [];
  const outcomes: Obj[] = [];
  const kinds = ['timeout', 'connect', 'status', 'parse', 'canceled'];
  for (let i = 0; i < n; i++) {
    const group = rand() < 0.2 ? 'control' : rand() < 0.6 ? 'champion' : 'challenger';
    const y = rand() < 0.3 ? 1 : 0;
    // Scores on a coarse grid half of the time: ties everywhere.
    const raw = (bias: number) => Math.min(1, Math.max(0, 0.3 + 0.4 * y * bias + (rand() - 0.5) * 0.6));
    const grid = rand() < 0.5;
    const mk = (role: 'champion' | 'challenger', bias: number, thr: number) => {
      const r = rand();
      if (r < 0.05) return outcome({ role, error: { kind: pick(kinds), message: 'x' }, latencyMs: rand() < 0.5 ? 250 : null, status: 503 });
      if (r < 0.1 && role !== (group === 'challenger' ? 'challenger' : 'champion')) return outcome({ role, error: { kind: 'skipped', message: 'shadow off' } });
      const score = grid ? Math.round(raw(bias) * 10) / 10 : Math.round(raw(bias) * 1e6) / 1e6;
      return outcome({
        role, score, decision: score >= thr, latencyMs: Math.round((5 + rand() * 40) * 100) / 100,
        version: rand() < 0.97 ? (role === 'champion' ? 'm-v1' : 'm-v2') : 'm-old',
        ...(opts.calibrated ? { normalized: Math.round(score * 0.9 * 1e4) / 1e4 } : {}),
      });
    };
    const unit = `u-${Math.floor(rand() * n * 0.6)}`;
    const p = pair({
      time: 1_790_000_000_000 + i * 1000 + Math.floor(rand() * 10),
      requestId: `req-${seed}-${i}`,
      unit: rand() < 0.1 ? null : unit,
      group,
      config: rand() < 0.3 ? 'cfg-a' : 'cfg-b',
      fallback: group === 'challenger' && rand() < 0.05,
      champion: mk('champion', 0.8, 0.5),
      challenger: mk('challenger', 1.2, 0.55),
      fields: rand() < 0.1 ? {} : { country: pick(['US', 'FR', 'DE']), tier: pick([1, 2, null]) },
    });
    if (rand() < 0.03) p.error = { kind: 'too_large', message: 'body over limit' };
    pairs.push(p);
    const r = rand();
    if (r < 0.45) outcomes.push({ requestId: p.requestId, label: rand() < 0.5 ? y : y === 1 });
    else if (r < 0.55 && p.unit) outcomes.push({ msg: 'outcome', unit: p.unit, label: y });
    else if (r < 0.58) outcomes.push({ requestId: p.requestId, label: pick([2, '1', 'yes', null]) });
    else if (r < 0.6) outcomes.push({ requestId: p.requestId, label: 1 - y }, { requestId: p.requestId, label: y });
  }
  outcomes.push({ requestId: 'unknown-request', label: 1 }, { unit: 'unknown-unit', label: 0 });
  const events = [
    { level: 30, time: 1_789_999_999_000, msg: 'event', type: 'start', config: 'cfg-a', traffic: { control: 0.2, challenger: 0.3 } },
    { level: 30, time: 1_790_000_000_500, msg: 'event', type: 'config_loaded', config: 'cfg-b', traffic: { control: 0.2, challenger: 0.32 } },
    { level: 30, time: 1_790_000_000_600, msg: 'event', type: 'bypass', config: 'cfg-b', traffic: { control: 0.5, challenger: 0.5 } },
  ];
  return { pairs, events, outcomes };
}

/** Captures runReport's output. */
export function io(tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: { write: (s: string) => (out.push(s), true) },
      stderr: { write: (s: string) => (err.push(s), true), isTTY: tty },
    },
  };
}

/**
 * Reports equal: every count, string and null exactly, every other number within 1e-12 relative.
 * Pair rows are stored in no fixed order (docs/report.md, "Memory"), and a sum of doubles rounds
 * differently in another order, in the last digit or two. `window.notices` says how the input was
 * read, not what it holds: left out here, asserted where it matters.
 */
export function assertSameReport(actual: unknown, expected: unknown, where = 'report'): void {
  const a = JSON.parse(JSON.stringify(actual));
  const e = JSON.parse(JSON.stringify(expected));
  for (const r of [a, e]) if (r?.window) delete r.window.notices;
  const walk = (x: unknown, y: unknown, at: string): void => {
    if (typeof x === 'number' && typeof y === 'number' && !(Number.isInteger(x) && Number.isInteger(y))) {
      assert.ok(Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(y)), `${where} ${at}: ${x} != ${y}`);
      return;
    }
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      assert.deepEqual(Object.keys(x).sort(), Object.keys(y).sort(), `${where} ${at}: keys`);
      for (const k of Object.keys(x)) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${at}.${k}`);
      return;
    }
    assert.deepEqual(x, y, `${where} ${at}`);
  };
  walk(a, e, '');
}
