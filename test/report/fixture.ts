// A realistic small finished run, written to a temp dir the way the engine lays it out:
// <root>/.repro (store) and <root>/results/<workflow>/<run-id>/run.json, with real metrics,
// history and verdict files whose sha256 the run record carries. No engine involved.

import { mulberry32 } from '../../src/core/rng.js';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ArtifactRecord, RunRecord, StepRecord } from '../../src/formats/run-record.js';
import type { EvaluationMetrics, TrainingHistory } from '../../src/formats/metrics.js';
import type { VerdictFile } from '../../src/formats/verdict.js';
import { tempDir } from '../support/index.js';
import { mergeClaims, readClaimsFile } from '../../src/compare/claims-file.js';
import { buildVerdictFile } from '../../src/compare/verdicts.js';
import type { ObservationTable } from '../../src/compare/observations.js';

const FLAGSHIP_CLAIMS = join(import.meta.dirname, '..', '..', 'workflows', 'claims', 'retinamnist.yaml');

/** The flagship's claims decided by the real compare on the fixture's numbers. */
function flagshipVerdicts(scale: 'full' | 'proxy' | 'smoke', table: ObservationTable): VerdictFile {
  const file = readClaimsFile(FLAGSHIP_CLAIMS);
  if (file.problems.length) throw new Error(file.problems.join('\n'));
  const scaleNote = 'RetinaMNIST stands in for Adience; a small CNN, 10 epochs on CPU';
  return buildVerdictFile(mergeClaims({ results: [], scale, scale_note: scaleNote } as never, file), table);
}

export interface FixtureOptions {
  variants?: string[];
  seeds?: number[];
  epochs?: number;
  scale?: 'full' | 'proxy' | 'smoke';
  device?: 'cpu' | 'cuda';
  gpus?: RunRecord['environment']['gpus'];
  /** The licence the dataset manifest names for its source (null: none). */
  datasetLicense?: string | null;
  /** 'model-dir': train writes history.json inside its model directory instead of as its own output. */
  trainLayout?: 'separate' | 'model-dir';
  /**
   * 'flagship': verdicts.json decided by the real compare from this fixture's metrics and the flagship's
   * claims file (workflows/claims/retinamnist.yaml: six claims and a reported number, real explanations).
   * Default: four hand-written checks.
   */
  claims?: 'fixture' | 'flagship';
}

export interface Fixture {
  root: string;
  store: string;
  runDir: string;
  runJson: string;
  record: RunRecord;
  /** Absolute paths of the artifacts, for step-level tests. */
  metricsFiles: Array<{ matrix: Record<string, unknown>; step: string; path: string }>;
  historyFiles: Array<{ matrix: Record<string, unknown>; step: string; path: string }>;
  verdictsFile: string;
}

const CLASSES = ['0', '1', '2', '3', '4'];

function rng(seed: number): () => number {
  // Scrambled first, so neighbouring seeds give unrelated streams.
  return mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0);
}

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** Plausible test metrics: a confusion matrix from noisy predictions, and metrics computed from it. */
function evaluation(quality: number, seed: number): EvaluationMetrics {
  const r = rng(seed);
  const counts = [174, 46, 92, 68, 20];
  const confusion = CLASSES.map(() => new Array<number>(CLASSES.length).fill(0));
  counts.forEach((n, t) => {
    for (let i = 0; i < n; i++) {
      const u = r();
      // Ordinal errors: mostly off by one, rarely further; better losses err less.
      const off = u < quality ? 0 : u < quality + (1 - quality) * 0.7 ? (r() < 0.5 ? -1 : 1) : r() < 0.5 ? -2 : 2;
      const p = Math.max(0, Math.min(4, t + off));
      confusion[t]![p]! += 1;
    }
  });
  const n = counts.reduce((a, b) => a + b, 0);
  let correct = 0;
  let oneOff = 0;
  let abs = 0;
  confusion.forEach((row, t) =>
    row.forEach((c, p) => {
      if (t === p) correct += c;
      if (Math.abs(t - p) <= 1) oneOff += c;
      abs += c * Math.abs(t - p);
    }),
  );
  // Quadratic-weighted kappa from the confusion matrix.
  const k = CLASSES.length;
  const rowSum = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const colSum = CLASSES.map((_, j) => confusion.reduce((a, row) => a + row[j]!, 0));
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = (i - j) ** 2 / (k - 1) ** 2;
      num += w * confusion[i]![j]!;
      den += (w * rowSum[i]! * colSum[j]!) / n;
    }
  }
  return {
    accuracy: correct / n,
    one_off_accuracy: oneOff / n,
    mae: abs / n,
    qwk: 1 - num / den,
    confusion,
    per_class_recall: confusion.map((row, i) => row[i]! / rowSum[i]!),
    n,
    split: 'test',
    classes: CLASSES,
  };
}

