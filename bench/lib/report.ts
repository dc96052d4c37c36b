/**
 * From raw samples to the published figures: medians across rounds, paired ratios (each round's
 * ratio, then the median of those), shadow coverage, the performance targets with PASS/FAIL, and the
 * markdown written to docs/benchmarks.md and printed.
 */
import fs from 'node:fs';
import type { Coverage } from './coverage.js';
import type { Layout, OlSample, PeerInfo, RunResults, SatSample } from './results.js';
import { max, median, min } from './stats.js';

export const PLAIN = 'fastify-proxy';
export const DIRECT = 'direct';
/** ccrouter's default `traffic.shadowLimit`, which the bench configs keep. */
export const SHADOW_LIMIT = 1024;

export interface OlSummary {
  p50: number;
  p99: number;
  /** Median over rounds of (p99 − direct's p99 in the same round). */
  addedP99: number;
  unfinished: number;
  errors: number;
  sendLagP99: number;
  /** Median busy share of each core during the runs (empty for results from older runs). */
  coreBusy: number[];
  /** Median CPU of the peer per answered request (NaN for results from older runs). */
  cpuUsPerReq: number;
}

export interface CoverageSummary extends Coverage {
  share: number;
  /** Shadow calls in flight by Little's law: rate × mean challenger latency. */
  inflight: number | null;
}

export interface PeerSummary {
  peer: PeerInfo;
  layout: Layout;
  rps: { median: number; min: number; max: number } | null;
  vsPlain: number;
  vsDirect: number;
  cpuUsPerReq: number;
  satP99: number;
  coreBusy: number[];
  errors: number;
  rssMiB: number;
  /** Share of CPU used by processes not started by the harness during this peer's measurements. */
  foreign: { median: number; max: number; steal: number };
  ol: Map<number, OlSummary>;
  /** Phase (`sat`, `ol1000`, ...) → coverage pooled over rounds. */
  coverage: Map<string, CoverageSummary>;
}

function byRound<T extends { round: number }>(samples: T[]): Map<number, T> {
  return new Map(samples.map((s) => [s.round, s]));
}

/** Median over rounds of f(peer's sample, reference's sample), pairing samples of the same round. */
function paired<T extends { round: number }>(mine: T[], ref: T[], f: (a: T, b: T) => number): number {
  const refs = byRound(ref);
  const values: number[] = [];
  for (const a of mine) {
    const b = refs.get(a.round);
    if (b !== undefined) values.push(f(a, b));
  }
  return median(values);
}

/** `pin.r2.ol1000` → `ol1000`. */
export function phaseOf(tag: string): string {
  return tag.slice(tag.lastIndexOf('.') + 1);
}

export function layoutTag(layout: Layout): string {
  return layout === 'pinned' ? 'pin' : 'free';
}

