// The artifact checklist (the cTuning / ACM artifact-evaluation fields) and a badge
// self-assessment, filled only from what the run recorded. A field nobody measured says so.
//
// Badges (ACM "Artifact Review and Badging" v1.1): Artifacts Available, Artifacts Evaluated –
// Functional / Reusable, Results Reproduced / Replicated. A tool can gather evidence but not award
// evaluation badges; here a CPU or stand-in-data run is at most Functional, and "Results Reproduced"
// is never self-awarded.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { roleOf, type RunRecord, type StepRecord } from '../formats/run-record.js';
import { factOf, variantOrder, type ReportInput } from './input.js';
import { citation, fmtBytes, fmtDuration } from './format.js';
import { escapeMd as md } from '../core/markdown.js';
import { metricTitle } from '../formats/metrics.js';
import { metricLayout } from './model.js';

export const CHECKLIST_FORMAT = 'repro-checklist/1';

export interface ChecklistField {
  /** The checklist's own wording of the field. */
  title: string;
  value: string;
  /** Where the value came from: artifacts (sha256), run.json fields, facts. */
  evidence: string[];
}

export type BadgeStatus = 'earned' | 'not earned' | 'needs review';

export interface BadgeAssessment {
  badge: string;
  status: BadgeStatus;
  reason: string;
  evidence: string[];
}

export interface Checklist {
  format: typeof CHECKLIST_FORMAT;
  run: string;
  workflow: string;
  scale: string;
  generated: string;
  generator: string;
  fields: Record<string, ChecklistField>;
  badges: Record<string, BadgeAssessment>;
}

export interface ChecklistOptions {
  /** DOI of an archived copy (Zenodo...), when the user gives one. */
  doi?: string | null;
  /** Licence of repro's code (from its package.json). */
  codeLicense: string;
  /** Files this report writes next to run.json. */
  outputs: string[];
}

type Facts = Record<string, string | number | boolean | null>;

function short(sha: string): string {
  return `sha256:${sha.slice(0, 16)}…`;
}

/** Devices the training steps actually ran on, from their recorded facts. */
export function trainingDevices(record: RunRecord): string[] {
  const devices = new Set<string>();
  for (const s of record.steps) {
    if (roleOf(s) !== 'training') continue;
    const d = factOf(s.facts, 'device');
    if (d) devices.add(d.toLowerCase());
  }
  return [...devices];
}

/** A CPU run: a train step ran on a CPU, or nothing says a GPU was used. */
export function isCpuRun(record: RunRecord): boolean {
  const devices = trainingDevices(record);
  if (devices.length === 0) return record.environment.gpus.length === 0;
  return devices.some((d) => d.includes('cpu') || d === 'wasm');
}

/** The steps that fetched or prepared data: their outputs are the data set's evidence. */
function dataSteps(record: RunRecord): StepRecord[] {
  return record.steps.filter((s) => roleOf(s) === 'data');
}

/** Every distinct artifact of the run, by sha256 (cached and shared outputs counted once). */
function distinctArtifacts(record: RunRecord) {
  const byHash = new Map<string, { storePath?: string; size?: number; type: string }>();
  for (const s of record.steps) {
    for (const a of Object.values(s.outputs)) {
      if (a.type !== 'value') byHash.set(a.sha256, { storePath: a.storePath, size: a.size, type: a.type });
    }
  }
  return byHash;
}