function history(variant: string, seed: number, epochs: number, device: string): TrainingHistory {
  const r = rng(seed * 7 + variant.length);
  const base = variant === 'xe' ? 1.45 : 0.32;
  const eps = [...Array(epochs).keys()].map((e) => ({
    epoch: e + 1,
    train_loss: base * (0.55 + 0.45 * Math.exp(-e / 3)) * (1 + 0.03 * (r() - 0.5)),
    val: {
      accuracy: 0.42 + 0.1 * (1 - Math.exp(-e / 3)) + 0.02 * (r() - 0.5),
      one_off_accuracy: 0.7 + 0.12 * (1 - Math.exp(-e / 3)) + 0.02 * (r() - 0.5),
      // The trainer writes all four validation metrics: five learning-curve panels in three columns.
      mae: 0.9 - 0.1 * (1 - Math.exp(-e / 3)) + 0.02 * (r() - 0.5),
      qwk: 0.4 + 0.1 * (1 - Math.exp(-e / 3)) + 0.02 * (r() - 0.5),
    },
    examples_per_second: 900 + 50 * r(),
    ms_per_step: (variant === 'xe' ? 34 : 36) + 2 * r(),
    seconds: 1.2 + 0.1 * r(),
  }));
  const h: TrainingHistory = {
    loss: variant,
    epochs: eps,
    best_epoch: epochs,
    // As the trainer writes them: where it ran, plus what this training chose (α differs per run).
    facts: { engine: 'tfjs', backend: device === 'cpu' ? 'wasm' : 'webgl', device, threads: 2, select_by: 'accuracy', alpha: variant === 'learned' ? 1 + seed / 10 : null },
  };
  if (variant === 'learned') {
    // Starts at |i−j|/(C−1) and drifts: a recognisable, ordered matrix.
    h.ground_distance = eps.map((_, e) =>
      CLASSES.map((_, i) =>
        CLASSES.map((_, j) => (i === j ? 0 : Math.min(1, Math.abs(i - j) / 4 + 0.05 * Math.sin(e + i * j)))),
      ),
    );
  }
  return h;
}