export function summarize(res: RunResults): PeerSummary[] {
  const out: PeerSummary[] = [];
  for (const layout of res.options.layouts) {
    const sat = (peer: string) => res.sat.filter((s) => s.layout === layout && s.peer === peer);
    const ol = (peer: string, rate: number) => res.ol.filter((s) => s.layout === layout && s.peer === peer && s.rate === rate);
    for (const peer of res.peers) {
      const mine = sat(peer.id);
      if (mine.length === 0) continue;
      const rps = mine.map((s) => s.rps);
      const olMap = new Map<number, OlSummary>();
      for (const rate of res.options.rates) {
        const samples = ol(peer.id, rate);
        if (samples.length === 0) continue;
        olMap.set(rate, {
          p50: median(samples.map((s) => s.result.latencyMs.p50)),
          p99: median(samples.map((s) => s.result.latencyMs.p99)),
          addedP99: paired(samples, ol(DIRECT, rate), (a: OlSample, b: OlSample) => a.result.latencyMs.p99 - b.result.latencyMs.p99),
          unfinished: samples.reduce((a, s) => a + s.result.unfinished, 0),
          errors: samples.reduce((a, s) => a + s.result.errors, 0),
          sendLagP99: median(samples.map((s) => s.result.sendLagMs.p99)),
          coreBusy: (samples[0]!.coreBusy ?? []).map((_, i) => median(samples.map((s) => s.coreBusy?.[i]))),
          cpuUsPerReq: median(samples.map((s) => s.cpuUsPerReq)),
        });
      }
      out.push({
        peer,
        layout,
        rps: { median: median(rps), min: min(rps), max: max(rps) },
        vsPlain: paired(mine, sat(PLAIN), (a: SatSample, b: SatSample) => a.rps / b.rps),
        vsDirect: paired(mine, sat(DIRECT), (a: SatSample, b: SatSample) => a.rps / b.rps),
        cpuUsPerReq: median(mine.map((s) => s.cpuUsPerReq)),
        satP99: median(mine.map((s) => s.p99Ms)),
        coreBusy: mine[0]!.coreBusy.map((_, i) => median(mine.map((s) => s.coreBusy[i]!))),
        errors: mine.reduce((a, s) => a + s.errors, 0) + [...olMap.values()].reduce((a, o) => a + o.errors, 0),
        rssMiB: max(mine.map((s) => s.rssMiB).concat(res.ol.filter((s) => s.layout === layout && s.peer === peer.id).map((s) => s.rssMiB))),
        foreign: (() => {
          const all = [...mine, ...res.ol.filter((o) => o.layout === layout && o.peer === peer.id)];
          const f = all.map((x) => x.foreign);
          return { median: median(f), max: max(f), steal: median(all.map((x) => x.steal)) };
        })(),
        ol: olMap,
        coverage: coverageOf(res, peer, layout, median(rps)),
      });
    }
  }
  return out;
}

function coverageOf(res: RunResults, peer: PeerInfo, layout: Layout, satRps: number): Map<string, CoverageSummary> {
  const out = new Map<string, CoverageSummary>();
  const tags = res.coverage[peer.id];
  if (!tags) return out;
  // The measurements kept: a disturbed one taken again has its own tag and is left out.
  const kept = new Set([...res.sat, ...res.ol].filter((x) => x.peer === peer.id && x.layout === layout).map((x) => x.tag));
  const pooled = new Map<string, Coverage & { latSum: number; latN: number }>();
  for (const [tag, c] of Object.entries(tags)) {
    if (!kept.has(tag)) continue;
    const phase = phaseOf(tag);
    const acc = pooled.get(phase) ?? { records: 0, covered: 0, overLimit: 0, errors: 0, challengerMs: null, latSum: 0, latN: 0 };
    acc.records += c.records;
    acc.covered += c.covered;
    acc.overLimit += c.overLimit;
    acc.errors += c.errors;
    if (c.challengerMs !== null) {
      acc.latSum += c.challengerMs * c.records;
      acc.latN += c.records;
    }
    pooled.set(phase, acc);
  }
  for (const [phase, acc] of pooled) {
    const challengerMs = acc.latN > 0 ? acc.latSum / acc.latN : null;
    const rate = phase === 'sat' ? satRps : Number(phase.slice(2));
    out.set(phase, {
      records: acc.records,
      covered: acc.covered,
      overLimit: acc.overLimit,
      errors: acc.errors,
      challengerMs,
      share: acc.records > 0 ? acc.covered / acc.records : NaN,
      inflight: challengerMs === null ? null : (rate * challengerMs) / 1000,
    });
  }
  return out;
}

export interface TargetRow {
  figure: string;
  target: string;
  measured: string;
  pass: boolean | null;
}

const find = (s: PeerSummary[], peer: string, layout: Layout) => s.find((x) => x.peer.id === peer && x.layout === layout);

