// Fixture workflow steps that several test folders run, as YAML text to splice under `steps:`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A `train` step whose "training" is a script (`fake-train.mjs` in the workflow's folder) run once per
 * variant and seed, with VARIANT and SEED (and `env`) in its environment; it writes metrics.json and
 * history.json. The compare and report tests choose what the script writes.
 */
export function scriptedTrainStep(options: { variants?: string[]; seeds?: number[]; env?: Record<string, string> } = {}): string {
  const { variants = ['xe', 'emd2'], seeds = [1, 2, 3], env = {} } = options;
  const extra = Object.entries(env).map(([k, v]) => `\n        ${k}: ${v}`).join('');
  return `  train:
    uses: run
    matrix:
      variant: [${variants.join(', ')}]
      seed: [${seeds.join(', ')}]
    with:
      command: ['${process.execPath}', '\${{ workflow.dir }}/fake-train.mjs']
      inputs: [fake-train.mjs]
      env:
        VARIANT: \${{ matrix.variant }}
        SEED: \${{ matrix.seed }}${extra}
    outputs:
      metrics: metrics.json
      history: history.json
`;
}

/** A `train` step (one per seed) that copies `steps.make.outputs.out` into m.txt and appends its seed. */
export const SEEDED_COPY_STEP = `  train:
    uses: run
    matrix: {seed: [1, 2]}
    with:
      command: ["sh", "-c", "cat \\"$IN\\" > m.txt; echo seed $SEED >> m.txt"]
      env: {IN: "\${{ steps.make.outputs.out }}", SEED: "\${{ matrix.seed }}"}
    outputs: {model: m.txt}
`;

/**
 * A user's two-step project of `run` steps with Node scripts, as the README's newcomer writes one:
 * wf.yaml, `${scripts}/gen.mjs` (writes data.json) and `${scripts}/score.mjs` (writes metrics.json:
 * accuracy, plus `extra`, more members of the JS object literal).
 */
export function scriptProject(dir: string, opts: { name: string; scripts?: string; extra?: string }): string {
  const s = opts.scripts ? `${opts.scripts}/` : '';
  const file = (name: string, text: string) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  file(
    'wf.yaml',
    `name: ${opts.name}
steps:
  gen:
    uses: run
    with:
      command: [node, '\${{ workflow.dir }}/${s}gen.mjs']
    outputs: {data: data.json}
  score:
    uses: run
    with:
      command: 'node \${{ workflow.dir }}/${s}score.mjs "$DATA"'
      env: {DATA: '\${{ steps.gen.outputs.data }}'}
    outputs: {metrics: metrics.json}
`,
  );
  file(`${s}gen.mjs`, `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.REPRO_OUT + '/data.json', '{"n": 3}');\n`);
  file(
    `${s}score.mjs`,
    `import { readFileSync, writeFileSync } from 'node:fs';\nconst d = JSON.parse(readFileSync(process.argv[2], 'utf8'));\n` +
      `writeFileSync('metrics.json', JSON.stringify({ accuracy: d.n / 4${opts.extra ? `, ${opts.extra}` : ''} }));\n`,
  );
  return dir;
}
