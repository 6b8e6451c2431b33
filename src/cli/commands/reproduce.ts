// `repro reproduce ARCHIVE`: re-run an exported run in a folder and store of its own, and answer per
// artifact (bit-identical, identical except measurements of the machine, within the declared
// tolerance, or differs), per variant and metric (the re-run's seeds against the original's, an
// equivalence test), per claim (the re-run's verdict beside the original's), and overall, with what
// differs between the two runs when anything does (docs/engine.md).
import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { ReproError } from '../../core/errors.js';
import type { RunRecord } from '../../formats/run-record.js';
// Loaded with the CLI anyway (renderReport formats tolerances), so no lazy import of it below.
import {
  archiveRun,
  compareRuns,
  formatTolerance,
  measurementsFrom,
  overallVerdict,
  parseTolerance,
  reproducedBadge,
  toleranceOption,
  type ReproduceReport,
  type Tolerance,
} from '../../share/reproduce.js';
import type { RunOptions } from './run.js';
import type { WorkflowArgOptions } from './validate.js';
import type { Plan } from '../../workflow/types.js';
import type { FingerprintComponents } from '../../engine/fingerprint.js';

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
  freshSeeds?: string | boolean;
  key?: string;
  sign?: string;
  attestation?: string;
}

/** Seeds added to each archived seed by --fresh-seeds without a number. */
const FRESH_SEED_OFFSET = 1000;

function freshOffset(v: string | boolean | undefined): number | null {
  if (v === undefined || v === false) return null;
  if (v === true) return FRESH_SEED_OFFSET;
  const n = Number(v);
  if (!Number.isInteger(n) || n === 0) throw new ReproError(`--fresh-seeds ${v}: expected a whole number other than 0 (added to every archived seed)`, 'invalid');
  return n;
}