function verdicts(scale: 'full' | 'proxy' | 'smoke', variants: string[], seeds: number[]): VerdictFile {
  const n = seeds.length;
  return {
    scale,
    scaleNote:
      scale === 'full'
        ? "The paper's protocol on its own data."
        : 'Stand-in data (RetinaMNIST) and a small CNN on CPU: the claims are tested in a smaller setting; absolute numbers are not comparable.',
    checks: [
      {
        kind: 'claim',
        id: 'C1-one-off',
        text: 'EMD² beats XE on one-off accuracy (ordered classes)',
        required: true,
        relation: 'greater',
        metric: 'one_off_accuracy',
        variants: ['emd2', 'xe'],
        stats: { n, mean: 0.034, sd: 0.011, ci95: [0.007, 0.061], effectSize: 3.1, pValue: 0.031, test: 'paired t' },
        perVariant: {
          emd2: { n, mean: 0.861, sd: 0.009, ci95: [0.839, 0.883] },
          xe: { n, mean: 0.827, sd: 0.012, ci95: [0.797, 0.857] },
        },
        verdict: 'reproduced',
        explanation: 'Paired by seed, the 95% interval of the difference lies above 0.',
      },
      {
        kind: 'claim',
        id: 'C3-learned-D',
        text: 'A learned D gives the same gain as the hand-set D (within δ = 0.02)',
        required: true,
        relation: 'equivalent',
        metric: 'one_off_accuracy',
        variants: variants.includes('learned') ? ['learned', 'emd2'] : variants.slice(0, 2),
        stats: { n, mean: -0.004, sd: 0.014, ci95: [-0.039, 0.031], effectSize: -0.29, pValue: 0.41, test: 'TOST' },
        perVariant: {},
        verdict: 'inconclusive',
        explanation: `The interval straddles ±0.02 with n = ${n}: more seeds are needed.`,
      },
      {
        kind: 'claim',
        id: 'C1-mae-ranking',
        text: 'MAE ranks EMD² below XE (lower is better)',
        required: false,
        relation: 'ranking',
        metric: 'mae',
        variants: ['emd2', 'xe'],
        stats: null,
        perVariant: {},
        verdict: 'reproduced',
        explanation: 'Every adjacent pair of the order holds (intersection-union test).',
        pairwise: [{ a: 'emd2', b: 'xe', verdict: 'reproduced', stats: { n, mean: -0.035, sd: 0.012, ci95: [-0.065, -0.005] } }],
      },
      {
        kind: 'reported',
        id: 'adience-xe-exact',
        metric: 'accuracy',
        variant: 'xe',
        reported: { value: null, source: { paper: 'arXiv:1611.05916', table: 'unknown' }, note: 'The table was not available to the workflow authors.' },
        measured: { n, mean: 0.512, sd: 0.014, ci95: [0.477, 0.547] },
        verdict: 'not recorded',
        explanation: 'No reported value to compare with.',
      },
    ],
    summary: {
      counts: { reproduced: 2, 'smaller than claimed': 0, 'not reproduced': 0, inconclusive: 1, 'not recorded': 1 },
      required: { reproduced: 1, 'smaller than claimed': 0, 'not reproduced': 0, inconclusive: 1, 'not recorded': 0 },
      gate: 'inconclusive',
      scale,
    },
  };
}

