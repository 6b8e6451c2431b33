import type { StepKind } from './kind.js';

// Placeholder until the kind is implemented; the registry needs every name to exist.
export const fetchStep: StepKind = {
  name: 'fetch',
  version: '0',
  description: 'not implemented yet',
  withSchema: { type: 'object' },
  outputs: [],
  async run() {
    throw new Error("step kind 'fetch' is not implemented yet");
  },
};
