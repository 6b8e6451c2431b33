// The packed package on a machine with no compiler: nothing in it is built at install (no binding.gyp,
// no install scripts), the prebuilt native kernels it carries train a tiny CNN (run.json: kernels
// native-*), and with the binary gone the same training runs on the wasm kernels after one line on
// stderr, records kernels: simd and gives the same model bytes. A re-run without the binary on the
// native run's store is fully cached: the kernels are recorded, not fingerprinted.
// The package runs from `npm pack`'s tarball, unpacked, with this checkout's node_modules beside it
// (what `npm ci` installs); PATH holds only node. The full install from the registry, also without a
// compiler on PATH, is scripts/check-install.sh (install.test.ts, REPRO_TEST_INSTALL=1).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../support/index.js';
import { mulberry32 } from '../../src/core/rng.js';

const PREBUILT = `prebuilds/${process.platform}-${process.arch}/repro-kernels.node`;
const NOTE = /^repro: native kernels unavailable \(.*\); using the wasm kernels \(same results, slower\)$/;

interface Step {
  id: string;
  status: string;
  fingerprint: string;
  outputs: Record<string, { sha256: string }>;
  facts?: Record<string, unknown>;
}

/** A folder whose only program is node: no gcc, cc, c++, make or node-gyp. */
function nodeOnlyPath(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  return bin;
}

/** A 5-class CSV of 8×8 grey images whose class is the brightness of the centre (learnable in 2 epochs). */
function tinyProject(dir: string): void {
  const rand = mulberry32(7);
  const header = ['label', ...Array.from({ length: 64 }, (_, i) => `p${i}`)].join(',');
  const rows = Array.from({ length: 120 }, () => {
    const k = Math.floor(rand() * 5);
    const pixels = Array.from({ length: 64 }, (_, p) => {
      const centre = (p >> 3) >= 2 && (p >> 3) < 6 && (p & 7) >= 2 && (p & 7) < 6;
      return Math.round((centre ? 30 + k * 50 : 60) + (rand() - 0.5) * 30);
    });
    return [k, ...pixels].join(',');
  });
  writeFileSync(join(dir, 'data.csv'), `${header}\n${rows.join('\n')}\n`);
  writeFileSync(
    join(dir, 'repro.yaml'),
    `name: tiny
steps:
  dataset:
    uses: dataset
    with: {format: csv, csv: data.csv, shape: [8, 8, 1], dtype: uint8, ordered: true}
  train:
    uses: train
    with:
      dataset: \${{ steps.dataset.outputs.dataset }}
      model: {arch: small-cnn, width: 0.25}
      loss: {kind: xe}
      optimizer: {kind: adam, lr: 0.01}
      epochs: 2
      batch_size: 16
      seed: 1
`,
  );
}

describe('the packed package without a compiler', { timeout: 300_000 }, () => {
  const work = tempDir('repro-nocc-');
  let pkg = '';

  it('packs with nothing to compile at install, the prebuilt kernels inside', () => {
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = join(work, JSON.parse(packed.stdout)[0].filename as string);
    expect(spawnSync('tar', ['-xzf', tarball, '-C', work]).status).toBe(0);
    pkg = join(work, 'package');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(manifest.scripts?.[hook], hook).toBeUndefined();
    expect(manifest.gypfile).toBeUndefined();
    expect(existsSync(join(pkg, 'binding.gyp'))).toBe(false);
    if (process.platform === 'linux' && process.arch === 'x64') expect(existsSync(join(pkg, PREBUILT))).toBe(true);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(pkg, 'node_modules'));
  });

  it.skipIf(!existsSync(join(REPO_ROOT, PREBUILT)))('trains with the prebuilt native kernels, and without them on the wasm kernels: same model, one note, a cached re-run', () => {
    expect(pkg, 'the pack test ran first').not.toBe('');
    const bin = nodeOnlyPath(work);
    const project = join(work, 'project');
    mkdirSync(project);
    tinyProject(project);
    const env = { ...process.env, NO_COLOR: '1', PATH: bin, REPRO_KERNELS: undefined };
    expect(spawnSync('sh', ['-c', 'command -v gcc || command -v cc || command -v node-gyp || command -v make'], { env }).status).not.toBe(0);
    const run = (store: string) => {
      const r = spawnSync('node', [join(pkg, 'bin/repro.js'), 'run', 'repro.yaml', '--backend', 'wasm', '--store', store, '--no-report'], { cwd: project, env, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const record = JSON.parse(readFileSync(join(project, 'results', 'tiny', 'latest', 'run.json'), 'utf8'));
      const train = (record.steps as Step[]).find((s) => s.id === 'train')!;
      return { train, stderr: r.stderr };
    };

    const native = run(join(work, 'store-native'));
    expect(String(native.train.facts?.kernels)).toMatch(/^native-(avx512|avx2|scalar)$/);
    expect(native.stderr).not.toMatch(/native kernels unavailable/);

    // The binary gone (a platform without a prebuild, or one that does not load): the wasm kernels.
    renameSync(join(pkg, PREBUILT), join(pkg, `${PREBUILT}.hidden`));
    const simd = run(join(work, 'store-simd'));
    expect(simd.train.status).toBe('succeeded');
    expect(simd.train.facts?.kernels).toBe('simd');
    expect(simd.stderr.split('\n').filter((l) => /native kernels/.test(l))).toEqual([expect.stringMatching(NOTE)]);
    expect(simd.train.fingerprint).toBe(native.train.fingerprint);
    expect(simd.train.outputs.model?.sha256).toBe(native.train.outputs.model?.sha256);

    // The native run's store, without the binary: served from the cache (the kernels change no bit).
    const again = run(join(work, 'store-native'));
    expect(again.train.status).toBe('cached');
    expect(again.train.facts?.kernels, 'a cached step keeps the facts of the run that computed it').toBe(native.train.facts?.kernels);
  });
});