export function buildChecklist(record: RunRecord, input: ReportInput, opts: ChecklistOptions): Checklist {
  const env = record.environment;
  const variants = variantOrder(input);
  const cite = citation(input.paper);
  const cpu = isCpuRun(record);
  const scale = record.scale ?? input.scale ?? null;
  const standIn = scale !== 'full';
  const f: Record<string, ChecklistField> = {};
  const trainSteps = record.steps.filter((s) => roleOf(s) === 'training');

  const axis = input.variantKey ? `the matrix axis '${input.variantKey}'` : 'no variant axis';
  const checks = input.verdicts?.file.checks.length ?? 0;
  f.algorithm = {
    title: 'Algorithm',
    value:
      (variants.length
        ? `${variants.length} variant(s) (${variants.join(', ')}; ${axis})${checks ? `, compared by the workflow's ${checks} check(s)` : ', with no checks'}`
        : 'no variants recorded') + (cite ? `; reproducing ${cite.text}` : '.'),
    evidence: input.verdicts ? input.verdicts.file.checks.map((c) => `check ${c.id} (${c.kind})`) : ['no compare step recorded'],
  };
  f.program = {
    title: 'Program',
    value:
      `repro ${env.repro} running workflow ${record.workflow.name} (${record.workflow.file})` +
      (input.program.length ? `; run steps: ${input.program.map((p) => `${p.step} (${p.command.join(' ') || 'no command recorded'})`).join('; ')}` : ''),
    evidence: [
      `workflow ${short(record.workflow.sha256)}`,
      record.git.commit ? `git commit ${record.git.commit}${record.git.dirty ? ' (uncommitted changes)' : ''}` : 'not in a git checkout',
      ...(record.workflow.source ? [`fetched from ${record.workflow.source.url}@${record.workflow.source.commit}`] : []),
      ...input.program.flatMap((p) => p.files.map((x) => `${p.step} ${x.role} ${x.path} sha256:${x.sha256}`)),
    ],
  };
  const modelFacts = [...new Set(trainSteps.map((s) => factOf(s.facts, 'model', 'architecture')).filter((x): x is string => !!x))];
  const models = trainSteps.flatMap((s) =>
    Object.entries(s.outputs)
      .filter(([name, a]) => name !== 'history' && a.type !== 'value')
      .map(([name, a]) => `${s.id} ${name} ${short(a.sha256)}`),
  );
  f.model = {
    title: 'Model',
    value: trainSteps.length
      ? `${trainSteps.length} trained model(s)` + (modelFacts.length ? `: ${modelFacts.join(', ')}` : ' (architecture not in the recorded facts)')
      : 'no train step: the workflow trains no model that repro records',
    evidence: models,
  };
  const prepared = dataSteps(record);
  const datasets = input.datasets;
  const dataLicences = datasets.flatMap((d) => [d.licence, ...d.sources.map((x) => x.licence)]).filter((x): x is string => !!x);
  f.data_set = {
    title: 'Data set',
    value:
      datasets
        .map(
          (d) =>
            `${d.name}` +
            [d.classes !== null ? `${d.classes} ${d.ordered ? 'ordered ' : d.ordered === false ? 'unordered ' : ''}classes` : '', d.splits ?? '']
              .filter(Boolean)
              .map((x) => `, ${x}`)
              .join('') +
            ` (licence: ${d.licence ?? ([...new Set(d.sources.map((x) => x.licence ?? 'not recorded'))].join(', ') || 'not recorded')})` +
            (d.citation.length ? `; cite: ${d.citation.join('; ')}` : ''),
        )
        .join('; ') ||
      (input.program.some((p) => p.files.some((x) => x.role === 'input'))
        ? 'no dataset step; the run steps read their own input files (see program)'
        : 'no dataset step recorded'),
    evidence: [
      ...datasets.flatMap((d) => d.sources.map((x) => `${d.step} source ${x.path} sha256:${x.sha256}`)),
      ...prepared.flatMap((s) =>
        Object.entries(s.outputs).map(([name, a]) => `${s.id} ${name} ${a.type === 'value' ? 'value' : short(a.sha256)}${a.size !== undefined ? `, ${fmtBytes(a.size)}` : ''}`),
      ),
    ],
  };
  f.run_time_environment = {
    title: 'Run-time environment',
    value: `${env.os} (kernel ${env.kernel}, ${env.arch}), Node.js ${env.node}` + (env.python ? `, Python ${env.python.version}${env.python.torch ? ` + torch ${env.python.torch}` : ''}` : ''),
    evidence: [
      `lockfile ${env.lockfileSha256 ? short(env.lockfileSha256) : 'not recorded'}`,
      ...Object.entries(env.packages).map(([k, v]) => `${k}@${v}`),
      ...(env.packagesAbsent ?? []).map((k) => `${k}: not installed`),
    ],
  };
  f.hardware = {
    title: 'Hardware',
    value: `${env.cpuModel}, ${env.cores} cores, ${fmtBytes(env.memoryBytes)} memory; GPU: ${env.gpus.length ? env.gpus.map((g) => g.name).join(', ') : 'none'}`,
    evidence: ['run.json environment'],
  };
  const backends = [...new Set(trainSteps.map((s) => ['engine', 'backend', 'device'].map((k) => factOf(s.facts, k) ?? '?').join('/')))];
  f.execution = {
    title: 'Execution',
    value: `${record.command.join(' ')}${record.profile ? ` (profile ${record.profile})` : ''}; training on ${backends.join(', ') || 'no train steps'}`,
    evidence: [`run ${record.runId} ${record.status}`, `${cpu ? 'CPU' : 'GPU'} run by the train steps' recorded device facts`],
  };
  // The report's columns by name; a file of thousands of metrics is counted, not listed.
  const layout = metricLayout(input);
  const unlisted = layout.others.length + layout.left;
  f.metrics = {
    title: 'Metrics',
    value: (layout.columns.map((m) => metricTitle(m, input.metricCatalog)).join(', ') || 'none recorded') + (unlisted ? ` and ${unlisted} more (in the metrics files)` : ''),
    evidence: input.evaluations.map((e) => `${e.step} ${short(input.sources[e.source]!.sha256)}`),
  };
  // Outputs: only what this run has.
  const outputs = [
    ...(input.verdicts ? ['verdicts'] : []),
    ...(input.evaluations.length ? [`per-run metrics (${input.evaluations.length})`] : []),
    ...(input.trainings.length ? [`training histories (${input.trainings.length})`] : []),
    ...(models.length ? [`trained models (${models.length})`] : []),
  ];
  f.output = {
    title: 'Output',
    value: `${outputs.length ? `${outputs.join(', ')}; ` : ''}${opts.outputs.join(', ')}`,
    evidence: input.verdicts ? [`verdicts ${short(input.sources[input.verdicts.source]!.sha256)}`] : [],
  };
  const reps = new Set(input.evaluations.map((e) => e.replicate));
  f.experiments = {
    title: 'Experiments',
    value: `${variants.length} variant(s)${input.variantKey ? ` of '${input.variantKey}'` : ''} × ${reps.size} repeat(s): ${input.evaluations.length} evaluated runs; ${checks} check(s) (claims and reported numbers)`,
    evidence: [`scale: ${scale ?? 'not recorded'}${input.scaleNote ? ` (${input.scaleNote})` : ''}`],
  };
  const artifacts = distinctArtifacts(record);
  const bytes = [...artifacts.values()].reduce((a, b) => a + (b.size ?? 0), 0);
  const unsized = [...artifacts.values()].filter((a) => a.size === undefined).length;
  f.disk_space_used = {
    title: 'How much disk space is used',
    value: `${fmtBytes(bytes)} in ${artifacts.size} stored artifacts` + (unsized ? ` (${unsized} without a recorded size)` : ''),
    evidence: ['sum of ArtifactRecord.size over distinct sha256 in run.json'],
  };
  const prepare = dataSteps(record);
  const prepareMs = prepare.reduce((a, s) => a + (s.durationMs ?? 0), 0);
  f.time_to_prepare = {
    title: 'How much time is needed to prepare the workflow',
    value: fmtDuration(prepareMs) + (prepare.some((s) => s.status === 'cached') ? ' (some steps came from cache)' : ''),
    evidence: prepare.map((s) => `${s.id} ${s.status} ${fmtDuration(s.durationMs)}`),
  };
  const trainMs = trainSteps.reduce((a, s) => a + (s.durationMs ?? 0), 0);
  f.time_to_run = {
    title: 'How much time is needed to complete the experiments',
    value: `${fmtDuration(record.durationMs)} for the whole run, of which ${fmtDuration(trainMs)} of training (summed over steps)`,
    evidence: [`run.json startedAt ${record.startedAt}, finishedAt ${record.finishedAt ?? 'not recorded'}`],
  };
  f.code_licenses = {
    title: 'Code licences',
    value: `repro: ${opts.codeLicense}`,
    evidence: ["repro's package.json"],
  };
  f.data_licenses = {
    title: 'Data licences',
    value: dataLicences.length ? [...new Set(dataLicences)].join(', ') : 'not recorded by the dataset steps',
    evidence: datasets.flatMap((d) => d.sources.map((x) => `${d.name}: ${x.path}: ${x.licence ?? 'no licence recorded'}`)),
  };
  f.workflow_framework = {
    title: 'Workflow framework used',
    value: `repro ${env.repro} (declarative YAML workflow, content-addressed cache, Workflow Run RO-Crate provenance)`,
    evidence: ['ro-crate-metadata.json'],
  };
  f.archived = {
    title: 'Archived (DOI)',
    value: opts.doi ? opts.doi : 'not archived',
    evidence: opts.doi ? ['given by the user when the report was made'] : [],
  };

  return {
    format: CHECKLIST_FORMAT,
    run: record.runId,
    workflow: record.workflow.name,
    scale: scale ?? 'not recorded',
    generated: input.generatedAt,
    generator: input.generator,
    fields: f,
    badges: assessBadges(record, input, { cpu, standIn, doi: opts.doi ?? null }),
  };
}

