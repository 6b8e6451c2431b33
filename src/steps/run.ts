// The `run` kind: any command as a step. It runs in its own empty work directory; the files it
// leaves there become the step's outputs, as the step's `outputs:` map declares them:
//
//   outputs:
//     metrics: metrics.json          a file (or a directory: `model/`) in the work directory
//     score: value:score.json        "value:" → that JSON file is read and becomes a value output
//
// Environment: REPRO_OUT (the work directory, also the cwd), REPRO_SCRATCH (kept between attempts,
// for checkpoints), REPRO_THREADS and the usual *_NUM_THREADS (its CPU share), CUDA_VISIBLE_DEVICES
// (the GPUs it was given, empty when none). A stdout line `::progress 0.4 epoch 2/5` reports progress.
import { createInterface } from 'node:readline';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { type StepContext, type StepKind, type StepOutput } from './kind.js';
import { StepError } from '../core/errors.js';
import { nullRecord } from '../core/names.js';
import { GRACE_MS, killGroup as killProcessGroup, startWatchdog } from '../core/watchdog.js';

export interface RunWith {
  /**
   * A shell command line (run by /bin/sh), or an argument vector (run directly, no shell). Values from
   * `${{ ... }}` are data either way: one argv element, or quoted for the shell (src/workflow/shell.ts).
   */
  command: string | Array<string | number | boolean>;
  /** Extra environment variables. */
  env?: Record<string, string | number | boolean>;
  /** For a string command: false splits it on spaces and runs it without a shell. Default true. */
  shell?: boolean;
  /** Local files or directories (relative to the workflow) the command reads: their hashes enter the fingerprint. */
  inputs?: string[];
  /** Names of environment variables holding credentials the command reads: checked to be set, and their values masked in logs and records. */
  secrets?: string[];
}

export const VALUE_PREFIX = 'value:';

/** Checks one declared output path; returns the problem or null. */
export function checkOutputPath(spec: string): string | null {
  const path = spec.startsWith(VALUE_PREFIX) ? spec.slice(VALUE_PREFIX.length) : spec;
  if (!path) return 'is empty';
  if (isAbsolute(path)) return 'must be relative to the step\'s work directory';
  const n = normalize(path);
  if (n === '..' || n.startsWith('../') || n === '.' || n === './') return 'must name a file or directory inside the step\'s work directory';
  return null;
}

export const runStep: StepKind<RunWith> = {
  name: 'run',
  role: 'command',
  version: '1',
  description:
    'Runs a command (a shell line or an argument vector) in an empty work directory; the files it writes there become the outputs declared in the step\'s `outputs:`.',
  withSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['command'],
    properties: {
      command: {
        description:
          'A shell command line (run with /bin/sh -c), or an argument vector run without a shell. Values placed by ${{ }} are data: quoted for the shell, or one argument each.',
        anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: ['string', 'number', 'boolean'] } }],
        examples: ['python3 train.py --out "$REPRO_OUT/model"', ['node', 'score.js']],
      },
      env: {
        description: 'Extra environment variables for the command.',
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      },
      shell: { description: 'For a string command: false runs it without a shell (split on spaces). Default true.', type: 'boolean' },
      inputs: {
        description: 'Local files or directories the command reads (relative to the workflow file): a change to them re-runs the step.',
        type: 'array',
        items: { type: 'string' },
      },
      secrets: {
        description: 'Environment variables holding credentials the command reads (it inherits them); their values are masked in logs and never recorded.',
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        examples: [['HF_TOKEN']],
      },
    },
  },
  outputs: null,
  inputPaths(w) {
    return w.inputs ?? [];
  },
  needsTrust(w) {
    const places = [{ path: '', what: 'runs a command' }];
    if (Array.isArray(w.secrets) && w.secrets.length) places.push({ path: '/secrets', what: `hands your environment variables ${w.secrets.join(', ')} to its command` });
    return places;
  },
  commandLines(w) {
    // A string command is a shell line unless `shell: false` (then it is split on spaces); an argv
    // list needs nothing: each element reaches the program as it is.
    if (typeof w.command !== 'string') return [];
    return [{ path: '/command', syntax: w.shell === false ? 'words' : 'sh' }];
  },
  async run(ctx, w) {
    if (ctx.options.remote === true && ctx.options.trust !== true) {
      throw new StepError('this workflow comes from a remote repository and runs shell commands', 'pass --trust if you trust its author');
    }
    for (const name of w.secrets ?? []) {
      if (ctx.secret(name) === undefined) throw new StepError(`environment variable ${name} is not set`, `the command needs it (with.secrets); export ${name}=…`);
    }
    const declared = ctx.declaredOutputs ?? {};
    for (const [name, spec] of Object.entries(declared)) {
      const problem = checkOutputPath(spec);
      if (problem) throw new StepError(`output \`${name}\` (${spec}) ${problem}`);
    }
    await runCommand(ctx, w);
    const outputs = nullRecord<StepOutput>(); // output names are the user's
    for (const [name, spec] of Object.entries(declared)) {
      if (spec.startsWith(VALUE_PREFIX)) {
        const file = spec.slice(VALUE_PREFIX.length);
        let text: string;
        try {
          text = readFileSync(`${ctx.workDir}/${file}`, 'utf8');
        } catch {
          throw new StepError(`output \`${name}\`: the command did not write ${file} (in $REPRO_OUT)`);
        }
        try {
          outputs[name] = { type: 'value', value: JSON.parse(text) };
        } catch (err) {
          throw new StepError(`output \`${name}\`: ${file} is not valid JSON (${(err as Error).message})`);
        }
        continue;
      }
      let isDir: boolean;
      try {
        isDir = statSync(`${ctx.workDir}/${spec}`).isDirectory();
      } catch {
        throw new StepError(`output \`${name}\`: the command did not write ${spec} (in $REPRO_OUT)`);
      }
      outputs[name] = { type: isDir ? 'dir' : 'file', path: spec.replace(/\/+$/, '') };
    }
    return { outputs };
  },
};

