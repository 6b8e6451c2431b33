// What an `evaluate` step writes as metrics.json, and what `train` writes as history.json.
// `compare` and `report` read these; the names here are the metric names a workflow may use.

export const METRIC_NAMES = ['accuracy', 'one_off_accuracy', 'mae', 'qwk'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Whether a larger value is better, for each metric. */
export const METRIC_DIRECTION: Record<string, 'higher' | 'lower'> = {
  accuracy: 'higher',
  one_off_accuracy: 'higher',
  mae: 'lower',
  qwk: 'higher',
  ms_per_step: 'lower',
  examples_per_second: 'higher',
};

export interface EvaluationMetrics {
  /** Fraction in 0..1 (not percent). */
  accuracy: number;
  /** Prediction within one class step of the truth, 0..1. */
  one_off_accuracy: number;
  /** Mean absolute error in class steps. */
  mae: number;
  /** Quadratic-weighted Cohen's kappa. */
  qwk: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  per_class_recall: number[];
  n: number;
  split: string;
  classes: string[];
  /** Any further metric (e.g. timing) by name. */
  [extra: string]: unknown;
}

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  val?: Partial<Record<MetricName, number>>;
  examples_per_second: number;
  /** Mean wall time of one optimisation step, for the overhead claim (C5). */
  ms_per_step: number;
  seconds: number;
}

export interface TrainingHistory {
  loss: string;
  epochs: EpochRecord[];
  best_epoch: number;
  /** Ground-distance matrix per epoch, for the learned-D variant. */
  ground_distance?: number[][][];
  facts: Record<string, string | number | boolean | null>;
}

/** predictions.json of an `evaluate` step (either engine), one entry per image of the split, in order. */
export interface PredictionsFile {
  split: string;
  classes: string[];
  labels: number[];
  predicted: number[];
  /** Class probabilities per image (averaged with the mirror image when evaluated with `mirror`). */
  probabilities?: number[][];
  /** Loss `reg`: the regressed position z_0 per image, as [z_0] (no probabilities). */
  outputs?: number[][];
}
