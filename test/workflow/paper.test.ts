// workflows/paper.yaml must always validate and plan with the real step kinds. Its exact content
// belongs to the flagship issue; this only checks the shape the rest of the project relies on.
import { describe, expect, it } from 'vitest';
import { formatDiagnostics, loadPlan } from '../../src/workflow/index.js';
import { stepKinds } from '../../src/steps/registry.js';

describe('workflows/paper.yaml', () => {
  for (const profile of [undefined, 'orderless']) {
    it(`validates and plans${profile ? ` with --profile ${profile}` : ''}`, async () => {
      const r = await loadPlan('workflows/paper.yaml', { kinds: stepKinds, profile, env: {} });
      expect(r.diagnostics, formatDiagnostics(r.diagnostics)).toEqual([]);
      const plan = r.plan!;
      expect(plan.workflow.name).toBe('hou2016-emd2');
      expect(plan.workflow.paper?.arxiv).toBe('1611.05916');
      const byStep = (id: string) => plan.steps.filter((s) => s.stepId === id);
      // A matrix of variants × seeds for train and evaluate, each evaluate bound to its own train.
      expect(byStep('train').length).toBeGreaterThan(1);
      expect(byStep('evaluate').length).toBe(byStep('train').length);
      for (const e of byStep('evaluate')) expect(e.deps.some((d) => d.startsWith('train['))).toBe(true);
      // compare gathers every evaluate instance.
      expect(byStep('compare')[0]!.deps.filter((d) => d.startsWith('evaluate['))).toHaveLength(byStep('evaluate').length);
    });
  }
});
