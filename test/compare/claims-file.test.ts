import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCompare } from '../../src/compare/claims-file.js';
import { compareStep } from '../../src/steps/compare.js';
import type { StepContext } from '../../src/steps/kind.js';
import type { VerdictFile } from '../../src/formats/verdict.js';
import { tempDir } from '../support/index.js';

let dir: string;

const claimsYaml = `# The paper's claims, kept beside the workflow.
reported:
  - id: R1
    metric: accuracy
    variant: xe
    value: null
    source: {paper: 'arXiv:1611.05916', version: v4}
    note: table not available here
claims:
  - id: C1
    text: EMD² beats XE
    metric: accuracy
    relation: {type: better, a: emd2, b: xe}
    test: paired-t   # three seeds: the default sign-flip test cannot reach 0.05
`;

// Real metrics.json files, one per variant and seed, as the engine would hand them over.
function results() {
  const accuracy: Record<string, number[]> = { xe: [0.5, 0.49, 0.51], emd2: [0.55, 0.56, 0.54] };
  return Object.entries(accuracy).flatMap(([variant, xs]) =>
    xs.map((acc, i) => {
      const path = join(dir, `metrics-${variant}-${i + 1}.json`);
      writeFileSync(path, JSON.stringify({ accuracy: acc, one_off_accuracy: 0.9, mae: 0.5, qwk: 0.4, n: 10 }));
      return { matrix: { variant: { name: variant }, seed: i + 1 }, step: `evaluate[variant=${variant},seed=${i + 1}]`, value: path };
    }),
  );
}

function ctx(): StepContext {
  const workDir = mkdtempSync(join(dir, 'work-'));
  return {
    id: 'compare', workflowDir: dir, workDir, scratchDir: workDir, matrix: {}, params: {}, secret: () => undefined,
    signal: new AbortController().signal, log: () => {}, progress: () => {}, threads: 1, options: {},
  };
}

beforeAll(() => {
  dir = tempDir('repro-claims-file-');
  writeFileSync(join(dir, 'claims.yaml'), claimsYaml);
  mkdirSync(join(dir, 'sub'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('claims in a YAML file beside the workflow', () => {
  it('is merged after the inline entries and checked at plan time', () => {
    expect(checkCompare({ results: results(), claims_file: 'claims.yaml', scale: 'full' } as any, dir)).toEqual([]);
  });

  it('reports a problem inside the file at its own line and column', () => {
    writeFileSync(join(dir, 'bad.yaml'), claimsYaml.replace('a: emd2', 'a: emd3'));
    const issues = checkCompare({ results: results(), claims_file: 'bad.yaml' } as any, dir);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('claims_file');
    expect(issues[0]!.message).toMatch(/bad\.yaml:13:33: no step produces variant 'emd3' \(did you mean 'emd2'\?\)/);
  });

  it('reports YAML and structure errors, a missing file, and ids used both inline and in the file', () => {
    writeFileSync(join(dir, 'broken.yaml'), 'claims:\n  - id: C1\n    txt: typo\n');
    const broken = checkCompare({ results: results(), claims_file: 'broken.yaml' } as any, dir);
    expect(broken.map((i) => i.message)).toContainEqual(expect.stringMatching(/broken\.yaml:2:\d+: must NOT have additional properties 'txt'/));
    const missing = checkCompare({ results: results(), claims_file: 'nope.yaml' } as any, dir);
    expect(missing).toContainEqual({ path: 'claims_file', message: expect.stringMatching(/no such file .*nope\.yaml/) });
    const dup = checkCompare(
      { results: results(), claims_file: 'claims.yaml', claims: [{ id: 'C1', text: '', metric: 'accuracy', relation: { type: 'better', a: 'emd2', b: 'xe' } }] } as any,
      dir,
    );
    expect(dup).toContainEqual({ path: 'claims_file', message: expect.stringMatching(/claims\.yaml:10:9: id 'C1' is used twice \(first at claims\/0\/id\)/) });
  });

  it('without the workflow directory a relative file is left for run time; the step then reads it', async () => {
    const w = { results: results(), claims_file: 'claims.yaml', scale: 'full' as const };
    expect(compareStep.check!(w, { steps: [] })).toEqual([]);
    expect(compareStep.inputPaths!(w, dir)).toEqual(['claims.yaml']);
    const c = ctx();
    const result = await compareStep.run(c, w);
    const out = result.outputs.verdicts!;
    expect(out.type).toBe('file');
    const file = JSON.parse(readFileSync((out as { path: string }).path, 'utf8')) as VerdictFile;
    expect(file.checks.map((x) => `${x.id} ${x.verdict}`)).toEqual(['R1 not recorded', 'C1 reproduced']);
    expect(result.summary).toBe('1 reproduced, 1 not recorded (full)');
  });

  it('fails the step with every problem when the file is wrong at run time', async () => {
    const w = { results: results(), claims_file: 'bad.yaml' };
    await expect(compareStep.run(ctx(), w)).rejects.toThrow(/claims_file: .*bad\.yaml:13:33: no step produces variant 'emd3'/);
  });
});
