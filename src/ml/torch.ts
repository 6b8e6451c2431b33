// The launcher of the PyTorch engine (engines/torch/main.py): finds a Python with torch, runs the
// engine out of process (execa, no shell, arguments as an array), feeds it the same TrainConfig /
// EvalConfig JSON the tfjs trainer takes, turns its `::progress` lines into progress, and maps its
// failures to StepError. The files it writes follow the same contract as the tfjs engine's.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { EvalConfig, TrainConfig, TrainIO, TrainOutcome } from './types.js';
import { StepError } from '../core/errors.js';
import { killGroup, startWatchdog } from '../core/watchdog.js';
import type { ResultPromise } from 'execa';

export type Facts = Record<string, string | number | boolean | null>;

export interface TorchInfo {
  /** The interpreter that has torch (sys.executable: an absolute path). */
  python: string;
  /** torch.__version__ */
  torch: string;
  /** torch.cuda.is_available() */
  cuda: boolean;
  /** 'cuda' or 'cpu': where `auto` trains. */
  device: string;
  /** The GPU's name (cuda) or the CPU model. */
  deviceName?: string;
  /** The BLAS shared library actually loaded (from the process's memory map). */
  blas?: string;
  /** The Python version, e.g. '3.11.2'. */
  version?: string;
  /** Everything `main.py info` reported, as recorded facts. */
  facts?: Facts;
}

/** The engine's entry point; resolved from this file so it works from src/ (tests) and dist/. */
export const TORCH_ENGINE_MAIN = fileURLToPath(new URL('../../engines/torch/main.py', import.meta.url));

/**
 * OpenMP threads that sleep instead of spinning while they wait. repro runs several steps at once,
 * and spinning threads then steal the cores the others need. Measured on 2 shared cores (small CNN, 28×28,
 * batch 64, 2 threads): median 340 ex/s spinning, 560–1000 ex/s passive. It does not change results.
 * An OMP_WAIT_POLICY in the environment wins.
 */
export const OMP_WAIT_POLICY = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';

/** The Debian/Ubuntu packages that provide torch for /usr/bin/python3. */
export const TORCH_PACKAGES = 'python3-torch libopenblas0-pthread';

/** Where to look, in order: --python, else /usr/bin/python3, then python3 on PATH. */
export function pythonCandidates(python?: string): string[] {
  return python ? [python] : ['/usr/bin/python3', 'python3'];
}

interface Probe {
  info: TorchInfo | null;
  /** Why this interpreter cannot run the engine (when info is null). */
  problem?: string;
}

const probes = new Map<string, Promise<Probe>>();

/** The Python with torch: --python, else /usr/bin/python3, then python3; null when none has torch. */
export async function findTorch(python?: string): Promise<TorchInfo | null> {
  return (await locate(python)).info;
}

/** Like findTorch, but a missing torch is a StepError that names every interpreter tried and the packages to install. */
export async function requireTorch(python?: string): Promise<TorchInfo> {
  const { info, problems } = await locate(python);
  if (info) return info;
  throw new StepError(
    `the torch engine needs a Python with PyTorch; none found (${problems.join('; ')})`,
    `on Debian/Ubuntu: apt-get install ${TORCH_PACKAGES} (then /usr/bin/python3 has torch), or pass --python PATH to a Python that has torch, or use engine: tfjs`,
  );
}

/**
 * `engine: auto` → 'torch' when a Python with torch is found, else 'tfjs'. The train/evaluate steps
 * call this once and record the choice (run.json facts).
 */
export async function chooseEngine(requested: 'tfjs' | 'torch' | 'auto' | undefined, python?: string): Promise<'tfjs' | 'torch'> {
  if (requested === 'tfjs' || requested === 'torch') return requested;
  return (await findTorch(python)) ? 'torch' : 'tfjs';
}

/**
 * Facts known before a torch training runs that change its result (engine, torch version, device):
 * for a step's plannedFacts, so a run on another device or torch version is a cache miss.
 */
