import { describe, expect, it } from 'vitest';
import { trainStep } from '../../src/steps/train.js';

// On wasm and cpu a batch is cut into the training's shards, whatever threads run them: the shard count
// (recorded as `threads`, the name it had when it always equalled the thread count) enters the
// fingerprint, the machine's thread count does not. Without `shards:` it is 2, so a workflow written
// before shards existed keeps the fingerprint it had on the 2-thread machine its numbers came from.
describe('train plannedFacts', () => {
  const w = { dataset: '/nonexistent', engine: 'tfjs', loss: { kind: 'xe' }, epochs: 1 } as never;
  it('plans the default shard count on 1, 2 or 16 threads', async () => {
    for (const threads of [1, 2, 16]) {
      expect(await trainStep.plannedFacts!(w, { backend: 'cpu', threads })).toEqual({ engine: 'tfjs', backend: 'cpu', device: 'cpu', threads: 2 });
    }
  });
  it('plans an explicit shard count', async () => {
    const three = await trainStep.plannedFacts!({ ...(w as object), shards: 3 } as never, { backend: 'wasm', threads: 1 });
    expect(three).toMatchObject({ backend: 'wasm', threads: 3 });
  });
});
