// A RunDiff as text, as `repro diff` and `repro reproduce` print it: only what differs.
import type { RunDiff } from './runs.js';
import { fmt } from './verdicts.js';

function stepList(steps: readonly string[]): string {
  return steps.length === 1 ? steps[0]! : `${steps.length} steps: ${steps.slice(0, 2).join(', ')}${steps.length > 2 ? ', …' : ''}`;
}

/**
 * The diff as text, only what differs: parameters, steps whose fingerprint changed (inputs, code,
 * `with`), the environment, execution facts, metrics whose values differ (with the interval of the
 * difference and the equivalence verdict), and claims whose verdict changed.
 */
export function renderDifferences(d: RunDiff, opts: { indent?: string } = {}): string {
  const i = opts.indent ?? '';
  const lines: string[] = [];
  const section = (title: string, items: string[]) => {
    if (!items.length) return;
    lines.push(`${i}${title}:`);
    for (const x of items) lines.push(`${i}  ${x}`);
  };
  section('params', d.params);
  section(
    'steps (by fingerprint: with, inputs and code by hash, kind version)',
    d.steps.filter((s) => s.status !== 'same').map((s) => `${s.step}: ${s.status === 'changed' ? s.changes.join('; ') || 'fingerprint changed' : s.status}`),
  );
  section('environment', d.environment);
  section('execution facts', d.facts.map((f) => `${f.change}  (${stepList(f.steps)})`));
  const differing = d.samples.filter((m) => m.verdict !== 'identical');
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
  if (!lines.length) lines.push(`${i}nothing differs but the runs' ids and times`);
  return lines.join('\n') + '\n';
}