export function reproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description('re-run the run in an archive from `repro export` in a folder and store of its own; verdicts per artifact, per variant and metric (equivalence of the seeds), per claim, and overall (exit 0 reproduced, 3 not reproduced, 4 inconclusive; 5 a damaged archive)')
    .argument('<archive>', 'an archive written by `repro export`')
    .option('--dir <dir>', "where the archive's project is unpacked and run (default: ./<workflow>-<run-id>; must be new or empty)")
    .option('--store <dir>', 'artifact store (default: .repro inside --dir)')
    .option('--results <dir>', 'where the new run record goes (default: results inside --dir)')
    .option('-t, --tolerance <spec>', 'allowed difference for numbers named KEY in JSON outputs: KEY=0.01 (absolute), KEY=5% (relative), or a bare number for all; adds to the ones the archive declares; repeatable', collect, [] as string[])
    .option('--use-cache', 'take steps the store already has from the cache instead of running every step again')
    .option('--trust', 'let the archived workflow run commands, read your environment, pass executor settings to sbatch and read files outside its project (docs/engine.md, trust)')
    .option('-j, --jobs <n>', 'CPU tokens (as for `repro run`)')
    .option('-q, --quiet', 'print only failures, the summary and the comparison')
    .option('--fresh-seeds [offset]', `train other seeds than the archived ones (each archived seed + offset, default ${FRESH_SEED_OFFSET}): does the result hold beyond the author's seeds? (Welch-type equivalence test)`)
    .option('--json', 'print the comparison as JSON on stdout (progress stays off)')
    .option('--key <pub>', "the exporter's public key (file or key name): the archive must be signed by it")
    .option('--sign <key>', 'sign the verdict with this key: an in-toto statement in a DSSE envelope (docs/attestations.md)')
    .option('--attestation <file>', 'where --sign writes the signed verdict (default: reproduction.intoto.json in --dir)')
    .addHelpText(
      'after',
      '\nExit codes: 0 reproduced (bit-identical, within tolerance, or statistically) · 3 not reproduced, or outputs differ with too few\nseeds to test · 4 inconclusive · 1 a step failed · 2 invalid · 5 a damaged archive or a failed signature check · 130 interrupted.\n',
    )
    .action(async (archive: string, opts: ReproduceOptions) => {
      // Keys first: a missing one fails before anything runs.
      const keys = await import('../../share/keys.js');
      const key = opts.key ? keys.loadPublicKey(opts.key) : null;
      const signer = opts.sign ? keys.loadSigningKey(opts.sign) : null;
      const attest = await import('../../share/attest.js');
      const asked = opts.tolerance.map(toleranceOption);
      const offset = freshOffset(opts.freshSeeds);
      const { unpackArchive } = await import('../../share/unpack.js');
      let signature: ReturnType<typeof attest.checkArchiveSignature> | undefined;
      const { extracted: unpacked, lock, project, original, dir, workflowFile } = await unpackArchive(archive, {
        dir: opts.dir,
        accept: (extracted) => {
          signature = attest.checkArchiveSignature(extracted, key);
          if (attest.signatureFails(signature, key !== null)) {
            throw new ReproError(`${archive}: ${attest.describeArchiveSignature(signature, key !== null)}`, 'corrupt', 'nothing ran');
          }
          process.stderr.write(`repro: archive ${attest.describeArchiveSignature(signature)}\n`);
        },
      });
      try {
        // The archive's workflow is someone else's, exactly as a git URL's: the same plan-time trust
        // decision (src/workflow/trust.ts), each refused place at its file:line:col.
        const { loadPlanOrFail, TrustRefusal } = await import('./validate.js');
        // Refused, the project's copy in `dir` is removed: each place is named in the archive instead.
        const inArchive = (file: string) => {
          const inside = relative(dir, file);
          return inside.startsWith('..') || isAbsolute(inside) ? file : `${archive}: project/${inside.split(sep).join('/')}`;
        };
        const load: WorkflowArgOptions = { profile: project.profile ?? undefined, set: project.set, trust: opts.trust === true, archiveRoot: dir };
        let plan;
        try {
          plan = await loadPlanOrFail(workflowFile, load, inArchive);
        } catch (err) {
          rmSync(dir, { recursive: true, force: true }); // nothing ran: leave no folder behind
          // The unpacked copy is gone (the message names the workflow in the archive): say how to read it.
          if (err instanceof TrustRefusal) {
            throw new TrustRefusal(inArchive(workflowFile), err.places, `read them first (project/${project.workflow} in the archive: tar -xzf ${archive} project/); pass --trust to allow them`);
          }
          throw err;
        }
        if (project.outside.length) {
          process.stderr.write(`repro: note: the run read files outside its project, not in the archive (they must exist here, and reading them needs --trust): ${project.outside.join(', ')}\n`);
        }
        const store = resolve(opts.store ?? join(dir, '.repro'));
        const results = resolve(opts.results ?? join(dir, 'results'));
        const backendOpts: Partial<RunOptions> = {};
        for (let i = 0; i + 1 < project.options.length; i += 2) {
          if (project.options[i] === '--backend') backendOpts.backend = project.options[i + 1];
          if (project.options[i] === '--engine') backendOpts.engine = project.options[i + 1];
        }
        if (offset !== null) plan = await withFreshSeeds(plan, offset, workflowFile, load);
        const { runPlan } = await import('./run.js');
        const force = opts.useCache ? [] : [...new Set(plan.steps.map((s) => s.stepId))];
        const { record, recordPath } = await runPlan(
          plan,
          { ...backendOpts, store, results, force, trust: opts.trust === true, jobs: opts.jobs, quiet: opts.quiet, ...(opts.json ? { json: true } : {}) },
          // The `run` kind's own check (a second line behind the plan's): from elsewhere, untrusted.
          { remote: true },
          opts.json ? { onEvent: () => {} } : {},
        );
        const declared = (lock.tolerances ?? []).map(parseTolerance).filter((t): t is Tolerance => t !== null);
        const { getStepKind } = await import('../../steps/registry.js');
        const measuredIn = measurementsFrom(getStepKind);
        const fresh = offset !== null;
        const report = compareRuns(original, lock, unpacked, record, store, [...declared, ...asked], measuredIn, fresh);
        const { reproductionSide, diffRuns, measurementsOfRuns } = await import('../../compare/runs.js');
        const { reproduction } = await import('../../compare/reproduction.js');
        const before = archiveRun(unpacked, lock, original);
        const after = { path: recordPath, record };
        // Names that measure the machine, from the kinds of the original's steps (train: its timings).
        const measurements = measurementsOfRuns([original], measuredIn);
        const stats = reproduction(reproductionSide(before), reproductionSide(after), { design: fresh ? 'welch' : 'paired', measurements });
        const verdict = overallVerdict(report, stats, fresh);
        let differences = null;
        if (verdict !== 'bit-identical') {
          const { diffComponents, diffParams } = await import('../../engine/fingerprint.js');
          differences = diffRuns(before, after, {
            components: (a, b) => diffComponents(a as unknown as FingerprintComponents, b as unknown as FingerprintComponents),
            params: diffParams,
          }, { measurements });
        }
        const out = {
          archive,
          run: lock.run,
          reproducedIn: dir,
          status: record.status,
          mode: fresh ? 'fresh seeds' : 'archived seeds',
          verdict,
          acm: reproducedBadge(verdict) ? 'Results Reproduced' : null,
          artifactVerdict: report.verdict,
          counts: report.counts,
          artifacts: report.artifacts,
          tolerances: report.tolerances,
          reproduction: stats,
          differences,
        };
        if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        else {
          process.stdout.write(renderReport(report, lock.run.id, record));
          const { renderReproduction, renderDifferences } = await import('../../compare/diff-text.js');
          process.stdout.write(renderReproduction(stats, { fresh, verdict, badge: reproducedBadge(verdict) }));
          if (differences) {
            process.stdout.write(`what differs between the original run (A) and the re-run (B):\n${renderDifferences(differences, { indent: '  ', metrics: false })}`);
          }
        }
        if (signer) {
          const file = resolve(opts.attestation ?? join(dir, 'reproduction.intoto.json'));
          await attest.attestReproduction({ archive, extracted: unpacked, lock, signature: signature!, reproduced: record, report: out }, signer, file);
          process.stderr.write(`repro: verdict signed by ${attest.describeSigner(signer)}: ${file}\n  check it with: repro verify --attestation ${file} --key PUB\n`);
        }
        process.exitCode =
          record.status === 'interrupted'
            ? ExitCode.INTERRUPTED
            : verdict === 'failed'
              ? ExitCode.STEP_FAILED
              : verdict === 'inconclusive'
                ? ExitCode.INCONCLUSIVE
                : reproducedBadge(verdict)
                  ? ExitCode.OK
                  : ExitCode.NOT_REPRODUCED;
      } finally {
        rmSync(unpacked, { recursive: true, force: true });
      }
    });
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/0+$/, '').replace(/\.$/, ''));

