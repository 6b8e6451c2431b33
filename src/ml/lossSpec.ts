// Loss specs without tensors: the defaults and the checks, usable at plan time (no tfjs loaded).
import type { LossKind, LossSpec } from './types.js';

export const LOSS_KINDS: readonly LossKind[] = ['xe', 'emd2', 'xemd', 'learned', 'reg', 'sinkhorn'];

/** paper.md: reimplementations fix α so that the EMD term is about XE / 3.5 at the end of warm-up. */
export const AUTO_ALPHA_RATIO = 3.5;
/** float32 exp(−x) underflows to 0 near x ≈ 87; past this the Sinkhorn kernel loses whole entries. */
export const SINKHORN_MAX_EXPONENT = 80;

export function unitPositions(classes: number): number[] {
  return Array.from({ length: classes }, (_, i) => i);
}

/**
 * Problems with a loss spec, as messages naming the field; empty when it is valid. `schemaChecked`
 * skips what the train step's JSON Schema already reports (kinds and ranges), so plan time says each once.
 */
export function lossSpecProblems(spec: LossSpec, classes?: number, options: { schemaChecked?: boolean } = {}): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const basic = (path: string, message: string) => {
    if (!options.schemaChecked) add(path, message);
  };
  if (!LOSS_KINDS.includes(spec.kind)) basic('kind', `unknown loss '${spec.kind}' (expected one of ${LOSS_KINDS.join(', ')})`);
  if (spec.positions) {
    if (classes !== undefined && spec.positions.length !== classes) {
      add('positions', `has ${spec.positions.length} values for ${classes} classes`);
    }
    for (let i = 1; i < spec.positions.length; i++) {
      if (!(spec.positions[i] > spec.positions[i - 1])) {
        add('positions', 'class positions must be strictly increasing');
        break;
      }
    }
  }
  if (spec.l !== undefined && !(spec.l > 0)) basic('l', 'the EMD exponent l must be > 0');
  if (spec.groundDistance) {
    const d = spec.groundDistance;
    if ((classes !== undefined && d.length !== classes) || d.some((row) => row.length !== d.length)) {
      add('groundDistance', `must be a ${classes ?? 'C'}×${classes ?? 'C'} matrix`);
    } else if (d.some((row) => row.some((v) => !(v >= 0)))) {
      add('groundDistance', 'entries must be ≥ 0');
    }
  }
  if (spec.alpha !== undefined && spec.alpha !== 'auto' && !(spec.alpha >= 0)) basic('alpha', "α must be ≥ 0 or 'auto'");
  if (spec.warmupEpochs !== undefined && !(Number.isInteger(spec.warmupEpochs) && spec.warmupEpochs >= 0)) {
    basic('warmupEpochs', 'must be an integer ≥ 0');
  }
  if (spec.kind === 'sinkhorn') {
    const lambda = spec.lambda ?? 1;
    if (!(lambda > 0)) basic('lambda', 'λ must be > 0');
    if (spec.iterations !== undefined && !(Number.isInteger(spec.iterations) && spec.iterations >= 1)) {
      basic('iterations', 'must be an integer ≥ 1');
    }
    const positions = spec.positions ?? (classes !== undefined ? unitPositions(classes) : undefined);
    if (positions && positions.length > 1) {
      const maxCost = positions[positions.length - 1] - positions[0];
      if (lambda * maxCost > SINKHORN_MAX_EXPONENT) {
        add('lambda', `λ · max cost = ${lambda * maxCost} exceeds ${SINKHORN_MAX_EXPONENT}: exp(−λM) underflows in float32`);
      }
    }
  }
  return problems;
}
