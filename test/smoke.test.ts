import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('repro CLI', () => {
  it('prints its version', () => {
    const out = execFileSync(process.execPath, ['bin/repro.js', '--version'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
