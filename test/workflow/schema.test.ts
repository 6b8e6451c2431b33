// The JSON Schema is a user-facing document (editor completion, hover text): every property is
// described, and the workflows in the repository point editors at it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { workflowSchema } from '../../src/workflow/schema.js';

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