/** ccrouter's performance targets, computed from this run's ratios (pinned layout unless said otherwise). */
export function targets(res: RunResults, s: PeerSummary[]): TargetRow[] {
  const rows: TargetRow[] = [];
  const atLeast = (v: number | undefined, t: number) => (v === undefined || !Number.isFinite(v) ? null : v >= t);
  const atMost = (v: number | undefined, t: number) => (v === undefined || !Number.isFinite(v) ? null : v <= t);
  const shadowPin = find(s, 'ccr-shadow', 'pinned');
  const shadowFree = find(s, 'ccr-shadow', 'unpinned');
  const offPin = find(s, 'ccr-noshadow', 'pinned');
  const slowPin = find(s, 'ccr-slow', 'pinned');

  rows.push({ figure: 'shadow-mode saturation throughput vs plain @fastify/http-proxy, pinned', target: '≥ 1.2×', measured: x(shadowPin?.vsPlain), pass: atLeast(shadowPin?.vsPlain, 1.2) });
  rows.push({ figure: 'same, unpinned', target: '≥ 1.0×', measured: x(shadowFree?.vsPlain), pass: atLeast(shadowFree?.vsPlain, 1.0) });
  rows.push({ figure: 'shadow off vs plain @fastify/http-proxy, pinned', target: '≥ 1.7×', measured: x(offPin?.vsPlain), pass: atLeast(offPin?.vsPlain, 1.7) });
  for (const rate of res.options.rates) {
    const o = shadowPin?.ol.get(rate);
    rows.push({ figure: `ccrouter shadow: added p99 over direct at ${rate} req/s`, target: '≤ 2.5 ms', measured: o ? `${ms(o.addedP99)} ms` : 'n/a', pass: atMost(o?.addedP99, 2.5) });
  }
  const limits: Record<number, number> = { 1000: 1.25, 3000: 2 };
  for (const rate of res.options.rates) {
    const fast = shadowPin?.ol.get(rate);
    const slow = slowPin?.ol.get(rate);
    const ratio = fast && slow ? pairedP99(res, rate) : undefined;
    const limit = limits[rate] ?? 2;
    rows.push({ figure: `challenger +200 ms: served p99 vs fast challenger at ${rate} req/s`, target: `≤ ${limit}×`, measured: ratio === undefined ? 'n/a' : `${x(ratio)} (${ms(slow!.p99)} vs ${ms(fast!.p99)} ms)`, pass: atMost(ratio, limit) });
  }
  const satRatio = slowPin && shadowPin ? pairedSat(res, 'ccr-slow', 'ccr-shadow', 'pinned') : undefined;
  rows.push({ figure: 'challenger +200 ms: saturation throughput vs fast challenger', target: '≥ 0.9×', measured: x(satRatio), pass: atLeast(satRatio, 0.9) });

  // Coverage wherever rate × challenger latency ≤ shadowLimit (Little's law), every ccrouter shadow peer.
  const eligible: string[] = [];
  let worst = Infinity;
  for (const p of s) {
    if (!p.peer.ccrouter || !p.peer.shadow) continue;
    for (const [phase, c] of p.coverage) {
      if (c.inflight === null || c.inflight > SHADOW_LIMIT || c.records === 0) continue;
      eligible.push(`${p.peer.id} ${p.layout} ${phase} ${pct(c.share)}`);
      worst = Math.min(worst, c.share);
    }
  }
  if (res.rss?.coverage && res.rss.coverage.records > 0) {
    const c = res.rss.coverage;
    const inflight = c.challengerMs === null ? null : (res.rss.rate * c.challengerMs) / 1000;
    if (inflight !== null && inflight <= SHADOW_LIMIT) {
      const share = c.covered / c.records;
      eligible.push(`${res.rss.peer} ${res.rss.seconds} s run ${pct(share)}`);
      worst = Math.min(worst, share);
    }
  }
  rows.push({
    figure: 'shadow coverage when rate × challenger latency ≤ shadowLimit',
    target: '≥ 99 %',
    measured: eligible.length === 0 ? 'n/a' : `min ${pct(worst)} over ${eligible.length} runs`,
    pass: eligible.length === 0 ? null : worst >= 0.99,
  });
  const rss = rssGrowth(res);
  rows.push({
    figure: `RSS over a ${res.rss?.seconds ?? 60} s slow-challenger run (${res.rss?.rate ?? 1000} req/s)`,
    target: 'flat after warm-up (≤ +10 %)',
    measured:
      rss === null
        ? 'n/a'
        : `${rss.from.toFixed(0)} → ${rss.to.toFixed(0)} MiB (${rss.growth >= 0 ? '+' : ''}${pct(rss.growth)}; slope ${rss.slopePerMin >= 0 ? '+' : ''}${rss.slopePerMin.toFixed(1)} MiB/min)`,
    pass: rss === null ? null : rss.growth <= 0.1,
  });
  rows.push({ figure: '`report` over 1 M records vs bare DuckDB scan', target: '≤ 1.5×', measured: 'not measured here: `bench/report`', pass: null });
  return rows;
}

