/**
 * The HTML report's charts: Vega-Lite specs compiled to Vega and rendered to SVG strings in Node
 * (headless View, renderer 'none'), so the page needs no script and makes no request.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ChartData, Timeline, TimelineModel } from './types.js';

const WIDTH = 400;
const HEIGHT = 200;
const MODEL_COLORS = { domain: ['champion', 'challenger'], range: ['#4c78a8', '#f58518'] };
const GROUP_COLORS = { domain: ['control', 'champion', 'challenger'], range: ['#8c8c8c', '#4c78a8', '#f58518'] };

const base = {
  width: WIDTH,
  height: HEIGHT,
  background: 'white',
  config: { font: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { orient: 'top' as const } },
};

/** One chart: the shared size, background and fonts around its data, mark and encoding. */
function chart(values: object[], mark: object, encoding: object): TopLevelSpec {
  return { ...base, data: { values }, mark, encoding } as TopLevelSpec;
}

/**
 * Two overlaid histograms as translucent step areas, so both shapes stay visible where they overlap.
 * Each bin is drawn from its left edge; a closing point at the last right edge ends the step.
 */
function histogramSpec(values: ChartData['scores'], title: string): TopLevelSpec {
  const points = values.flatMap((v, i) => {
    const last = i === values.length - 1 || values[i + 1]!.model !== v.model;
    return last ? [{ model: v.model, x: v.x0, share: v.share }, { model: v.model, x: v.x1, share: v.share }] : [{ model: v.model, x: v.x0, share: v.share }];
  });
  return chart(points, { type: 'area', interpolate: 'step-after', opacity: 0.35, line: true }, {
    x: { field: 'x', type: 'quantitative', title, scale: { zero: false, nice: false } },
    y: { field: 'share', type: 'quantitative', title: 'share of the model\u2019s values', axis: { format: '.0%' }, stack: null },
    color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: null },
  });
}

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;

/**
 * How the time axis labels its ticks for a window of `from`..`to` (epoch ms): seconds for a short
 * run, dates for weeks and months, so that no two ticks read the same and none is cluttered. The
 * title carries what the labels leave out (the date of a window within one day).
 */
export function timeAxis(from: number, to: number): { format: string; title: string } {
  const span = Math.max(0, to - from);
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const sameDay = day(from) === day(to);
  const onDate = sameDay ? `time (UTC), ${day(from)}` : 'time (UTC)';
  if (span < 10_000) return { format: '%H:%M:%S.%L', title: onDate };
  if (span < 10 * MINUTE) return { format: '%H:%M:%S', title: onDate };
  if (sameDay) return { format: '%H:%M', title: onDate };
  if (span < 7 * DAY) return { format: '%b %d %H:%M', title: 'time (UTC)' };
  if (span < 400 * DAY) return { format: '%b %d', title: `time (UTC), ${new Date(from).getUTCFullYear()}` };
  return { format: '%b %Y', title: 'time (UTC)' };
}

/** The x channel of every time chart: UTC, the window's whole span, ticks labelled by {@link timeAxis}. */
function timeX(from: number, to: number) {
  const { format, title } = timeAxis(from, to);
  return {
    field: 't', type: 'temporal', title,
    scale: { type: 'utc', domain: [from, Math.max(to, from + 1)] },
    axis: { format, labelOverlap: true, tickCount: 6, labelFlush: true },
  };
}

function trafficSpec(values: ChartData['traffic'], from: number, to: number): TopLevelSpec {
  return chart(values, { type: 'line', point: values.length < 200 }, {
    x: timeX(from, to),
    y: { field: 'n', type: 'quantitative', title: 'records per interval' },
    color: { field: 'group', type: 'nominal', scale: GROUP_COLORS, title: null },
  });
}

const EVENT_COLORS = {
  domain: ['config_loaded', 'ramp_step', 'rollback', 'guardrail_tripped', 'bypass'],
  range: ['#54a24b', '#72b7b2', '#e45756', '#b279a2', '#9d755d'],
};
/** Colour of each marked event type, for the events table beside the charts. */
export const EVENT_COLOR: ReadonlyMap<string, string> = new Map(EVENT_COLORS.domain.map((t, i) => [t, EVENT_COLORS.range[i]!]));
/** Beyond this many markers their numbers would overlap: the rules stay, the numbers go. */
const NUMBERED_MARKERS = 40;

