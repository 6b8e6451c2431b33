"""The networks of src/ml/models.ts in PyTorch (docs/ml.md "Models"): the same layers and sizes, and
the same initial weights, drawn from the same seeded PRNG streams (engines/torch/rng.py).

Weights cross the engine boundary in the tfjs layout and names (conv1/kernel [kh, kw, in, out],
fc1/kernel [in, out], .../bias), so weights.bin has one format for both engines; inside, the modules
are plain torch (conv [out, in, kh, kw], linear [out, in]) and tfjs_state / load_tfjs_state convert."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import rng
from errors import UserError


def scaled(n, width):
    """max(1, round(n × width)) with JS Math.round (halves round up)."""
    return max(1, math.floor(n * width + 0.5))


class SmallCNN(nn.Module):
    """conv 32@3×3 same → ReLU → max-pool 2 → conv 64@3×3 same → ReLU → max-pool 2 → flatten (NHWC
    order) → FC 128 → ReLU (the features) → FC C; `width` multiplies 32/64/128."""

    def __init__(self, spec):
        super().__init__()
        h, w, c = spec['inputShape']
        k = spec.get('width', 1)
        c1, c2, f = scaled(32, k), scaled(64, k), scaled(128, k)
        if h // 4 < 1 or w // 4 < 1:
            raise UserError(f'small-cnn needs inputs of at least 4×4, got {h}×{w}')
        self.conv1 = nn.Conv2d(c, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear((h // 4) * (w // 4) * c2, f)
        self.out = nn.Linear(f, spec['classes'])

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        # Flatten channels-last, as tfjs does on NHWC tensors, so fc1's rows mean the same pixels.
        features = F.relu(self.fc1(x.permute(0, 2, 3, 1).flatten(1)))
        return self.out(features), features


class ALXs(nn.Module):
    """Levi & Hassner (2015) age CNN for 227×227 crops; LRN as Caffe (size 5, α 1e-4, β 0.75, k 1)."""

    def __init__(self, spec):
        super().__init__()
        h, w, c = spec['inputShape']
        k = spec.get('width', 1)
        c1, c2, c3, f = scaled(96, k), scaled(256, k), scaled(384, k), scaled(512, k)

        def side(n):
            for size, stride in ((7, 4), (3, 2), (3, 2), (3, 2)):
                n = (n - size) // stride + 1
            return n
        if side(h) < 1 or side(w) < 1:
            raise UserError(f'alxs needs inputs of at least 67×67 (227×227 in the paper), got {h}×{w}')
        self.conv1 = nn.Conv2d(c, c1, 7, stride=4)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.fc1 = nn.Linear(side(h) * side(w) * c3, f)
        self.fc2 = nn.Linear(f, f)
        self.out = nn.Linear(f, spec['classes'])
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.rate = spec.get('dropout', 0.5)

    def forward(self, x):
        x = self.lrn(F.max_pool2d(F.relu(self.conv1(x)), 3, 2))
        x = self.lrn(F.max_pool2d(F.relu(self.conv2(x)), 3, 2))
        x = F.max_pool2d(F.relu(self.conv3(x)), 3, 2)
        x = F.dropout(F.relu(self.fc1(x.permute(0, 2, 3, 1).flatten(1))), self.rate, self.training)
        features = F.relu(self.fc2(x))
        return self.out(F.dropout(features, self.rate, self.training)), features


class MLP(nn.Module):
    """fc128 over the flattened (H, W, C) input, as src/ml/models.ts mlp: tabular rows or tiny inputs."""

    def __init__(self, spec):
        super().__init__()
        h, w, c = spec['inputShape']
        f = scaled(128, spec.get('width', 1))
        self.fc1 = nn.Linear(h * w * c, f)
        self.out = nn.Linear(f, spec['classes'])

    def forward(self, x):
        features = F.relu(self.fc1(x.permute(0, 2, 3, 1).flatten(1)))
        return self.out(features), features


ARCHS = {'small-cnn': SmallCNN, 'alxs': ALXs, 'mlp': MLP}


def build_model(spec, seed=None):
    """The network of `spec`; with a seed, the same initial weights as tfjs's buildModel(spec, seed)."""
    arch = ARCHS.get(spec.get('arch'))
    if arch is None:
        raise UserError(f"model.arch {spec.get('arch')!r} is not one of {', '.join(ARCHS)}")
    model = arch(spec)
    if seed is not None:
        load_tfjs_state(model, initial_tfjs_state(model, seed))
    return model


def tfjs_names(model):
    """(tfjs name, torch parameter name) in checkpoint order: the order the layers are declared."""
    out = []
    for name, _ in model.named_parameters():
        layer, kind = name.rsplit('.', 1)
        out.append((f"{layer}/{'kernel' if kind == 'weight' else 'bias'}", name))
    return out


def to_tfjs(t):
    """torch layout → tfjs layout: conv [out, in, kh, kw] → [kh, kw, in, out]; linear [out, in] → [in, out]."""
    if t.dim() == 4:
        return t.permute(2, 3, 1, 0)
    if t.dim() == 2:
        return t.T
    return t


def from_tfjs(t):
    if t.dim() == 4:
        return t.permute(3, 2, 0, 1)
    if t.dim() == 2:
        return t.T
    return t


def tfjs_state(model):
    """{tfjs name: tensor in tfjs layout}, in checkpoint order."""
    params = dict(model.named_parameters())
    return {tf_name: to_tfjs(params[name].detach().cpu()).contiguous() for tf_name, name in tfjs_names(model)}


def load_tfjs_state(model, state):
    params = dict(model.named_parameters())
    with torch.no_grad():
        for tf_name, name in tfjs_names(model):
            if tf_name not in state:
                raise UserError(f'weights: {tf_name} is missing')
            value = from_tfjs(torch.as_tensor(state[tf_name], dtype=torch.float32))
            if tuple(value.shape) != tuple(params[name].shape):
                raise UserError(f'weights: {tf_name} has shape {list(to_tfjs(value).shape)}, the model needs {list(to_tfjs(params[name]).shape)}')
            params[name].copy_(value)


def initial_tfjs_state(model, seed):
    """He-normal kernels for the ReLU layers, Glorot-uniform for the output layer, zero biases; weight
    number i draws from mulberry32(deriveSeed(seed, i)) in tfjs's row-major layout (models.ts)."""
    state = {}
    params = dict(model.named_parameters())
    for index, (tf_name, name) in enumerate(tfjs_names(model)):
        shape = list(to_tfjs(params[name]).shape)
        size = int(np.prod(shape))
        if tf_name.endswith('/bias'):
            values = np.zeros(size)
        else:
            fan_in = int(np.prod(shape[:-1]))
            fan_out = shape[-1] * (shape[0] * shape[1] if len(shape) == 4 else 1)
            s = rng.derive_seed(seed, index)
            if tf_name == 'out/kernel':
                values = (rng.mulberry32_array(s, size) * 2 - 1) * math.sqrt(6 / (fan_in + fan_out))
            else:
                values = rng.normals(s, size) * math.sqrt(2 / fan_in)
        state[tf_name] = torch.from_numpy(values.astype(np.float32).reshape(shape))
    return state
