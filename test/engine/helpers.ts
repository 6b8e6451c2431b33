// Plans built in code (the workflow loader is tested elsewhere): `run` steps running real
// `node -e` / sh commands, in a fresh temporary project directory per test.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConcreteStep, OutputRef, Plan, StepDecl } from '../../src/workflow/types.js';
import { tempDir } from '../support/index.js';

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

/** A temporary project folder with an empty wf/ (where makePlan's workflow file would be). */
export function tempProject(prefix = 'repro-engine-'): string {
  const dir = tempDir(prefix);
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
