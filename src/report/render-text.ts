/** `--format text`: the report as compact aligned tables, verdict and flags first. */
import {
  byDayRows, byConfigRows, dash, dec, flagsOf, impactRows, int, iso, matchedRows, metricRows, modelRows, neutralize, pct, printable, pval,
  signedPct, valueDiffLine, verdictDetail, type VerdictTest,
} from './format.js';
import { timelineLines } from './render-timeline.js';
import { GROUPS, ROLES, type Report } from './types.js';

type Align = 'l' | 'r';

/** Columns padded to their widest cell; the first column left-aligned, the rest right-aligned. */
export function table(rows: string[][], align?: Align[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((row) =>
    indent +
    row
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - [...c].length);
        return (align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c + pad : pad + c;
      })
      .join('  ')
      .trimEnd(),
  );
}


/** Days of label coverage shown in text; the JSON holds them all. */
const TEXT_DAYS = 14;

export function renderText(r: Report, basis?: VerdictTest): string {
  const out: string[] = [];
  const v = (role: 'champion' | 'challenger') => printable(r.models[role].version ?? role);
  out.push(`ccrouter report: ${v('champion')} (champion) vs ${v('challenger')} (challenger)`, '');
  out.push(`VERDICT  ${r.verdict}`, `  ${verdictDetail(r, basis)}`, '');

  const flags = flagsOf(r);
  out.push('FLAGS');
  if (flags.length === 0) out.push('  none');
  for (const f of flags) out.push(`  ! ${f.message}`);
  out.push('');

  const w = r.window;
  out.push(`WINDOW  ${iso(w.from)} → ${iso(w.to)}`);
  out.push(`  ${int(w.records)} records, ${int(w.rejected)} rejected, ${int(w.malformedLines)} malformed lines, ` +
    `${int(w.outOfRange)} out-of-range values`);
  // Said whole (a file name can be long): escaped, never cut.
  for (const n of w.notices) out.push(`  note: ${neutralize(n)}`);
  out.push('');

  const t = r.traffic;
  out.push('TRAFFIC');
  out.push(...table([['group', 'records', 'share'], ...GROUPS.map((g) => [g, int(t.groups[g].n), pct(t.groups[g].share)])]));
  out.push(`  shadow coverage ${pct(t.shadowCoverage)}, fallbacks ${int(t.fallbacks)}`);
  out.push(
    t.srm.config === null
      ? '  SRM: no config id in the records'
      : t.srm.flag === null
        ? `  SRM: config ${printable(t.srm.config)} has no announcing event in events.jsonl; not tested`
        : `  SRM: config ${printable(t.srm.config)}, chi2 ${dec(t.srm.chi2)}, p ${pval(t.srm.pValue)} over customers per group` +
          `${t.srm.flag ? '  MISMATCH' : ', ok'}`,
  );
  if (t.byConfig.length > 1) {
    out.push('  per config id (records; chi2 over customers):');
    out.push(...table(byConfigRows(t.byConfig, printable), undefined, '    '));
  }
  out.push('');

  out.push('MODELS');
  const m = ROLES.map((role) => r.models[role]);
  out.push(...table([['', 'champion', 'challenger'], ...modelRows(m, printable, (k) => `  ${printable(k)}`)]), '');

  const a = r.agreement;
  out.push('AGREEMENT (both models scored)');
  out.push(`  n ${int(a.n)}, decisions agree ${pct(a.decisionAgreement)}, pearson ${dec(a.pearson)}, ` +
    `spearman ${dec(a.spearman)}, mean |challenger − champion| ${dec(a.meanAbsDelta)}`);
  out.push(`  drift PSI(champion → challenger scores) ${dec(r.drift.psi)}`, '');

  const l = r.labels;
  out.push(`LABELS  ${int(l.n)} labelled of ${int(l.eligible)} records (coverage ${pct(l.coverage)}` +
    `${l.matureBefore === null ? '' : `, records before ${iso(l.matureBefore)}`}; ` +
    `outcome lines: ${int(l.outcomes.accepted)} accepted, ${int(l.outcomes.rejected)} rejected)`);
  out.push(...table([
    ['', 'champion', 'challenger', 'control: champion', 'control: challenger'],
    ...metricRows('auc', [l.champion, l.challenger, l.control.champion, l.control.challenger]),
  ]));
  out.push(`  paired: n ${int(l.paired.n)}, champion only correct ${int(l.paired.championOnlyCorrect)}, ` +
    `challenger only correct ${int(l.paired.challengerOnlyCorrect)}; p: McNemar ${pval(l.paired.pValue)}, ` +
    `clustered ${pval(l.paired.clusteredPValue)}, sequential ${pval(l.paired.sequentialPValue)}`);
  const at = l.aucTest;
  out.push(`  AUC challenger − champion ${at.diff === null ? dash : dec(at.diff)}` +
    `${at.ci ? ` (95% CI ${dec(at.ci[0])} – ${dec(at.ci[1])})` : ''}, DeLong p ${pval(at.pValue)}`);
  if (l.matched.rate !== null) {
    out.push(`  at the champion's decision rate ${pct(l.matched.rate)} (McNemar p ${pval(l.matched.pValue)}):`);
    out.push(...table(matchedRows(l.matched), undefined, '    '));
  }
  if (l.byDay.length > 0) {
    const shown = l.byDay.slice(-TEXT_DAYS);
    out.push(`  by day${l.byDay.length > shown.length ? ` (last ${shown.length} of ${l.byDay.length} days with records)` : ''}:`);
    out.push(...table(byDayRows(shown), undefined, '    '));
  }
  if (l.atThreshold) {
    const at = l.atThreshold;
    out.push('  at the calibrated threshold:');
    out.push(...table([
      ['', 'champion', 'challenger'],
      ['n', int(at.champion.n), int(at.challenger.n)],
      ['decision rate', pct(at.champion.decisionRate), pct(at.challenger.decisionRate)],
      ['precision', dec(at.champion.precision), dec(at.challenger.precision)],
      ['recall', dec(at.champion.recall), dec(at.challenger.recall)],
    ], undefined, '    '));
  }
  out.push('');

  const im = r.impact;
  out.push('IMPACT (per group, labelled outcomes; 95% CI over customers)');
  out.push(...table(impactRows(im)));
  const d = im.challengerVsChampion;
  out.push(`  challenger − champion positive rate ${signedPct(d.diff)}` +
    `${d.ci ? ` (95% CI ${pct(d.ci[0], 3)} – ${pct(d.ci[1], 3)})` : ''}, p ${pval(d.pValue)}`);
  if (d.value) out.push(`  ${valueDiffLine(d.value)}`);

  out.push('', ...timelineLines(r.timeline, (rows) => table(rows)));

  if (r.segments) {
    out.push('', 'SEGMENTS');
    out.push(...table([
      ['value', 'records', 'agree', 'labelled (champ/chall)', 'champion auc', 'challenger auc', 'champion f1', 'challenger f1'],
      ...Object.entries(r.segments).map(([k, s]) => [
        printable(k), int(s.n), pct(s.agreement), `${int(s.champion.n)}/${int(s.challenger.n)}`,
        dec(s.champion.auc), dec(s.challenger.auc), dec(s.champion.f1), dec(s.challenger.f1),
      ]),
    ]));
  }
  return out.join('\n') + '\n';
}