export function makeRunFixture(opts: FixtureOptions = {}): Fixture {
  const variants = opts.variants ?? ['xe', 'emd2', 'learned'];
  const seeds = opts.seeds ?? [1, 2, 3];
  const epochs = opts.epochs ?? 8;
  const scale = opts.scale ?? 'proxy';
  const device = opts.device ?? 'cpu';
  const root = tempDir('repro-report-');
  const store = join(root, '.repro');
  const runId = '20250101T120000Z-abc123';
  const runDir = join(root, 'results', 'paper', runId);
  mkdirSync(runDir, { recursive: true });

  // The engine's layout: files/<sha256>/<name> for a file output, trees/<sha256>/ for a directory.
  const putFile = (name: string, content: string | Buffer): ArtifactRecord & { abs: string } => {
    const digest = sha(content);
    const storePath = `files/${digest}/${name}`;
    const abs = join(store, storePath);
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, content);
    return { type: 'file', sha256: digest, storePath, size: Buffer.byteLength(content), abs };
  };

  let clock = Date.parse('2025-01-01T12:00:00Z');
  const steps: StepRecord[] = [];
  const step = (
    id: string,
    uses: string,
    matrix: Record<string, unknown>,
    durationMs: number,
    outputs: Record<string, ArtifactRecord>,
    extra: Partial<StepRecord> = {},
  ) => {
    const startedAt = new Date(clock).toISOString();
    clock += durationMs;
    const rec: StepRecord = {
      id,
      stepId: id.replace(/\[.*$/, ''),
      uses,
      matrix,
      status: 'succeeded',
      fingerprint: sha(id),
      fingerprintComponents: { kind: uses, version: '1' },
      startedAt,
      finishedAt: new Date(clock).toISOString(),
      durationMs,
      inputs: {},
      outputs,
      ...extra,
    };
    steps.push(rec);
    return rec;
  };

  const npz = putFile('retinamnist.npz', Buffer.from('stand-in bytes of the embedded dataset'));
  const fetchRec = step('fetch', 'fetch', {}, 120, { path: strip(npz) }, {
    facts: { source: 'artifacts/retinamnist/retinamnist.npz', bytes: npz.size ?? 0 },
  });
  const putDir = (files: Record<string, string>): ArtifactRecord & { abs: string } => {
    const digest = sha(JSON.stringify(Object.entries(files).map(([n, c]) => [n, sha(c)])));
    const storePath = `trees/${digest}`;
    const abs = join(store, storePath);
    mkdirSync(abs, { recursive: true });
    for (const [n, c] of Object.entries(files)) writeFileSync(join(abs, n), c);
    return { type: 'dir', sha256: digest, storePath, size: Object.values(files).reduce((a, c) => a + Buffer.byteLength(c), 0), abs };
  };
  // What the dataset step writes: a tensor directory whose manifest names the source and its licence.
  const manifest = {
    format: 'repro-tensors/1',
    name: 'retinamnist',
    classes: CLASSES,
    ordered: true,
    positions: [0, 1, 2, 3, 4],
    splits: {
      train: { images: 'train.images.bin', labels: 'train.labels.bin', shape: [1080, 28, 28, 3], dtype: 'uint8', classCounts: [486, 128, 206, 194, 66] },
      val: { images: 'val.images.bin', labels: 'val.labels.bin', shape: [120, 28, 28, 3], dtype: 'uint8', classCounts: [54, 12, 28, 20, 6] },
      test: { images: 'test.images.bin', labels: 'test.labels.bin', shape: [400, 28, 28, 3], dtype: 'uint8', classCounts: [174, 46, 92, 68, 20] },
    },
    sources: [{ path: 'retinamnist.npz', sha256: npz.sha256, ...(opts.datasetLicense === null ? {} : { licence: opts.datasetLicense ?? 'CC BY 4.0' }) }],
    notes: ['RetinaMNIST (MedMNIST v2, 28x28): diabetic-retinopathy grade 0..4; official MedMNIST split.'],
  };
  const dataset = putDir({ 'manifest.json': JSON.stringify(manifest, null, 2), 'train.labels.bin': 'x'.repeat(4320) });
  step('dataset', 'dataset', {}, 850, { dataset: strip(dataset) }, { inputs: { npz: strip(npz) } });
  void fetchRec;

  const metricsFiles: Fixture['metricsFiles'] = [];
  const historyFiles: Fixture['historyFiles'] = [];
  const quality: Record<string, number> = { xe: 0.5, emd2: 0.53, learned: 0.525, xemd: 0.52, 'xemd-w1': 0.52, reg: 0.47, sinkhorn: 0.5 };
  const table: ObservationTable = new Map();
  for (const variant of variants) {
    for (const seed of seeds) {
      const matrix = { variant: { name: variant, loss: variant }, seed };
      const histText = JSON.stringify(history(variant, seed, epochs, device), null, 2);
      const trainId = `train[variant=${variant},seed=${seed}]`;
      let hist: ArtifactRecord & { abs: string };
      let trainOutputs: Record<string, ArtifactRecord>;
      if (opts.trainLayout === 'model-dir') {
        const dir = putDir({ 'model.json': `{"w":${seed}}`, 'history.json': histText });
        hist = { ...dir, abs: join(dir.abs, 'history.json') };
        trainOutputs = { model: strip(dir) };
      } else {
        hist = putFile('history.json', histText);
        trainOutputs = { history: strip(hist), model: strip(putFile('model.json', `{"w":${seed}}`)) };
      }
      step(trainId, 'train', matrix, 40_000 + seed * 1000, trainOutputs, {
        inputs: { dataset: strip(dataset) },
        facts: { engine: 'tfjs', backend: device === 'cpu' ? 'wasm' : 'webgl', device, threads: 2 },
      });
      historyFiles.push({ matrix, step: trainId, path: hist.abs });
      const metrics = evaluation(quality[variant] ?? 0.5, seed * 31 + variant.length);
      const steps = JSON.parse(histText) as TrainingHistory;
      const msPerStep = steps.epochs.reduce((a, e) => a + e.ms_per_step, 0) / steps.epochs.length;
      const byKey = table.get(variant) ?? new Map<string, Record<string, number>>();
      table.set(variant, byKey);
      byKey.set(`seed=${seed}`, { accuracy: metrics.accuracy, one_off_accuracy: metrics.one_off_accuracy!, mae: metrics.mae!, qwk: metrics.qwk!, ms_per_step: msPerStep });
      const m = putFile('metrics.json', JSON.stringify(metrics, null, 2));
      const evalId = `evaluate[variant=${variant},seed=${seed}]`;
      step(evalId, 'evaluate', matrix, 900, { metrics: strip(m) }, { inputs: { history: strip(hist) } });
      metricsFiles.push({ matrix, step: evalId, path: m.abs });
    }
  }
  const decided = opts.claims === 'flagship' ? flagshipVerdicts(scale, table) : verdicts(scale, variants, seeds);
  const v = putFile('verdicts.json', JSON.stringify(decided, null, 2));
  step('compare', 'compare', {}, 60, { verdicts: strip(v) });

  const record: RunRecord = {
    format: 'repro-run/1',
    runId,
    workflow: {
      name: 'paper',
      file: join(root, 'workflows', 'paper.yaml'),
      sha256: '',
      title: 'Squared EMD loss on ordered classes (RetinaMNIST stand-in)',
      paper: {
        title: "Squared Earth Mover's Distance-based Loss for Training Deep Neural Networks",
        authors: ['L. Hou', 'C.-P. Yu', 'D. Samaras'],
        arxiv: '1611.05916',
        version: 'v4',
        year: 2016,
      },
    },
    git: { commit: '0123456789abcdef0123456789abcdef01234567', dirty: false, branch: 'main' },
    profile: 'retinamnist',
    params: { epochs, seeds },
    status: 'succeeded',
    startedAt: new Date(Date.parse('2025-01-01T12:00:00Z')).toISOString(),
    finishedAt: new Date(clock).toISOString(),
    durationMs: clock - Date.parse('2025-01-01T12:00:00Z'),
    command: ['repro', 'run', 'workflows/paper.yaml'],
    store,
    environment: {
      os: 'Debian GNU/Linux 12',
      kernel: '6.1.0',
      arch: 'x64',
      cpuModel: 'Intel(R) Xeon(R) CPU @ 2.20GHz',
      cores: 2,
      memoryBytes: 8 * 1024 ** 3,
      node: 'v20.19.0',
      repro: '0.1.0',
      lockfileSha256: 'f'.repeat(64),
      packages: { '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0', vega: '6.4.0' },
      packagesAbsent: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
      gpus: opts.gpus ?? [],
      python: null,
    },
    steps,
    scale,
  };
  // The workflow file itself, so the crate can carry it.
  mkdirSync(join(root, 'workflows'), { recursive: true });
  const wfText = 'name: paper\n# fixture workflow\n';
  writeFileSync(record.workflow.file, wfText);
  record.workflow.sha256 = sha(wfText);

  const runJson = join(runDir, 'run.json');
  writeFileSync(runJson, JSON.stringify(record, null, 2) + '\n');
  symlinkSync(runId, join(root, 'results', 'paper', 'latest'));
  return { root, store, runDir, runJson, record, metricsFiles, historyFiles, verdictsFile: v.abs };
}

function strip(a: ArtifactRecord & { abs?: string }): ArtifactRecord {
  const { abs: _abs, ...rest } = a;
  return rest;
}
