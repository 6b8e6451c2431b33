// Plans built in code (the workflow loader is tested elsewhere): `run` steps running real
// `node -e` / sh commands, in a fresh temporary project directory per test.
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { ConcreteStep, OutputRef, Plan, StepDecl } from '../../src/workflow/types.js';
import { removeTree } from '../../src/engine/store.js';

const created: string[] = [];
// Stores hold read-only trees: removeTree makes them writable first.
afterAll(() => {
  for (const dir of created) removeTree(dir);
});

export interface StepSpec {
  id: string;
  stepId?: string;
  uses?: string;
  with: Record<string, unknown>;
  deps?: string[];
  outputs?: Record<string, string>;
  cpu?: number;
  gpu?: number;
  matrix?: Record<string, unknown>;
}

export function tempProject(prefix = 'repro-engine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  mkdirSync(join(dir, 'wf'), { recursive: true });
  return dir;
}

export function ref(step: string, output: string): OutputRef {
  return { $ref: { step, output } };
}

export function makePlan(
  project: string,
  steps: StepSpec[],
  extra: { name?: string; params?: Record<string, unknown>; secretParams?: string[] } = {},
): Plan {
  const decls: Record<string, StepDecl> = {};
  const concrete: ConcreteStep[] = steps.map((s) => {
    const stepId = s.stepId ?? s.id;
    decls[stepId] = { id: stepId, uses: s.uses ?? 'run', needs: [], with: s.with, ...(s.outputs ? { outputs: s.outputs } : {}) };
    return {
      id: s.id,
      stepId,
      uses: s.uses ?? 'run',
      matrix: s.matrix ?? {},
      with: s.with,
      deps: s.deps ?? [],
      resources: { cpu: s.cpu ?? 1, gpu: s.gpu ?? 0, memory: 0 },
      outputs: Object.keys(s.outputs ?? {}),
    };
  });
  return {
    workflow: {
      file: join(project, 'wf', 'test.yaml'),
      dir: join(project, 'wf'),
      sha256: '0'.repeat(64),
      name: extra.name ?? 'test-wf',
      params: {},
      profiles: {},
      steps: decls,
      ranges: new Map(),
    },
    profile: null,
    params: extra.params ?? {},
    secretParams: extra.secretParams ?? [],
    steps: concrete,
  };
}

/** A `node -e` command line for a run step (the script is JSON-quoted for sh). */
export function nodeCmd(script: string): string[] {
  return [process.execPath, '-e', script];
}
