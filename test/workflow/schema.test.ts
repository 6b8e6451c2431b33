// The JSON Schema is a user-facing document (editor completion, hover text): every property is
// described, and the workflows in the repository point editors at it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { publishedWorkflowSchemaText, workflowSchema, WORKFLOW_SCHEMA_URL } from '../../src/workflow/schema.js';
import { stepKinds } from '../../src/steps/registry.js';

function* properties(node: unknown, path: string): Generator<[string, Record<string, unknown>]> {
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  for (const [k, v] of Object.entries((n.properties as Record<string, unknown>) ?? {})) {
    yield [`${path}/${k}`, v as Record<string, unknown>];
    yield* properties(v, `${path}/${k}`);
  }
  for (const key of ['additionalProperties', 'items']) if (n[key] && typeof n[key] === 'object') yield* properties(n[key], `${path}/${key}`);
  for (const [k, v] of Object.entries((n.$defs as Record<string, unknown>) ?? {})) yield* properties(v, `#/$defs/${k}`);
}

describe('schemas/workflow.schema.json', () => {
  const schema = workflowSchema();

  it('is a 2020-12 schema with an $id', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/^https:\/\/.*workflow\.schema\.json$/);
  });

  it('describes every property, with examples', () => {
    const props = [...properties(schema, '')];
    expect(props.length).toBeGreaterThan(30);
    const resolveRef = (p: Record<string, unknown>) =>
      typeof p.$ref === 'string' ? ((schema.$defs as Record<string, Record<string, unknown>>)[p.$ref.split('/').pop()!] ?? p) : p;
    const undescribed = props.filter(([, p]) => !resolveRef(p).description).map(([k]) => k);
    expect(undescribed).toEqual([]);
    const withoutExamples = props.filter(([, p]) => !resolveRef(p).examples).map(([k]) => k);
    expect(withoutExamples).toEqual([]);
  });

  it('workflows/paper.yaml points editors at it with a yaml-language-server modeline', () => {
    const first = readFileSync('workflows/paper.yaml', 'utf8').split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(m).not.toBeNull();
    expect(resolve(dirname('workflows/paper.yaml'), m![1]!)).toBe(resolve('schemas/workflow.schema.json'));
  });
});

describe("the published schema's `with`, per kind, from the kinds' own schemas", () => {
  const published = JSON.parse(readFileSync(WORKFLOW_SCHEMA_URL, 'utf8'));
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020.js');
  const ajv = new Ajv2020({ strict: false, allErrors: true, allowUnionTypes: true });
  require('ajv-formats')(ajv);
  const validate = ajv.compile(published);

  it('is up to date (after changing a kind\'s schema: npm run build && node dist/cli/write-workflow-schema.js)', () => {
    expect(readFileSync(WORKFLOW_SCHEMA_URL, 'utf8')).toBe(publishedWorkflowSchemaText(stepKinds));
    const kinds = published.$defs.step.allOf.map((b: { if: { properties: { uses: { const: string } } } }) => b.if.properties.uses.const);
    expect(kinds).toEqual([...stepKinds.keys()]);
  });

  it("accepts every workflow of the repository (expressions where a kind expects a number, a list or an object)", () => {
    const yamls = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamls(`${dir}/${e.name}`) : e.name.endsWith('.yaml') ? [`${dir}/${e.name}`] : []));
    const files = [...yamls('workflows'), 'templates/starter/repro.yaml'].filter((f) => !f.includes('/claims/'));
    expect(files).toContain('workflows/paper.yaml');
    expect(files).toContain('workflows/examples/fashion-mnist-sklearn.yaml');
    for (const f of files) expect(validate(parse(readFileSync(f, 'utf8'))), `${f}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  });

  it('refuses what the kind refuses: an unknown key, a wrong type, a bad claim relation', () => {
    const wf = (uses: string, w: unknown) => ({ name: 'x', steps: { a: { uses, with: w } } });
    const train = { dataset: 'd', model: { arch: 'small-cnn' }, loss: { kind: 'xe' }, epochs: 2 };
    expect(validate(wf('train', train)), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(wf('train', { ...train, epochs: '${{ params.epochs }}', loss: '${{ matrix.variant.loss }}' })), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(wf('train', { ...train, epoks: 3 }))).toBe(false);
    expect(validate(wf('train', { ...train, epochs: 'three' }))).toBe(false);
    expect(validate(wf('train', { ...train, loss: { kind: 'l2' } }))).toBe(false);
    const claim = (relation: unknown) => wf('compare', { results: '${{ steps.e.outputs.metrics }}', claims: [{ id: 'C1', text: 'emd2 beats xe', metric: 'accuracy', relation }] });
    expect(validate(claim({ type: 'better', a: 'emd2', b: 'xe' })), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate(claim({ type: 'bigger', a: 'emd2', b: 'xe' }))).toBe(false);
  });
});
