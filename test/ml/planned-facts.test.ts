import { describe, expect, it } from 'vitest';
import { trainStep } from '../../src/steps/train.js';

// Data-parallel tfjs training splits each batch over its threads, so the thread count changes the
// weights (float sums in another order): it must change the fingerprint, or a re-run with --jobs 1
// would be served a model trained on two threads as if nothing differed.
describe('train plannedFacts', () => {
  const w = { dataset: '/nonexistent', engine: 'tfjs', loss: { kind: 'xe' }, epochs: 1 } as never;
  it('names the engine, backend, device and thread count that will run', async () => {
    const one = await trainStep.plannedFacts!(w, { backend: 'cpu', threads: 1 });
    const two = await trainStep.plannedFacts!(w, { backend: 'cpu', threads: 2 });
    expect(one).toMatchObject({ engine: 'tfjs', backend: 'cpu', device: 'cpu', threads: 1 });
    expect(two.threads).toBe(2);
  });
});
