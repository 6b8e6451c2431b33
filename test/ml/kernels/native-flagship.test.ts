// The flagship's smoke profile trained with the wasm kernels and with the native kernels forced
// (REPRO_KERNELS): the same model hashes, metrics and fingerprints, each run's facts naming the kernels
// that ran; and a re-run with the other kernels on the first run's store is served from the cache,
// since the kernels do not enter the fingerprint (they change no bit). Both with 2 data-parallel
// workers per training (the README's default run) and on one thread (--jobs 1), which runs the same 2
// shards one after another: the README's numbers hold whichever kernels run, at either thread count.
// And each native code path below the best one (AVX2, scalar), forced: the same models and metrics.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repro, tempDir } from '../../support/index.js';
import { NATIVE_PATHS, addonFile, loadNativeKernels } from '../../../src/ml/kernels/native/index.js';

interface Step {
  id: string;
  status: string;
  fingerprint: string;
  outputs: Record<string, { sha256: string; storePath: string }>;
  facts?: Record<string, unknown>;
}

function smoke(dir: string, kernels: string, store = join(dir, '.repro'), jobs = 2): { steps: Step[]; store: string } {
  const r = repro(['run', resolve('workflows/paper.yaml'), '--profile', 'smoke', '--backend', 'wasm', '--jobs', String(jobs), '--store', store, '--results', join(dir, 'results'), '--no-report'], {
    cwd: dir,
    env: { REPRO_KERNELS: kernels },
  });
  expect(r.code, r.out).toBe(0);
  const record = JSON.parse(readFileSync(join(dir, 'results', 'hou2016-emd2', 'latest', 'run.json'), 'utf8'));
  return { steps: record.steps, store: record.store };
}

const trains = (steps: Step[]) => steps.filter((s) => s.id.startsWith('train['));
const evaluations = (steps: Step[]) => steps.filter((s) => s.id.startsWith('evaluate['));

