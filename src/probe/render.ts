/** The probe's text output: one row per perturbation kind, champion and challenger side by side. */
import { PERTURBATION_KINDS } from './perturb.js';
import { failuresOf, type ModelTally, type ProbeResult } from './summary.js';

const MODEL_COLUMNS = ['4xx', '5xx', 'conn', 'noScore', '|Δscore|'] as const;
// Past this many, the field list of a failing kind is cut: the JSON output (--out) has them all.
const FIELDS_SHOWN = 8;

export function renderText(r: ProbeResult): string {
  const lines: string[] = [
    `ccrouter probe: ${r.route}, ${r.samples} sample${r.samples === 1 ? '' : 's'}, ${r.variants} variants sent to each model (config ${r.config})`,
    `  champion    ${r.models.champion.version}  ${r.models.champion.url}`,
    `  challenger  ${r.models.challenger.version}  ${r.models.challenger.url}`,
    '',
  ];
  const header = ['kind', 'calls', ...MODEL_COLUMNS, ...MODEL_COLUMNS];
  const rows = PERTURBATION_KINDS.map((kind) => {
    const champion = r.results.champion[kind];
    return [kind, String(champion.calls), ...cells(champion), ...cells(r.results.challenger[kind])];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (row: string[]): string =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  // Group titles centred over the five columns of each model.
  const span = (from: number): number => widths.slice(from, from + MODEL_COLUMNS.length).reduce((a, b) => a + b, 0) + 2 * (MODEL_COLUMNS.length - 1);
  const lead = widths[0]! + widths[1]! + 4;
  lines.push(' '.repeat(lead) + center(`champion ${r.models.champion.version}`, span(2)) + '  ' + center(`challenger ${r.models.challenger.version}`, span(2 + MODEL_COLUMNS.length)).trimEnd());
  lines.push(fmt(header), ...rows.map(fmt), '');
  const original = r.results.champion.original;
  const unscored = failuresOf(original, 'original');
  if (unscored > 0) {
    // Nothing can be compared on samples the champion does not score: the samples or the route are wrong.
    lines.push(`note: the champion did not score ${unscored} of ${original.calls} untouched sample${original.calls === 1 ? '' : 's'}; check --samples and the config's first route`);
  }
  if (r.challengerWorse.length === 0) {
    lines.push('result: ok, the challenger fails on no kind where the champion does not');
  } else {
    lines.push(`result: CHALLENGER WORSE, it fails where the champion does not on: ${r.challengerWorse.map((w) => w.kind).join(', ')}`);
    const kindWidth = Math.max(...r.challengerWorse.map((w) => w.kind.length));
    for (const w of r.challengerWorse) {
      const more = w.fields.length > FIELDS_SHOWN ? ` (+${w.fields.length - FIELDS_SHOWN} more)` : '';
      const fields = w.fields.length === 0 ? 'whole body' : `fields ${w.fields.slice(0, FIELDS_SHOWN).join(', ')}${more}`;
      lines.push(`  ${w.kind.padEnd(kindWidth)}  ${fields}`);
    }
  }
  return lines.join('\n') + '\n';
}

function cells(t: ModelTally): string[] {
  return [String(t.status4xx), String(t.status5xx), String(t.connectionErrors), String(t.noScore), delta(t.meanAbsScoreDelta)];
}

function delta(x: number | null): string {
  if (x === null) return '-';
  return x === 0 ? '0' : x.toPrecision(3);
}

function center(text: string, width: number): string {
  const left = Math.max(0, Math.floor((width - text.length) / 2));
  return (' '.repeat(left) + text).padEnd(width);
}
