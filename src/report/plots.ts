// The report's plots: Vega-Lite specs built from the ReportInput, compiled to Vega and rendered to
// SVG strings headlessly (no canvas, no browser), so the HTML stays one self-contained file.

import { variantOrder, type ReportInput, type TrainingEntry } from './input.js';
import { scaleBanner } from './format.js';
import { ORDINAL_METRIC_NAMES, metricTitle } from '../formats/metrics.js';
import { MAX_METRIC_COLUMNS, metricLayout, reportMetrics } from './model.js';
import { own } from '../core/names.js';
import { summarize } from './stats.js';

export interface Plot {
  /** Stable name, also the figure's data-plot attribute (the browser test looks for these). */
  id: 'learning-curves' | 'per-seed' | 'confusion' | `ground-distance-${string}`;
  title: string;
  caption: string;
  svg: string;
}

type VlSpec = Record<string, unknown>;

const FONT = { font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' };
const CONFIG = {
  ...FONT,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11, gridColor: '#eee' },
  header: { labelFontSize: 12, labelFontWeight: 600, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  range: { category: { scheme: 'tableau10' } },
};

/**
 * Sorts a field by the number each row carries in FIELD_order. A sort given as a list of values
 * becomes an object keyed by them inside Vega-Lite, where a variant, metric or class named
 * 'constructor' or 'toString' fails the whole report ("Operator not defined").
 */
function byOrder(field: string) {
  return { field: `${field}_order`, op: 'min' };
}

function colour(variants: string[]) {
  return { field: 'variant', type: 'nominal', title: 'variant', scale: { domain: variants } };
}

export function learningCurvesSpec(input: ReportInput, variants: string[]): VlSpec | null {
  const rows: Array<Record<string, unknown>> = [];
  const series: string[] = ['train loss'];
  // A history trained before train left them out may still hold ordinal metrics of unordered classes.
  const unordered = input.datasets.length > 0 && input.datasets.every((d) => d.ordered === false);
  for (const t of input.trainings) {
    for (const e of t.history.epochs ?? []) {
      if (Number.isFinite(e.train_loss)) rows.push({ variant: t.variant, replicate: t.replicate, epoch: e.epoch, series: 'train loss', value: e.train_loss });
      for (const [metric, value] of Object.entries(e.val ?? {})) {
        if (typeof value !== 'number' || !Number.isFinite(value) || (unordered && ORDINAL_METRIC_NAMES.includes(metric))) continue;
        const name = `validation ${metricTitle(metric, input.metricCatalog)}`;
        if (!series.includes(name)) series.push(name);
        rows.push({ variant: t.variant, replicate: t.replicate, epoch: e.epoch, series: name, value });
      }
    }
  }
  if (rows.length === 0) return null;
  for (const r of rows) r.series_order = series.indexOf(r.series as string);
  const epochs = [...new Set(rows.map((r) => r.epoch as number))].sort((a, b) => a - b);
  // Epochs are whole numbers: ticks only at integers, printed without decimals. One epoch is one
  // point per variant, which a line cannot show: then the means are drawn as points.
  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: 'epoch',
    scale: { domain: [epochs[0]! - (epochs.length === 1 ? 1 : 0), epochs[epochs.length - 1]! + (epochs.length === 1 ? 1 : 0)], nice: false },
    axis: { format: 'd', tickMinStep: 1, ...(epochs.length <= 12 ? { values: epochs } : {}) },
  };
  const single = epochs.length === 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { field: 'series', type: 'nominal', title: null, sort: byOrder('series') },
    columns: Math.min(series.length, 3),
    // Each panel draws its own axes: with a shared x axis, a column whose last row is empty (5 series
    // in 3 columns) got an axis under an empty sixth panel.
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent', y: 'independent' } },
    spec: {
      width: 240,
      height: 170,
      layer: [
        ...(single
          ? []
          : [
              {
                mark: { type: 'errorband', extent: 'stdev', opacity: 0.18 },
                encoding: {
                  x,
                  y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
                  color: colour(variants),
                },
              },
            ]),
        {
          mark: single ? { type: 'point', filled: true, size: 70, opacity: 1 } : { type: 'line', strokeWidth: 2 },
          encoding: {
            x,
            y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            // One legend for both layers, drawn as lines at full opacity (the band's would be faded).
            color: {
              ...colour(variants),
              legend: single
                ? { title: 'variant' }
                : { title: 'variant', symbolType: 'stroke', symbolStrokeWidth: 2.5, encode: { symbols: { update: { opacity: { value: 1 } } } } },
            },
          },
        },
      ],
    },
    config: CONFIG,
  };
}

