// Which executor a run uses and with what settings. Three sources, the first that says wins:
// the command line (--executor, --partition, --account, --time, --sbatch-flag), a config file
// (--executor-config FILE), the workflow's `executor:` section. Default: local.
import { readFileSync } from 'node:fs';
import { CliError, ExitCode } from '../../cli/exit-codes.js';
import type { ExecutorDecl } from '../../workflow/types.js';

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
    throw new CliError(`--executor-config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ExitCode.INVALID);
  }
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new CliError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, ExitCode.INVALID);
  }
  // A file with an `executor:` key (like a workflow's) or the settings themselves.
  if (value && typeof value === 'object' && 'executor' in value) value = (value as { executor: unknown }).executor;
  return checkDecl(value ?? {}, file);
}

export function checkDecl(value: unknown, where: string): ExecutorDecl {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${where}: expected a mapping of executor settings (${KEYS.join(', ')})`, ExitCode.INVALID);
  const d = value as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new CliError(`${where}: unknown executor setting \`${k}\``, ExitCode.INVALID, `settings: ${KEYS.join(', ')}`);
  }
  if (d.type !== undefined && d.type !== 'local' && d.type !== 'slurm') throw new CliError(`${where}: executor type must be local or slurm, got ${JSON.stringify(d.type)}`, ExitCode.INVALID);
  for (const k of ['partition', 'account', 'time'] as const) {
    if (d[k] !== undefined && (typeof d[k] !== 'string' || d[k] === '')) throw new CliError(`${where}: \`${k}\` must be a non-empty string`, ExitCode.INVALID);
  }
  if (d.flags !== undefined && !(Array.isArray(d.flags) && d.flags.every((f) => typeof f === 'string'))) throw new CliError(`${where}: \`flags\` must be a list of sbatch flags`, ExitCode.INVALID);
  if (d.poll !== undefined && !(typeof d.poll === 'number' && d.poll > 0)) throw new CliError(`${where}: \`poll\` must be a positive number of seconds`, ExitCode.INVALID);
  return d as ExecutorDecl;
}

/** The settings in force: command line over config file over workflow. */
export async function executorSettings(opts: ExecutorCliOptions, workflow: ExecutorDecl | undefined): Promise<Required<Pick<ExecutorDecl, 'type'>> & ExecutorDecl> {
  const file = opts.executorConfig ? await readExecutorConfig(opts.executorConfig) : {};
  const wf = workflow ?? {};
  if (opts.executor !== undefined && opts.executor !== 'local' && opts.executor !== 'slurm') {
    throw new CliError(`--executor must be local or slurm, got '${opts.executor}'`, ExitCode.INVALID);
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
    throw new CliError(`${given.join(', ')}: only for the Slurm executor`, ExitCode.INVALID, 'add --executor slurm');
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
