/**
 * `--format html`: one self-contained page (inline CSS and SVG, no script, no request) with the
 * same figures as the text report plus charts.
 */
import { EVENT_COLOR, renderCharts, type RenderedCharts } from './charts.js';
import { formatBucket } from './sections/timeline.js';
import {
  amount, byConfigRows, byDayRows, dash, dec, flagsOf, impactRows, int, iso, matchedRows, metricRows, modelRows, neutralize, pct, pval,
  verdictDetail, type VerdictTest,
} from './format.js';
import { GROUPS, ROLES, type ChartData, type Report } from './types.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/**
 * Log values (versions, segment values, error kinds) are untrusted: everything is escaped, and
 * characters that would reorder or hide text (bidi overrides, controls) are shown as escapes.
 */
export const esc = (s: string): string => neutralize(s).replace(/[&<>"']/g, (c) => ESC[c]!);

function tableHtml(head: string[], rows: string[][], caption?: string): string {
  return `<table>${caption ? `<caption>${esc(caption)}</caption>` : ''}<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}


const figure = (svg: string | null, caption: string) =>
  svg ? `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>` : '';

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #dde2ea; --bg: #f7f8fa; --accent: #4c78a8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1060px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 24px; }
.verdict { display: flex; gap: 16px; align-items: center; background: white; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
.badge { font-weight: 700; font-size: 17px; padding: 6px 12px; border-radius: 6px; background: #e8edf5; white-space: nowrap; }
.badge.challenger_better { background: #fde7d4; color: #8a3d00; }
.badge.champion_better { background: #dde8f5; color: #1f4677; }
.flags { list-style: none; padding: 0; margin: 16px 0 0; }
.flags li { background: #fff4e5; border-left: 4px solid #e8a33d; padding: 8px 12px; margin: 6px 0; border-radius: 4px; }
.flags li.ok { background: #edf7ee; border-color: #5aa469; }
.notices li { overflow-wrap: anywhere; }
.chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { border-collapse: collapse; background: white; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding: 0 0 4px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; }
thead th { background: #eef1f5; font-weight: 600; }
tbody th, thead th:first-child { text-align: left; font-weight: 500; }
.row { display: flex; flex-wrap: wrap; gap: 0 24px; align-items: flex-start; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; background: white; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
figcaption { color: var(--muted); font-size: 13px; padding: 4px 8px 0; }
p.note { color: var(--muted); font-size: 14px; max-width: 760px; }
`;

/** The full HTML page. `charts` comes with the report from `analyze({ charts: true })`. */
export async function renderHtml(r: Report, charts: ChartData | null, basis?: VerdictTest): Promise<string> {
  const svg: RenderedCharts = charts
    ? await renderCharts(charts, r.window, r.timeline)
    : { scores: null, latency: null, traffic: null, pr: null, roc: null, coverage: null, timeline: null };
  const name = (role: 'champion' | 'challenger') => r.models[role].version ?? role;
  const flags = flagsOf(r);
  const m = ROLES.map((role) => r.models[role]);
  const l = r.labels;
  const im = r.impact;
  const d = im.challengerVsChampion;
  const srm = r.traffic.srm;

  const parts: string[] = [];
  parts.push(`<h1>${esc(name('champion'))} vs ${esc(name('challenger'))}</h1>`);
  parts.push(`<p class="sub">ccrouter report · ${esc(iso(r.window.from))} → ${esc(iso(r.window.to))} · ${esc(int(r.window.records))} records</p>`);
  parts.push(`<section class="verdict"><span class="badge ${esc(r.verdict)}">${esc(r.verdict.replace(/_/g, ' '))}</span><span>${esc(verdictDetail(r, basis))}</span></section>`);
  parts.push(`<ul class="flags">${flags.length ? flags.map((f) => `<li>${esc(f.message)}</li>`).join('') : '<li class="ok">no flags</li>'}</ul>`);

  const row = (...items: string[]) => `<div class="row">${items.join('')}</div>`;
  parts.push('<h2>Window</h2>');
  parts.push(tableHtml(['', 'value'], [
    ['from', iso(r.window.from)], ['to', iso(r.window.to)], ['records', int(r.window.records)],
    ['rejected requests', int(r.window.rejected)], ['malformed lines', int(r.window.malformedLines)],
    ['out-of-range values', int(r.window.outOfRange)],
  ]));
  if (r.window.notices.length > 0) {
    parts.push(`<ul class="flags notices">${r.window.notices.map((n) => `<li>Note on the input: ${esc(n)}</li>`).join('')}</ul>`);
  }

  parts.push('<h2>Traffic</h2>');
  parts.push(row(tableHtml(['group', 'records', 'share'], GROUPS.map((g) => [g, int(r.traffic.groups[g].n), pct(r.traffic.groups[g].share)])),
  tableHtml(['', 'value'], [
    ['shadow coverage', pct(r.traffic.shadowCoverage)],
    ['fallbacks', int(r.traffic.fallbacks)],
    ['SRM config', srm.config ?? dash],
    ['SRM chi2', dec(srm.chi2)],
    ['SRM p-value', pval(srm.pValue)],
    ['SRM flag', srm.flag === null ? 'not tested' : srm.flag ? 'MISMATCH' : 'ok'],
  ])));
  if (r.traffic.byConfig.length > 0) {
    const [head, ...rows] = byConfigRows(r.traffic.byConfig, (c) => c);
    parts.push(tableHtml(head!, rows, 'Sample ratio per config id: records per group; chi2 and p over customers'));
  }
  parts.push(`<div class="grid">${figure(svg.traffic, 'Records per group over time')}</div>`);

  parts.push('<h2>Models</h2>');
  parts.push(tableHtml(['', 'champion', 'challenger'], modelRows(m, (v) => v, (k) => `errors: ${k}`)));
  parts.push(`<div class="grid">${figure(svg.scores, 'Score distributions (all records with a score)')}${figure(svg.latency, 'Latency distributions over calls (last bin includes the tail)')}</div>`);

  parts.push('<h2>Agreement and drift</h2>');
  parts.push(tableHtml(['', 'value'], [
    ['records with both scores', int(r.agreement.n)],
    ['decision agreement', pct(r.agreement.decisionAgreement)],
    ['Pearson', dec(r.agreement.pearson)],
    ['Spearman', dec(r.agreement.spearman)],
    ['mean |challenger − champion|', dec(r.agreement.meanAbsDelta)],
    ['PSI (champion → challenger)', dec(r.drift.psi)],
  ]));

  parts.push('<h2>Labels</h2>');
  parts.push(`<p class="note">${esc(int(l.n))} labelled of ${esc(int(l.eligible))} records that count (coverage ${esc(pct(l.coverage))}` +
    `${l.matureBefore === null ? '' : `; records before ${esc(iso(l.matureBefore))}`}); ` +
    `outcome lines ${esc(int(l.outcomes.accepted))} accepted, ${esc(int(l.outcomes.rejected))} rejected. ` +
    'The control group columns are the unbiased comparison: no model\u2019s decision acted on those requests.</p>');
  parts.push(tableHtml(['', 'champion', 'challenger', 'control: champion', 'control: challenger'],
    metricRows('AUC', [l.champion, l.challenger, l.control.champion, l.control.challenger])));
  const pairedTable = tableHtml(['paired test', 'value'], [
    ['records', int(l.paired.n)],
    ['champion only correct', int(l.paired.championOnlyCorrect)],
    ['challenger only correct', int(l.paired.challengerOnlyCorrect)],
    ['McNemar p-value', pval(l.paired.pValue)],
    ['clustered McNemar p-value', pval(l.paired.clusteredPValue)],
    ['sequential p-value', pval(l.paired.sequentialPValue)],
    ['AUC challenger − champion', dec(l.aucTest.diff)],
    ['AUC difference 95% CI', l.aucTest.ci ? `${dec(l.aucTest.ci[0])} – ${dec(l.aucTest.ci[1])}` : dash],
    ['DeLong p-value', pval(l.aucTest.pValue)],
  ]);
  let atTable = '';
  if (l.atThreshold) {
    const at = l.atThreshold;
    atTable = tableHtml(['at the calibrated threshold', 'champion', 'challenger'], [
      ['records', int(at.champion.n), int(at.challenger.n)],
      ['decision rate', pct(at.champion.decisionRate), pct(at.challenger.decisionRate)],
      ['precision', dec(at.champion.precision), dec(at.challenger.precision)],
      ['recall', dec(at.champion.recall), dec(at.challenger.recall)],
    ]);
  }
  let matchedTable = '';
  if (l.matched.rate !== null) {
    const [head, ...rows] = matchedRows(l.matched);
    matchedTable = tableHtml(head!, [...rows, ['McNemar p-value', pval(l.matched.pValue), '']],
      `At the champion's decision rate (${pct(l.matched.rate)})`);
  }
  parts.push(row(pairedTable, atTable, matchedTable));
  if (l.byDay.length > 0) {
    const [head, ...rows] = byDayRows(l.byDay);
    parts.push(tableHtml(head!, rows, 'Label coverage by day (UTC)'));
  }
  if (svg.pr || svg.roc) {
    parts.push(`<p class="note">Over labelled records: how each model ranks (the curves, as its threshold moves) and where its own ` +
      `decisions put it (filled circles). Champion ${esc(name('champion'))}, challenger ${esc(name('challenger'))}.</p>`);
  }
  parts.push(`<div class="grid">${figure(svg.pr, 'Precision–recall')}${figure(svg.roc, 'ROC (dashed: chance)')}` +
    `${figure(svg.coverage, 'Label coverage by day (UTC): records, and those labelled so far')}</div>`);

  parts.push('<h2>Impact</h2>');
  const [impactHead, ...impactBody] = impactRows(im);
  parts.push(tableHtml(impactHead!, impactBody, '95% CI over customers (cluster delta method)'));
  parts.push(tableHtml(['challenger − champion', 'value'], [
    ['difference in positive rate', d.diff === null ? dash : pct(d.diff, 3)],
    ['95% CI', d.ci ? `${pct(d.ci[0], 3)} – ${pct(d.ci[1], 3)}` : dash],
    ['p-value', pval(d.pValue)],
    ...(d.value
      ? [
          ['difference in positive value per request', amount(d.value.diff)],
          ['95% CI', d.value.ci ? `${amount(d.value.ci[0])} – ${amount(d.value.ci[1])}` : dash],
          ['p-value', pval(d.value.pValue)],
        ]
      : []),
  ]));

  parts.push(...timelineHtml(r, charts, svg));

  if (r.segments) {
    parts.push('<h2>Segments</h2>');
    parts.push(tableHtml(['value', 'records', 'agreement', 'labelled (champ/chall)', 'champion AUC', 'challenger AUC', 'champion F1', 'challenger F1'],
      Object.entries(r.segments).map(([k, s]) => [
        k, int(s.n), pct(s.agreement), `${int(s.champion.n)}/${int(s.challenger.n)}`,
        dec(s.champion.auc), dec(s.challenger.auc), dec(s.champion.f1), dec(s.challenger.f1),
      ])));
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ccrouter report: ${esc(name('champion'))} vs ${esc(name('challenger'))}</title>
<style>${STYLE}</style></head>
<body><main>
${parts.join('\n')}
</main></body></html>
`;
}

/** The timeline section: four series over time with the events marked, and the events listed. */
function timelineHtml(r: Report, charts: ChartData | null, svg: RenderedCharts): string[] {
  const t = r.timeline;
  const parts = ['<h2>Timeline</h2>'];
  parts.push(`<p class="note">${esc(int(t.rows.length))} buckets of ${esc(formatBucket(t.bucketMs))} with records (empty buckets are ` +
    'left out and drawn as gaps). Numbered lines mark the events listed below: config loads, ramp steps, rollbacks, ' +
    'guardrail trips and the kill switch.</p>');
  if (svg.timeline) {
    const tl = svg.timeline;
    parts.push(`<div class="grid">${figure(tl.decisionRate, 'Decision rate per bucket')}${figure(tl.errorRate, 'Error rate per bucket (over calls)')}` +
      `${figure(tl.latencyP99, 'Latency p99 per bucket (calls)')}${figure(tl.score, 'Score p90 and p95 per bucket')}</div>`);
  }
  const events = charts?.events ?? [];
  if (events.length) {
    const rows = events.map((e, i) =>
      `<tr><th scope="row">${i + 1}</th><td>${esc(iso(e.t))}</td>` +
      `<td style="text-align:left"><span class="chip" style="background:${EVENT_COLOR.get(e.type) ?? '#999'}"></span>${esc(e.type)}</td>` +
      `<td style="text-align:left">${esc(e.config ?? dash)}</td><td style="text-align:left">${esc(e.detail)}</td></tr>`).join('');
    parts.push(`<table><caption>Events in the window${charts!.eventsOmitted ? ` (the first ${events.length}; ${charts!.eventsOmitted} more not shown)` : ''}</caption>` +
      `<thead><tr><th>#</th><th>time (UTC)</th><th style="text-align:left">event</th><th style="text-align:left">config</th><th style="text-align:left">what</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  return parts;
}