async function runCommand(ctx: StepContext, w: RunWith): Promise<void> {
  const { execa, parseCommandString } = await import('execa');
  const gpus = Array.isArray(ctx.options.gpus) ? (ctx.options.gpus as number[]) : [];
  const threads = String(ctx.threads);
  const env: Record<string, string> = {
    OMP_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
    OPENBLAS_NUM_THREADS: threads,
    CUDA_VISIBLE_DEVICES: gpus.join(','),
  };
  // A value output of another step (an object) reaches the command as JSON text.
  for (const [k, v] of Object.entries(w.env ?? {})) env[k] = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  Object.assign(env, { REPRO_OUT: ctx.workDir, REPRO_SCRATCH: ctx.scratchDir, REPRO_THREADS: threads });

  let file: string;
  let args: string[] = [];
  let shell = false;
  // A whole-element expression keeps its type (a number, or a step's JSON value): the program gets its text.
  if (Array.isArray(w.command)) [file, ...args] = w.command.map((a) => (typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a))) as [string, ...string[]];
  else if (w.shell === false) [file, ...args] = parseCommandString(w.command) as [string, ...string[]];
  else {
    file = w.command;
    shell = true;
  }
  if (ctx.signal.aborted) throw new Error('interrupted');
  const child = execa(file, args, {
    cwd: ctx.workDir,
    env,
    extendEnv: true,
    shell,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    // Its own process group, so an abort stops the shell and everything it started.
    detached: true,
  });
  const watchdog = child.pid === undefined ? null : startWatchdog(child.pid);
  const killGroup = (sig: NodeJS.Signals) => killProcessGroup(child.pid, sig);
  let forceTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    killGroup('SIGTERM');
    forceTimer = setTimeout(() => killGroup('SIGKILL'), GRACE_MS);
    forceTimer.unref();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 5) tail.shift();
  };
  const pump = (stream: Readable | null, fromStdout: boolean) =>
    stream
      ? new Promise<void>((resolve) => {
          const rl = createInterface({ input: stream, crlfDelay: Infinity });
          rl.on('line', (line) => {
            const m = fromStdout ? /^::progress\s+(\S+)\s*(.*)$/.exec(line) : null;
            if (m) {
              const f = Number(m[1]);
              ctx.progress(Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : null, m[2] ?? '');
              return;
            }
            ctx.log(line);
            keep(line);
          });
          rl.on('close', () => resolve());
        })
      : Promise.resolve();
  const [result] = await Promise.all([child, pump(child.stdout, true), pump(child.stderr, false)]);
  ctx.signal.removeEventListener('abort', onAbort);
  if (forceTimer) clearTimeout(forceTimer);
  // The shell may be gone while something it started in the background still runs.
  killGroup('SIGKILL');
  watchdog?.kill('SIGKILL');

  if (ctx.signal.aborted) throw new Error('interrupted');
  if (result.failed) {
    const shown = Array.isArray(w.command) ? w.command.join(' ') : w.command;
    const last = tail.length ? `; last output:\n    ${tail.join('\n    ')}` : '';
    if ((result as { code?: string }).code === 'ENOENT') {
      throw new StepError(`cannot run \`${shown}\`: command not found`, 'check the command name and PATH');
    }
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new StepError(`command \`${shorten(shown)}\` ${how}${last}`);
  }
}

function shorten(s: string): string {
  return s.length > 100 ? `${s.slice(0, 97)}…` : s;
}
