"""The training objective of one LossSpec with its state over epochs (docs/ml.md "Stateful losses"):
the XE warm-up, the automatic α, and the ground distance D learned from the features.
The state is the same plain JSON as src/ml/losses.ts's: {active, alpha, groundDistance}."""
import numpy as np
import torch

import losses
from errors import UserError

KINDS = tuple(losses.TABLE['kinds'])
# α = 'auto' makes the EMD term about 1/AUTO_ALPHA_RATIO of XE at the end of warm-up (docs/paper-notes.md).
AUTO_ALPHA_RATIO = 3.5


class Objective:
    def __init__(self, spec, classes, positions):
        kind = spec.get('kind')
        if kind not in KINDS:
            raise UserError(f"loss.kind {kind!r} is not one of {', '.join(KINDS)}")
        self.kind = kind
        self.classes = classes
        self.positions = [float(p) for p in (spec.get('positions') or positions)]
        if len(self.positions) != classes:
            raise UserError(f'loss.positions has {len(self.positions)} values for {classes} classes')
        if any(b <= a for a, b in zip(self.positions, self.positions[1:])):
            raise UserError('loss.positions must be strictly increasing')
        # Every parameter, the table's default where the spec leaves it out.
        self.params = {name: (spec[name] if spec.get(name) is not None else default)
                       for name, default in losses.TABLE['defaults'].items()}
        self.params['positions'] = self.positions
        self.omega = float(self.params['omega'])
        self.mu = float(self.params['mu'])
        self.warmup = int(self.params['warmup_epochs']) if self.uses_d else 0
        alpha = self.params['alpha']
        given = self.params['ground_distance']
        if given is not None:
            d = torch.tensor(given, dtype=torch.float64)
        elif self.learns_d:
            d = 1 - torch.eye(classes, dtype=torch.float64)  # no prior on class relations (claim C3)
        else:
            d = losses.ground_distance_from_positions(self.positions)
        if tuple(d.shape) != (classes, classes):
            raise UserError(f'loss.ground_distance must be {classes}×{classes}')
        self.state = {'active': self.warmup == 0, 'alpha': None if alpha == 'auto' else float(alpha),
                      'groundDistance': d.tolist()}
        self._weights = None

    @property
    def uses_d(self):
        return losses.capability(self.kind, 'emd_term')

    @property
    def learns_d(self):
        return losses.capability(self.kind, 'learns_ground_distance')

    def set_epoch(self, epoch):
        """epoch counts from 0; epochs 0 … warmup_epochs−1 train with XE alone."""
        self.state['active'] = epoch >= self.warmup

    def needs_pass(self, epoch):
        """Whether the trainer must run the whole training split after this epoch (epoch −1:
        before the first) and hand the outputs to end_epoch."""
        if not self.uses_d:
            return False
        if self.learns_d and epoch >= 0:
            return True
        return self.state['alpha'] is None and epoch == self.warmup - 1

    def end_epoch(self, epoch, logits, features, labels):
        if self.learns_d and epoch >= 0:
            self.state['groundDistance'] = learn_ground_distance(features, labels, self.classes).tolist()
            self._weights = None
        if self.uses_d and self.state['alpha'] is None and epoch == self.warmup - 1:
            with torch.no_grad():
                xe = float(losses.xe(logits, labels))
                term = float(losses.emd_term(logits, labels, self.weights()))
            if not abs(term) > 0:
                raise UserError('automatic α: the EMD term is 0 on the training split, α is undefined')
            self.state['alpha'] = xe / (AUTO_ALPHA_RATIO * term)

    def weights(self):
        if self._weights is None:
            d = torch.tensor(self.state['groundDistance'], dtype=torch.float64)
            self._weights = losses.emd_weights(d, self.omega, self.mu)
        return self._weights

    def __call__(self, logits, labels):
        if not self.uses_d:
            return losses.PLAIN[self.kind](logits, labels, self.params)
        xe = losses.xe(logits, labels)
        if not self.state['active'] or self.state['alpha'] is None:
            return xe
        return xe + self.state['alpha'] * losses.emd_term(logits, labels, self.weights())

    def load_state(self, state):
        self.state = dict(state)
        self._weights = None


def learn_ground_distance(features, labels, classes):
    """D from the penultimate features (docs/ml.md, src/ml/ground-distance.ts): divide each vector by
    its sum, class centroids, Euclidean distances, per-row ranks / (C − 1), then (R + Rᵀ)/2."""
    f = features.detach().cpu().double()
    sums = f.sum(dim=1, keepdim=True)
    f = torch.where(sums != 0, f / torch.where(sums != 0, sums, torch.ones_like(sums)), torch.zeros_like(f))
    y = labels.detach().cpu()
    centroids = torch.zeros(classes, f.shape[1], dtype=torch.float64)
    centroids.index_add_(0, y, f)
    counts = torch.bincount(y, minlength=classes).double()
    centroids = torch.where(counts[:, None] > 0, centroids / counts.clamp_min(1)[:, None], centroids)
    c = centroids.numpy()
    # Row by row, by differences (not the |a|²+|b|²−2ab shortcut), so equal centroids tie exactly.
    dist = np.stack([np.sqrt(((c - c[i]) ** 2).sum(axis=1)) for i in range(classes)])
    index = np.arange(classes)
    ranks = np.zeros((classes, classes))
    for i in range(classes):
        # Ascending distance; on ties the class itself first, then the lower index.
        tie = np.where(index == i, -1, index)
        order = np.lexsort((tie, dist[i]))
        ranks[i, order] = np.arange(classes)
    return torch.from_numpy((ranks + ranks.T) / 2 / max(1, classes - 1))
