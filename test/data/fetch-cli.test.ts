// `repro fetch` as a user runs it: spawns bin/repro.js (dist/ must be built: npm test's pretest does it).
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/index.js';
import { repro } from '../support/index.js';

const NPZ = 'artifacts/retinamnist/retinamnist.npz';
const NPZ_SHA = '254915f5f0a2074665c4676356824cf4ef4a3bcab233894b4bafcaf48962bd69';

describe('repro fetch', () => {
  it('--pin prints the sha256 line to paste into a workflow (offline: an unknown host falls through)', () => {
    const r = repro(['fetch', '--pin', 'https://no-such-host.invalid/retinamnist.npz', NPZ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`sha256: ${NPZ_SHA}\n`);
  });

  it('--sha256 verifies and saves; a mismatch exits 1 with expected and actual hash and saves nothing', () => {
    const dir = tempDir('repro-data-');
    const ok = repro(['fetch', '--sha256', NPZ_SHA, '-o', join(dir, 'r.npz'), NPZ]);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(dir, 'r.npz')).length).toBe(3291041);
    const bad = repro(['fetch', '--sha256', '0'.repeat(64), '-o', join(dir, 'bad.npz'), NPZ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`expected sha256 ${'0'.repeat(64)}, got ${NPZ_SHA}`);
    expect(bad.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    expect(existsSync(join(dir, 'bad.npz'))).toBe(false);
  });

  it('without --pin or --sha256 it is a usage error (exit 2)', () => {
    const r = repro(['fetch', NPZ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sha256 <hex>.*--pin/);
  });
});