export function perSeedSpec(input: ReportInput, variants: string[]): VlSpec | null {
  const rows: Array<Record<string, unknown>> = [];
  // The table's columns: a panel each (a file of thousands of metrics is not thousands of panels).
  const metrics = metricLayout(input).columns.slice(0, MAX_METRIC_COLUMNS);
  const label = (m: string) => metricTitle(m, input.metricCatalog);
  for (const [metric_order, metric] of metrics.entries()) {
    for (const [variant_order, variant] of variants.entries()) {
      const entries = input.evaluations.filter((e) => e.variant === variant && typeof own(e.metrics, metric) === 'number');
      const order = { metric_order, variant_order };
      for (const e of entries) rows.push({ kind: 'seed', metric: label(metric), variant, replicate: e.replicate, value: own(e.metrics, metric), ...order });
      const s = summarize(entries.map((e) => own<number>(e.metrics, metric)!));
      if (s) {
        rows.push({
          kind: 'mean',
          ...order,
          metric: label(metric),
          variant,
          value: s.mean,
          lo: s.ci95?.[0] ?? s.mean,
          hi: s.ci95?.[1] ?? s.mean,
        });
      }
    }
  }
  if (rows.length === 0) return null;
  const x = { field: 'variant', type: 'nominal', title: null, sort: byOrder('variant'), axis: { labelAngle: -35 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { field: 'metric', type: 'nominal', title: null, sort: byOrder('metric') },
    columns: Math.min(4, metrics.length),
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    spec: {
      width: Math.max(110, 34 * variants.length),
      height: 190,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'rule', strokeWidth: 2.5, opacity: 0.6 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', title: null, scale: { zero: false } }, y2: { field: 'hi' }, color: colour(variants) },
        },
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'tick', thickness: 2, color: '#222', size: 18 },
          encoding: { x, y: { field: 'value', type: 'quantitative' } },
        },
        {
          transform: [{ filter: "datum.kind === 'seed'" }],
          mark: { type: 'point', filled: true, size: 36, opacity: 0.85 },
          encoding: { x, xOffset: { field: 'replicate', type: 'nominal' }, y: { field: 'value', type: 'quantitative' }, color: colour(variants) },
        },
      ],
    },
    config: CONFIG,
  };
}

export function confusionSpec(input: ReportInput, variants: string[]): VlSpec | null {
  const rows: Array<Record<string, unknown>> = [];
  let classes: string[] = [];
  for (const [variant_order, variant] of variants.entries()) {
    const entries = input.evaluations.filter((e) => e.variant === variant && Array.isArray(e.metrics.confusion));
    if (entries.length === 0) continue;
    const first = entries[0]!.metrics;
    const k = first.confusion.length;
    const names = Array.isArray(first.classes) && first.classes.length === k ? first.classes.map(String) : [...Array(k).keys()].map(String);
    if (classes.length === 0) classes = names;
    // Summed over seeds: one matrix per variant reads better than one per run.
    const sum = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (const e of entries) e.metrics.confusion.forEach((row, i) => row.forEach((c, j) => (sum[i]![j]! += c)));
    sum.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      row.forEach((count, j) => rows.push({ variant, truth: names[i], predicted: names[j], count, rate: total ? count / total : 0, variant_order, truth_order: i, predicted_order: j }));
    });
  }
  if (rows.length === 0) return null;
  const cell = Math.max(16, Math.min(30, Math.floor(150 / Math.max(1, classes.length))));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { field: 'variant', type: 'nominal', title: null, sort: byOrder('variant') },
    columns: 4,
    spec: {
      width: { step: cell },
      height: { step: cell },
      encoding: {
        x: { field: 'predicted', type: 'ordinal', sort: byOrder('predicted'), title: 'predicted' },
        y: { field: 'truth', type: 'ordinal', sort: byOrder('truth'), title: 'true' },
      },
      layer: [
        {
          mark: 'rect',
          encoding: {
            color: { field: 'rate', type: 'quantitative', title: 'row share', scale: { scheme: 'blues', domain: [0, 1] } },
          },
        },
        {
          mark: { type: 'text', fontSize: classes.length > 8 ? 7 : 10 },
          encoding: {
            text: { field: 'count', type: 'quantitative' },
            color: { condition: { test: 'datum.rate > 0.55', value: 'white' }, value: '#222' },
          },
        },
      ],
    },
    config: CONFIG,
  };
}

/** Up to `max` epochs, evenly spread, always keeping the first and the last. */
export function pickEpochs(n: number, max = 12): number[] {
  if (n <= max) return [...Array(n).keys()];
  const out = new Set<number>();
  for (let i = 0; i < max; i++) out.add(Math.round((i * (n - 1)) / (max - 1)));
  return [...out].sort((a, b) => a - b);
}

