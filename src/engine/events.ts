// Everything the executor has to say, as typed events. The terminal renderer and the --json
// renderer (one JSON object per line) are both plain consumers of this stream.

import type { ExecutionFacts } from '../core/facts.js';
import type { StepStatus } from '../core/status.js';

export type RunEvent =
  | { type: 'run-started'; runId: string; workflow: string; steps: number; time: string }
  | {
      type: 'step-started';
      step: string;
      fingerprint: string;
      reason: string;
      time: string;
      /** How long this step took when it last ran, for the ETA. */
      estimateMs?: number;
      /** GPU indices given to the step (absent when none). */
      gpus?: number[];
    }
  | { type: 'step-progress'; step: string; fraction: number | null; message: string; time: string }
  | { type: 'step-log'; step: string; line: string; time: string }
  | { type: 'step-cached'; step: string; fingerprint: string; time: string }
  | {
      type: 'step-finished';
      step: string;
      fingerprint: string;
      durationMs: number;
      summary?: string;
      facts?: ExecutionFacts;
      time: string;
    }
  | { type: 'step-failed'; step: string; error: string; hint?: string; logFile?: string; time: string }
  | { type: 'step-skipped'; step: string; because: string; time: string }
  | {
      type: 'run-finished';
      runId: string;
      status: 'succeeded' | 'failed' | 'interrupted';
      counts: Record<StepStatus, number>;
      durationMs: number;
      record: string;
      time: string;
    };

export type EventListener = (event: RunEvent) => void;
