// `repro reproduce ARCHIVE`: re-run an exported run in a folder and store of its own, and answer per
// artifact and metric: bit-identical, within the declared tolerance, or differs (docs/engine.md).
import type { Command } from 'commander';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { ReproError } from '../../core/errors.js';
import type { RunRecord } from '../../formats/run-record.js';
// Loaded with the CLI anyway (renderReport formats tolerances), so no lazy import of it below.
import { compareRuns, formatTolerance, parseTolerance, toleranceOption, type ReproduceReport, type Tolerance } from '../../share/reproduce.js';
import type { RunOptions } from './run.js';

const collect = (v: string, prev: string[]) => [...prev, v];

interface ReproduceOptions {
  dir?: string;
  store?: string;
  results?: string;
  tolerance: string[];
  useCache?: boolean;
  trust?: boolean;
  jobs?: string;
  json?: boolean;
  quiet?: boolean;
  key?: string;
  sign?: string;
  attestation?: string;
}

export function reproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description('re-run the run in an archive from `repro export` in a folder and store of its own; per artifact and metric: bit-identical, within tolerance, or differs (exit 0, or 3 when anything differs; 5 for a damaged archive)')
    .argument('<archive>', 'an archive written by `repro export`')
    .option('--dir <dir>', "where the archive's project is unpacked and run (default: ./<workflow>-<run-id>; must be new or empty)")
    .option('--store <dir>', 'artifact store (default: .repro inside --dir)')
    .option('--results <dir>', 'where the new run record goes (default: results inside --dir)')
    .option('-t, --tolerance <spec>', 'allowed difference for numbers named KEY in JSON outputs: KEY=0.01 (absolute), KEY=5% (relative), or a bare number for all; adds to the ones the archive declares; repeatable', collect, [] as string[])
    .option('--use-cache', 'take steps the store already has from the cache instead of running every step again')
    .option('--trust', 'allow the `run` steps (shell commands) of the archived workflow to run')
    .option('-j, --jobs <n>', 'CPU tokens (as for `repro run`)')
    .option('-q, --quiet', 'print only failures, the summary and the comparison')
    .option('--json', 'print the comparison as JSON on stdout (progress stays off)')
    .option('--key <pub>', "the exporter's public key (file or key name): the archive must be signed by it")
    .option('--sign <key>', 'sign the verdict with this key: an in-toto statement in a DSSE envelope (docs/attestations.md)')
    .option('--attestation <file>', 'where --sign writes the signed verdict (default: reproduction.intoto.json in --dir)')
    .action(async (archive: string, opts: ReproduceOptions) => {
      if (!existsSync(archive)) throw new ReproError(`no such archive: ${archive}`, 'invalid');
      // Keys first: a missing one fails before anything runs.
      const keys = await import('../../share/keys.js');
      const key = opts.key ? keys.loadPublicKey(opts.key) : null;
      const signer = opts.sign ? keys.loadSigningKey(opts.sign) : null;
      const attest = await import('../../share/attest.js');
      const asked = opts.tolerance.map(toleranceOption);
      const { openArchive } = await import('../../share/archive.js');
      const unpacked = mkdtempSync(join(tmpdir(), 'repro-reproduce-'));
      try {
        let check;
        try {
          check = await openArchive(archive, unpacked);
        } catch (err) {
          throw new ReproError(`${archive}: ${(err as Error).message}`, 'corrupt', 'nothing ran');
        }
        const { lock, problems } = check;
        if (problems.length) {
          for (const p of problems) process.stderr.write(`${p.kind}: ${p.path}  (${p.detail})\n`);
          throw new ReproError(`${archive}: ${problems.length} problem(s): the archive is damaged or was changed`, 'corrupt', 'nothing ran; ask for the archive again');
        }
        const signature = attest.checkArchiveSignature(unpacked, key);
        if (attest.signatureFails(signature, key !== null)) {
          throw new ReproError(`${archive}: ${signature.state === 'unsigned' ? 'unsigned, and --key asks for a signature' : attest.describeArchiveSignature(signature)}`, 'corrupt', 'nothing ran');
        }
        process.stderr.write(`repro: archive ${attest.describeArchiveSignature(signature)}\n`);
        const project = lock.project;
        if (!project) {
          throw new ReproError(`${archive} carries no project/ (written by an older repro): it can be checked (repro verify), not re-run`, 'invalid');
        }
        const original = JSON.parse(readFileSync(join(unpacked, 'run.json'), 'utf8')) as RunRecord;
        const dir = resolve(opts.dir ?? `${lock.run.workflow}-${lock.run.id}`);
        if (existsSync(dir) && readdirSync(dir).length > 0) {
          throw new ReproError(`${dir} exists and is not empty`, 'invalid', 'pass --dir NEW_FOLDER');
        }
        cpSync(join(unpacked, 'project'), dir, { recursive: true });
        const wfFile = join(dir, project.workflow);
        const { loadPlanOrFail } = await import('./validate.js');
        const plan = await loadPlanOrFail(wfFile, { profile: project.profile ?? undefined, set: project.set });
        const shell = plan.steps.filter((s) => s.uses === 'run');
        if (shell.length && !opts.trust) {
          rmSync(dir, { recursive: true, force: true }); // nothing ran: leave no folder behind
          throw new ReproError(
            `the archived workflow has \`run\` steps that execute shell commands: ${shell.slice(0, 5).map((s) => s.id).join(', ')}${shell.length > 5 ? ', …' : ''}`,
            'invalid',
            `read them first (project/${project.workflow} in the archive: tar -xzf ${archive} project/); pass --trust to run them`,
          );
        }
        if (project.outside.length) {
          process.stderr.write(`repro: note: the run read files outside its project, not in the archive (they must exist here): ${project.outside.join(', ')}\n`);
        }
        const store = resolve(opts.store ?? join(dir, '.repro'));
        const results = resolve(opts.results ?? join(dir, 'results'));
        const backendOpts: Partial<RunOptions> = {};
        for (let i = 0; i + 1 < project.options.length; i += 2) {
          if (project.options[i] === '--backend') backendOpts.backend = project.options[i + 1];
          if (project.options[i] === '--engine') backendOpts.engine = project.options[i + 1];
        }
        const { runPlan } = await import('./run.js');
        const force = opts.useCache ? [] : [...new Set(plan.steps.map((s) => s.stepId))];
        const { record } = await runPlan(
          plan,
          { ...backendOpts, store, results, force, trust: true, jobs: opts.jobs, quiet: opts.quiet, ...(opts.json ? { json: true } : {}) },
          {},
          opts.json ? { onEvent: () => {} } : {},
        );
        const declared = (lock.tolerances ?? []).map(parseTolerance).filter((t): t is Tolerance => t !== null);
        const report = compareRuns(original, lock, unpacked, record, store, [...declared, ...asked]);
        if (opts.json) process.stdout.write(JSON.stringify({ archive, run: lock.run, reproducedIn: dir, status: record.status, ...report }, null, 2) + '\n');
        else process.stdout.write(renderReport(report, lock.run.id, record));
        if (signer) {
          const out = resolve(opts.attestation ?? join(dir, 'reproduction.intoto.json'));
          await attest.attestReproduction({ archive, extracted: unpacked, lock, signature, reproduced: record, report }, signer, out);
          process.stderr.write(`repro: verdict signed by ${attest.describeSigner(signer)}: ${out}\n  check it with: repro verify --attestation ${out} --key PUB\n`);
        }
        process.exitCode =
          record.status === 'interrupted' ? ExitCode.INTERRUPTED : report.verdict === 'failed' ? ExitCode.STEP_FAILED : report.verdict === 'differs' ? ExitCode.NOT_REPRODUCED : ExitCode.OK;
      } finally {
        rmSync(unpacked, { recursive: true, force: true });
      }
    });
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/0+$/, '').replace(/\.$/, ''));

