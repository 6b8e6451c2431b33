"""The networks of src/ml/models.ts in PyTorch: same layers, sizes and initialisation (docs/ml.md)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from errors import UserError


class SmallCNN(nn.Module):
    """conv32-pool-conv64-pool-fc128 (× width), for 28×28 inputs; any H, W divisible by 4 works."""

    def __init__(self, spec):
        super().__init__()
        h, w, c = spec['inputShape']
        k = spec.get('width', 1)
        c1, c2, fc = round(32 * k), round(64 * k), round(128 * k)
        self.conv1 = nn.Conv2d(c, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * (h // 4) * (w // 4), fc)
        self.out = nn.Linear(fc, spec['classes'])
        self.dropout = spec.get('dropout', 0.0)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        # Flatten channels-last so the fc1 weight rows line up with the tfjs model's (NHWC) order.
        x = x.permute(0, 2, 3, 1).flatten(1)
        features = F.relu(self.fc1(x))
        logits = self.out(F.dropout(features, self.dropout, self.training))
        return logits, features


class ALXs(nn.Module):
    """Levi & Hassner (2015) age CNN for 227×227 crops (paper.md)."""

    def __init__(self, spec):
        super().__init__()
        h, w, c = spec['inputShape']
        self.conv1 = nn.Conv2d(c, 96, 7, stride=4)
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)
        with torch.no_grad():
            flat = self._trunk(torch.zeros(1, c, h, w)).shape[1]
        self.fc1 = nn.Linear(flat, 512)
        self.fc2 = nn.Linear(512, 512)
        self.out = nn.Linear(512, spec['classes'])
        self.dropout = spec.get('dropout', 0.5)

    def _trunk(self, x):
        x = self.lrn(F.max_pool2d(F.relu(self.conv1(x)), 3, 2))
        x = self.lrn(F.max_pool2d(F.relu(self.conv2(x)), 3, 2))
        x = F.max_pool2d(F.relu(self.conv3(x)), 3, 2)
        return x.permute(0, 2, 3, 1).flatten(1)

    def forward(self, x):
        x = F.dropout(F.relu(self.fc1(self._trunk(x))), self.dropout, self.training)
        features = F.relu(self.fc2(x))
        logits = self.out(F.dropout(features, self.dropout, self.training))
        return logits, features


ARCHS = {'small-cnn': SmallCNN, 'alxs': ALXs}


def build_model(spec):
    arch = ARCHS.get(spec.get('arch'))
    if arch is None:
        raise UserError(f"model.arch {spec.get('arch')!r} is not one of {', '.join(ARCHS)}")
    return arch(spec)