export async function torchPlannedFacts(options: Record<string, unknown>): Promise<Facts> {
  const info = await requireTorch(pythonOption(options));
  return { engine: 'torch', torch: info.torch, device: deviceFor(info, options) };
}

/**
 * run.json's `environment.python` (src/formats/run-record.ts) for a run that used the torch engine:
 * null when no Python with torch is found. Only runs whose steps used torch should record it.
 */
export async function torchEnvironment(python?: string): Promise<{ path: string; version: string; torch?: string; cuda?: boolean; device?: string; blas?: string } | null> {
  const info = await findTorch(python);
  if (!info) return null;
  return {
    path: info.python,
    version: info.version ?? 'unknown',
    torch: info.torch,
    cuda: info.cuda,
    device: info.deviceName ? `${info.device} (${info.deviceName})` : info.device,
    ...(info.blas ? { blas: info.blas } : {}),
  };
}

export async function trainWithTorch(config: TrainConfig, io: TrainIO): Promise<TrainOutcome> {
  const result = await runEngine('train', config, io);
  return {
    modelDir: String(result.modelDir),
    historyFile: String(result.historyFile),
    ...(typeof result.groundDistanceFile === 'string' ? { groundDistanceFile: result.groundDistanceFile } : {}),
    facts: result.facts as Facts,
  };
}

export async function evaluateWithTorch(config: EvalConfig, io: TrainIO): Promise<{ metricsFile: string; predictionsFile: string; facts: Facts }> {
  const result = await runEngine('evaluate', config, io);
  return {
    metricsFile: String(result.metricsFile),
    predictionsFile: String(result.predictionsFile),
    facts: result.facts as Facts,
  };
}

/**
 * Runs `main.py <command>` with the config on stdin. The engine prints `::progress F MESSAGE`,
 * `::result JSON` on success, `::error MESSAGE` (exit 2) for a user error; other lines are logs.
 */
async function runEngine(command: 'train' | 'evaluate', config: TrainConfig | EvalConfig, io: TrainIO): Promise<Record<string, unknown>> {
  const info = await requireTorch(pythonOption(io.options));
  const { execa } = await import('execa');
  const threads = String(Math.max(1, io.threads));
  const child = execa(info.python, [TORCH_ENGINE_MAIN, command, '--device', deviceFor(info, io.options), '--threads', threads], {
    input: JSON.stringify(config),
    cancelSignal: io.signal,
    forceKillAfterDelay: 5000,
    reject: false,
    buffer: false,
    all: true,
    env: {
      PYTHONUNBUFFERED: '1',
      // The repo's engines/ folder stays clean (no __pycache__).
      PYTHONDONTWRITEBYTECODE: '1',
      OMP_NUM_THREADS: threads,
      OPENBLAS_NUM_THREADS: threads,
      MKL_NUM_THREADS: threads,
      OMP_WAIT_POLICY: OMP_WAIT_POLICY,
    },
    // Its own process group under the watchdog, as a `run` step's command: a kill -9 of repro ends
    // the engine and whatever it started, instead of leaving a training running for nobody.
    detached: true,
  });
  const watchdog = child.pid === undefined ? null : startWatchdog(child.pid);
  try {
    return await engineResult(child, info, command, io);
  } finally {
    // Anything the engine left running in its group goes with it.
    killGroup(child.pid, 'SIGKILL');
    watchdog?.kill('SIGKILL');
  }
}

