"""Training and evaluation: TrainConfig / EvalConfig JSON (src/ml/types.ts) in, the tfjs
engine's files out (model dir, history.json, metrics.json, predictions.json)."""
import hashlib
import json
import math
import os
import time

import numpy as np
import torch

import data
import rng
import metrics as metric_fns
from errors import UserError
from losses import capability, predict_classes
from models import build_model, load_tfjs_state, tfjs_state
from objective import Objective

# Larger is better for these; the rest (mae) smaller (src/formats/metrics.ts METRIC_DIRECTION).
HIGHER_IS_BETTER = {'accuracy', 'one_off_accuracy', 'qwk'}
VAL_METRICS = ('accuracy', 'one_off_accuracy', 'mae', 'qwk')
EVAL_BATCH = 256
# Stream labels of deriveSeed, as src/ml/train.ts: mulberry32(deriveSeed(seed, STREAM, epoch)).
STREAM_SHUFFLE, STREAM_AUGMENT = 1, 2
# At most one within-epoch progress line per this many seconds.
PROGRESS_SECONDS = 2.0


class Emitter:
    """Lines the launcher (src/ml/torch.ts) parses: `::progress F MESSAGE`, `::result JSON`."""

    def progress(self, fraction, message):
        print(f'::progress {fraction:.4f} {message}', flush=True)

    def log(self, line):
        print(line, flush=True)

    def result(self, value):
        print('::result ' + json.dumps(value), flush=True)


