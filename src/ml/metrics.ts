// Evaluation metrics (the ordinal ones for ordered classes only), on plain arrays (definitions: docs/ml.md). No tfjs here:
// compare, report and tests use these on JSON predictions.
import type { EvaluationMetrics } from '../formats/metrics.js';

function check(truth: ArrayLike<number>, pred: ArrayLike<number>): void {
  if (truth.length !== pred.length) throw new Error(`metrics: ${truth.length} labels but ${pred.length} predictions`);
}

/** Fraction predicted exactly (0 for an empty set). */
export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  check(truth, pred);
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) hit++;
  return truth.length ? hit / truth.length : 0;
}

/** Fraction within one class step of the truth (the age-group "one-off" accuracy). */
export function oneOffAccuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  check(truth, pred);
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if (Math.abs(truth[i] - pred[i]) <= 1) hit++;
  return truth.length ? hit / truth.length : 0;
}

/** Mean |pred − truth| in class steps. */
export function meanAbsoluteError(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  check(truth, pred);
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += Math.abs(truth[i] - pred[i]);
  return truth.length ? sum / truth.length : 0;
}

/** confusion[true][predicted] counts over `classes` classes. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number[][] {
  check(truth, pred);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][pred[i]]++;
  return m;
}

/** Correct / total per true class; 0 for a class absent from the set. */
export function perClassRecall(confusion: number[][]): number[] {
  return confusion.map((row, k) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total ? row[k] / total : 0;
  });
}

/**
 * Cohen's kappa with quadratic weights (i − j)²/(C − 1)²: 1 − Σ w·O / Σ w·E, with E the outer
 * product of the marginals scaled to the total. 0 when Σ w·E is 0 (e.g. a single class everywhere).
 */
export function quadraticWeightedKappa(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number {
  const O = confusionMatrix(truth, pred, classes);
  const n = truth.length;
  if (n === 0 || classes < 2) return 0;
  const rowSums = O.map((r) => r.reduce((a, b) => a + b, 0));
  const colSums = O[0].map((_, j) => O.reduce((a, r) => a + r[j], 0));
  let num = 0;
  let den = 0;
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      const w = (i - j) ** 2 / (classes - 1) ** 2;
      num += w * O[i][j];
      den += (w * rowSums[i] * colSums[j]) / n;
    }
  }
  return den === 0 ? 0 : 1 - num / den;
}

/**
 * Every metric of an evaluation, as metrics.json holds it. The ordinal ones (one-off, MAE, QWK) only
 * for ordered classes: on unordered ones a "class step" is an artefact of the label order.
 */
export function evaluationMetrics(truth: ArrayLike<number>, pred: ArrayLike<number>, classNames: string[], split: string, ordered = true): EvaluationMetrics {
  const C = classNames.length;
  const confusion = confusionMatrix(truth, pred, C);
  return {
    accuracy: accuracy(truth, pred),
    ...(ordered ? { one_off_accuracy: oneOffAccuracy(truth, pred), mae: meanAbsoluteError(truth, pred), qwk: quadraticWeightedKappa(truth, pred, C) } : {}),
    confusion,
    per_class_recall: perClassRecall(confusion),
    n: truth.length,
    split,
    classes: classNames,
  };
}

/** "acc 0.612 one-off 0.901 mae 0.512 qwk 0.701" for logs and summaries; the ordinal part only where measured. */
export function metricsLine(m: Pick<EvaluationMetrics, 'accuracy' | 'one_off_accuracy' | 'mae' | 'qwk'>, digits: number, accuracyLabel = 'acc'): string {
  const parts = [`${accuracyLabel} ${m.accuracy.toFixed(digits)}`];
  if (m.one_off_accuracy !== undefined) parts.push(`one-off ${m.one_off_accuracy.toFixed(digits)}`);
  if (m.mae !== undefined) parts.push(`mae ${m.mae.toFixed(digits)}`);
  if (m.qwk !== undefined) parts.push(`qwk ${m.qwk.toFixed(digits)}`);
  return parts.join(' ');
}
