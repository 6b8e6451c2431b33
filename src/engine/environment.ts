// What the run record says about the machine: OS, CPU, memory, Node, library versions as installed,
// GPUs (nvidia-smi), and the git state of the workflow's repository.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { EnvironmentRecord } from '../formats/run-record.js';
import { lockfileSha256 } from './fingerprint.js';

export interface GpuInfo {
  index: number;
  name: string;
  driver?: string;
  memory?: string;
}

function run(cmd: string, args: string[], timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout));
  });
}

let gpuProbe: Promise<GpuInfo[]> | null = null;
/** GPUs nvidia-smi reports; none when it is absent or fails. Probed once per process. */
export function detectGpus(): Promise<GpuInfo[]> {
  gpuProbe ??= run('nvidia-smi', ['--query-gpu=index,name,driver_version,memory.total', '--format=csv,noheader']).then(parseNvidiaSmi);
  return gpuProbe;
}

export function parseNvidiaSmi(out: string | null): GpuInfo[] {
  if (!out) return [];
  const gpus: GpuInfo[] = [];
  for (const line of out.split('\n')) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 2 || !/^\d+$/.test(f[0]!)) continue;
    gpus.push({ index: Number(f[0]), name: f[1]!, driver: f[2] || undefined, memory: f[3] || undefined });
  }
  return gpus;
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    /* not Linux */
  }
  return `${os.type()} ${os.release()}`;
}

/**
 * The CPU's features as the kernel reports them (`flags`, or `Features` on ARM, of the first
 * processor in /proc/cpuinfo): SIMD widths such as avx2 or avx512f change float sums and speed, so
 * `repro diff` names them. Empty where there is no /proc/cpuinfo.
 */
export function cpuFeatures(cpuinfo: string | null = readCpuinfo()): string[] {
  const m = cpuinfo ? /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo) : null;
  return m ? [...new Set(m[1]!.trim().split(/\s+/).filter(Boolean))].sort() : [];
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

const repoRoot = new URL('../../', import.meta.url);

/**
 * Versions of repro's direct dependencies as installed here: each one's own package.json under
 * node_modules (the lockfile says what should be there, not what is). A declared dependency that is
 * not installed (an optional one such as @tensorflow/tfjs-node) is listed as absent, never given the
 * lockfile's version.
 */
export function installedPackages(root: URL = repoRoot): { packages: Record<string, string>; absent: string[] } {
  const packages: Record<string, string> = {};
  const absent: string[] = [];
  let names: string[];
  try {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    names = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).sort();
  } catch {
    return { packages, absent };
  }
  for (const n of names) {
    const v = installedVersion(fileURLToPath(root), n);
    if (v) packages[n] = v;
    else absent.push(n);
  }
  return { packages, absent };
}

/** The version in node_modules/NAME/package.json, looked up the way Node resolves (this folder, then each parent). */
function installedVersion(fromDir: string, name: string): string | null {
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) {
      try {
        const v = JSON.parse(readFileSync(file, 'utf8')).version;
        return typeof v === 'string' ? v : null;
      } catch {
        return null;
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

function reproVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('package.json', repoRoot), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

export async function collectEnvironment(): Promise<EnvironmentRecord> {
  const gpus = await detectGpus();
  const installed = installedPackages();
  const features = cpuFeatures();
  return {
    os: osName(),
    kernel: os.release(),
    arch: os.arch(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    ...(features.length ? { cpuFeatures: features } : {}),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    node: process.version,
    repro: reproVersion(),
    lockfileSha256: lockfileSha256(),
    packages: installed.packages,
    packagesAbsent: installed.absent,
    gpus: gpus.map(({ name, driver, memory }) => ({ name, driver, memory })),
  };
}

/**
 * Commit, dirty flag and branch of the repository holding `dir`; nulls outside a repository or
 * without git. Three plain `git` calls (no shell): every run records this, even a fully cached one,
 * and loading a git library for it cost more start-up time than the calls themselves.
 */
export async function gitState(dir: string): Promise<{ commit: string | null; dirty: boolean | null; branch: string | null }> {
  const none = { commit: null, dirty: null, branch: null };
  const git = (...args: string[]) => run('git', ['-C', dir, ...args], 10_000);
  if ((await git('rev-parse', '--is-inside-work-tree'))?.trim() !== 'true') return none;
  const [commit, status] = await Promise.all([git('rev-parse', 'HEAD'), git('status', '--porcelain', '-b', '-u')]);
  if (status === null) return none;
  const lines = status.split('\n').filter(Boolean);
  const head = lines[0]?.startsWith('## ') ? lines.shift()!.slice(3) : null;
  return { commit: commit?.trim() || null, dirty: lines.length > 0, branch: head === null ? null : branchOf(head) };
}

/** The branch of `git status -b`'s header: 'main...origin/main [ahead 1]', 'No commits yet on main', 'HEAD (no branch)'. */
export function branchOf(header: string): string {
  const h = header.replace(/^(No commits yet|Initial commit) on /, '');
  if (h.startsWith('HEAD (no branch)')) return 'HEAD';
  return h.split('...')[0]!.split(' ')[0]!;
}
