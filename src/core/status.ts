// How a step of a run ended: shared by the engine's events, run.json and history.
export type StepStatus = 'succeeded' | 'cached' | 'failed' | 'skipped' | 'interrupted';
