// Labels are checked, not trusted (issue 21, item 4): a label must be a whole number inside the
// declared classes, or below MAX_INFERRED_CLASSES when none are declared. Every bad label is an
// error naming the file, the array (or line:column) and the index, raised before anything is sized
// by it: an int64 of 2^32+1 is not class 1, and 2,000,000,000 allocates nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasetStep, type DatasetWith } from '../../src/steps/dataset.js';
import { MAX_INFERRED_CLASSES } from '../../src/data/user.js';
import { toInt32Labels, parseNpy } from '../../src/data/npy.js';
import { npy, npz } from './arrays.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { repro, tempDir } from '../support/index.js';

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
});

async function refused(dir: string, w: DatasetWith): Promise<Error & { hint?: string }> {
  ctx?.cleanup();
  ctx = makeContext({ workflowDir: dir });
  return stepError(() => datasetStep.run(ctx!, w));
}

/** x.npy (n rows of 2 features) and y.npy holding `labels` as `descr`. */
function arrays(dir: string, descr: string, labels: ArrayBufferView & { length: number }): void {
  writeFileSync(join(dir, 'x.npy'), npy('<f4', [labels.length, 2], new Float32Array(labels.length * 2)));
  writeFileSync(join(dir, 'y.npy'), npy(descr, [labels.length], labels));
}

describe('npy and npz labels', () => {
  it('an int64 label of 2^32+1 is refused, not stored as class 1 (with and without declared classes)', async () => {
    const dir = tempDir();
    arrays(dir, '<i8', BigInt64Array.from([0n, 1n, 2n ** 32n + 1n, 0n]));
    expect((await refused(dir, { format: 'npy', images: 'x.npy', labels: 'y.npy', classes: ['a', 'b'] })).message)
      .toBe('y.npy[2] is 4294967297, outside the 2 declared classes (0..1)');
    const err = await refused(dir, { format: 'npy', images: 'x.npy', labels: 'y.npy' });
    expect(err.message).toBe(`y.npy[2] is 4294967297, beyond the ${MAX_INFERRED_CLASSES} classes labels may imply without classes:`);
    expect(err.hint).toMatch(/declare classes:/);
  });

  it('an int32 label of 2,000,000,000 fails at once, naming the npz member and index', async () => {
    const dir = tempDir();
    const x = npy('|u1', [3, 2, 2], new Uint8Array(12));
    writeFileSync(join(dir, 'd.npz'), npz({ x_train: x, y_train: npy('<i4', [3], Int32Array.from([1, 2_000_000_000, 0])) }));
    const started = Date.now();
    expect((await refused(dir, { format: 'npz', npz: 'd.npz' })).message)
      .toBe(`d.npz: y_train[1] is 2000000000, beyond the ${MAX_INFERRED_CLASSES} classes labels may imply without classes:`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('negative, fractional and non-finite labels name the index', async () => {
    const dir = tempDir();
    arrays(dir, '|i1', Int8Array.from([0, 1, -1]));
    expect((await refused(dir, { format: 'npy', images: 'x.npy', labels: 'y.npy' })).message).toBe('y.npy[2] is -1, negative, not a class index');
    arrays(dir, '<f8', Float64Array.from([0, 1.5]));
    expect((await refused(dir, { format: 'npy', images: 'x.npy', labels: 'y.npy' })).message).toBe('y.npy[1] is 1.5, not a class index');
    arrays(dir, '<f8', Float64Array.from([0, Infinity]));
    expect((await refused(dir, { format: 'npy', images: 'x.npy', labels: 'y.npy' })).message).toBe('y.npy[1] is Infinity, not a class index');
    // A float that holds a huge whole number would wrap in an Int32Array too.
    arrays(dir, '<f8', Float64Array.from([0, 1e10]));
    expect((await refused(dir, { format: 'npy', images: 'x.npy', labels: 'y.npy', classes: ['a', 'b'] })).message)
      .toBe('y.npy[1] is 10000000000, outside the 2 declared classes (0..1)');
  });

  it('the RetinaMNIST reader does not wrap an int64 label either', () => {
    const arr = parseNpy(npy('<i8', [2, 1], BigInt64Array.from([1n, 2n ** 32n + 1n])), 'y.npy');
    expect(() => toInt32Labels(arr, 'r.npz:train_labels')).toThrow('r.npz:train_labels[1] is 4294967297, not a class index');
  });

  it(`labels up to ${MAX_INFERRED_CLASSES - 1} still imply their classes`, async () => {
    const dir = tempDir();
    const n = MAX_INFERRED_CLASSES * 2;
    arrays(dir, '<i8', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % MAX_INFERRED_CLASSES)));
    ctx = makeContext({ workflowDir: dir });
    await datasetStep.run(ctx, { format: 'npy', images: 'x.npy', labels: 'y.npy', test_fraction: 0.5, val_fraction: 0 });
  });
});

describe('csv labels', () => {
  it('a 71-byte CSV with the label 2000000000 fails fast with its line and column (the real CLI, 256 MB of heap)', () => {
    const dir = tempDir();
    const csv = 'a,b,label\n1,2,0\n3,4,1\n5,6,2000000000\n7,8,1\n9,10,0\n11,12,1\n';
    writeFileSync(join(dir, 'big.csv'), csv);
    writeFileSync(join(dir, 'wf.yaml'), 'name: big\nsteps:\n  data:\n    uses: dataset\n    with: {format: csv, csv: big.csv}\n');
    const started = Date.now();
    const r = repro(['run', 'wf.yaml', '--no-report'], { cwd: dir, env: { REPRO_CACHE: join(dir, '.cache'), NODE_OPTIONS: '--max-old-space-size=256' }, timeout: 60_000 });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`big.csv:4:5: label "2000000000" is beyond the ${MAX_INFERRED_CLASSES} classes labels may imply without classes:`);
    expect(r.out).not.toMatch(/heap|internal error/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a CSV with 10^6 distinct labels is refused at the dataset step, at the first label past the bound', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 1_000_000 }, (_, i) => `${i % 7},c${i}`);
    writeFileSync(join(dir, 'many.csv'), `f,label\n${rows.join('\n')}\n`);
    const err = await refused(dir, { format: 'csv', csv: 'many.csv' });
    expect(err.message).toBe(`many.csv:${MAX_INFERRED_CLASSES + 2}:${String(MAX_INFERRED_CLASSES % 7).length + 2}: label "c${MAX_INFERRED_CLASSES}" is the ${MAX_INFERRED_CLASSES + 1}th distinct class: more than labels may imply without classes:`);
    expect(err.hint).toMatch(/declare classes:/);
  }, 60_000);

  it('with declared classes, an index past them, a negative one and a fraction are refused', async () => {
    const dir = tempDir();
    for (const [label, col] of [['2', 5], ['-1', 5], ['1.0', 5]] as const) {
      writeFileSync(join(dir, 'b.csv'), `a,b,label\n1,2,0\n3,4,${label}\n`);
      expect((await refused(dir, { format: 'csv', csv: 'b.csv', classes: ['x', 'y'] })).message)
        .toBe(`b.csv:3:${col}: label "${label}" is not one of the declared classes (x, y) nor an index 0..1`);
    }
  });
});
