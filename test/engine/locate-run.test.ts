// locateRun: where a run's store and workflow file are now, for a run.json found at a given place.
// Real folders: a project, then the same project moved, copied, or missing its store.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateRun, type RunRecord } from '../../src/formats/run-record.js';
import { tempDir } from '../support/index.js';

/** A project folder as `repro run` leaves it: wf.yaml, .repro/, results/wf/ID/run.json. */
function project(root: string): string {
  mkdirSync(join(root, '.repro', 'objects'), { recursive: true });
  mkdirSync(join(root, 'results', 'wf', 'ID'), { recursive: true });
  writeFileSync(join(root, 'wf.yaml'), 'name: wf\n');
  return join(root, 'results', 'wf', 'ID', 'run.json');
}

const recordOf = (root: string, relative = true) =>
  ({
    store: join(root, '.repro'),
    workflow: { name: 'wf', file: join(root, 'wf.yaml'), sha256: '' },
    ...(relative ? { relative: { store: '../../../.repro', workflow: '../../../wf.yaml' } } : {}),
    steps: [],
  }) as unknown as RunRecord;

describe('locateRun', () => {
  it('leaves a record that is where it was as it is', () => {
    const root = join(tempDir('repro-locate-'), 'proj');
    const runJson = project(root);
    const record = recordOf(root);
    expect(locateRun(record, runJson)).toBe(record);
  });

  it('finds store and workflow of a moved project through `relative`, and of an older record by the tail of its paths', () => {
    for (const relative of [true, false]) {
      const parent = tempDir('repro-locate-');
      const before = join(parent, 'proj');
      project(before);
      const record = recordOf(before, relative);
      renameSync(before, join(parent, 'moved'));
      const located = locateRun(record, join(parent, 'moved', 'results', 'wf', 'ID', 'run.json'));
      expect(located.store).toBe(join(parent, 'moved', '.repro'));
      expect(located.workflow.file).toBe(join(parent, 'moved', 'wf.yaml'));
      expect(record.store).toBe(join(before, '.repro')); // the record read is not changed
    }
  });

  it('a copy uses its own store; a copy without one, the original store, which is still there', () => {
    const parent = tempDir('repro-locate-');
    const original = join(parent, 'proj');
    project(original);
    const record = recordOf(original);
    cpSync(original, join(parent, 'copy'), { recursive: true });
    const copyJson = join(parent, 'copy', 'results', 'wf', 'ID', 'run.json');
    expect(locateRun(record, copyJson).store).toBe(join(parent, 'copy', '.repro'));
    rmSync(join(parent, 'copy', '.repro'), { recursive: true });
    expect(locateRun(record, copyJson).store).toBe(join(original, '.repro'));
  });

  it('keeps the recorded path when nothing is found, so the error that follows names it', () => {
    const parent = tempDir('repro-locate-');
    const runJson = project(join(parent, 'proj'));
    const record = { ...recordOf(join(parent, 'elsewhere'), false), store: join(parent, 'elsewhere', 'store-of-no-one') };
    expect(locateRun(record, runJson).store).toBe(join(parent, 'elsewhere', 'store-of-no-one'));
    // An older record's workflow, by contrast, is the wf.yaml of the project that holds the run.
    expect(locateRun(record, runJson).workflow.file).toBe(join(parent, 'proj', 'wf.yaml'));
  });
});
