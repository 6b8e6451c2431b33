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
//
// What ran it: the step records the interpreter its command starts (python…, node: the program's
// first word, resolved on PATH) with its version, and the versions of the packages `with.packages`
// names, as the interpreter resolves them (Python distributions through importlib.metadata, Node
// packages from node_modules), as execution facts in run.json (`repro diff`: "scikit-learn 1.2.1 →
// 1.5.0"). `packages_in_fingerprint: true` makes them planned facts, so a change re-runs the step.
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, normalize, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { type StepContext, type StepKind, type StepOutput } from './kind.js';
import { StepError } from '../core/errors.js';
import { depthProblem } from '../formats/json.js';
import { nullRecord } from '../core/names.js';
import { GRACE_MS, killGroup as killProcessGroup, startWatchdog } from '../core/watchdog.js';
import type { ExecutionFacts } from '../core/facts.js';

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
  /** Packages the command uses (Python distributions or Node packages): their versions, as its interpreter resolves them, are recorded. */
  packages?: string[];
  /** Put the interpreter's and the packages' versions into the fingerprint: a change re-runs the step. */
  packages_in_fingerprint?: boolean;
  /** Keys of the JSON outputs that measure the machine (timings): reproduce and diff report them, never as a difference. */
  measurements?: string[];
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
      packages: {
        description:
          "Packages the command uses: Python distributions (resolved by the command's python through importlib.metadata) or Node packages (node_modules, from the workflow's folder). Their versions are recorded in run.json; `repro diff` lists changes.",
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z0-9@][A-Za-z0-9._/@-]*$' },
        examples: [['scikit-learn', 'numpy']],
      },
      packages_in_fingerprint: {
        description: "Put the interpreter's version and the packages' versions into the step's fingerprint, so that a change re-runs it. Default false: recorded only.",
        type: 'boolean',
      },
      measurements: {
        description: 'Keys in the JSON outputs that measure the machine (wall times, throughput): `repro reproduce` and `repro diff` report them as informative and never call a re-run different for them.',
        type: 'array',
        items: { type: 'string', minLength: 1 },
        examples: [['seconds', 'ms_per_step']],
      },
    },
  },
  outputs: null,
  inputPaths(w) {
    return w.inputs ?? [];
  },
  measurements(w) {
    return Array.isArray(w.measurements) ? w.measurements.filter((k): k is string => typeof k === 'string') : [];
  },
  async plannedFacts(w, options) {
    if (w.packages_in_fingerprint !== true) return {};
    // Probing starts the workflow's interpreter: never for a remote workflow that is not trusted.
    if (options.remote === true && options.trust !== true) return {};
    const probe = await probeInterpreter(w, process.cwd());
    return probe ? versionFacts(probe) : { interpreter_version: null };
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
    const probe = await probeInterpreter(w, ctx.workDir, ctx.workflowDir);
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
        const deep = depthProblem(text);
        if (deep !== null) throw new StepError(`output \`${name}\`: ${file} ${deep}`, 'a value output is a small JSON value (numbers, names, a table of metrics)');
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
    // A program that is no known interpreter (`cd`, `./train.sh`) is named as the program it is.
    const facts: ExecutionFacts | null = probe ? (probe.kind === 'other' ? { program: probe.path } : { interpreter: probe.path, ...versionFacts(probe) }) : null;
    return { outputs, ...(facts ? { facts } : {}) };
  },
};

// ——— what the command runs under ———

export interface InterpreterProbe {
  /** The program's absolute path as found on PATH. */
  path: string;
  kind: 'python' | 'node' | 'other';
  /** 'Python 3.11.2', 'node v20.11.0'; null when not probed or the probe failed. */
  version: string | null;
  /** Package → version; null when the interpreter does not find it. */
  packages: Record<string, string | null>;
}

