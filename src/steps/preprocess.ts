import type { StepKind } from './kind.js';

// Placeholder until the kind is implemented; the registry needs every name to exist.
export const preprocessStep: StepKind = {
  name: 'preprocess',
  version: '0',
  description: 'not implemented yet',
  withSchema: { type: 'object' },
  outputs: [],
  async run() {
    throw new Error("step kind 'preprocess' is not implemented yet");
  },
};
