// Workflow analyzer speed (`npm run bench workflow`):
//   workflow.validate.1000-steps        loadPlan (read, parse, schema, references, cycles, matrix,
//                                       expressions, kind schemas) of a generated 1,000-step workflow,
//                                       median of 5 warm runs
//   workflow.validate.1000-steps.cpu    the same runs' process CPU time (steadier on a busy machine)
//   workflow.validate.1000-steps.cold   the first run in the process (includes compiling the schemas)
//   workflow.validate.cli               wall time of `repro validate workflows/paper.yaml` (node start included)
//   cli.startup.plan                    wall time of `repro plan workflows/paper.yaml`, median of 5 (start-up:
//                                       node, the command line's imports, the kinds, parse and plan)
// Pure JavaScript: no ML backend is involved.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../workflow/index.js';
import { stepKinds } from '../steps/registry.js';

const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));
const PAPER = fileURLToPath(new URL('../../workflows/paper.yaml', import.meta.url));

/**
 * 1,000 declared steps with the features a real workflow uses: params, needs, step-output
 * references (bound and embedded), resources, and a matrix on every 50th step.
 */
export function generateWorkflow(steps = 1000): string {
  const out = [
    'name: bench-1000',
    'params:',
    '  host: {type: string, default: example.org}',
    '  retries: {type: integer, default: 2}',
    '  seeds: {type: array, default: [1, 2, 3]}',
    'profiles:',
    '  fast: {default: true, params: {retries: 0}}',
    'steps:',
  ];
  for (let i = 0; i < steps; i++) {
    out.push(`  s${i}:`, '    uses: fetch');
    if (i > 0) out.push(`    needs: [s${i - 1}]`);
    if (i % 50 === 49) out.push('    matrix: {seed: "${{ params.seeds }}"}');
    out.push('    resources: {cpu: 1, memory: 64MiB}', '    with:', '      sources:');
    out.push(`        - "https://\${{ params.host }}/data/f${i}-\${{ profile }}.npz"`);
    if (i > 0) out.push(`        - "\${{ steps.s${Math.floor(i / 2)}.outputs.path }}"`);
    out.push(`      sha256: "${i.toString(16).padStart(64, '0')}"`, '      retries: ${{ params.retries }}');
  }
  return out.join('\n') + '\n';
}

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-workflow-'));
  try {
    const file = join(dir, 'bench-1000.yaml');
    writeFileSync(file, generateWorkflow());
    const c0 = performance.now();
    const first = await loadPlan(file, { kinds: stepKinds });
    const cold = performance.now() - c0;
    if (!first.plan) throw new Error(`bench workflow invalid: ${first.diagnostics.slice(0, 3).map((d) => `${d.line}:${d.column} ${d.message}`).join('; ')}`);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await loadPlan(file, { kinds: stepKinds });
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      if (!r.plan) throw new Error('bench workflow became invalid');
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const concrete = first.plan.steps.length;
    console.log(`bench: workflow.validate.1000-steps ${times[2]!.toFixed(0)} ms (${concrete} concrete steps, median of 5; cpu, no ML backend)`);
    // CPU time is the steadier figure on a shared machine, where wall time includes waiting for a core.
    console.log(`bench: workflow.validate.1000-steps.cpu ${cpu[2]!.toFixed(0)} ms (process CPU time of the same runs, median)`);
    console.log(`bench: workflow.validate.1000-steps.cold ${cold.toFixed(0)} ms (first run: includes compiling the schemas)`);

    const w0 = performance.now();
    const cli = spawnSync(process.execPath, [BIN, 'validate', PAPER], { encoding: 'utf8' });
    const wall = performance.now() - w0;
    // paper.yaml may be mid-edit by the flagship issue: report the time either way, and the outcome.
    console.log(`bench: workflow.validate.cli ${wall.toFixed(0)} ms (repro validate workflows/paper.yaml, exit ${cli.status}, node start included)`);

    const plans: number[] = [];
    let planStatus: number | null = null;
    for (let i = 0; i < 5; i++) {
      const p0 = performance.now();
      planStatus = spawnSync(process.execPath, [BIN, 'plan', PAPER], { encoding: 'utf8', cwd: dir }).status;
      plans.push(performance.now() - p0);
    }
    plans.sort((a, b) => a - b);
    console.log(`bench: cli.startup.plan ${plans[2]!.toFixed(0)} ms (repro plan workflows/paper.yaml, median of 5, exit ${planStatus}, node start included)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
