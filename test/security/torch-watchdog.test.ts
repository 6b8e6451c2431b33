// The PyTorch engine's Python child runs under the same kill -9 watchdog as a `run` step's command
// (issue 21, item 7): after `kill -9` of repro, the engine and whatever it started (here a process
// that the engine's interpreter starts at startup through sitecustomize, as a data-loader worker
// would) do not keep running for nobody.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRepro, until } from '../support/index.js';
import { torch, writeTinyDataset } from '../torch/helpers.js';
import { project, tempDir } from './helpers.js';

const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.skipIf(!torch)('kill -9 of repro during a torch training', { timeout: 120_000 }, () => {
  it("ends the engine's process group", async () => {
    const dataset = writeTinyDataset(join(tempDir('repro-sec-torch-data-'), 'tiny'));
    const hooks = tempDir('repro-sec-torch-hooks-');
    const pids = tempDir('repro-sec-torch-pids-');
    // Runs at the start of every Python of this test; in the engine's `train` it starts a helper.
    writeFileSync(
      join(hooks, 'sitecustomize.py'),
      `import os, subprocess, sys
if 'train' in sys.argv[1:2]:
    helper = subprocess.Popen(['sleep', '300'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    open(os.path.join(${JSON.stringify(pids)}, 'pids.tmp'), 'w').write('%d %d' % (os.getpid(), helper.pid))
    os.rename(os.path.join(${JSON.stringify(pids)}, 'pids.tmp'), os.path.join(${JSON.stringify(pids)}, 'pids'))
`,
    );
    const dir = project(`name: torch-k9
steps:
  train:
    uses: train
    with:
      dataset: ${JSON.stringify(dataset)}
      engine: torch
      model: {arch: small-cnn, width: 0.25}
      loss: {kind: xe}
      epochs: 500
      batch_size: 8
      seed: 1
`);
    const { child } = startRepro(['run', 'wf.yaml', '--no-report'], { cwd: dir, env: { PYTHONPATH: hooks } });
    const file = join(pids, 'pids');
    await until(() => existsSync(file), 90_000, 'the engine to start');
    const [engine, helper] = readFileSync(file, 'utf8').split(' ').map(Number) as [number, number];
    try {
      expect(alive(engine) && alive(helper)).toBe(true);
      child.kill('SIGKILL');
      await until(() => !alive(engine) && !alive(helper), 15_000).catch(() => undefined);
      expect([engine, helper].filter(alive)).toEqual([]);
    } finally {
      for (const pid of [engine, helper]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
