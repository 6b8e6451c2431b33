"""Loss values, gradients w.r.t. the logits, and metrics on fixed inputs, in float64: the torch side
of the cross-engine parity test (test/torch/parity.test.ts)."""
import torch

from metrics import evaluation_metrics
from objective import Objective


def run(spec):
    """spec: {logits: [[...]], labels: [...], positions?: [...], cases: [{name, loss: LossSpec}],
    metrics?: {labels, predicted, classes}} → {cases: [{name, value, grad}], metrics?}."""
    labels = torch.tensor(spec['labels'], dtype=torch.int64)
    classes = len(spec['logits'][0])
    positions = spec.get('positions') or list(range(classes))
    out = {'cases': []}
    for case in spec['cases']:
        logits = torch.tensor(spec['logits'], dtype=torch.float64, requires_grad=True)
        objective = Objective(case['loss'], classes, positions)
        value = objective(logits, labels)
        value.backward()
        out['cases'].append({'name': case['name'], 'value': float(value), 'grad': logits.grad.tolist()})
    if 'metrics' in spec:
        m = spec['metrics']
        out['metrics'] = evaluation_metrics(m['labels'], m['predicted'], m['classes'])
    return out
