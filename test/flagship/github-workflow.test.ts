import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// The CI example in the README must stay a valid GitHub Actions workflow that gates on `repro check`.
describe('.github/workflows/reproduce.yml', () => {
  const doc = parse(readFileSync('.github/workflows/reproduce.yml', 'utf8'), { uniqueKeys: true });
  const steps: Array<Record<string, any>> = doc.jobs.reproduce.steps;

  it('is a workflow with triggers and one job', () => {
    expect(doc.name).toBe('reproduce');
    expect(Object.keys(doc.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    expect(doc.jobs.reproduce['runs-on']).toMatch(/ubuntu/);
  });

  it('installs with npm ci before calling repro', () => {
    const install = steps.findIndex((s) => s.run === 'npm ci');
    const check = steps.findIndex((s) => typeof s.run === 'string' && s.run.includes('repro check workflows/paper.yaml'));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(check).toBeGreaterThan(install);
    // The gate must be the job's verdict: no `continue-on-error` or `|| true` on it.
    expect(steps[check]['continue-on-error']).toBeUndefined();
    expect(steps[check].run).not.toMatch(/\|\|/);
  });

  it('writes and posts the Markdown report even when the check fails', () => {
    const report = steps.find((s) => typeof s.run === 'string' && s.run.includes('repro report'));
    expect(report?.if).toBe('always()');
    const post = steps.find((s) => typeof s.uses === 'string' && s.uses.startsWith('marocchino/sticky-pull-request-comment'));
    expect(post?.with?.path).toMatch(/report\.md$/);
  });
});
