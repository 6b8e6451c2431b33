// How a step of a run ended: shared by the engine's events, run.json and history.
export const STEP_STATUSES = ['succeeded', 'cached', 'failed', 'skipped', 'interrupted'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