export function groundDistanceSpec(t: TrainingEntry, classes: string[] | null): { spec: VlSpec; shown: number; total: number } | null {
  const mats = t.history.ground_distance;
  if (!Array.isArray(mats) || mats.length === 0) return null;
  const k = mats[0]!.length;
  const names = classes && classes.length === k ? classes : [...Array(k).keys()].map(String);
  const epochs = pickEpochs(mats.length);
  // Both engines append D at the end of each epoch (learned from that epoch's features, used in the next).
  const epochNo = (e: number) => t.history.epochs?.[e]?.epoch ?? e + 1;
  const rows: Array<Record<string, unknown>> = [];
  for (const e of epochs) {
    mats[e]!.forEach((row, i) => row.forEach((d, j) => rows.push({ epoch: `epoch ${epochNo(e)}`, order: e, i: names[i], j: names[j], d, i_order: i, j_order: j })));
  }
  return {
    shown: epochs.length,
    total: mats.length,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      facet: { field: 'epoch', type: 'ordinal', title: null, sort: { field: 'order' } },
      columns: 6,
      spec: {
        width: { step: k <= 6 ? 26 : Math.max(10, Math.floor(110 / k)) },
        height: { step: k <= 6 ? 26 : Math.max(10, Math.floor(110 / k)) },
        encoding: {
          x: { field: 'j', type: 'ordinal', sort: byOrder('j'), title: null },
          y: { field: 'i', type: 'ordinal', sort: byOrder('i'), title: null },
        },
        layer: [
          {
            mark: 'rect',
            encoding: {
              color: { field: 'd', type: 'quantitative', title: 'D', scale: { scheme: 'viridis' } },
              tooltip: [{ field: 'i' }, { field: 'j' }, { field: 'd', format: '.3f' }],
            },
          },
          // Values written in the cells while they fit (up to 6 classes).
          ...(k <= 6
            ? [
                {
                  mark: { type: 'text', fontSize: 9 },
                  encoding: {
                    text: { field: 'd', type: 'quantitative', format: '.2f' },
                    color: { condition: { test: 'datum.d < 0.6', value: 'white' }, value: '#222' },
                  },
                },
              ]
            : []),
        ],
      },
      config: CONFIG,
    },
  };
}

let svgCount = 0;

/** Vega-Lite → Vega → SVG string, with element ids made unique so several SVGs can share one page. */
export async function renderSvg(spec: VlSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const prefix = `p${++svgCount}-`;
    return svg
      .replace(/\sid="([^"]+)"/g, (_m, id: string) => ` id="${prefix}${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}${id})`)
      .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}${id}"`);
  } finally {
    view.finalize();
  }
}

/** Every plot the input has data for, rendered. Missing data means a missing plot, never an empty one. */
export async function renderPlots(input: ReportInput): Promise<Plot[]> {
  const variants = variantOrder(input);
  const tag = input.scale === 'full' ? '' : ` (${scaleBanner(input.scale, null).label.toLowerCase()})`;
  const plots: Plot[] = [];
  const lc = learningCurvesSpec(input, variants);
  if (lc) {
    plots.push({
      id: 'learning-curves',
      title: `Learning curves${tag}`,
      caption: 'Mean over the repeats of each variant per epoch (a line ± one standard deviation as a band; a point when there is one epoch). Train loss is each variant’s own loss, so its scale may differ between variants.',
      svg: await renderSvg(lc),
    });
  }
  const ps = perSeedSpec(input, variants);
  if (ps) {
    plots.push({
      id: 'per-seed',
      title: `Metrics per repeat${tag}`,
      caption: 'Each point is one repeat of a variant (a seed or a fold); the bar is the Student-t 95% interval of the mean, the black tick the mean.',
      svg: await renderSvg(ps),
    });
  }
  const cm = confusionSpec(input, variants);
  if (cm) {
    plots.push({
      id: 'confusion',
      title: `Confusion matrices${tag}`,
      caption: 'Counts summed over seeds/folds; colour is the share of the true class’s row.',
      svg: await renderSvg(cm),
    });
  }
  const classes = input.evaluations.find((e) => Array.isArray(e.metrics.classes))?.metrics.classes ?? null;
  for (const variant of variants) {
    const t = input.trainings
      .filter((x) => x.variant === variant && Array.isArray(x.history.ground_distance) && x.history.ground_distance.length)
      .sort((a, b) => a.replicate.localeCompare(b.replicate, undefined, { numeric: true }))[0];
    if (!t) continue;
    const gd = groundDistanceSpec(t, classes);
    if (!gd) continue;
    plots.push({
      id: `ground-distance-${variant}`,
      title: `Learned ground distance D, ${variant}${tag}`,
      caption:
        `D learned at the end of each epoch of ${t.step}, and used in the next` +
        (gd.shown < gd.total ? ` (${gd.shown} of ${gd.total} epochs shown, evenly spaced).` : '.'),
      svg: await renderSvg(gd.spec),
    });
  }
  return plots;
}
