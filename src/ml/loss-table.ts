// The one table of losses: each kind, its parameters with their defaults and JSON Schema, and what
// it can do. The TypeScript types (LossKind, LossSpec), the train step's JSON Schema for `loss`, the
// checks and the torch engine's list (engines/torch/loss_table.json, written from this table by
// `npm run build`) all come from here; test/ml/loss-table.test.ts checks that they agree.
// Definitions of each loss: docs/ml.md; what the paper says and leaves open: docs/paper-notes.md.
// No tensors here: this module is read at plan time, before tfjs is loaded.

/** One parameter of a loss spec. `T` is its TypeScript type (a phantom: it types LossSpec). */
interface Parameter<T> {
  schema: Record<string, unknown>;
  /** Its value when the spec leaves it out; null when the default depends on the data (said in `description`). */
  default: T | null;
  description: string;
  /** The older camelCase spelling, still accepted and reported as deprecated by `repro validate`. */
  oldSpelling?: string;
  readonly type?: T;
}

const param = <T>(p: Omit<Parameter<T>, 'type'>): Parameter<T> => p;
const number = { type: 'number' };

export const LOSS_PARAMETERS = {
  positions: param<number[]>({
    schema: { type: 'array', items: number, minItems: 2 },
    default: null,
    description: 'Class positions on the line (default: the dataset manifest, else unit spacing).',
  }),
  l: param<number>({ schema: { type: 'number', exclusiveMinimum: 0 }, default: 2, description: 'emd2: exponent l (2: squared EMD).' }),
  normalize: param<boolean>({ schema: { type: 'boolean' }, default: true, description: 'emd2: multiply by 1/C (default true).' }),
  alpha: param<number | 'auto'>({
    schema: { oneOf: [{ type: 'number', minimum: 0 }, { const: 'auto' }] },
    default: 1,
    description: "xemd/learned: weight α of the EMD term, or 'auto' (EMD term ≈ XE/3.5 at the end of warm-up).",
  }),
  omega: param<number>({ schema: { type: 'number' }, default: 1, description: 'xemd/learned: exponent ω on D (default 1).' }),
  mu: param<number>({ schema: { type: 'number' }, default: 0.5, description: 'xemd/learned: offset μ (default 0.5; its sign in the paper is unknown).' }),
  warmup_epochs: param<number>({
    schema: { type: 'integer', minimum: 0 },
    default: 0,
    description: 'xemd/learned: epochs of XE alone first (default 0).',
    oldSpelling: 'warmupEpochs',
  }),
  ground_distance: param<number[][]>({
    schema: { type: 'array', items: { type: 'array', items: number } },
    default: null,
    description: 'xemd: the C×C ground distance (default |pos_i − pos_k| scaled to [0,1]); learned: its starting value (default uniform).',
    oldSpelling: 'groundDistance',
  }),
  lambda: param<number>({ schema: { type: 'number', exclusiveMinimum: 0 }, default: 1, description: 'sinkhorn: λ (default 1).' }),
  iterations: param<number>({ schema: { type: 'integer', minimum: 1 }, default: 100, description: 'sinkhorn: Sinkhorn iterations (default 100).' }),
};

export type LossParameter = keyof typeof LOSS_PARAMETERS;

export interface LossCapabilities {
  /** Reads the class order (positions): on a dataset without order it uses the index order. */
  ordered: boolean;
  /** XE plus α times an EMD term over a ground distance D: warm-up, α (maybe 'auto'), ω, μ apply. */
  emdTerm: boolean;
  /** D is learned from the features after each epoch (needs a pass over the training split). */
  learnsGroundDistance: boolean;
  /** The prediction is the class whose position is nearest to output z_0, not the argmax. */
  regression: boolean;
}

interface LossEntry {
  summary: string;
  /** The parameters this kind reads (the schema accepts every parameter on every kind, as before). */
  parameters: readonly LossParameter[];
  capabilities: LossCapabilities;
}

const plain: LossCapabilities = { ordered: true, emdTerm: false, learnsGroundDistance: false, regression: false };
const TERM = ['alpha', 'omega', 'mu', 'warmup_epochs', 'ground_distance'] as const;

export const LOSSES = {
  xe: { summary: 'softmax cross-entropy', parameters: [], capabilities: { ...plain, ordered: false } },
  emd2: { summary: "squared EMD of the softmax's CDF against the label's (Hou, Yu & Samaras)", parameters: ['positions', 'l', 'normalize'], capabilities: plain },
  xemd: { summary: 'XE + α · Σ p_i² (D^ω + μ) over a fixed ground distance', parameters: ['positions', ...TERM], capabilities: { ...plain, emdTerm: true } },
  learned: {
    summary: 'XE + α · the EMD term over a ground distance learned from the features each epoch',
    parameters: TERM,
    capabilities: { ...plain, ordered: false, emdTerm: true, learnsGroundDistance: true },
  },
  reg: { summary: 'L2 regression of output z_0 on the class position', parameters: ['positions'], capabilities: { ...plain, regression: true } },
  sinkhorn: { summary: 'entropic optimal transport by Sinkhorn scaling (Frogner et al.)', parameters: ['positions', 'lambda', 'iterations'], capabilities: plain },
} as const satisfies Record<string, LossEntry>;

