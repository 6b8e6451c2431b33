// Old camelCase spellings of user-facing keys (warmupEpochs, groundDistance, randomCrop,
// weightDecay) still validate, with a warning at each one's line:column naming the new spelling.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro, tempDir } from '../support/index.js';
import { stepKinds } from '../../src/steps/registry.js';
import { workflowSchema } from '../../src/workflow/schema.js';

/** Property names in a JSON Schema that are not snake_case, except those marked deprecated. */
function camelCaseKeys(schema: unknown, at: string, out: string[] = []): string[] {
  if (Array.isArray(schema)) schema.forEach((s) => camelCaseKeys(s, at, out));
  else if (schema && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties' && value && typeof value === 'object') {
        for (const [name, sub] of Object.entries(value)) if (/[A-Z]/.test(name) && !(sub as { deprecated?: boolean }).deprecated) out.push(`${at}.${name}`);
      }
      camelCaseKeys(value, at, out);
    }
  }
  return out;
}

const WF = (loss: string, extra = '') => `name: spellings
params:
  variants:
    type: array
    default:
      - {name: xe, loss: {kind: xe}}
      - {name: xemd, loss: ${loss}}
steps:
  train:
    uses: train
    matrix:
      variant: \${{ params.variants }}
    with:
      dataset: data
      model: {arch: small-cnn}
      loss: \${{ matrix.variant.loss }}
      epochs: 2${extra}
`;

/** `repro validate` on the workflow in a fresh folder; it must exit 0. */
function validate(text: string) {
  const dir = tempDir('repro-spellings-');
  writeFileSync(join(dir, 'wf.yaml'), text);
  const r = repro(['validate', 'wf.yaml'], { cwd: dir });
  expect(r.code, r.out).toBe(0);
  return r;
}

describe('old spellings of user-facing keys', () => {
  it('validate warns at each old key with the new spelling, and exits 0', () => {
    const r = validate(WF('{kind: xemd, warmupEpochs: 1, groundDistance: [[0, 1], [1, 0]]}', '\n      augment: {randomCrop: true}\n      optimizer: {kind: sgd, lr: 0.1, weightDecay: 0.0001}'));
    expect(r.stderr).toContain("wf.yaml:7:41: warning: 'warmupEpochs' is the old spelling of 'warmup_epochs'");
    expect(r.stderr).toContain("wf.yaml:7:58: warning: 'groundDistance' is the old spelling of 'ground_distance'");
    expect(r.stderr).toContain("wf.yaml:18:17: warning: 'randomCrop' is the old spelling of 'random_crop'");
    expect(r.stderr).toMatch(/wf\.yaml:19:39: warning: 'weightDecay' is the old spelling of 'weight_decay'/);
    expect(r.stderr).toContain('4 warnings');
  });

  it('the new spellings validate without a warning', () => {
    expect(validate(WF('{kind: xemd, warmup_epochs: 1, ground_distance: [[0, 1], [1, 0]]}', '\n      augment: {random_crop: true}')).stderr).toBe('');
  });

  it('every key of the workflow schema and of every kind is snake_case, but for the deprecated old spellings', () => {
    const found = camelCaseKeys(workflowSchema(), 'workflow');
    for (const [name, kind] of stepKinds) camelCaseKeys(kind.withSchema, name, found);
    expect(found).toEqual([]);
  });
});