function pairedP99(res: RunResults, rate: number): number {
  const get = (peer: string) => res.ol.filter((o) => o.layout === 'pinned' && o.peer === peer && o.rate === rate);
  return paired(get('ccr-slow'), get('ccr-shadow'), (a: OlSample, b: OlSample) => a.result.latencyMs.p99 / b.result.latencyMs.p99);
}

function pairedSat(res: RunResults, peer: string, ref: string, layout: Layout): number {
  const get = (p: string) => res.sat.filter((o) => o.layout === layout && o.peer === p);
  return paired(get(peer), get(ref), (a: SatSample, b: SatSample) => a.rps / b.rps);
}

/**
 * RSS trend after warm-up: the median of the second half of the samples against the median of the
 * first half (robust to the GC's sawtooth), and the least-squares slope in MiB per minute.
 */
export function rssGrowth(res: RunResults): { from: number; to: number; growth: number; slopePerMin: number } | null {
  const series = res.rss;
  if (!series) return null;
  const after = series.samples.filter((p) => p.tS >= series.warmupS);
  if (after.length < 4) return null;
  const half = Math.floor(after.length / 2);
  const from = median(after.slice(0, half).map((p) => p.rssMiB));
  const to = median(after.slice(after.length - half).map((p) => p.rssMiB));
  const mt = after.reduce((a, p) => a + p.tS, 0) / after.length;
  const mr = after.reduce((a, p) => a + p.rssMiB, 0) / after.length;
  const cov = after.reduce((a, p) => a + (p.tS - mt) * (p.rssMiB - mr), 0);
  const vt = after.reduce((a, p) => a + (p.tS - mt) ** 2, 0);
  return { from, to, growth: (to - from) / from, slopePerMin: vt > 0 ? (cov / vt) * 60 : NaN };
}

// ---------- formatting ----------

function fin(v: number | undefined | null): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
function x(v: number | undefined): string {
  return fin(v) ? `${v.toFixed(2)}×` : 'n/a';
}
/** Milliseconds with the decimals their size deserves. */
export function ms(v: number | undefined): string {
  if (!fin(v)) return 'n/a';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}
