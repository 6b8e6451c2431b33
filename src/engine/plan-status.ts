// What `repro run` would do, without running anything or taking the lock: for each concrete step,
// its fingerprint (when every upstream is cached, so its inputs are known), whether the cache has
// it, and otherwise why it would run. `repro plan` and `repro why` print this.
import { resolve } from 'node:path';
import type { Plan } from '../workflow/types.js';
import type { StepKind } from '../steps/kind.js';
import type { ArtifactRecord } from '../formats/run-record.js';
import { Store } from './store.js';
import { SecretMask } from './secrets.js';
import { diffComponents, diffParams, resolveStep, UpstreamPending, type FingerprintComponents } from './fingerprint.js';
import { readHistory, whyRun, type HistoryEntry } from './history.js';

export interface StepPlanStatus {
  step: string;
  /** null when it cannot be known yet (an upstream step must run first). */
  fingerprint: string | null;
  status: 'cached' | 'would run';
  /** Why it would run: 'no cache entry', 'param epochs changed', 'upstream train[…] would run'... */
  reason: string;
}

export interface PlanStatusOptions {
  store?: string;
  force?: string[];
  stepOptions?: Record<string, unknown>;
  /** Step kinds by name: handed in by the CLI (the registry, src/steps/registry.ts) or a test. */
  kinds: (name: string) => StepKind<any> | undefined;
}

/** Everything known about one step before running: planStatus' line plus the detail `why` prints. */
export interface StepAssessment extends StepPlanStatus {
  components: FingerprintComponents | null;
  previous: HistoryEntry | null;
  /** The upstream step whose outputs are not known yet, when fingerprint is null for that reason. */
  pendingUpstream?: string;
}

export async function assessPlan(plan: Plan, options: PlanStatusOptions): Promise<StepAssessment[]> {
  const store = new Store(options.store ?? resolve(process.cwd(), '.repro'));
  const lookupKind = options.kinds;
  const history = readHistory(store, plan.workflow.name, plan.profile);
  const secrets = new SecretMask();
  for (const name of plan.secretParams) secrets.add(plan.params[name]);
  const force = new Set(options.force ?? []);
  const known = new Map<string, Record<string, ArtifactRecord>>();
  const out: StepAssessment[] = [];
  const byId = new Map<string, StepAssessment>();
  for (const step of plan.steps) {
    const previous = history.steps[step.id] ?? null;
    const a: StepAssessment = { step: step.id, fingerprint: null, status: 'would run', reason: '', components: null, previous };
    out.push(a);
    byId.set(step.id, a);
    const kind = lookupKind(step.uses);
    if (!kind) {
      a.reason = `unknown step kind '${step.uses}'`;
      continue;
    }
    const upstream = step.deps.find((d) => !known.has(d));
    if (upstream) {
      a.pendingUpstream = upstream;
      a.reason = `upstream ${upstream} would run`;
      continue;
    }
    try {
      const r = await resolveStep(step, kind, {
        workflowDir: plan.workflow.dir,
        store,
        secrets,
        outputsOf: (id) => known.get(id),
        options: options.stepOptions ?? {},
        declaredOutputs: kind.outputs === null ? plan.workflow.steps[step.stepId]?.outputs : undefined,
      });
      a.fingerprint = r.fingerprint;
      a.components = r.components;
      const forced = force.has(step.id) || force.has(step.stepId);
      const entry = forced ? null : store.readCacheEntry(r.fingerprint);
      const problem = entry ? await store.checkOutputs(entry.outputs).catch((e: Error) => e.message) : null;
      if (entry && !problem) {
        a.status = 'cached';
        a.reason = 'cache hit';
        known.set(step.id, entry.outputs);
      } else {
        a.reason = forced ? 'forced (--force)' : (problem ?? whyRun(history, { step, resolved: r }));
      }
    } catch (err) {
      if (err instanceof UpstreamPending) {
        a.pendingUpstream = err.step;
        a.reason = `upstream ${err.step} would run`;
      } else a.reason = `cannot run: ${secrets.mask((err as Error).message)}`;
    }
  }
  return out;
}

export async function planStatus(plan: Plan, options: PlanStatusOptions): Promise<StepPlanStatus[]> {
  return (await assessPlan(plan, options)).map(({ step, fingerprint, status, reason }) => ({ step, fingerprint, status, reason }));
}

/**
 * `repro why`: for each matching concrete step, the lines that explain what changed since the
 * last run of that step id. `stepId` may be a concrete id or a declared id (all its instances).
 */
export async function explainSteps(plan: Plan, stepId: string, options: PlanStatusOptions): Promise<Array<{ step: string; lines: string[] }> | null> {
  const all = await assessPlan(plan, options);
  const wanted = plan.steps.filter((s) => s.id === stepId || s.stepId === stepId).map((s) => s.id);
  if (wanted.length === 0) return null;
  const publicParams: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plan.params)) publicParams[k] = plan.secretParams.includes(k) ? '***' : v;
  return all
    .filter((a) => wanted.includes(a.step))
    .map((a) => {
      const lines: string[] = [];
      const prev = a.previous;
      if (a.status === 'cached') {
        const same = prev?.fingerprint === a.fingerprint;
        lines.push(
          same
            ? `cached: nothing changed since its last run (fingerprint ${a.fingerprint!.slice(0, 12)}…)`
            : `cached: an earlier run with these exact inputs is in the cache (fingerprint ${a.fingerprint!.slice(0, 12)}…)`,
        );
        if (!same && prev) for (const d of diffComponents(prev.components, a.components!)) lines.push(`  since its last run: ${d}`);
        return { step: a.step, lines };
      }
      if (!a.components) {
        lines.push(a.reason);
        if (a.pendingUpstream) {
          lines.push(`  (its inputs are known only after ${a.pendingUpstream} runs: \`repro why FILE ${a.pendingUpstream}\` says why that one runs)`);
        }
        return { step: a.step, lines };
      }
      if (!prev) {
        lines.push('no previous run');
        return { step: a.step, lines };
      }
      if (prev.fingerprint === a.fingerprint) {
        lines.push(`would run: ${a.reason} (fingerprint ${a.fingerprint!.slice(0, 12)}… unchanged since ${prev.time})`);
        return { step: a.step, lines };
      }
      lines.push(`would run: fingerprint ${prev.fingerprint.slice(0, 12)}… → ${a.fingerprint!.slice(0, 12)}… since the run of ${prev.time} (${prev.runId}):`);
      for (const d of diffComponents(prev.components, a.components)) lines.push(`  ${d}`);
      const params = diffParams(prev.params, publicParams);
      if (params.length) lines.push(`  params changed since then: ${params.join('; ')}`);
      return { step: a.step, lines };
    });
}
