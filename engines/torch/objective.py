"""The training objective of one LossSpec, with the state that changes over epochs:
the XE warm-up, the automatic α, and the ground distance D learned from the features."""
import torch

import losses
from errors import UserError

KINDS = ('xe', 'emd2', 'xemd', 'learned', 'reg', 'sinkhorn')
# The automatic α makes the EMD term about 1/AUTO_ALPHA_RATIO of XE at the end of warm-up (paper.md).
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
        self.l = float(spec.get('l', 2))
        self.normalize = spec.get('normalize', True)
        self.alpha = spec.get('alpha', 1.0)
        self.omega = float(spec.get('omega', 1.0))
        self.mu = float(spec.get('mu', 0.0))
        self.warmup = int(spec.get('warmupEpochs', 0))
        self.lam = float(spec.get('lambda', 1.0))
        self.iterations = int(spec.get('iterations', 100))
        given = spec.get('groundDistance')
        self.d = (torch.tensor(given, dtype=torch.float64) if given is not None
                  else losses.ground_distance_from_positions(self.positions))
        if tuple(self.d.shape) != (classes, classes):
            raise UserError(f'loss.groundDistance must be {classes}×{classes}')
        self.emd_on = True
        # Running sums of XE and the EMD term over the current warm-up epoch, for α = 'auto'.
        self._xe_sum = 0.0
        self._emd_sum = 0.0

    @property
    def uses_d(self):
        return self.kind in ('xemd', 'learned')

    def start_epoch(self, epoch):
        """epoch counts from 1. Epochs up to warmupEpochs train with XE alone."""
        self.emd_on = not self.uses_d or epoch > self.warmup
        self._xe_sum = self._emd_sum = 0.0

    def end_epoch(self, epoch):
        if self.uses_d and self.alpha == 'auto' and epoch == self.warmup and self._emd_sum > 0:
            self.alpha = self._xe_sum / (AUTO_ALPHA_RATIO * self._emd_sum)

    def __call__(self, logits, labels):
        k = self.kind
        if k == 'xe':
            return losses.xe(logits, labels)
        if k == 'emd2':
            return losses.emd2(logits, labels, self.positions, self.l, self.normalize)
        if k == 'reg':
            return losses.reg(logits, labels, self.positions)
        if k == 'sinkhorn':
            return losses.sinkhorn(logits, labels, self.positions, self.lam, self.iterations)
        xe = losses.xe(logits, labels)
        if not self.emd_on or self.alpha == 'auto':
            if self.alpha == 'auto':
                with torch.no_grad():
                    self._xe_sum += float(xe)
                    self._emd_sum += float(losses.emd_term(logits, labels, self.d, self.omega, self.mu))
            return xe
        return xe + self.alpha * losses.emd_term(logits, labels, self.d, self.omega, self.mu)

    def learn_d(self, features, labels):
        """D from the penultimate features (paper.md): sum-normalise, class centroids, Euclidean
        distances, per-row ranks / (C − 1), then (D + Dᵀ)/2."""
        f = features.double()
        f = f / f.sum(dim=1, keepdim=True).clamp_min(1e-12)
        c = self.classes
        centroids = torch.zeros(c, f.shape[1], dtype=torch.float64, device=f.device)
        centroids.index_add_(0, labels, f)
        counts = torch.bincount(labels, minlength=c).clamp_min(1).double()
        centroids /= counts[:, None]
        dist = torch.cdist(centroids, centroids)
        ranks = torch.argsort(torch.argsort(dist, dim=1, stable=True), dim=1).double()
        d = ranks / max(c - 1, 1)
        self.d = ((d + d.T) / 2).cpu()
        return self.d

    def state(self):
        return {'alpha': self.alpha, 'd': self.d.tolist()}

    def load_state(self, state):
        self.alpha = state['alpha']
        self.d = torch.tensor(state['d'], dtype=torch.float64)
