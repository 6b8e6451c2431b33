"""Reads a `repro-tensors/1` dataset directory (src/formats/dataset.ts) with numpy.fromfile."""
import json
import os

import numpy as np

from errors import UserError

FORMAT = 'repro-tensors/1'
DTYPES = {'uint8': np.dtype('<u1'), 'float32': np.dtype('<f4')}


def read_manifest(dataset_dir):
    path = os.path.join(dataset_dir, 'manifest.json')
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise UserError(f'{path}: not found; expected a {FORMAT} dataset directory')
    except json.JSONDecodeError as e:
        raise UserError(f'{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg})')
    if manifest.get('format') != FORMAT:
        raise UserError(f"{path}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def load_split(dataset_dir, manifest, split):
    """Images as float32 NHWC in the dataset's pixel scale, labels as int64."""
    splits = manifest.get('splits', {})
    if split not in splits:
        raise UserError(f"{dataset_dir}: no split {split!r} (it has {', '.join(sorted(splits)) or 'none'})")
    s = splits[split]
    n, h, w, c = s['shape']
    dtype = DTYPES.get(s['dtype'])
    if dtype is None:
        raise UserError(f"{dataset_dir}: split {split!r} has dtype {s['dtype']!r}, expected uint8 or float32")
    images = _read(os.path.join(dataset_dir, s['images']), dtype, n * h * w * c).reshape(n, h, w, c)
    labels = _read(os.path.join(dataset_dir, s['labels']), np.dtype('<i4'), n).astype(np.int64)
    classes = len(manifest['classes'])
    if n and (labels.min() < 0 or labels.max() >= classes):
        raise UserError(f'{dataset_dir}: split {split!r} has labels outside 0..{classes - 1}')
    return images, labels


def normalize(images, dtype, normalization):
    """uint8 → x/255 then (x − mean)/std per channel; float32 data is already normalised."""
    x = images.astype(np.float32)
    if dtype == 'uint8':
        x /= 255.0
        if normalization:
            x -= np.asarray(normalization['mean'], dtype=np.float32)
            x /= np.asarray(normalization['std'], dtype=np.float32)
    return x


def _read(path, dtype, count):
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise UserError(f'{path}: not found (named by the dataset manifest)')
    if size != count * dtype.itemsize:
        raise UserError(f'{path}: {size} bytes, expected {count * dtype.itemsize} ({count} × {dtype.name})')
    return np.fromfile(path, dtype=dtype, count=count)