/** The program a command starts: an argv's first element, or a shell line's first word after VAR=value assignments and `env`. */
export function commandProgram(command: RunWith['command']): string | null {
  const words = Array.isArray(command) ? command.map(String) : command.trim().split(/\s+/);
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++;
  if (words[i] === 'env' || words[i] === '/usr/bin/env') {
    i++;
    while (i < words.length && (words[i]!.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))) i++;
  }
  const w = words[i];
  return w && !/[$`"'|;&<>()]/.test(w) ? w : null;
}

function onPath(program: string, cwd: string): string | null {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) {
    const p = resolve(cwd, program);
    return executable(p) ? p : null;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, program))) return join(dir, program);
  }
  return null;
}

// Package names reach the interpreter as argv elements, never as code.
const PYTHON_PROBE = `import sys, json
from importlib import metadata
out = {"version": "Python " + sys.version.split()[0], "packages": {}}
for n in sys.argv[1:]:
    try:
        out["packages"][n] = metadata.version(n)
    except Exception:
        out["packages"][n] = None
print(json.dumps(out))`;

const NODE_PROBE = `const fs = require('fs'), path = require('path');
const out = { version: 'node ' + process.version, packages: {} };
for (const n of process.argv.slice(1)) {
  let v = null;
  for (let d = process.cwd(); ; d = path.dirname(d)) {
    const f = path.join(d, 'node_modules', n, 'package.json');
    if (fs.existsSync(f)) { try { v = JSON.parse(fs.readFileSync(f, 'utf8')).version ?? null; } catch {} break; }
    if (path.dirname(d) === d) break;
  }
  out.packages[n] = v;
}
console.log(JSON.stringify(out));`;

/**
 * The interpreter `w.command` starts, its version and the versions of `w.packages` as it resolves
 * them; null when the program is not found. Only Python and Node are asked (started once with a
 * probe script); any other program is recorded by path and never started for a probe.
 */
export async function probeInterpreter(w: RunWith, cwd: string, workflowDir = cwd): Promise<InterpreterProbe | null> {
  const program = commandProgram(w.command);
  const path = program ? onPath(program, cwd) : null;
  if (!path) return null;
  const name = basename(path);
  const kind = /^python(\d+(\.\d+)?)?$/.test(name) ? 'python' : /^(node|nodejs)$/.test(name) ? 'node' : 'other';
  const packages = [...new Set(w.packages ?? [])];
  if (kind === 'other') return { path, kind, version: null, packages: Object.fromEntries(packages.map((p) => [p, null])) };
  const args = kind === 'python' ? ['-c', PYTHON_PROBE, ...packages] : ['-e', NODE_PROBE, ...packages];
  const out = await new Promise<string | null>((done) =>
    // Where the command resolves its packages: Python from its cwd (on sys.path) and site-packages, Node from the scripts' folders.
    execFile(path, args, { cwd: kind === 'node' ? workflowDir : cwd, env: { ...process.env, ...commandEnv(w) }, timeout: 30_000, encoding: 'utf8' }, (err, stdout) => done(err ? null : stdout)),
  );
  try {
    const parsed = JSON.parse(out ?? '') as { version: string; packages: Record<string, string | null> };
    return { path, kind, version: parsed.version, packages: parsed.packages };
  } catch {
    return { path, kind, version: null, packages: Object.fromEntries(packages.map((p) => [p, null])) };
  }
}

/** `interpreter_version` and one `package:NAME` fact per package ('absent' when the interpreter does not find it). */
function versionFacts(p: InterpreterProbe): ExecutionFacts {
  const facts: ExecutionFacts = { interpreter_version: p.version };
  for (const [name, v] of Object.entries(p.packages)) facts[`package:${name}`] = v ?? 'absent';
  return facts;
}

/** A value as the command gets it: a value output of another step (an object) as its JSON text. */
function argText(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** The workflow's `env:` for the command (and for the probe of its interpreter, which must resolve packages alike). */
function commandEnv(w: RunWith): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(w.env ?? {})) env[k] = argText(v);
  return env;
}

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
  Object.assign(env, commandEnv(w), { REPRO_OUT: ctx.workDir, REPRO_SCRATCH: ctx.scratchDir, REPRO_THREADS: threads });

  let file: string;
  let args: string[] = [];
  let shell = false;
  // A whole-element expression keeps its type (a number, or a step's JSON value): the program gets its text.
  if (Array.isArray(w.command)) [file, ...args] = w.command.map(argText) as [string, ...string[]];
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