function assessBadges(record: RunRecord, input: ReportInput, ctx: { cpu: boolean; standIn: boolean; doi: string | null }): Record<string, BadgeAssessment> {
  const badges: Record<string, BadgeAssessment> = {};
  badges.available = ctx.doi
    ? { badge: 'Artifacts Available', status: 'earned', reason: 'An archived copy with a DOI was given.', evidence: [ctx.doi] }
    : { badge: 'Artifacts Available', status: 'not earned', reason: 'No archival DOI was given (deposit the exported run, then pass --doi).', evidence: [] };

  // Functional: the run completed, and everything it claims to have produced is there, hashed.
  const problems: string[] = [];
  if (record.status !== 'succeeded') problems.push(`run status is ${record.status}`);
  const bad = record.steps.filter((s) => s.status !== 'succeeded' && s.status !== 'cached');
  if (bad.length) problems.push(`${bad.length} step(s) did not succeed: ${bad.slice(0, 5).map((s) => `${s.id} (${s.status})`).join(', ')}`);
  let present = 0;
  let missing = 0;
  for (const a of distinctArtifacts(record).values()) {
    if (a.storePath && existsSync(join(record.store, a.storePath))) present++;
    else missing++;
  }
  if (missing) problems.push(`${missing} recorded artifact(s) are missing from the store`);
  if (!input.verdicts) problems.push('no verdicts (no compare step finished)');
  const cached = record.steps.filter((s) => s.status === 'cached').length;
  const functionalEvidence = [
    `${record.steps.length} steps: ${record.steps.length - bad.length} succeeded (${cached} from cache)`,
    `${present} artifacts present in the store, each identified by sha256`,
    `workflow sha256:${record.workflow.sha256}`,
    `environment recorded (Node ${record.environment.node}, lockfile ${record.environment.lockfileSha256 ? 'hashed' : 'not hashed'})`,
  ];
  badges.functional = problems.length
    ? { badge: 'Artifacts Evaluated – Functional', status: 'not earned', reason: problems.join('; '), evidence: functionalEvidence }
    : {
        badge: 'Artifacts Evaluated – Functional',
        status: 'earned',
        reason: 'The workflow ran to completion; every output is stored and hashed, and the run is recorded with its environment.',
        evidence: functionalEvidence,
      };

  const limits: string[] = [];
  if (ctx.cpu) limits.push('the training ran on CPU');
  if (ctx.standIn) limits.push(`the run is a ${record.scale ?? input.scale ?? 'scale-unknown'} run, not ${input.paper ? "the paper's protocol on its data" : 'the full protocol on the full data'}`);
  const atMost = `A CPU or stand-in-data run earns Functional at most: ${limits.join(' and ')}.`;
  badges.reusable = limits.length
    ? { badge: 'Artifacts Evaluated – Reusable', status: 'not earned', reason: atMost, evidence: [] }
    : {
        badge: 'Artifacts Evaluated – Reusable',
        status: badges.functional.status === 'earned' ? 'needs review' : 'not earned',
        reason:
          badges.functional.status === 'earned'
            ? 'Full-scale GPU run; whether it is well enough documented and structured for reuse is for evaluators to judge.'
            : 'Not Functional yet.',
        evidence: ['declarative workflow validated by JSON Schema', 'Workflow Run RO-Crate provenance'],
      };

  const checks = input.verdicts?.file.checks ?? [];
  const required = checks.filter((c) => c.kind === 'claim' && c.required);
  const failing = required.filter((c) => c.verdict !== 'reproduced');
  const claimEvidence = checks.map((c) => `${c.id}: ${c.verdict}`);
  badges.results_reproduced = {
    badge: 'Results Reproduced',
    status: limits.length || failing.length || required.length === 0 || badges.functional.status !== 'earned' ? 'not earned' : 'needs review',
    reason: limits.length
      ? `Never self-awarded, and not applicable here: ${limits.join(' and ')}.`
      : required.length === 0
        ? 'No required claims were checked.'
        : failing.length
          ? `Required claims not reproduced: ${failing.map((c) => `${c.id} (${c.verdict})`).join(', ')}.`
          : 'Every required claim was reproduced in a full-scale run; only an independent evaluation can award this badge.',
    evidence: claimEvidence,
  };
  badges.results_replicated = {
    badge: 'Results Replicated',
    status: 'not earned',
    reason: "Needs an independent team's own implementation; a run of this workflow cannot show it.",
    evidence: [],
  };
  return badges;
}