/** Vertical rules at each event, numbered as in the events table (1-based). */
function markerLayers(events: ChartData['events'], x: object): object[] {
  if (events.length === 0) return [];
  // Numbers of events close in time would print over each other: each sits one line below the last.
  const values = events.map((e, i) => ({ t: e.t, type: e.type, n: String(i + 1), y: (i % 4) * 11 }));
  const layers: object[] = [{
    data: { values },
    mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.8 },
    encoding: { x, color: { field: 'type', type: 'nominal', scale: EVENT_COLORS, legend: null } },
  }];
  if (events.length <= NUMBERED_MARKERS) {
    layers.push({
      data: { values },
      mark: { type: 'text', baseline: 'top', dx: 3, dy: 2, align: 'left', fontSize: 10 },
      encoding: { x, y: { field: 'y', type: 'quantitative', scale: null }, text: { field: 'n' },
        color: { field: 'type', type: 'nominal', scale: EVENT_COLORS, legend: null } },
    });
  }
  return layers;
}

/** One point per bucket and model; a bucket missing after a row breaks the line (null), so a gap is drawn as one. */
function timelinePoints(t: Timeline, series: { name: string; pick: (m: TimelineModel) => number | null }[]) {
  const out: { t: number; model: string; series: string; v: number | null }[] = [];
  t.rows.forEach((r, i) => {
    for (const model of ['champion', 'challenger'] as const) {
      for (const s of series) {
        out.push({ t: r.start, model, series: s.name, v: s.pick(r[model]) });
        const next = t.rows[i + 1];
        if (next && next.start - r.start > t.bucketMs) out.push({ t: r.start + t.bucketMs, model, series: s.name, v: null });
      }
    }
  });
  return out;
}

function timelineSpec(t: Timeline, events: ChartData['events'], from: number, to: number,
  series: { name: string; pick: (m: TimelineModel) => number | null }[], yTitle: string, yFormat?: string, yAtLeast?: number): TopLevelSpec {
  const values = timelinePoints(t, series);
  // A rate that stays 0 everywhere would leave the axis one tick tall: show a small range above it.
  const top = values.reduce((m, v) => Math.max(m, v.v ?? 0), 0);
  const yScale = yAtLeast !== undefined && top < yAtLeast ? { scale: { domain: [0, yAtLeast] } } : {};
  const few = t.rows.length <= 60;
  const line = {
    data: { values },
    mark: { type: 'line', point: few ? { size: 12 } : false, invalid: 'break-paths-show-domains', strokeWidth: 1.5 },
    encoding: {
      x: timeX(from, to),
      y: { field: 'v', type: 'quantitative', title: yTitle, ...(yFormat ? { axis: { format: yFormat } } : {}), ...yScale },
      color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: null },
      ...(series.length > 1 ? { strokeDash: { field: 'series', type: 'nominal', legend: null, scale: { domain: series.map((s) => s.name), range: [[1, 0], [5, 3]] } } } : {}),
      detail: { field: 'series', type: 'nominal' },
    },
  };
  return {
    ...base, width: 400, height: 150,
    layer: [line, ...markerLayers(events, timeX(from, to))],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** A rank curve with each model's operating point (its decisions) marked as a filled circle. */
function curveSpec(values: object[], points: object[], x: { field: string; title: string }, y: { field: string; title: string }, diagonal: boolean): TopLevelSpec {
  const enc = (f: { field: string; title: string }) => ({ field: f.field, type: 'quantitative', title: f.title, scale: { domain: [0, 1] } });
  const layers: object[] = [];
  if (diagonal) {
    layers.push({ data: { values: [{ [x.field]: 0, [y.field]: 0 }, { [x.field]: 1, [y.field]: 1 }] }, mark: { type: 'line', color: '#bbb', strokeDash: [4, 3] },
      encoding: { x: enc(x), y: enc(y) } });
  }
  layers.push({ data: { values }, mark: { type: 'line' }, encoding: {
    x: enc(x), y: enc(y), color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: null }, order: { field: 'threshold', sort: 'descending' } } });
  if (points.length) {
    layers.push({ data: { values: points }, mark: { type: 'point', filled: true, size: 90, stroke: 'black', strokeWidth: 1, opacity: 1 },
      encoding: { x: enc(x), y: enc(y), color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: null }, shape: { value: 'circle' } } });
  }
  return { ...base, width: 300, height: 260, layer: layers } as TopLevelSpec;
}

