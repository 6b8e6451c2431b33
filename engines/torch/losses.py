"""The paper's losses in PyTorch, term for term the same as src/ml/losses.ts (docs/ml.md).

Each loss is a function of logits [N, C] and integer labels [N] that returns the batch mean.
"""
import math

import torch
import torch.nn.functional as F


def default_positions(classes):
    return [float(i) for i in range(classes)]


def ground_distance_from_positions(positions, dtype=torch.float64):
    """|pos_i - pos_k| scaled to [0, 1]: the hand-set D of the xemd loss."""
    pos = torch.tensor(positions, dtype=dtype)
    d = (pos[:, None] - pos[None, :]).abs()
    top = d.max()
    return d / top if top > 0 else d


def xe(logits, labels):
    return F.cross_entropy(logits, labels)


def emd2(logits, labels, positions=None, l=2.0, normalize=True):
    """Exact EMD between softmax(logits) and the one-hot target through their CDFs.

    With unit spacing: (1/C) * sum_j |CDF_j(p) - CDF_j(t)|^l (the 1/C only when normalize).
    Unequal spacing weights each CDF gap by the distance to the next class.
    """
    c = logits.shape[1]
    p = torch.softmax(logits, dim=1)
    t = F.one_hot(labels, c).to(p.dtype)
    diff = (torch.cumsum(p, dim=1) - torch.cumsum(t, dim=1)).abs()
    if positions is not None and not _unit_spacing(positions):
        pos = torch.tensor(positions, dtype=p.dtype, device=p.device)
        gaps = torch.cat([pos[1:] - pos[:-1], pos.new_zeros(1)])
        terms = diff.pow(l) * gaps
    else:
        terms = diff.pow(l)
    per_sample = terms.sum(dim=1)
    if normalize:
        per_sample = per_sample / c
    return per_sample.mean()


def emd_term(logits, labels, d, omega=1.0, mu=0.0):
    """sum_i p_i^2 (D_{i,k}^omega + mu) for true class k, batch mean."""
    p = torch.softmax(logits, dim=1)
    d = d.to(dtype=p.dtype, device=p.device)
    rows = d.pow(omega).index_select(0, labels) + mu  # [N, C]: D_{k, i}; D is symmetric
    return (p.pow(2) * rows).sum(dim=1).mean()


def xemd(logits, labels, d, alpha=1.0, omega=1.0, mu=0.0, emd_on=True):
    loss = xe(logits, labels)
    if emd_on and alpha != 0:
        loss = loss + alpha * emd_term(logits, labels, d, omega, mu)
    return loss


def reg(logits, labels, positions):
    """L2 regression of the class position from the first output."""
    pos = torch.tensor(positions, dtype=logits.dtype, device=logits.device)
    target = pos.index_select(0, labels)
    return ((logits[:, 0] - target) ** 2).mean()


def sinkhorn(logits, labels, positions, lam=1.0, iterations=100):
    """Entropic-regularised EMD (Frogner et al. 2015): <T, M> for the Sinkhorn plan T."""
    c = logits.shape[1]
    p = torch.softmax(logits, dim=1)
    pos = torch.tensor(positions, dtype=p.dtype, device=p.device)
    m = (pos[:, None] - pos[None, :]).abs()
    k = torch.exp(-lam * m)
    t = F.one_hot(labels, c).to(p.dtype)
    v = torch.ones_like(p)
    for _ in range(iterations):
        u = p / (v @ k.T)
        v = t / (u @ k)
    plan = u[:, :, None] * k[None, :, :] * v[:, None, :]
    return (plan * m[None]).sum(dim=(1, 2)).mean()


def _unit_spacing(positions):
    return all(math.isclose(b - a, 1.0) for a, b in zip(positions, positions[1:]))


def predict_classes(outputs, loss_kind, positions):
    """Class index predicted from the network outputs: argmax, or the nearest position for reg."""
    if loss_kind == 'reg':
        pos = torch.tensor(positions, dtype=outputs.dtype, device=outputs.device)
        return (outputs[:, 0:1] - pos[None, :]).abs().argmin(dim=1)
    return outputs.argmax(dim=1)
