// The dataset formats are one table (src/steps/dataset.ts, FORMATS): the schema's enum and its
// description, the required keys, the fingerprinted inputs and the loader all read it.
import { describe, expect, it } from 'vitest';
import { DATASET_FORMATS, FORMAT_TABLE, datasetStep } from '../../src/steps/dataset.js';

const schema = datasetStep.withSchema as { properties: Record<string, { enum?: unknown[]; description?: string }> };

describe('dataset formats', () => {
  it('the schema lists exactly the table, and every key a format reads is a key of `with`', () => {
    expect(schema.properties.format!.enum).toEqual([...FORMAT_TABLE.keys()]);
    expect(DATASET_FORMATS).toEqual([...FORMAT_TABLE.keys()]);
    for (const [name, f] of FORMAT_TABLE) {
      expect(schema.properties.format!.description).toContain(f.note ? `${name} (${f.note})` : name);
      for (const key of [...f.required, ...f.paths, ...Object.keys(f.defaultFiles ?? {})]) expect(schema.properties, `${name}: ${key}`).toHaveProperty(key);
    }
  });

  it("a format's required keys are what the plan-time check asks for", () => {
    for (const [name, f] of FORMAT_TABLE) {
      const messages = datasetStep.check!({ format: name as never }, { steps: [] }).map((d) => d.message);
      expect(messages).toEqual(f.required.map((k) => `format ${name} needs '${k}'`));
    }
  });

  it("the files a format reads, given or by default, are the step's inputs", () => {
    const w = { format: 'npy' as const, images: 'package.json', labels: 'tsconfig.json', npz: 'README.md' };
    // Every path key is an input whatever the format (as before the table): an npz named beside npy files still counts.
    expect(datasetStep.inputPaths!(w, process.cwd()).map((p) => p.slice(process.cwd().length + 1))).toEqual(['README.md', 'package.json', 'tsconfig.json']);
    const idx = FORMAT_TABLE.get('idx')!;
    expect(Object.keys(idx.defaultFiles!)).toEqual(['images', 'labels', 'test_images', 'test_labels']);
  });
});