/** Records per day (light) with the labelled ones (dark) in front: the gap is what has no label yet. */
function coverageSpec(values: ChartData['coverage']): TopLevelSpec {
  const year = new Date(values[0]!.day).getUTCFullYear();
  const points = values.flatMap((v) => [{ day: v.day, n: v.records, what: 'records' }, { day: v.day, n: v.labelled, what: 'labelled' }]);
  return chart(points, { type: 'bar', width: { band: 0.9 } }, {
    x: { field: 'day', type: 'temporal', timeUnit: 'utcyearmonthdate', title: `day (UTC), ${year}`, axis: { format: '%b %d', labelOverlap: true } },
    y: { field: 'n', type: 'quantitative', title: 'records per day', stack: null },
    color: { field: 'what', type: 'nominal', title: null, scale: { domain: ['records', 'labelled'], range: ['#c9d3e0', '#4c78a8'] } },
    order: { field: 'what', sort: 'descending' },
  });
}

function prSpec(data: ChartData): TopLevelSpec {
  const points = data.operating.filter((p) => p.recall !== null && p.precision !== null);
  return curveSpec(data.pr, points, { field: 'recall', title: 'recall' }, { field: 'precision', title: 'precision' }, false);
}

function rocSpec(data: ChartData): TopLevelSpec {
  const points = data.operating.filter((p) => p.recall !== null && p.fpr !== null).map((p) => ({ model: p.model, fpr: p.fpr, tpr: p.recall }));
  return curveSpec(data.roc, points, { field: 'fpr', title: 'false positive rate' }, { field: 'tpr', title: 'true positive rate (recall)' }, true);
}

/** Renders a Vega-Lite spec to an SVG string fit for inlining in HTML. */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // Inline SVG in HTML needs no namespace declarations; dropping them leaves no URL in the page.
    return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
  } finally {
    view.finalize();
  }
}

export interface RenderedCharts {
  scores: string | null;
  latency: string | null;
  traffic: string | null;
  pr: string | null;
  roc: string | null;
  coverage: string | null;
  timeline: { decisionRate: string; errorRate: string; latencyP99: string; score: string } | null;
}

/** Every chart of the page; `window` is the report's time window, `timeline` its timeline. */
export async function renderCharts(data: ChartData, window: { from: number | null; to: number | null }, timeline: Timeline): Promise<RenderedCharts> {
  const { from, to } = window;
  const timed = from !== null && to !== null;
  const tl = (series: { name: string; pick: (m: TimelineModel) => number | null }[], title: string, format?: string, atLeast?: number) =>
    toSvg(timelineSpec(timeline, data.events, from!, to!, series, title, format, atLeast));
  const [scores, latency, traffic, pr, roc, coverage, timelineCharts] = await Promise.all([
    data.scores.length ? toSvg(histogramSpec(data.scores, 'score')) : null,
    data.latency.length ? toSvg(histogramSpec(data.latency, 'latency (ms)')) : null,
    data.traffic.length && timed ? toSvg(trafficSpec(data.traffic, from, to)) : null,
    data.pr.length ? toSvg(prSpec(data)) : null,
    data.roc.length ? toSvg(rocSpec(data)) : null,
    data.coverage.some((d) => d.labelled > 0) ? toSvg(coverageSpec(data.coverage)) : null,
    timed && timeline.rows.length
      ? Promise.all([
        tl([{ name: 'decision rate', pick: (m) => m.decisionRate }], 'decision rate', '.0%'),
        tl([{ name: 'error rate', pick: (m) => m.errorRate }], 'error rate', '.1%', 0.01),
        tl([{ name: 'latency p99', pick: (m) => m.latencyP99 }], 'latency p99 (ms)'),
        tl([{ name: 'p90', pick: (m) => m.scoreP90 }, { name: 'p95', pick: (m) => m.scoreP95 }], 'score p90 (solid), p95 (dashed)'),
      ]).then(([decisionRate, errorRate, latencyP99, score]) => ({ decisionRate, errorRate, latencyP99, score }))
      : null,
  ]);
  return { scores, latency, traffic, pr, roc, coverage, timeline: timelineCharts };
}
