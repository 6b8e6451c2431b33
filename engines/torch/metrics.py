"""Ordinal-classification metrics, the same definitions as src/ml/metrics.ts (docs/ml.md)."""
import numpy as np


def confusion_matrix(labels, predicted, classes):
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return m


def quadratic_weighted_kappa(confusion):
    """Cohen's kappa with weights (i - j)^2 / (C - 1)^2; 0 when the expected disagreement is 0."""
    o = confusion.astype(np.float64)
    c = o.shape[0]
    n = o.sum()
    if n == 0 or c < 2:
        return 0.0
    i, j = np.meshgrid(np.arange(c), np.arange(c), indexing='ij')
    w = (i - j) ** 2 / (c - 1) ** 2
    e = np.outer(o.sum(axis=1), o.sum(axis=0)) / n
    denominator = (w * e).sum()
    if denominator == 0:
        return 0.0
    return float(1.0 - (w * o).sum() / denominator)


def evaluation_metrics(labels, predicted, classes, positions=None, ordered=True):
    """accuracy, confusion, per_class_recall, n; for ordered classes also one_off_accuracy, mae
    (class steps) and qwk (on unordered classes a class step means nothing)."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    n = int(labels.size)
    confusion = confusion_matrix(labels, predicted, classes)
    steps = np.abs(labels - predicted)
    rows = confusion.sum(axis=1)
    recall = [float(confusion[k, k] / rows[k]) if rows[k] > 0 else 0.0 for k in range(classes)]
    result = {'accuracy': float((steps == 0).mean()) if n else 0.0}
    if ordered:
        result.update({
            'one_off_accuracy': float((steps <= 1).mean()) if n else 0.0,
            'mae': float(steps.mean()) if n else 0.0,
            'qwk': quadratic_weighted_kappa(confusion),
        })
    result.update({'confusion': confusion.tolist(), 'per_class_recall': recall, 'n': n})
    return result


def metrics_line(m):
    """'acc 0.612 one-off 0.901 mae 0.512 qwk 0.701', the ordinal part only where measured (as src/ml/metrics.ts)."""
    parts = [f"acc {m['accuracy']:.3f}"]
    for key, label in (('one_off_accuracy', 'one-off'), ('mae', 'mae'), ('qwk', 'qwk')):
        if key in m:
            parts.append(f"{label} {m[key]:.3f}")
    return ' '.join(parts)
