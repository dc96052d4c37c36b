/**
 * The HTML report's charts: Vega-Lite specs compiled to Vega and rendered to SVG strings in Node
 * (headless View, renderer 'none'), so the page needs no script and makes no request.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ChartData } from './types.js';

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

function trafficSpec(values: ChartData['traffic']): TopLevelSpec {
  return chart(values, { type: 'line', point: values.length < 200 }, {
    x: { field: 't', type: 'temporal', title: 'time (UTC)', scale: { type: 'utc' }, axis: { format: '%b %d %H:%M' } },
    y: { field: 'n', type: 'quantitative', title: 'records per interval' },
    color: { field: 'group', type: 'nominal', scale: GROUP_COLORS, title: null },
  });
}

function prSpec(values: ChartData['pr']): TopLevelSpec {
  return chart(values, { type: 'line' }, {
    x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } },
    y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] } },
    color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: null },
    order: { field: 'threshold', sort: 'descending' },
  });
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
}

export async function renderCharts(data: ChartData): Promise<RenderedCharts> {
  const [scores, latency, traffic, pr] = await Promise.all([
    data.scores.length ? toSvg(histogramSpec(data.scores, 'score')) : null,
    data.latency.length ? toSvg(histogramSpec(data.latency, 'latency (ms)')) : null,
    data.traffic.length ? toSvg(trafficSpec(data.traffic)) : null,
    data.pr.length ? toSvg(prSpec(data.pr)) : null,
  ]);
  return { scores, latency, traffic, pr };
}
