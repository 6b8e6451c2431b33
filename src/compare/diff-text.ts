// A RunDiff as text, as `repro diff` and `repro reproduce` print it: only what differs.
import type { RunDiff } from './runs.js';
import { fmt, fmtP } from './verdicts.js';
import type { Reproduction } from './reproduction.js';

function stepList(steps: readonly string[]): string {
  return steps.length === 1 ? steps[0]! : `${steps.length} steps: ${steps.slice(0, 2).join(', ')}${steps.length > 2 ? ', …' : ''}`;
}

/**
 * The diff as text, only what differs: parameters, steps whose fingerprint changed (inputs, code,
 * `with`), the environment, execution facts, metrics whose values differ (with the interval of the
 * difference and the equivalence verdict), and claims whose verdict changed.
 */
export function renderDifferences(d: RunDiff, opts: { indent?: string; /** false: leave the metrics out (shown elsewhere). */ metrics?: boolean } = {}): string {
  const i = opts.indent ?? '';
  const lines: string[] = [];
  const section = (title: string, items: string[]) => {
    if (!items.length) return;
    lines.push(`${i}${title}:`);
    for (const x of items) lines.push(`${i}  ${x}`);
  };
  section('params', d.params);
  const only = (side: 'only in A' | 'only in B') => {
    const ids = d.steps.filter((s) => s.status === side).map((s) => s.step);
    return ids.length ? [`${side}: ${stepList(ids)}`] : [];
  };
  // Steps that changed the same way (every training on another backend) share one line.
  const byChange = new Map<string, string[]>();
  for (const s of d.steps.filter((x) => x.status === 'changed')) {
    const what = s.changes.length > 4 ? `${s.changes.slice(0, 3).join('; ')}; … ${s.changes.length - 3} more` : s.changes.join('; ') || 'fingerprint changed';
    byChange.set(what, [...(byChange.get(what) ?? []), s.step]);
  }
  section('steps (by fingerprint: with, inputs and code by hash, kind version)', [
    ...[...byChange].map(([what, ids]) => `${what}  (${stepList(ids)})`),
    ...only('only in A'),
    ...only('only in B'),
  ]);
  section('environment', d.environment);
  section('execution facts', d.facts.map((f) => `${f.change}  (${stepList(f.steps)})`));
  const differing = opts.metrics === false ? [] : d.samples.filter((m) => m.verdict !== 'identical');
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
  return lines.join('\n') + '\n';
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
