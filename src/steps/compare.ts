import type { StepKind } from './kind.js';

// Placeholder until the kind is implemented; the registry needs every name to exist.
export const compareStep: StepKind = {
  name: 'compare',
  version: '0',
  description: 'not implemented yet',
  withSchema: { type: 'object' },
  outputs: [],
  async run() {
    throw new Error("step kind 'compare' is not implemented yet");
  },
};
