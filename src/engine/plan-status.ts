// Placeholder: what `repro plan` shows per concrete step. Replaced by the engine issue.
import type { Plan } from '../workflow/types.js';

export interface StepPlanStatus {
  step: string;
  /** null when it cannot be known yet (an upstream step must run first). */
  fingerprint: string | null;
  status: 'cached' | 'would run';
  /** Why it would run: 'no cache entry', 'param epochs changed', 'upstream train[…] would run'... */
  reason: string;
}

export async function planStatus(plan: Plan, _options: { store?: string } = {}): Promise<StepPlanStatus[]> {
  return plan.steps.map((s) => ({ step: s.id, fingerprint: null, status: 'would run', reason: 'cache not implemented yet' }));
}
