// Fixture workflow steps that several test folders run, as YAML text to splice under `steps:`.

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
