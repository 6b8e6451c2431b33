// A RunDiff as text, the one renderer of it: `repro diff` and `repro reproduce` print only what
// differs; `repro compare RUN_A RUN_B` prints the same sections as an overview (every metric's means,
// every step named), in the terminal or as Markdown.
import type { RunDiff } from './runs.js';
import { fmt, fmtP } from './verdicts.js';
import type { Reproduction } from './reproduction.js';
import { escapeMd } from '../core/markdown.js';

/** Steps named briefly (the first two and a count) or, for the overview, every one. */
export function stepList(steps: readonly string[], all = false): string {
  if (steps.length === 1) return steps[0]!;
  return `${steps.length} steps: ${all ? steps.join(', ') : `${steps.slice(0, 2).join(', ')}${steps.length > 2 ? ', …' : ''}`}`;
}

/** The two runs, as `repro diff` and `repro compare` name them: id, scale, and where each came from. */
export function diffHeading(d: RunDiff, where: { a?: string; b?: string } = {}, opts: { markdown?: boolean } = {}): string {
  const side = (label: 'A' | 'B', r: RunDiff['a'], from?: string) => {
    const about = [from, r.scale ? `scale ${r.scale}` : undefined].filter((x) => x !== undefined).join('; ');
    const text = `run ${r.runId}${about ? ` (${about})` : ''}`;
    return opts.markdown ? `- **${label}**: ${escapeMd(text)}` : `${label}: ${text}`;
  };
  return `${side('A', d.a, where.a)}\n${side('B', d.b, where.b)}\n${opts.markdown ? '\n' : ''}`;
}

export interface DifferencesOptions {
  /** Put before every line of the terminal text (reproduce nests the diff under its own heading). */
  indent?: string;
  /** false: leave the metrics out (shown elsewhere). */
  metrics?: boolean;
  /**
   * `repro compare`'s view: every metric's mean per run as a table (Δ = B − A) in place of the
   * differing ones' intervals, every changed step named and every change of it listed, and how
   * many steps kept their fingerprint.
   */
  overview?: boolean;
  /** Markdown (a pull-request comment): sections in bold, items as a list, the metrics as a table. */
  markdown?: boolean;
}

/**
 * The diff as text, only what differs: parameters, steps whose fingerprint changed (inputs, code,
 * `with`), the environment, execution facts, metrics whose values differ (with the interval of the
 * difference and the equivalence verdict), and claims whose verdict changed.
 */
export function renderDifferences(d: RunDiff, opts: DifferencesOptions = {}): string {
  const i = opts.markdown ? '' : (opts.indent ?? '');
  const md = Boolean(opts.markdown);
  const all = Boolean(opts.overview);
  const lines: string[] = [];
  const heading = (title: string) => lines.push(md ? `**${escapeMd(title)}**` : `${i}${title}:`, ...(md ? [''] : []));
  const section = (title: string, items: string[]) => {
    if (!items.length) return;
    heading(title);
    for (const x of items) lines.push(md ? `- ${escapeMd(x)}` : `${i}  ${x}`);
    if (md) lines.push('');
  };
  section('params', d.params);
  const only = (side: 'only in A' | 'only in B') => {
    const ids = d.steps.filter((s) => s.status === side).map((s) => s.step);
    return ids.length ? [`${side}: ${stepList(ids, all)}`] : [];
  };
  // Steps that changed the same way (every training on another backend) share one line.
  const byChange = new Map<string, string[]>();
  for (const s of d.steps.filter((x) => x.status === 'changed')) {
    const what = s.changes.length > 4 && !all ? `${s.changes.slice(0, 3).join('; ')}; … ${s.changes.length - 3} more` : s.changes.join('; ') || 'fingerprint changed';
    byChange.set(what, [...(byChange.get(what) ?? []), s.step]);
  }
  const same = d.steps.filter((s) => s.status === 'same').length;
  section('steps (by fingerprint: with, inputs and code by hash, kind version)', [
    ...[...byChange].map(([what, ids]) => `${what}  (${stepList(ids, all)})`),
    ...only('only in A'),
    ...only('only in B'),
    ...(all ? [`${same} of ${d.steps.length} steps have the same fingerprint`] : []),
  ]);
  section('environment', d.environment);
  section('execution facts', d.facts.map((f) => `${f.change}  (${stepList(f.steps, all)})`));
  if (all && opts.metrics !== false) metricTable(d, lines, heading, i, md);
  const differing = opts.metrics === false || all ? [] : d.samples.filter((m) => m.verdict !== 'identical');
  section(
    `metrics (B − A; ${differing[0] ? `${Math.round(differing[0].level * 100)}% interval, ` : ''}equivalence within the smallest effect)`,
    differing.map((m) => {
      const ci = m.interval ? ` [${fmt(m.interval[0], true)}, ${fmt(m.interval[1], true)}]` : '';
      const how = m.design === 'paired' ? 'paired by seed' : 'Welch';
      const word = m.measurement ? 'measurement of the machine (informative)' : `${m.verdict} within ±${fmt(m.smallestEffect)} (${m.effectSource === 'default' ? 'default δ' : `δ from the ${m.effectSource}`})`;
      return `${m.group} ${m.metric}: ${fmt(m.original.mean)} → ${fmt(m.reproduced.mean)}, Δ ${fmt(m.delta, true)}${ci}, n ${m.original.n}/${m.reproduced.n} ${how}: ${word}`;
    }),
  );
  section('verdicts', d.verdicts.map((v) => `${v.id}: ${v.a ?? 'absent'} → ${v.b ?? 'absent'}`));
  if (!lines.length) lines.push(`${i}${opts.metrics === false ? 'no parameter, input, code, environment or execution fact differs' : "nothing differs but the runs' ids and times"}`);
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n') + '\n';
}