def train(config, device, emit, facts):
    for key in ('dataset', 'splits', 'model', 'loss', 'optimizer', 'epochs', 'batchSize', 'seed', 'outDir', 'checkpointDir'):
        if key not in config:
            raise UserError(f'train config: missing {key!r}')
    seed = int(config['seed'])
    seed_everything(seed, device)
    manifest = data.read_manifest(config['dataset'])
    classes = len(manifest['classes'])
    spec = config['model']
    if spec['classes'] != classes:
        raise UserError(f"model.classes is {spec['classes']} but the dataset has {classes} classes")
    norm = manifest.get('normalization')
    train_set = Split(config['dataset'], manifest, config['splits']['train'], spec, device)
    val_set = Split(config['dataset'], manifest, config['splits']['val'], spec, device)

    model = build_model(spec, seed).to(device)
    objective = Objective(config['loss'], classes, manifest.get('positions') or list(range(classes)))
    optimizer = make_optimizer(model, config['optimizer'])
    augment = config.get('augment') or {}
    select_by = config.get('selectBy') or 'accuracy'
    if select_by not in VAL_METRICS:
        raise UserError(f"selectBy {select_by!r} is not one of {', '.join(VAL_METRICS)}")
    epochs, batch = int(config['epochs']), int(config['batchSize'])

    history = {'loss': config['loss']['kind'], 'epochs': [], 'best_epoch': 0, 'facts': facts}
    if objective.learns_d:
        history['ground_distance'] = []
    best = {'epoch': 0, 'value': None, 'weights': None}
    start = 0
    ckpt_path = os.path.join(config['checkpointDir'], 'torch-checkpoint.pt')
    key = config_key(config)
    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location=device)
        if ckpt.get('key') == key:
            model.load_state_dict(ckpt['model'])
            optimizer.load_state_dict(ckpt['optimizer'])
            objective.load_state(ckpt['objective'])
            history, best = ckpt['history'], ckpt['best']
            torch.set_rng_state(ckpt['torch_rng'])
            if device.type == 'cuda' and ckpt.get('cuda_rng') is not None:
                torch.cuda.set_rng_state(ckpt['cuda_rng'])
            start = ckpt['epoch'] + 1
            emit.log(f'resuming after epoch {start} of {epochs} from {ckpt_path}')
    elif objective.needs_pass(-1):
        objective.end_epoch(-1, *whole_pass(model, train_set, objective))

    started = time.monotonic()
    for epoch in range(start, epochs):  # 0-based, as in docs/ml.md
        set_lr(optimizer, config['optimizer'], epoch, epochs)
        objective.set_epoch(epoch)
        model.train()
        # The same shuffle and augmentation streams as src/ml/train.ts: same seed, same batches.
        order = torch.tensor(rng.permutation(train_set.n, rng.mulberry32(rng.derive_seed(seed, STREAM_SHUFFLE, epoch))), dtype=torch.int64)
        augment_rand = rng.mulberry32(rng.derive_seed(seed, STREAM_AUGMENT, epoch))
        batches = math.ceil(train_set.n / batch)
        loss_sum, step_seconds = 0.0, 0.0
        epoch_start = time.perf_counter()
        last_progress = epoch_start
        for b in range(batches):
            idx = order[b * batch:(b + 1) * batch]
            x, y = train_set.batch(idx, augment, augment_rand)
            t0 = time.perf_counter()
            logits, _ = model(x)
            loss = objective(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss)  # waits for the device, so the step time is real
            step_seconds += time.perf_counter() - t0
            if not math.isfinite(value):
                raise UserError(f'the training loss became {value} at epoch {epoch + 1}, batch {b + 1}: lower the learning rate (optimizer.lr)')
            loss_sum += value * len(idx)
            if time.perf_counter() - last_progress > PROGRESS_SECONDS:
                last_progress = time.perf_counter()
                emit.progress((epoch + (b + 1) / batches) / epochs, f'epoch {epoch + 1}/{epochs} batch {b + 1}/{batches}')
        sync(device)
        seconds = time.perf_counter() - epoch_start

        model.eval()
        if objective.needs_pass(epoch):
            objective.end_epoch(epoch, *whole_pass(model, train_set, objective))
            if objective.learns_d:
                history['ground_distance'].append(objective.state['groundDistance'])
        val = {k: v for k, v in metric_fns.evaluation_metrics(
            val_set.labels_np, predict_classes(scores(model, val_set, objective.kind), objective.kind, objective.positions), classes,
            ordered=manifest.get('ordered', True) is not False).items()
            if k in VAL_METRICS}
        record = {
            'epoch': epoch,
            'train_loss': loss_sum / train_set.n,
            'val': val,
            'examples_per_second': train_set.n / seconds,
            'ms_per_step': 1000 * step_seconds / batches,
            'seconds': time.perf_counter() - epoch_start,
        }
        history['epochs'].append(record)
        value = val[select_by]
        if best['value'] is None or (value > best['value'] if select_by in HIGHER_IS_BETTER else value < best['value']):
            best = {'epoch': epoch, 'value': value, 'weights': {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
        history['best_epoch'] = best['epoch']

        save_atomic(ckpt_path, lambda f: torch.save({
            'key': key, 'epoch': epoch, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
            'objective': objective.state, 'history': history, 'best': best, 'torch_rng': torch.get_rng_state(),
            'cuda_rng': torch.cuda.get_rng_state() if device.type == 'cuda' else None,
        }, f))
        done = epoch - start + 1
        eta = (time.monotonic() - started) / done * (epochs - epoch - 1)
        line = (f"epoch {epoch + 1}/{epochs} loss {record['train_loss']:.4f} val {metric_fns.metrics_line(val)} "
                f"{record['examples_per_second']:.0f} ex/s {record['ms_per_step']:.1f} ms/step ETA {eta:.0f}s")
        emit.log(line)
        emit.progress((epoch + 1) / epochs, line)

    model.load_state_dict(best['weights'])
    out = config['outDir']
    model_dir = os.path.join(out, 'model')
    write_model(model_dir, model, spec, config['loss'], norm, best['epoch'], facts)
    history_file = os.path.join(out, 'history.json')
    write_json(history_file, {**history, 'facts': {**facts, 'select_by': select_by, 'alpha': objective.state['alpha']}})
    result = {'modelDir': model_dir, 'historyFile': history_file, 'facts': facts}
    if objective.learns_d:
        result['groundDistanceFile'] = os.path.join(out, 'ground_distance.json')
        write_json(result['groundDistanceFile'], {'loss': 'learned', 'per_epoch': history['ground_distance']})
    return result


def whole_pass(model, split, objective):
    """Logits, features and labels of a whole split in inference mode, for the objective's end of epoch."""
    model.eval()
    logits, features = infer(model, split)
    return logits, features, split.labels.cpu()


def evaluate(config, device, emit, facts):
    for key in ('dataset', 'split', 'modelDir', 'outDir'):
        if key not in config:
            raise UserError(f'evaluate config: missing {key!r}')
    model_file = read_json(os.path.join(config['modelDir'], 'model.json'))
    if model_file.get('engine') != 'torch':
        raise UserError(f"{config['modelDir']}/model.json: engine is {model_file.get('engine')!r}; the torch engine evaluates only its own models")
    manifest = data.read_manifest(config['dataset'])
    spec = model_file['spec']
    model = build_model(spec)
    load_tfjs_state(model, read_weights(config['modelDir'], model_file))
    model.to(device).eval()
    positions = model_file['loss'].get('positions') or manifest.get('positions') or list(range(spec['classes']))
    split = Split(config['dataset'], manifest, config['split'], spec, device, model_file.get('normalization'))
    t0 = time.perf_counter()
    kind = model_file['loss']['kind']
    mirror = bool(config.get('mirror'))
    outputs = scores(model, split, kind, mirror)
    seconds = time.perf_counter() - t0
    predicted = predict_classes(outputs, kind, positions)
    result = metric_fns.evaluation_metrics(split.labels_np, predicted, spec['classes'], ordered=manifest.get('ordered', True) is not False)
    result.update({'split': config['split'], 'classes': manifest['classes'], 'mirror': mirror,
                   'examples_per_second': split.n / seconds if seconds > 0 else None, 'engine': 'torch'})
    # Six significant digits, as src/ml/evaluate.ts writes them; reg keeps z_0 alone.
    kept = outputs[:, :1] if capability(kind, 'regression') else outputs
    predictions = {
        'split': config['split'], 'classes': manifest['classes'],
        'labels': split.labels_np.tolist(), 'predicted': predicted.tolist(),
        ('outputs' if capability(kind, 'regression') else 'probabilities'): [[float(f'{float(v):.6g}') for v in row] for row in kept],
    }
    out = config['outDir']
    metrics_file, predictions_file = os.path.join(out, 'metrics.json'), os.path.join(out, 'predictions.json')
    write_json(metrics_file, result)
    write_json(predictions_file, predictions)
    emit.progress(1.0, f"{config['split']}: {metric_fns.metrics_line(result)}")
    return {'metricsFile': metrics_file, 'predictionsFile': predictions_file, 'facts': facts}


class Split:
    """One split held as uint8 / float32 on the device; batches are normalised and cropped on the fly."""

    def __init__(self, dataset_dir, manifest, name, spec, device, normalization=None):
        images, labels = data.load_split(dataset_dir, manifest, name)
        self.dtype = manifest['splits'][name]['dtype']
        n, h, w, c = images.shape
        ih, iw, ic = spec['inputShape']
        if c != ic or h < ih or w < iw:
            raise UserError(f'split {name!r} has images {h}×{w}×{c}; the model takes {ih}×{iw}×{ic}')
        self.n, self.h, self.w, self.ih, self.iw = n, h, w, ih, iw
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
        self.labels_np = labels
        self.labels = torch.from_numpy(labels).to(device)
        norm = normalization if normalization is not None else manifest.get('normalization')
        self.mean = self.inv_std = None
        if self.dtype == 'uint8' and norm:
            self.mean = torch.tensor(norm['mean'], dtype=torch.float64, device=device)[None, :, None, None]
            self.inv_std = 1 / torch.tensor(norm['std'], dtype=torch.float64, device=device)[None, :, None, None]
        self.device = device

    def batch(self, idx, augment=None, rand=None):
        """Normalised images [B, C, ih, iw] and labels of the samples `idx`. With `augment`, each
        sample draws from `rand` (mulberry32), in order: mirror (p = ½), then crop row and crop column
        (randomCrop, when the stored image is larger than the input), as src/ml/data.ts does. Without, a centre crop."""
        idx = idx.to(self.device)
        x = self.images.index_select(0, idx)
        crop = bool(augment and augment.get('randomCrop')) and (self.h > self.ih or self.w > self.iw)
        mirror = bool(augment and augment.get('mirror'))
        if crop or mirror:
            b = len(idx)
            dy = np.full(b, (self.h - self.ih) // 2)
            dx = np.full(b, (self.w - self.iw) // 2)
            flip = np.zeros(b, dtype=bool)
            for i in range(b):
                if mirror:
                    flip[i] = rand() < 0.5
                if crop:
                    dy[i] = int(rand() * (self.h - self.ih + 1))
                    dx[i] = int(rand() * (self.w - self.iw + 1))
            rows = torch.as_tensor(dy[:, None] + np.arange(self.ih)[None, :], device=self.device)
            cols = np.arange(self.iw)[None, :]
            cols = torch.as_tensor(dx[:, None] + np.where(flip[:, None], self.iw - 1 - cols, cols), device=self.device)
            n = torch.arange(b, device=self.device)[:, None, None]
            x = x[n, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
        elif self.h > self.ih or self.w > self.iw:
            dy, dx = (self.h - self.ih) // 2, (self.w - self.iw) // 2
            x = x[:, :, dy:dy + self.ih, dx:dx + self.iw]
        if self.dtype == 'uint8':
            # (x · (1/255) − mean) · (1/std) in float64, rounded once to float32: the same inputs,
            # bit for bit, as src/ml/data.ts imageBatch.
            x = x.double() * (1 / 255)
            if self.mean is not None:
                x = (x - self.mean) * self.inv_std
        return x.float(), self.labels.index_select(0, idx)


@torch.no_grad()
def infer(model, split, flip=False):
    """Logits [N, C] and features [N, F] of a whole split in inference mode, on the CPU."""
    outs, feats = [], []
    for i in range(0, split.n, EVAL_BATCH):
        x, _ = split.batch(torch.arange(i, min(i + EVAL_BATCH, split.n)))
        logits, features = model(x.flip(3) if flip else x)
        outs.append(logits.cpu())
        feats.append(features.cpu())
    return torch.cat(outs), torch.cat(feats)


def scores(model, split, kind, mirror=False):
    """What predictions are read from (src/ml/evaluate.ts splitScores): softmax probabilities, or the
    raw outputs for reg; with `mirror`, averaged with those of the mirrored images."""
    def one(flip):
        logits, _ = infer(model, split, flip)
        return logits if capability(kind, 'regression') else torch.softmax(logits, dim=1)
    s = one(False)
    return (s + one(True)) / 2 if mirror else s


def make_optimizer(model, spec):
    kind, lr, wd = spec.get('kind'), float(spec['lr']), float(spec.get('weightDecay', 0))
    if kind == 'sgd':
        momentum = float(spec.get('momentum', 0))
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                               nesterov=bool(spec.get('nesterov')) and momentum > 0, weight_decay=wd)
    if kind == 'adam':
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    raise UserError(f"optimizer.kind {kind!r} is not one of sgd, adam")


def learning_rate(spec, epoch, epochs):
    """The learning rate of epoch `epoch` (0-based) of `epochs` (src/ml/optimizers.ts learningRate)."""
    lr = float(spec['lr'])
    schedule = spec.get('schedule') or {'kind': 'constant'}
    if schedule['kind'] == 'step':
        return lr * schedule['gamma'] ** (epoch // schedule['every'])
    if schedule['kind'] == 'cosine':
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return lr


def set_lr(optimizer, spec, epoch, epochs):
    for group in optimizer.param_groups:
        group['lr'] = learning_rate(spec, epoch, epochs)


def seed_everything(seed, device):
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    if device.type == 'cuda':
        # (CUBLAS_WORKSPACE_CONFIG is set by main.py before torch starts.)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=device.type == 'cuda')


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def config_key(config):
    """What must be equal for a checkpoint to be resumed: everything but where the files go."""
    stable = {k: v for k, v in config.items() if k not in ('outDir', 'checkpointDir')}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


def write_model(model_dir, model, spec, loss, norm, best_epoch, facts):
    """model.json (ModelFile) and weights.bin: float32 LE in the tfjs names, layout and order, so the
    file has one format for both engines (models.py)."""
    os.makedirs(model_dir, exist_ok=True)
    state = tfjs_state(model)
    blob = b''.join(v.float().numpy().astype('<f4').tobytes() for v in state.values())
    save_atomic(os.path.join(model_dir, 'weights.bin'), lambda f: f.write(blob))
    model_file = {
        'format': 'repro-model/1', 'engine': 'torch', 'spec': spec, 'loss': loss,
        'weights': [{'name': k, 'shape': list(v.shape)} for k, v in state.items()],
        'bestEpoch': best_epoch, 'facts': facts,
    }
    if norm:
        model_file['normalization'] = norm
    write_json(os.path.join(model_dir, 'model.json'), model_file)


def read_weights(model_dir, model_file):
    path = os.path.join(model_dir, 'weights.bin')
    flat = np.fromfile(path, dtype='<f4')
    state, offset = {}, 0
    for w in model_file['weights']:
        size = int(np.prod(w['shape'])) if w['shape'] else 1
        if offset + size > flat.size:
            raise UserError(f'{path}: shorter than model.json says ({flat.size} floats)')
        state[w['name']] = torch.from_numpy(flat[offset:offset + size].reshape(w['shape']).copy())
        offset += size
    if offset != flat.size:
        raise UserError(f'{path}: {flat.size} floats, model.json names {offset}')
    return state


def read_json(path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        raise UserError(f'{path}: not found')
    except json.JSONDecodeError as e:
        raise UserError(f'{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg})')


def write_json(path, value):
    text = json.dumps(value, indent=2) + '\n'
    save_atomic(path, lambda f: f.write(text.encode()))


def save_atomic(path, write):
    """Temporary file, fsync, rename: a killed run leaves the old file or the new one (src/core/atomic.ts)."""
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp'
    try:
        with open(tmp, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