export function checklistMarkdown(c: Checklist): string {
  // Every value holds a workflow's words (names, commands, licences, claims): text, never markup.
  const out: string[] = [];
  out.push(`# Artifact checklist: ${md(c.workflow)}, run ${md(c.run)}`);
  out.push(`Scale: **${md(c.scale)}**. Filled from the run record and its artifacts by ${md(c.generator)} at ${md(c.generated)}.`);
  out.push('## Checklist (cTuning / ACM artifact evaluation)');
  for (const field of Object.values(c.fields)) {
    out.push(`- **${md(field.title)}:** ${md(field.value)}` + (field.evidence.length ? `\n${field.evidence.map((e) => `  - ${md(e)}`).join('\n')}` : ''));
  }
  out.push('## Badge self-assessment');
  out.push('| badge | status | why |\n|---|---|---|');
  out[out.length - 1] += '\n' + Object.values(c.badges).map((b) => `| ${md(b.badge)} | ${b.status === 'earned' ? '✅ ' : b.status === 'needs review' ? '🔎 ' : ''}${md(b.status)} | ${md(b.reason)} |`).join('\n');
  for (const b of Object.values(c.badges)) {
    if (b.evidence.length) out.push(`**${md(b.badge)}** evidence:\n${b.evidence.map((e) => `- ${md(e)}`).join('\n')}`);
  }
  return out.join('\n\n') + '\n';
}