/** The overview's metrics: every variant × metric of either run, its mean and count in each, and Δ. */
function metricTable(d: RunDiff, lines: string[], heading: (title: string) => void, i: string, md: boolean): void {
  heading('metrics (mean over seeds/folds; Δ = B − A)');
  if (d.metrics.length === 0) {
    lines.push(md ? 'no metrics outputs in either run' : `${i}  no metrics outputs in either run`, ...(md ? [''] : []));
    return;
  }
  const head = ['step', 'metric', 'A', 'B', 'Δ'];
  const rows = d.metrics.map((m) => [
    m.group,
    m.metric,
    m.a ? `${fmt(m.a.mean)} (n=${m.a.n})` : '—',
    m.b ? `${fmt(m.b.mean)} (n=${m.b.n})` : '—',
    m.delta === null ? '' : fmt(m.delta, true),
  ]);
  if (md) {
    lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(escapeMd).join(' | ')} |`), '');
    return;
  }
  const w = head.map((x, k) => Math.max(x.length, ...rows.map((r) => r[k]!.length)));
  for (const r of [head, ...rows]) lines.push(`${i}  ${r.map((c, k) => c.padEnd(w[k]!)).join('  ').trimEnd()}`);
}

const METRIC_WORD: Record<string, string> = {
  identical: 'identical',
  equivalent: 'equivalent',
  different: 'DIFFERENT',
  inconclusive: 'undecided',
  untested: 'untested',
};

/**
 * The statistical level of `repro reproduce`: per variant and metric the re-run's seeds against the
 * original's, one line per claim (original verdict → re-run's), and the overall verdict.
 */
export function renderReproduction(r: Reproduction, o: { fresh: boolean; verdict: string; badge: boolean }): string {
  const lines: string[] = [];
  const results = r.metrics.filter((m) => !m.measurement);
  const level = `${Math.round((1 - 2 * r.alpha) * 100)}%`;
  const how = o.fresh ? "fresh seeds against the archived ones: Welch's interval" : 'the archived seeds again: paired by seed';
  lines.push(`metrics per variant (${how}; equivalent when the ${level} interval of Δ lies within ± the smallest effect):`);
  if (results.length && results.every((m) => m.verdict === 'identical')) {
    lines.push(`  identical    all ${results.length} variant × metric samples, seed by seed`);
  } else {
    for (const m of results) {
      const ci = m.interval ? ` ${level} [${fmt(m.interval[0], true)}, ${fmt(m.interval[1], true)}]` : '';
      const src = m.effectSource === 'default' ? 'default' : `the ${m.effectSource}'s`;
      lines.push(
        `  ${METRIC_WORD[m.verdict]!.padEnd(12)} ${m.group} ${m.metric}: ${fmt(m.original.mean)} → ${fmt(m.reproduced.mean)} (n ${m.original.n} → ${m.reproduced.n}), Δ ${fmt(m.delta, true)}${ci}, δ ±${fmt(m.smallestEffect)} (${src})${m.pValue !== null && m.verdict !== 'identical' ? `, TOST ${fmtP(m.pValue)}` : ''}`,
      );
    }
  }
  if (!results.length) lines.push('  none: no step output named `metrics` in both runs');
  const measured = r.metrics.filter((m) => m.measurement && m.verdict !== 'identical');
  if (measured.length) lines.push(`  (measurements of the machine, informative: ${[...new Set(measured.map((m) => m.metric))].join(', ')})`);
  lines.push('claims (verdict of the original run → of the re-run):');
  for (const c of r.claims) {
    const word = c.agreement === 'same' ? 'same' : c.agreement === 'changed' ? 'CHANGED' : 'undecided';
    const note = c.measurement ? '  (a claim on a measurement of the machine: informative)' : '';
    lines.push(`  ${word.padEnd(12)} ${c.id}${c.required ? ' (required)' : ''}: ${c.original ?? 'absent'} → ${c.reproduced ?? 'absent'}${note}`);
  }
  if (!r.claims.length) lines.push('  none: the run has no compare step');
  const why = r.reasons.length && !o.badge ? `: ${r.reasons.slice(0, 3).join('; ')}${r.reasons.length > 3 ? `; … ${r.reasons.length - 3} more` : ''}` : '';
  lines.push(`verdict: ${o.verdict}${why}`);
  if (o.badge) {
    lines.push(
      `ACM badge this supports: Results Reproduced (the author's artifacts re-run${o.fresh ? ' with fresh seeds' : ''}; it applies when the one who re-ran them is not the author; never Results Replicated, which needs artifacts of one's own)`,
    );
  }
  return lines.join('\n') + '\n\n';
}
