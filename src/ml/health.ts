// Collapsed or broken trainings: a model whose predictions are one class for every example, whose
// training loss stopped being a finite number, or that never did better than always answering the
// majority class on validation has learned nothing a claim could be about. These checks flag it; they
// never fail the step (a collapse is a result of the loss, which the paper's claims are about too).
// The train step writes the flag into history.json, the evaluate step into metrics.json, both as
// `health: {collapsed, reasons}`; compare reads it (docs/compare.md, "Collapsed or broken trainings").

export interface TrainingHealth {
  collapsed: boolean;
  /** One line per symptom, for the log, the verdict and the report. */
  reasons: string[];
}

function health(reasons: string[]): TrainingHealth {
  return { collapsed: reasons.length > 0, reasons };
}

/** The share of the most frequent class in a split: what always answering that class scores. */
export function majorityShare(classCounts: readonly number[]): number | null {
  const total = classCounts.reduce((a, b) => a + b, 0);
  return total > 0 ? Math.max(...classCounts) / total : null;
}

/**
 * From a training's per-epoch history: a loss that is not a finite number (JSON writes NaN and ±∞ as
 * null), or a validation accuracy that never exceeded the majority share of the validation split.
 */
export function historyHealth(
  epochs: ReadonlyArray<{ epoch: number; train_loss: unknown; val?: { accuracy?: number } }>,
  valClassCounts?: readonly number[],
): TrainingHealth {
  const reasons: string[] = [];
  const bad = epochs.filter((e) => typeof e.train_loss !== 'number' || !Number.isFinite(e.train_loss));
  if (bad.length) reasons.push(`training loss not finite in epoch ${bad.map((e) => e.epoch + 1).join(', ')}`);
  const majority = valClassCounts ? majorityShare(valClassCounts) : null;
  const accs = epochs.map((e) => e.val?.accuracy).filter((a): a is number => typeof a === 'number');
  if (majority !== null && accs.length === epochs.length && accs.length > 0) {
    const best = Math.max(...accs);
    // Equal up to rounding counts as not beating it: a constant prediction of the majority class scores exactly its share.
    if (best <= majority + 1e-9) {
      reasons.push(`never beat the majority class on validation (best accuracy ${best.toFixed(3)} ≤ majority share ${majority.toFixed(3)})`);
    }
  }
  return health(reasons);
}

/** From predictions on a split: the same class for every example. */
export function predictionHealth(predicted: readonly number[], classes: readonly string[]): TrainingHealth {
  if (predicted.length < 2) return health([]);
  const first = predicted[0]!;
  if (predicted.some((p) => p !== first)) return health([]);
  return health([`constant predictions: all ${predicted.length} examples predicted as class ${first}${classes[first] !== undefined ? ` ('${classes[first]}')` : ''}`]);
}
