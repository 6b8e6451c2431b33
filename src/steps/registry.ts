// Every step kind, by the name used in `uses:`. Adding a kind is one line here: what commands and
// reports need to know of it is its descriptor's `role` (test/steps/new-kind.test.ts).
import type { StepKind } from './kind.js';
import { fetchStep } from './fetch.js';
import { extractStep } from './extract.js';
import { datasetStep } from './dataset.js';
import { preprocessStep } from './preprocess.js';
import { trainStep } from './train.js';
import { evaluateStep } from './evaluate.js';
import { compareStep } from './compare.js';
import { reportStep } from './report.js';
import { runStep } from './run.js';

const kinds: StepKind<any>[] = [
  fetchStep,
  extractStep,
  datasetStep,
  preprocessStep,
  trainStep,
  evaluateStep,
  compareStep,
  reportStep,
  runStep,
];

export const stepKinds: ReadonlyMap<string, StepKind<any>> = new Map(kinds.map((k) => [k.name, k]));

export function getStepKind(name: string): StepKind<any> | undefined {
  return stepKinds.get(name);
}