function renderReport(report: ReproduceReport, originalId: string, record: RunRecord): string {
  const lines: string[] = ['', `reproduction of run ${originalId} (new run ${record.runId}, ${record.status}):`];
  for (const a of report.artifacts) {
    lines.push(`  ${a.verdict.padEnd(16)} ${a.step} → ${a.output}${a.note ? `  (${a.note})` : ''}`);
    const notSame = a.metrics.filter((m) => m.verdict !== 'bit-identical');
    for (const m of notSame.slice(0, 8)) {
      lines.push(`      ${m.verdict === 'differs' ? 'differs' : 'within'}  ${m.path}: ${fmt(m.original)} → ${fmt(m.reproduced)} (|Δ| ${fmt(Math.abs(m.original - m.reproduced))}, allowed ${fmt(m.allowed)})`);
    }
    if (notSame.length > 8) lines.push(`      … ${notSame.length - 8} more numbers differ`);
  }
  const c = report.counts;
  const tol = report.tolerances.length ? ` (tolerances: ${report.tolerances.map(formatTolerance).join(', ')})` : '';
  const skipped = c['not compared'] ? `, ${c['not compared']} not compared` : '';
  lines.push(`verdict: ${report.verdict}: ${c['bit-identical']} bit-identical, ${c['within tolerance']} within tolerance, ${c.differs} differ${skipped}${tol}`, '');
  return lines.join('\n');
}
