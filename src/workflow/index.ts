// Placeholder signature: load → parse → validate → plan. Replaced by the workflow-language issue.
import type { Plan } from './types.js';

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  file: string;
  line: number;
  column: number;
  hint?: string;
}

export interface LoadOptions {
  profile?: string;
  /** `--set key=value` strings, in order. */
  set?: string[];
}

export interface LoadResult {
  plan: Plan | null;
  diagnostics: Diagnostic[];
}

export async function loadPlan(_file: string, _options: LoadOptions = {}): Promise<LoadResult> {
  throw new Error('loadPlan is not implemented yet');
}
