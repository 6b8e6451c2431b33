// The run record names the packages installed where it ran, read from each package's own
// package.json, and says which declared ones are absent (not the lockfile's pins).
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installedPackages } from '../../src/engine/environment.js';
import { tempDir } from '../support/index.js';

describe('installed packages', () => {
  it('reads versions from node_modules (here or in a parent folder) and lists declared packages that are not installed', () => {
    const root = tempDir('repro-env-');
    const project = join(root, 'project');
    mkdirSync(join(project, 'node_modules', 'alpha'), { recursive: true });
    mkdirSync(join(root, 'node_modules', '@scope', 'beta'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ dependencies: { alpha: '^1.0.0', '@scope/beta': '2.0.0' }, optionalDependencies: { gamma: '3.0.0' } }),
    );
    // A lockfile that pins other versions: it must not be what the record says.
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/alpha': { version: '9.9.9' }, 'node_modules/gamma': { version: '3.0.0' } } }));
    writeFileSync(join(project, 'node_modules', 'alpha', 'package.json'), JSON.stringify({ name: 'alpha', version: '1.4.2' }));
    writeFileSync(join(root, 'node_modules', '@scope', 'beta', 'package.json'), JSON.stringify({ name: '@scope/beta', version: '2.0.1' }));
    expect(installedPackages(pathToFileURL(project + '/'))).toEqual({ packages: { '@scope/beta': '2.0.1', alpha: '1.4.2' }, absent: ['gamma'] });
  });

  it("in this checkout, agrees with what node_modules holds", () => {
    const { packages, absent } = installedPackages();
    const core = JSON.parse(readFileSync(join(__dirname, '../../node_modules/@tensorflow/tfjs-core/package.json'), 'utf8')).version;
    expect(packages['@tensorflow/tfjs-core']).toBe(core);
    for (const name of absent) expect(packages[name]).toBeUndefined();
  });
});
