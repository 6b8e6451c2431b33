// `repro export` prints the reproduce command with --trust exactly when reproduce will ask for it: the
// plan-time trust decision of src/workflow/trust.ts (here an environment value, with no `run` step at
// all), not a guess from the kinds of the steps.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { projectWith, repro } from '../support/index.js';

const data = 'a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n';
const workflow = (params: string) => `name: hint\n${params}steps:\n  data:\n    uses: dataset\n    with: {format: csv, csv: data.csv}\n`;

function exported(params: string): string {
  const dir = projectWith({ 'data.csv': data, 'wf.yaml': workflow(params) });
  const env = { REPRO_CACHE: join(dir, '.cache'), REPRO_TOKEN: 'secret' };
  expect(repro(['run', 'wf.yaml'], { cwd: dir, env }).code).toBe(0);
  const ex = repro(['export', '-o', join(dir, 'a.tar.gz')], { cwd: dir, env });
  expect(ex.code, ex.out).toBe(0);
  return ex.out;
}

describe('the reproduce command that export prints', () => {
  it('asks for --trust when the workflow reads an environment variable, though it runs no command', () => {
    expect(exported('params:\n  token: {type: string, env: REPRO_TOKEN}\n')).toMatch(/re-run it elsewhere with: repro reproduce \S+ --trust$/m);
  });

  it('does not ask for it when reproduce will not', () => {
    expect(exported('')).toMatch(/re-run it elsewhere with: repro reproduce \S+\.tar\.gz$/m);
  });
});
