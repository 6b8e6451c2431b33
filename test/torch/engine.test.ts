// The torch engine end to end: train the small CNN for two epochs on a tiny dataset, evaluate it,
// and check the files against the shared contract (src/ml/types.ts, src/formats/metrics.ts).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { evaluateWithTorch, trainWithTorch } from '../../src/ml/torch.js';
import type { ModelFile, TrainConfig } from '../../src/ml/types.js';
import type { EvaluationMetrics, TrainingHistory } from '../../src/formats/metrics.js';
import { recordingIO, torch, writeTinyDataset } from './helpers.js';
import { StepError } from '../../src/core/errors.js';
import { tempDir } from '../support/index.js';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Pids of this process's children whose command line contains `needle` (Linux /proc; none elsewhere). */
function childrenRunning(needle: string): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function config(dataset: string, root: string, over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    dataset,
    splits: { train: 'train', val: 'val' },
    model: { arch: 'small-cnn', inputShape: [8, 8, 3], classes: 5, width: 0.25 },
    loss: { kind: 'emd2' },
    optimizer: { kind: 'adam', lr: 0.01 },
    epochs: 2,
    batchSize: 16,
    seed: 7,
    outDir: join(root, 'out'),
    checkpointDir: join(root, 'ckpt'),
    ...over,
  };
}