function pct(v: number | undefined): string {
  return fin(v) ? `${(v * 100).toFixed(v >= 0.995 && v < 1 ? 2 : 1)} %` : 'n/a';
}
function int(v: number | undefined): string {
  return fin(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
}
/** A markdown table. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(res: RunResults): string {
  const s = summarize(res);
  const out: string[] = [];
  const m = res.machine;
  out.push(`Run of ${res.startedAt} (${Math.round(res.elapsedS)} s): \`${res.command}\``);
  out.push('');
  out.push(
    `Machine: ${m.nproc} cores (\`nproc\`), ${m.cpuModel}, ${m.memGiB} GiB, ${m.kernel}; Node ${m.node}; ` +
      `nginx ${m.nginx ?? 'not installed'}; wrk ${m.wrk ?? 'not installed'}; load average at start ${m.loadAvg.join(' ')}. ` +
      `Saturation tool: ${res.tool}, ${res.options.connections} connections, ${res.options.satDurationS} s per run; open loop ${res.options.olDurationS} s per rate; ` +
      `${res.options.rounds} alternating rounds per layout; ccrouter run from ${res.ccrouterBuild}.`,
  );
  if (res.skipped.length > 0) {
    out.push('');
    out.push(`**Skipped:** ${res.skipped.map((k) => `${k.label} (${k.reason})`).join('; ')}.`);
  }
  if (res.retried > 0) {
    out.push('');
    out.push(`${res.retried} measurement(s) were taken again because other processes took over 15 % of the CPU during them (the least disturbed attempt is kept).`);
  }
  for (const note of res.notes) {
    out.push('');
    out.push(`> ${note}`);
  }

  for (const layout of res.options.layouts) {
    const rows = s.filter((p) => p.layout === layout);
    if (rows.length === 0) continue;
    const pinned = layout === 'pinned';
    out.push('');
    out.push(pinned ? '### Pinned: proxy on core 0, load generator and upstreams on core 1' : '### Unpinned: every process free on every core');
    out.push('');
    const rates = res.options.rates.filter((r) => rows.some((p) => p.ol.has(r)));
    const head = ['peer', 'saturation req/s (min–max)', '× plain', '× direct', 'CPU µs/req', ...(pinned ? ['core 0 / 1 busy'] : [])];
    for (const r of rates) head.push(`p50 / p99 @${r} ms (${pinned ? 'core 0 busy, ' : ''}CPU µs/req)`, `+p99 vs direct @${r}`);
    head.push('shadow coverage', 'RSS MiB', 'errors', 'foreign CPU');
    const body = rows.map((p) => {
      const cells = [
        p.peer.label,
        p.rps ? `${int(p.rps.median)} (${int(p.rps.min)}–${int(p.rps.max)})${pinned && loadBound(p) ? ' ‡' : ''}` : 'n/a',
        p.peer.id === PLAIN ? '1' : x(p.vsPlain),
        p.peer.id === DIRECT ? '1' : x(p.vsDirect),
        fin(p.cpuUsPerReq) ? p.cpuUsPerReq.toFixed(0) : 'n/a',
      ];
      if (pinned) cells.push(p.coreBusy.slice(0, 2).map((b) => `${Math.round(b * 100)} %`).join(' / '));
      for (const r of rates) {
        const o = p.ol.get(r);
        const lb = o && o.unfinished > 0 ? '≥ ' : '';
        const over = o && p.rps && r > p.rps.median ? ' †' : '';
        const load = o ? [pinned && fin(o.coreBusy[0]) ? `${Math.round(o.coreBusy[0] * 100)} %` : null, fin(o.cpuUsPerReq) ? o.cpuUsPerReq.toFixed(0) : null].filter(Boolean) : [];
        const rho = load.length > 0 ? ` (${load.join(', ')})` : '';
        cells.push(o ? `${ms(o.p50)} / ${lb}${ms(o.p99)}${over}${rho}` : 'n/a', o ? (p.peer.id === DIRECT ? '0' : `${lb}${ms(o.addedP99)}`) : 'n/a');
      }
      cells.push(coverageCell(p), fin(p.rssMiB) ? p.rssMiB.toFixed(0) : 'n/a', String(p.errors), foreignCell(p));
      return cells;
    });
    out.push(table(head, body));
  }
  out.push('');
  out.push(
    'Medians over rounds; ratios are paired (each round against the reference measured in the same round, then the median). ' +
      'CPU µs/req: user + system time of the peer\'s processes during the saturation run ÷ requests answered. ' +
      'Open-loop latency is counted from each request\'s scheduled send time; "≥" marks runs where requests were still unanswered at the end (counted with their age so far); in brackets, pinned, how busy the peer\'s core was meanwhile (steal included; the closer to 100 %, the longer a stall takes to work off), and the peer\'s CPU per answered request at that rate. ' +
      '†: the rate is above the peer\'s saturation throughput, so the peer is overloaded and its queue grows for the whole run: the figure says "cannot sustain this rate" rather than measuring a tail. ' +
      '‡: the load core was saturated and the proxy core was not, so the figure is a lower bound set by the load side (wrk and the upstream models share core 1). ' +
      'Shadow coverage: share of pair records where both models were called, pooled over rounds, for saturation / each open-loop rate. ' +
      'RSS: highest VmRSS sampled after each measurement. errors: socket errors, non-2xx answers and timeouts seen by the load generators. ' +
      'foreign CPU: share of the machine\'s CPU taken by processes this run did not start and by the hypervisor (steal) during the peer\'s measurements, median (max), then the median of steal alone; above a few % the figures are disturbed.',
  );

  out.push('');
  out.push('### Performance targets');
  out.push('');
  out.push(table(['figure', 'target', 'measured (median of paired rounds)', 'result'], targets(res, s).map((t) => [t.figure, t.target, t.measured, t.pass === null ? '—' : t.pass ? 'PASS' : '**FAIL**'])));

  if (res.rss) {
    const r = res.rss;
    const rss = rssGrowth(res);
    out.push('');
    out.push(`### RSS over ${r.seconds} s: ccrouter, challenger +200 ms, open loop ${r.rate} req/s, pinned`);
    out.push('');
    out.push(table(['t (s)', ...r.samples.map((p) => String(p.tS))], [['RSS MiB', ...r.samples.map((p) => p.rssMiB.toFixed(0))]]));
    const l = r.latency;
    const c = r.coverage;
    out.push('');
    out.push(
      (rss ? `Median of the second half of the samples after warm-up against the first half: ${rss.from.toFixed(0)} → ${rss.to.toFixed(0)} MiB; least-squares slope ${rss.slopePerMin.toFixed(1)} MiB/min. ` : '') +
      `Warm-up: first ${r.warmupS} s. Served latency over the run: ` +
        (l ? `p50 ${ms(l.latencyMs.p50)} ms, p99 ${ms(l.latencyMs.p99)} ms, max ${ms(l.latencyMs.max)} ms, ${l.errors} errors, ${l.unfinished} unfinished` : 'n/a') +
        (r.foreign !== undefined ? `; foreign CPU ${Math.round(r.foreign * 100)} %${r.steal !== undefined ? ` (steal ${Math.round(r.steal * 100)} %)` : ''}` : '') +
        `; shadow coverage ${c && c.records > 0 ? `${pct(c.covered / c.records)} of ${int(c.records)} records (${int(c.overLimit)} over shadowLimit, mean challenger latency ${ms(c.challengerMs ?? NaN)} ms)` : 'n/a'}.`,
    );
  }
  return out.join('\n');
}

/** Pinned, the proxy core not saturated while the load core is: the figure is the load side's limit. */
function loadBound(p: PeerSummary): boolean {
  return (p.coreBusy[0] ?? 1) < 0.85 && (p.coreBusy[1] ?? 0) > 0.95;
}

function foreignCell(p: PeerSummary): string {
  const f = p.foreign;
  return `${Math.round(f.median * 100)} % (max ${Math.round(f.max * 100)} %)${fin(f.steal) ? `; steal ${Math.round(f.steal * 100)} %` : ''}`;
}

function coverageCell(p: PeerSummary): string {
  if (!p.peer.ccrouter) return p.peer.shadow ? 'not recorded' : '—';
  if (!p.peer.shadow) return 'off';
  const phases = ['sat', ...[...p.ol.keys()].map((r) => `ol${r}`)];
  return phases.map((ph) => pct(p.coverage.get(ph)?.share)).join(' / ');
}

export const BEGIN = '<!-- bench:results:begin (written by `npm run bench`; edit outside these markers) -->';
export const END = '<!-- bench:results:end -->';

/** Replace the marked section of the docs page (appended when the markers are missing). */
export function writeDocs(file: string, markdown: string): void {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${BEGIN}\n${markdown}\n${END}`;
  const b = text.indexOf('<!-- bench:results:begin');
  const e = text.indexOf(END);
  const next = b >= 0 && e > b ? text.slice(0, b) + block + text.slice(e + END.length) : `${text.trimEnd()}\n\n## Latest results\n\n${block}\n`;
  fs.writeFileSync(file, next);
}
