// The last run of each step id, per workflow and profile, kept in the store
// (history/<workflow>[@<profile>].json): its fingerprint components and the params of that run.
// `repro why` and `repro plan` diff against it, so a run under another profile never shows as a change.
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../core/atomic.js';
import { diffComponents, type FingerprintComponents, type ResolvedStep } from './fingerprint.js';
import type { ConcreteStep } from '../workflow/types.js';
import type { Store } from './store.js';
import type { StepStatus } from '../core/status.js';
import { nullRecord, toNullRecord } from '../core/names.js';

export const HISTORY_FORMAT = 'repro-history/1';

export interface HistoryEntry {
  fingerprint: string;
  components: FingerprintComponents;
  /** Params of that run, secrets as '***'. */
  params: Record<string, unknown>;
  status: StepStatus;
  time: string;
  /** How long the step took when it last actually ran (for the ETA). */
  durationMs?: number;
  runId: string;
}

export interface History {
  format: typeof HISTORY_FORMAT;
  workflow: string;
  profile?: string | null;
  steps: Record<string, HistoryEntry>;
}

export function readHistory(store: Store, workflow: string, profile: string | null): History {
  try {
    const h = JSON.parse(readFileSync(store.historyPath(workflow, profile), 'utf8')) as History;
    // Step ids are the user's names: the record of steps has no prototype (src/core/names.ts).
    if (h.format === HISTORY_FORMAT && h.steps) return { ...h, profile, steps: toNullRecord(h.steps) };
  } catch {
    /* none yet */
  }
  return { format: HISTORY_FORMAT, workflow, profile, steps: nullRecord() };
}

export function writeHistory(store: Store, history: History): void {
  writeJsonAtomic(store.historyPath(history.workflow, history.profile ?? null), history);
}

/** The reason a step must run, from its last recorded run. */
export function whyRun(history: History, st: { step: ConcreteStep; resolved?: ResolvedStep }): string {
  const prev = history.steps[st.step.id];
  if (!prev) return 'no previous run';
  if (!st.resolved) return 'fingerprint unknown';
  if (prev.fingerprint === st.resolved.fingerprint) {
    return prev.status === 'failed' || prev.status === 'interrupted' ? `previous attempt ${prev.status}` : 'no cache entry (removed?)';
  }
  const diff = diffComponents(prev.components, st.resolved.components);
  return diff.length ? diff.join('; ') : 'fingerprint changed';
}