export type LossKind = keyof typeof LOSSES;

type ParameterType<P extends LossParameter> = (typeof LOSS_PARAMETERS)[P] extends Parameter<infer T> ? T : never;

/** A loss as the user writes it (and both engines receive it): its kind and any parameters. */
export type LossSpec = { kind: LossKind } & { [P in LossParameter]?: ParameterType<P> };

export const LOSS_KINDS = Object.keys(LOSSES) as LossKind[];

export function capabilities(kind: LossKind): LossCapabilities {
  return LOSSES[kind].capabilities;
}

/** The parameter's value in `spec`, or its default. */
export function lossParameter<P extends LossParameter>(spec: LossSpec, name: P): ParameterType<P> | null {
  const given = spec[name] as ParameterType<P> | undefined;
  return given !== undefined ? given : (LOSS_PARAMETERS[name].default as ParameterType<P> | null);
}

/** old spelling → parameter name (warmupEpochs → warmup_epochs). */
export const LOSS_OLD_SPELLINGS: ReadonlyMap<string, LossParameter> = new Map(
  Object.entries(LOSS_PARAMETERS).flatMap(([name, p]) => ('oldSpelling' in p && p.oldSpelling ? [[p.oldSpelling, name as LossParameter]] : [])),
);

/** The spec with old spellings replaced by the current ones (a key given both ways keeps the current one). */
export function canonicalLossSpec(spec: LossSpec): LossSpec {
  const raw = spec as Record<string, unknown>;
  if (!Object.keys(raw).some((k) => LOSS_OLD_SPELLINGS.has(k))) return spec;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = LOSS_OLD_SPELLINGS.get(key);
    if (name === undefined) out[key] = value;
    else if (!(name in raw)) out[name] = value;
  }
  return out as LossSpec;
}

/** docs/paper-notes.md: reimplementations fix α so that the EMD term is about XE / 3.5 at the end of warm-up. */
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
export function lossSpecProblems(given: LossSpec, classes?: number, options: { schemaChecked?: boolean } = {}): Array<{ path: string; message: string }> {
  const spec = canonicalLossSpec(given);
  const problems: Array<{ path: string; message: string }> = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const basic = (path: string, message: string) => {
    if (!options.schemaChecked) add(path, message);
  };
  if (!Object.hasOwn(LOSSES, spec.kind)) basic('kind', `unknown loss '${spec.kind}' (expected one of ${LOSS_KINDS.join(', ')})`);
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
  if (spec.ground_distance) {
    const d = spec.ground_distance;
    if ((classes !== undefined && d.length !== classes) || d.some((row) => row.length !== d.length)) {
      add('ground_distance', `must be a ${classes ?? 'C'}×${classes ?? 'C'} matrix`);
    } else if (d.some((row) => row.some((v) => !(v >= 0)))) {
      add('ground_distance', 'entries must be ≥ 0');
    }
  }
  if (spec.alpha !== undefined && spec.alpha !== 'auto' && !(spec.alpha >= 0)) basic('alpha', "α must be ≥ 0 or 'auto'");
  if (spec.warmup_epochs !== undefined && !(Number.isInteger(spec.warmup_epochs) && spec.warmup_epochs >= 0)) {
    basic('warmup_epochs', 'must be an integer ≥ 0');
  }
  if (spec.kind === 'sinkhorn') {
    const lambda = lossParameter(spec, 'lambda')!;
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

/** The JSON Schema of `loss` in the train step's `with` (old spellings accepted, marked deprecated). */
export function lossJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = { kind: { enum: [...LOSS_KINDS] } };
  for (const [name, p] of Object.entries(LOSS_PARAMETERS)) {
    properties[name] = { ...p.schema, description: p.description };
    if ('oldSpelling' in p && p.oldSpelling) properties[p.oldSpelling] = { ...p.schema, deprecated: true, description: `Old spelling of ${name}.` };
  }
  return { type: 'object', additionalProperties: false, required: ['kind'], description: 'The loss (docs/ml.md gives each exact definition).', properties };
}

/**
 * What the torch engine reads (engines/torch/loss_table.json): every parameter's default, and per kind
 * the parameters it reads and its capabilities, in snake_case as Python spells them.
 */
export function torchLossTable(): Record<string, unknown> {
  const kinds: Record<string, unknown> = {};
  for (const kind of LOSS_KINDS) {
    const { parameters, capabilities: c } = LOSSES[kind];
    kinds[kind] = {
      parameters,
      capabilities: { ordered: c.ordered, emd_term: c.emdTerm, learns_ground_distance: c.learnsGroundDistance, regression: c.regression },
    };
  }
  const defaults = Object.fromEntries(Object.entries(LOSS_PARAMETERS).map(([name, p]) => [name, p.default]));
  return { generated_by: 'src/ml/loss-table.ts (npm run build)', defaults, kinds };
}

/** engines/torch/loss_table.json as the build writes it. */
export const TORCH_LOSS_TABLE_FILE = new URL('../../engines/torch/loss_table.json', import.meta.url);

export function torchLossTableText(): string {
  return `${JSON.stringify(torchLossTable(), null, 2)}\n`;
}