/** Reads the engine's lines until it ends; its result, or the StepError its failure means. */
async function engineResult(
  child: ResultPromise<{ reject: false; buffer: false; all: true }>,
  info: TorchInfo,
  command: 'train' | 'evaluate',
  io: TrainIO,
): Promise<Record<string, unknown>> {
  let result: Record<string, unknown> | undefined;
  let userError: string | undefined;
  const tail: string[] = [];
  for await (const line of child.iterable({ from: 'all' })) {
    const text = String(line);
    const progress = /^::progress (\S+) ?(.*)$/.exec(text);
    if (progress) {
      const fraction = Number(progress[1]);
      io.progress(Number.isFinite(fraction) ? fraction : null, progress[2]!);
    } else if (text.startsWith('::result ')) {
      result = JSON.parse(text.slice('::result '.length)) as Record<string, unknown>;
    } else if (text.startsWith('::error ')) {
      userError = text.slice('::error '.length);
    } else {
      io.log(text);
      tail.push(text);
      if (tail.length > 8) tail.shift();
    }
  }
  const done = await child;
  if (io.signal.aborted || done.isCanceled) throw io.signal.reason ?? new Error('interrupted');
  if (userError) throw new StepError(`torch engine: ${userError}`);
  if (done.exitCode === 0 && result) return result;
  const how = done.signal ? `was killed by ${done.signal}${done.signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exited with code ${done.exitCode}`;
  const last = tail.filter((l) => l.trim()).slice(-3).join(' | ');
  throw new StepError(
    `the torch engine (${info.python} ${command}) ${how}${last ? `: ${last}` : ''}`,
    'the step log has its whole output',
  );
}

async function locate(python?: string): Promise<{ info: TorchInfo | null; problems: string[] }> {
  const problems: string[] = [];
  for (const candidate of pythonCandidates(python)) {
    let probe = probes.get(candidate);
    if (!probe) {
      probe = probeTorch(candidate);
      probes.set(candidate, probe);
    }
    const { info, problem } = await probe;
    if (info) return { info, problems };
    problems.push(`${candidate}: ${problem}`);
  }
  return { info: null, problems };
}

async function probeTorch(python: string): Promise<Probe> {
  const { execa } = await import('execa');
  // Importing torch takes a few seconds on a cold disk; a minute is plenty.
  const r = await execa(python, [TORCH_ENGINE_MAIN, 'info'], {
    reject: false,
    timeout: 60_000,
    env: { PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (r.failed && r.exitCode === undefined) {
    return { info: null, problem: (r as { code?: string }).code === 'ENOENT' ? 'not found' : String(r.shortMessage ?? r.message) };
  }
  if (r.exitCode !== 0) {
    const err = String(r.stderr).split('\n').filter((l) => l.trim());
    const said = err.find((l) => l.startsWith('::error ')) ?? err.at(-1) ?? `exit code ${r.exitCode}`;
    return { info: null, problem: said.includes('cannot import torch') ? 'no torch module' : said.replace(/^::error /, '') };
  }
  try {
    const facts = JSON.parse(String(r.stdout).trim().split('\n').at(-1) ?? '') as Facts;
    return {
      info: {
        python: String(facts.python),
        torch: String(facts.torch),
        cuda: facts.cuda === true,
        device: String(facts.device),
        ...(facts.device_name != null ? { deviceName: String(facts.device_name) } : {}),
        ...(facts.blas != null ? { blas: String(facts.blas) } : {}),
        ...(facts.python_version != null ? { version: String(facts.python_version) } : {}),
        facts,
      },
    };
  } catch {
    return { info: null, problem: `unexpected output from main.py info: ${String(r.stdout).slice(0, 200)}` };
  }
}

function pythonOption(options: Record<string, unknown>): string | undefined {
  return typeof options.python === 'string' && options.python ? options.python : undefined;
}

/** options.device 'cpu' forces the CPU; otherwise the GPU when torch sees one. Never claims a GPU it does not use. */
function deviceFor(info: TorchInfo, options: Record<string, unknown>): 'cpu' | 'cuda' {
  if (options.device === 'cpu') return 'cpu';
  return info.cuda ? 'cuda' : 'cpu';
}

/** The engine folder, for tests and docs. */
export const TORCH_ENGINE_DIR = join(TORCH_ENGINE_MAIN, '..');
