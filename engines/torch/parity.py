"""The torch side of the cross-engine parity test (test/torch/parity.test.ts): loss values and their
gradients w.r.t. the logits in float64, the learned ground distance, the automatic α, the initial
weights and the metrics, all on fixed inputs that the test also feeds to the tfjs library."""
import torch

import models
from losses import predict_classes
from metrics import evaluation_metrics
from objective import Objective, learn_ground_distance


def run(spec):
    """spec: {logits: [[...]], labels: [...], positions?, cases: [{name, loss: LossSpec, state?: LossState}],
    groundDistance?: {features, labels, classes}, calibrate?: [LossSpec], predict?: {logits, cases: [{kind, positions?}]}, models?: [{spec, seed, input?}],
    metrics?: {labels, predicted, classes}}; the output has the same keys with the results."""
    labels = torch.tensor(spec['labels'], dtype=torch.int64)
    classes = len(spec['logits'][0])
    positions = spec.get('positions') or list(range(classes))
    out = {'cases': []}
    for case in spec.get('cases', []):
        logits = torch.tensor(spec['logits'], dtype=torch.float64, requires_grad=True)
        objective = Objective(case['loss'], classes, positions)
        if 'state' in case:
            objective.load_state(case['state'])
        value = objective(logits, labels)
        value.backward()
        out['cases'].append({'name': case['name'], 'value': float(value), 'grad': logits.grad.tolist()})
    if 'groundDistance' in spec:
        g = spec['groundDistance']
        features = torch.tensor(g['features'], dtype=torch.float32)
        out['groundDistance'] = learn_ground_distance(features, torch.tensor(g['labels']), g['classes']).tolist()
    out['calibrate'] = []
    for loss in spec.get('calibrate', []):
        objective = Objective(loss, classes, positions)
        logits = torch.tensor(spec['logits'], dtype=torch.float64)
        objective.end_epoch(-1, logits, None, labels)
        out['calibrate'].append(objective.state['alpha'])
    out['models'] = []
    for m in spec.get('models', []):
        model = models.build_model(m['spec'], m['seed'])
        result = {'weights': {k: v.flatten().tolist() for k, v in models.tfjs_state(model).items()}}
        if 'input' in m:
            # NHWC in, as the tfjs model takes it; inference mode (no dropout).
            x = torch.tensor(m['input'], dtype=torch.float32).permute(0, 3, 1, 2)
            model.eval()
            with torch.no_grad():
                logits, features = model(x)
            result.update(logits=logits.tolist(), features=features.tolist())
        out['models'].append(result)
    # Predicted classes from the same logits: argmax, or the nearest position to z_0 for reg.
    predict = spec.get('predict', {'logits': [], 'cases': []})
    outputs = torch.tensor(predict['logits'], dtype=torch.float64)
    out['predict'] = [predict_classes(outputs, p['kind'], p.get('positions') or positions).tolist() for p in predict['cases']]
    if 'metrics' in spec:
        m = spec['metrics']
        out['metrics'] = evaluation_metrics(m['labels'], m['predicted'], m['classes'])
    return out