function renderReport(report: ReproduceReport, originalId: string, record: RunRecord): string {
  const lines: string[] = ['', `reproduction of run ${originalId} (new run ${record.runId}, ${record.status}):`];
  for (const a of report.artifacts) {
    lines.push(`  ${a.verdict.padEnd(a.verdict === 'identical except measurements' ? 0 : 16)} ${a.step} → ${a.output}${a.note ? `  (${a.note})` : ''}`);
    // Measurements of the machine are summed up in the artifact's note, not listed number by number.
    const notSame = a.metrics.filter((m) => m.verdict !== 'bit-identical' && m.verdict !== 'measurement');
    for (const m of notSame.slice(0, 8)) {
      lines.push(`      ${m.verdict === 'differs' ? 'differs' : 'within'}  ${m.path}: ${fmt(m.original)} → ${fmt(m.reproduced)} (|Δ| ${fmt(Math.abs(m.original - m.reproduced))}, allowed ${fmt(m.allowed)})`);
    }
    if (notSame.length > 8) lines.push(`      … ${notSame.length - 8} more numbers differ`);
  }
  const c = report.counts;
  const tol = report.tolerances.length ? ` (tolerances: ${report.tolerances.map(formatTolerance).join(', ')})` : '';
  const skipped = c['not compared'] ? `, ${c['not compared']} not compared` : '';
  const measured = c['identical except measurements'] ? `, ${c['identical except measurements']} identical except measurements of the machine` : '';
  lines.push(`artifacts: ${report.verdict}: ${c['bit-identical']} bit-identical${measured}, ${c['within tolerance']} within tolerance, ${c.differs} differ${skipped}${tol}`, '');
  return lines.join('\n');
}

/**
 * The plan again with every archived seed moved by `offset` (`--set seeds=[1001, 1002]`): the seed
 * axis is the one `repro check --until-decided` extends (the compare step's pair_by, read from one param).
 */
async function withFreshSeeds(plan: Plan, offset: number, wfFile: string, load: WorkflowArgOptions): Promise<Plan> {
  const { seedAxisOf } = await import('../../compare/sequential.js');
  let axis;
  try {
    axis = seedAxisOf(plan);
  } catch (err) {
    if (err instanceof ReproError) throw new ReproError(err.message.replaceAll('--until-decided', '--fresh-seeds'), err.category, err.hint);
    throw err;
  }
  const seeds = axis.seeds.map((x) => x + offset);
  if (seeds.some((x) => x < 0)) throw new ReproError(`--fresh-seeds ${offset}: seeds would be negative (${seeds.join(', ')})`, 'invalid');
  const { loadPlanOrFail } = await import('./validate.js');
  // The same load as the first (trust, archive root): the re-run stays confined to the unpacked project.
  return loadPlanOrFail(wfFile, { ...load, set: [...(load.set ?? []), `${axis.param}=${JSON.stringify(seeds)}`] });
}
