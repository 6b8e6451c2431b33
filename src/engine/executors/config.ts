// Which executor a run uses and with what settings. Three sources, the first that says wins:
// the command line (--executor, --partition, --account, --time, --sbatch-flag), a config file
// (--executor-config FILE), the workflow's `executor:` section. Default: local.
import { readFileSync } from 'node:fs';
import type { ExecutorDecl } from '../../workflow/types.js';
import { ReproError } from '../../core/errors.js';

export interface ExecutorCliOptions {
  executor?: string;
  executorConfig?: string;
  partition?: string;
  account?: string;
  time?: string;
  sbatchFlag?: string[];
}

const KEYS = ['type', 'partition', 'account', 'time', 'flags', 'poll'] as const;

/** Reads and checks an executor config file (YAML or JSON, the same keys as the workflow's `executor:`). */
export async function readExecutorConfig(file: string): Promise<ExecutorDecl> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ReproError(`--executor-config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'invalid');
  }
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new ReproError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'invalid');
  }
  // A file with an `executor:` key (like a workflow's) or the settings themselves.
  if (value && typeof value === 'object' && 'executor' in value) value = (value as { executor: unknown }).executor;
  return checkDecl(value ?? {}, file);
}

export function checkDecl(value: unknown, where: string): ExecutorDecl {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ReproError(`${where}: expected a mapping of executor settings (${KEYS.join(', ')})`, 'invalid');
  const d = value as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new ReproError(`${where}: unknown executor setting \`${k}\``, 'invalid', `settings: ${KEYS.join(', ')}`);
  }
  if (d.type !== undefined && d.type !== 'local' && d.type !== 'slurm') throw new ReproError(`${where}: executor type must be local or slurm, got ${JSON.stringify(d.type)}`, 'invalid');
  for (const k of ['partition', 'account', 'time'] as const) {
    if (d[k] !== undefined && (typeof d[k] !== 'string' || d[k] === '')) throw new ReproError(`${where}: \`${k}\` must be a non-empty string`, 'invalid');
  }
  if (d.flags !== undefined && !(Array.isArray(d.flags) && d.flags.every((f) => typeof f === 'string'))) throw new ReproError(`${where}: \`flags\` must be a list of sbatch flags`, 'invalid');
  if (d.poll !== undefined && !(typeof d.poll === 'number' && d.poll > 0)) throw new ReproError(`${where}: \`poll\` must be a positive number of seconds`, 'invalid');
  return d as ExecutorDecl;
}

/** The settings in force: command line over config file over workflow. */
export async function executorSettings(opts: ExecutorCliOptions, workflow: ExecutorDecl | undefined): Promise<Required<Pick<ExecutorDecl, 'type'>> & ExecutorDecl> {
  const file = opts.executorConfig ? await readExecutorConfig(opts.executorConfig) : {};
  const wf = workflow ?? {};
  if (opts.executor !== undefined && opts.executor !== 'local' && opts.executor !== 'slurm') {
    throw new ReproError(`--executor must be local or slurm, got '${opts.executor}'`, 'invalid');
  }
  const type = (opts.executor ?? file.type ?? wf.type ?? 'local') as 'local' | 'slurm';
  const cli: ExecutorDecl = {
    ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
    ...(opts.account !== undefined ? { account: opts.account } : {}),
    ...(opts.time !== undefined ? { time: opts.time } : {}),
    ...(opts.sbatchFlag?.length ? { flags: opts.sbatchFlag } : {}),
  };
  if (type === 'local' && Object.keys(cli).length) {
    const given = Object.keys(cli).map((k) => `--${k === 'flags' ? 'sbatch-flag' : k}`);
    throw new ReproError(`${given.join(', ')}: only for the Slurm executor`, 'invalid', 'add --executor slurm');
  }
  return { ...wf, ...file, ...cli, type };
}

/** The executor for a run; undefined means the engine's default (local). */
export async function createExecutor(
  opts: ExecutorCliOptions,
  workflow: ExecutorDecl | undefined,
): Promise<import('./types.js').StepExecutor | undefined> {
  const s = await executorSettings(opts, workflow);
  if (s.type === 'local') return undefined;
  const { SlurmExecutor } = await import('./slurm.js');
  return new SlurmExecutor({
    ...(s.partition ? { partition: s.partition } : {}),
    ...(s.account ? { account: s.account } : {}),
    ...(s.time ? { time: s.time } : {}),
    ...(s.flags ? { flags: s.flags } : {}),
    ...(s.poll ? { poll: s.poll } : {}),
  });
}
