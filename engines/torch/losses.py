"""The paper's losses in PyTorch, term for term the same as src/ml/losses.ts (docs/ml.md).

Each loss is a function of logits [N, C] and integer labels [N] that returns the batch mean.
Which losses exist, their parameters' defaults and what each can do come from the loss table
(src/ml/loss-table.ts), written by `npm run build` into loss_table.json next to this file.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from errors import UserError

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'loss_table.json'), encoding='utf-8') as _f:
    TABLE = json.load(_f)


def capability(kind, name):
    """A capability of the loss kind from the table: ordered, emd_term, learns_ground_distance, regression."""
    return TABLE['kinds'][kind]['capabilities'][name]


def ground_distance_from_positions(positions, dtype=torch.float64):
    """|pos_i - pos_k| scaled to [0, 1]: the hand-set D of the xemd loss."""
    pos = torch.tensor(positions, dtype=dtype)
    d = (pos[:, None] - pos[None, :]).abs()
    top = d.max()
    return d / top if top > 0 else d


def xe(logits, labels):
    return F.cross_entropy(logits, labels)


def emd2(logits, labels, positions, l=2.0, normalize=True):
    """Exact EMD between softmax(logits) and the one-hot target through their CDFs:
    s * sum_{j<C} g_j |CDF_j(p) - CDF_j(t)|^l with g_j = pos_{j+1} - pos_j and s = 1/C when
    normalize. The j = C term is (1 - 1)^l = 0, so it is left out (as in src/ml/losses.ts)."""
    c = logits.shape[1]
    p = torch.softmax(logits, dim=1)
    t = F.one_hot(labels, c).to(p.dtype)
    diff = (torch.cumsum(p, dim=1) - torch.cumsum(t, dim=1))[:, :-1].abs()
    pos = torch.tensor(positions, dtype=p.dtype, device=p.device)
    per_sample = (diff.pow(l) * (pos[1:] - pos[:-1])).sum(dim=1)
    if normalize:
        per_sample = per_sample / c
    return per_sample.mean()


def emd_term(logits, labels, weights):
    """sum_i p_i^2 M_{i,k} for true class k, batch mean; M = D^omega + mu (emd_weights)."""
    p = torch.softmax(logits, dim=1)
    m = weights.to(dtype=p.dtype, device=p.device)
    return (p.pow(2) * m.T.index_select(0, labels)).sum(dim=1).mean()


def emd_weights(d, omega, mu):
    return d.pow(omega) + mu


def reg(logits, labels, positions):
    """L2 regression of the class position from the first output z_0."""
    pos = torch.tensor(positions, dtype=logits.dtype, device=logits.device)
    return ((logits[:, 0] - pos.index_select(0, labels)) ** 2).mean()


# float32 exp(-x) underflows to 0 beyond about 87; keep a margin (docs/ml.md).
SINKHORN_MAX_EXPONENT = 80
# Floor of the Sinkhorn denominators and of T inside T log T.
TINY = 1e-30


def sinkhorn(logits, labels, positions, lam=1.0, iterations=100):
    """Entropic OT (Frogner et al. 2015) between p and the one-hot target, cost |pos_i - pos_k|:
    <T, M> + (1/lam) sum T log T for the Sinkhorn plan T, differentiated through the iterations."""
    c = logits.shape[1]
    p = torch.softmax(logits, dim=1)
    pos = torch.tensor(positions, dtype=p.dtype, device=p.device)
    m = (pos[:, None] - pos[None, :]).abs()
    if lam * float(m.max()) > SINKHORN_MAX_EXPONENT:
        raise UserError(f'sinkhorn: lambda × max cost = {lam * float(m.max()):g} exceeds {SINKHORN_MAX_EXPONENT} (exp underflows)')
    k = torch.exp(-lam * m)
    q = F.one_hot(labels, c).to(p.dtype)
    v = torch.ones_like(p)
    for _ in range(iterations):
        u = p / (v @ k.T).clamp_min(TINY)
        v = q / (u @ k).clamp_min(TINY)
    plan = u[:, :, None] * k[None, :, :] * v[:, None, :]
    # T log max(T, 1e-30): 0 log 0 = 0, as src/ml/losses.ts computes it.
    entropy = plan * torch.log(plan.clamp_min(TINY))
    return ((plan * m[None]).sum(dim=(1, 2)) + entropy.sum(dim=(1, 2)) / lam).mean()


def predict_classes(outputs, loss_kind, positions):
    """Predicted class indices (numpy): argmax (first on ties), or for reg the position nearest z_0
    (lower index on ties)."""
    out = outputs.detach().cpu().double().numpy()
    if capability(loss_kind, 'regression'):
        return np.abs(out[:, :1] - np.asarray(positions, dtype=np.float64)[None, :]).argmin(axis=1)
    return out.argmax(axis=1)


# The losses without state over epochs, by kind: p holds every parameter, defaults filled in.
# The kinds with an EMD term (emd_term in the table) are XE + α · emd_term, built by objective.py.
PLAIN = {
    'xe': lambda logits, labels, p: xe(logits, labels),
    'emd2': lambda logits, labels, p: emd2(logits, labels, p['positions'], float(p['l']), p['normalize']),
    'reg': lambda logits, labels, p: reg(logits, labels, p['positions']),
    'sinkhorn': lambda logits, labels, p: sinkhorn(logits, labels, p['positions'], float(p['lambda']), int(p['iterations'])),
}