describe.skipIf(!torch)('torch engine: train and evaluate (PyTorch found)', { timeout: 180_000 }, () => {
  const dataset = writeTinyDataset(join(tempDir('repro-torch-data-'), 'tiny'));

  it('trains, writing model.json, weights and history.json as the contract says', async () => {
    const root = tempDir('repro-torch-train-');
    const io = recordingIO();
    const outcome = await trainWithTorch(config(dataset, root), io);

    const model = readJson<ModelFile>(join(outcome.modelDir, 'model.json'));
    expect(model.format).toBe('repro-model/1');
    expect(model.engine).toBe('torch');
    expect(model.spec.arch).toBe('small-cnn');
    expect(model.loss.kind).toBe('emd2');
    expect(model.normalization).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    const floats = model.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
    expect(readFileSync(join(outcome.modelDir, 'weights.bin')).length).toBe(4 * floats);

    const history = readJson<TrainingHistory>(outcome.historyFile);
    expect(history.loss).toBe('emd2');
    expect(history.epochs.map((e) => e.epoch)).toEqual([0, 1]); // 0-based, as src/ml/train.ts
    for (const e of history.epochs) {
      expect(e.train_loss).toBeGreaterThan(0);
      expect(e.ms_per_step).toBeGreaterThan(0);
      expect(e.examples_per_second).toBeGreaterThan(0);
      expect(Object.keys(e.val ?? {}).sort()).toEqual(['accuracy', 'mae', 'one_off_accuracy', 'qwk']);
    }
    expect([0, 1]).toContain(history.best_epoch);
    expect(history.facts.select_by).toBe('accuracy');
    expect(model.bestEpoch).toBe(history.best_epoch);

    // What ran is recorded, and a GPU is claimed only when torch used one.
    expect(outcome.facts.engine).toBe('torch');
    expect(outcome.facts.torch).toBe(torch!.torch);
    expect(outcome.facts.device).toBe(torch!.cuda ? 'cuda' : 'cpu');
    expect(outcome.facts.threads).toBe(1);
    expect(history.facts.device).toBe(outcome.facts.device);

    // Progress lines became io.progress calls: the end of each epoch (and, on a slow machine, batches in between).
    const epochEnds = io.progress.calls.filter(([, m]) => / loss /.test(m));
    expect(epochEnds.map(([f]) => f)).toEqual([0.5, 1]);
    expect(epochEnds[1]![1]).toMatch(/^epoch 2\/2 loss \d/);
    expect(io.logs.some((l) => /^epoch 1\/2 loss /.test(l))).toBe(true);

    const evalOut = join(root, 'eval');
    const ev = await evaluateWithTorch({ dataset, split: 'test', modelDir: outcome.modelDir, outDir: evalOut, mirror: true }, recordingIO());
    const metrics = readJson<EvaluationMetrics>(ev.metricsFile);
    expect(metrics.n).toBe(20);
    expect(metrics.split).toBe('test');
    expect(metrics.classes).toHaveLength(5);
    expect(metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(20);
    expect(metrics.per_class_recall).toHaveLength(5);
    for (const k of ['accuracy', 'one_off_accuracy', 'qwk'] as const) expect(Math.abs(metrics[k]!)).toBeLessThanOrEqual(1);
    expect(metrics.one_off_accuracy).toBeGreaterThanOrEqual(metrics.accuracy);
    const predictions = readJson<{ predicted: number[]; labels: number[] }>(ev.predictionsFile);
    expect(predictions.predicted).toHaveLength(20);
    const correct = predictions.predicted.filter((p, i) => p === predictions.labels[i]).length;
    expect(correct / 20).toBeCloseTo(metrics.accuracy, 10);
  });

  it('unordered classes: no one-off accuracy, MAE or QWK in the history or metrics.json', async () => {
    const unordered = writeTinyDataset(join(tempDir('repro-torch-data-'), 'tiny'));
    const manifestFile = join(unordered, 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ ...readJson<Record<string, unknown>>(manifestFile), ordered: false }));
    const root = tempDir('repro-torch-unordered-');
    const outcome = await trainWithTorch(config(unordered, root, { loss: { kind: 'xe' }, epochs: 1 }), recordingIO());
    const history = readJson<TrainingHistory>(outcome.historyFile);
    expect(Object.keys(history.epochs[0]!.val ?? {})).toEqual(['accuracy']);
    const ev = await evaluateWithTorch({ dataset: unordered, split: 'test', modelDir: outcome.modelDir, outDir: join(root, 'eval') }, recordingIO());
    const metrics = readJson<EvaluationMetrics>(ev.metricsFile);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(['one_off_accuracy', 'mae', 'qwk'].filter((k) => k in metrics)).toEqual([]);
  });

  it('is deterministic: the same seed gives bit-identical weights', async () => {
    const hashes: string[] = [];
    for (let i = 0; i < 2; i++) {
      const root = tempDir(`repro-torch-det${i}-`);
      const out = await trainWithTorch(config(dataset, root, { epochs: 1, loss: { kind: 'learned', warmup_epochs: 0 } }), recordingIO());
      hashes.push(createHash('sha256').update(readFileSync(join(out.modelDir, 'weights.bin'))).digest('hex'));
      const history = readJson<TrainingHistory>(out.historyFile);
      expect(history.ground_distance).toHaveLength(1);
      const gd = readJson<{ loss: string; per_epoch: number[][][] }>(out.groundDistanceFile!);
      expect(gd.loss).toBe('learned');
      expect(gd.per_epoch).toEqual(history.ground_distance);
    }
    expect(hashes[0]).toBe(hashes[1]);
  });

  it('stops the Python process on abort; a rerun resumes after the last finished epoch, bit-identically', async () => {
    const root = tempDir('repro-torch-abort-');
    const controller = new AbortController();
    const io = recordingIO({}, controller.signal);
    // Abort once the first epoch has finished (its checkpoint is written before its progress line).
    // The tiny dataset trains the next two epochs in milliseconds, which could end (history.json
    // written) before the SIGTERM of the abort arrived: so the engine is first frozen (SIGSTOP), then
    // aborted, then let go (SIGCONT), and the pending SIGTERM ends it before it runs another line.
    const record = io.progress;
    let frozen = -1;
    io.progress = Object.assign((f: number | null, m: string) => {
      record(f, m);
      if (!/^epoch 1\/3 loss/.test(m)) return;
      const engines = childrenRunning('engines/torch/main.py');
      frozen = engines.length;
      for (const pid of engines) process.kill(pid, 'SIGSTOP');
      controller.abort();
      for (const pid of engines) process.kill(pid, 'SIGCONT');
    }, { calls: record.calls });
    const err = await trainWithTorch(config(dataset, root, { epochs: 3 }), io).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    if (existsSync('/proc/self/stat')) expect(frozen).toBe(1);
    expect(existsSync(join(root, 'out', 'history.json'))).toBe(false);

    const resumed = recordingIO();
    const done = await trainWithTorch(config(dataset, root, { epochs: 3 }), resumed);
    // Which epoch the checkpoint holds depends on how far Python got before the progress line reached
    // us and froze it (epoch 1, or 2 when epochs take microseconds): the rerun must resume right after
    // it and train only the epochs that follow.
    const resumedAfter = resumed.logs.map((l) => /^resuming after epoch ([12]) of 3/.exec(l)?.[1]).find(Boolean);
    expect(resumedAfter, resumed.logs.join('\n')).toBeDefined();
    const trained = resumed.progress.calls.map(([, m]) => /^epoch (\d)\/3 loss/.exec(m)?.[1]).filter(Boolean).map(Number);
    expect(trained).toEqual([1, 2, 3].filter((e) => e > Number(resumedAfter)));
    expect(readJson<TrainingHistory>(done.historyFile).epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);

    const fresh = await trainWithTorch(config(dataset, tempDir('repro-torch-fresh-'), { epochs: 3 }), recordingIO());
    const weights = (dir: string) => createHash('sha256').update(readFileSync(join(dir, 'weights.bin'))).digest('hex');
    expect(weights(done.modelDir)).toBe(weights(fresh.modelDir));
  });

  it('reports a bad dataset as a StepError naming the file', async () => {
    const root = tempDir('repro-torch-bad-');
    const bad = join(root, 'data');
    writeTinyDataset(bad);
    writeFileSync(join(bad, 'train.labels.bin'), Buffer.alloc(3));
    const err = await trainWithTorch(config(bad, root), recordingIO()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(/train\.labels\.bin: 3 bytes, expected 320/);
  });
});