describe.skipIf(!existsSync(addonFile()))('workflows/paper.yaml --profile smoke with each kernel path', { timeout: 900_000 }, () => {
  /** The simd run on 2 threads (the first test's, or its own when run alone). */
  let twoThreads: { steps: Step[]; store: string } | null = null;

  it('gives the same models, metrics and fingerprints with native and simd kernels, and a cached re-run across them', () => {
    const simdDir = tempDir('repro-kernels-simd-');
    const nativeDir = tempDir('repro-kernels-native-');
    const simd = smoke(simdDir, 'simd');
    twoThreads = simd;
    const native = smoke(nativeDir, 'native');

    expect(trains(simd.steps).length).toBe(4);
    for (const s of trains(simd.steps)) expect(s.facts?.kernels).toBe('simd');
    for (const s of [...trains(simd.steps), ...trains(native.steps)]) expect(s.facts?.threads, s.id).toBe(2);
    for (const s of trains(native.steps)) expect(String(s.facts?.kernels)).toMatch(/^native-(avx512|avx2|scalar)$/);

    const byId = new Map(native.steps.map((s) => [s.id, s]));
    for (const s of [...trains(simd.steps), ...evaluations(simd.steps)]) {
      const other = byId.get(s.id)!;
      expect(other.fingerprint, s.id).toBe(s.fingerprint);
      for (const [name, out] of Object.entries(s.outputs)) {
        if (name === 'history') continue; // it holds wall times: compared below without them
        expect(other.outputs[name]?.sha256, `${s.id} ${name}`).toBe(out.sha256);
      }
    }
    // Training histories: the same losses and validation metrics, epoch by epoch (times differ, of course).
    const learning = (store: string, s: Step) => {
      const h = JSON.parse(readFileSync(join(store, s.outputs.history!.storePath), 'utf8'));
      return { best: h.best_epoch, epochs: h.epochs.map((e: { train_loss: number; val: unknown }) => ({ loss: e.train_loss, val: e.val })), facts: h.facts };
    };
    for (const s of trains(simd.steps)) {
      const [a, b] = [learning(simd.store, s), learning(native.store, byId.get(s.id)!)];
      expect(b, s.id).toEqual(a);
      expect(a.epochs[0].loss).toBeGreaterThan(0);
      expect(a.facts.kernels).toBeUndefined(); // outputs never name the kernels: run.json does
    }
    // The metrics files are outputs above; read one to be sure they hold numbers, not just equal bytes.
    const evaluation = evaluations(native.steps)[0]!;
    const metricsFile = Object.values(evaluation.outputs).find((o) => o.storePath.endsWith('.json'))!;
    expect(readFileSync(join(native.store, metricsFile.storePath), 'utf8')).toMatch(/\d\.\d/);

    // The simd run's store, re-run with native kernels: every step is served from the cache.
    const again = smoke(simdDir, 'native', simd.store);
    for (const s of trains(again.steps)) {
      expect(s.status, s.id).toBe('cached');
      expect(s.facts?.kernels, `${s.id}: a cached step keeps the facts of the run that computed it`).toBe('simd');
    }
  });

  it('gives the same models and metrics on every native code path this CPU runs, each forced (AVX2, scalar below AVX-512)', () => {
    twoThreads ??= smoke(tempDir('repro-kernels-simd2-'), 'simd');
    const best = loadNativeKernels('native')!.path;
    const lower = NATIVE_PATHS.slice(0, NATIVE_PATHS.indexOf(best));
    for (const path of lower) {
      const run = smoke(tempDir(`repro-kernels-${path}-`), path);
      const byId = new Map(run.steps.map((s) => [s.id, s]));
      for (const s of trains(twoThreads.steps)) {
        const other = byId.get(s.id)!;
        expect(other.facts?.kernels, s.id).toBe(path);
        expect(other.fingerprint, s.id).toBe(s.fingerprint);
        expect(other.outputs.model?.sha256, `${path} ${s.id}`).toBe(s.outputs.model?.sha256);
      }
      for (const s of evaluations(twoThreads.steps)) {
        for (const [name, out] of Object.entries(s.outputs)) expect(byId.get(s.id)!.outputs[name]?.sha256, `${path} ${s.id} ${name}`).toBe(out.sha256);
      }
    }
  });

  it('gives the same models and metrics with native and simd kernels on one thread (--jobs 1), and as on two threads', () => {
    const simd = smoke(tempDir('repro-kernels-simd1-'), 'simd', undefined, 1);
    const native = smoke(tempDir('repro-kernels-native1-'), 'native', undefined, 1);
    twoThreads ??= smoke(tempDir('repro-kernels-simd2-'), 'simd');
    expect(trains(simd.steps).length).toBe(4);
    const byId = new Map(native.steps.map((s) => [s.id, s]));
    const onTwo = new Map(twoThreads.steps.map((s) => [s.id, s]));
    for (const s of trains(simd.steps)) {
      const other = byId.get(s.id)!;
      // The 2 shards (the fact `threads`) run one after another on this thread (workers: 1).
      expect([s.facts?.threads, s.facts?.workers, s.facts?.kernels]).toEqual([2, 1, 'simd']);
      expect([other.facts?.threads, other.facts?.workers]).toEqual([2, 1]);
      expect(onTwo.get(s.id)!.facts?.workers).toBe(2);
      expect(onTwo.get(s.id)!.fingerprint, s.id).toBe(s.fingerprint);
      expect(onTwo.get(s.id)!.outputs.model?.sha256, s.id).toBe(s.outputs.model?.sha256);
      expect(String(other.facts?.kernels)).toMatch(/^native-(avx512|avx2|scalar)$/);
      expect(other.fingerprint, s.id).toBe(s.fingerprint);
      expect(other.outputs.model?.sha256, s.id).toBe(s.outputs.model?.sha256);
    }
    for (const s of evaluations(simd.steps)) {
      for (const [name, out] of Object.entries(s.outputs)) {
        expect(byId.get(s.id)!.outputs[name]?.sha256, `${s.id} ${name}`).toBe(out.sha256);
        expect(onTwo.get(s.id)!.outputs[name]?.sha256, `${s.id} ${name} on 2 threads`).toBe(out.sha256);
      }
    }
  });
});
