// ro-crate-metadata.json for a run, following the Workflow Run RO-Crate profiles (Process Run Crate,
// Workflow Run Crate and Provenance Run Crate, v0.5: https://w3id.org/ro/wfrun/provenance/0.5).
//
// The crate's root is the directory the report is written to. The workflow file and run.json are
// in it; step inputs and outputs stay in the content-addressed store, so they are referenced by
// absolute file: URIs and carry their sha256 (the identity that survives a move of the store).

import { basename } from 'node:path';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ArtifactRecord, RunRecord } from '../formats/run-record.js';

export const PROFILES = {
  process: { id: 'https://w3id.org/ro/wfrun/process/0.5', name: 'Process Run Crate', version: '0.5' },
  workflow: { id: 'https://w3id.org/ro/wfrun/workflow/0.5', name: 'Workflow Run Crate', version: '0.5' },
  provenance: { id: 'https://w3id.org/ro/wfrun/provenance/0.5', name: 'Provenance Run Crate', version: '0.5' },
  workflowRoCrate: { id: 'https://w3id.org/workflowhub/workflow-ro-crate/1.0', name: 'Workflow RO-Crate', version: '1.0' },
} as const;

const ROCRATE_SPEC = 'https://w3id.org/ro/crate/1.1';

type Entity = Record<string, unknown> & { '@id': string; '@type': string | string[] };
const ref = (id: string) => ({ '@id': id });

export interface CrateOptions {
  /** Path of the workflow file inside the crate root (copied there), or null when it is not in the crate. */
  workflowInCrate: string | null;
  /** Files in the crate root written with the report ('report.html', 'run.json'...), with a description. */
  files: Array<{ path: string; name: string; encodingFormat: string; sha256?: string; size?: number }>;
  /** Who ran it; defaults to a Person named by REPRO_AGENT_NAME or the local account. */
  agent: { id: string; name: string };
  /** repro's version and licence. */
  repro: { version: string; license: string };
  /** Tools of each step kind: kind → version (the kind's `version`, when the record has it). */
  kindVersions?: Record<string, string>;
}

function fileUri(store: string, storePath: string): string {
  return pathToFileURL(join(store, storePath)).href;
}

/** Ids with matrix brackets are fine as names but not as IRIs: encode them. */
function local(prefix: string, name: string): string {
  return `#${prefix}-${encodeURIComponent(name)}`;
}

export function buildRunCrate(record: RunRecord, opts: CrateOptions): { '@context': unknown; '@graph': Entity[] } {
  const graph = new Map<string, Entity>();
  const add = (e: Entity) => {
    const prev = graph.get(e['@id']);
    graph.set(e['@id'], prev ? { ...prev, ...e } : e);
    return e['@id'];
  };

  const workflowId = opts.workflowInCrate ?? pathToFileURL(record.workflow.file).href;
  const runActionId = local('run', record.runId);
  const engineActionId = local('engine-run', record.runId);
  const agentId = opts.agent.id;
  const reproId = '#repro';

  // Tool versions: repro itself, its runtime and the packages it recorded.
  const requirementIds: string[] = [];
  requirementIds.push(
    add({ '@id': '#nodejs', '@type': 'SoftwareApplication', name: 'Node.js', url: 'https://nodejs.org/', softwareVersion: record.environment.node.replace(/^v/, '') }),
  );
  for (const [name, version] of Object.entries(record.environment.packages)) {
    requirementIds.push(add({ '@id': local('npm', name), '@type': 'SoftwareApplication', name, url: `https://www.npmjs.com/package/${name}`, softwareVersion: version }));
  }
  const py = record.environment.python;
  if (py) {
    requirementIds.push(add({ '@id': '#python', '@type': 'SoftwareApplication', name: 'Python', softwareVersion: py.version }));
    if (py.torch) requirementIds.push(add({ '@id': '#pytorch', '@type': 'SoftwareApplication', name: 'PyTorch', url: 'https://pytorch.org/', softwareVersion: py.torch }));
  }
  add({
    '@id': reproId,
    '@type': 'SoftwareApplication',
    name: 'repro',
    description: 'Reproduces published ML results from a declarative YAML workflow.',
    softwareVersion: opts.repro.version,
    license: opts.repro.license,
    softwareRequirements: requirementIds.map(ref),
  });

  // One tool per step kind; one HowToStep per declared step.
  const kinds = [...new Set(record.steps.map((s) => s.uses))];
  const toolId = (kind: string) => local('kind', kind);
  for (const kind of kinds) {
    const version = opts.kindVersions?.[kind] ?? kindVersionFromRecord(record, kind);
    add({
      '@id': toolId(kind),
      '@type': 'SoftwareApplication',
      name: `repro ${kind} step`,
      description: `The '${kind}' step kind of repro ${opts.repro.version}.`,
      ...(version ? { softwareVersion: version } : {}),
      isPartOf: ref(reproId),
    });
  }
  const declared = [...new Set(record.steps.map((s) => s.stepId))];
  const howToId = (stepId: string) => local('step', stepId);
  declared.forEach((stepId, position) => {
    const uses = record.steps.find((s) => s.stepId === stepId)!.uses;
    add({ '@id': howToId(stepId), '@type': 'HowToStep', name: stepId, position: String(position), workExample: ref(toolId(uses)) });
  });

  add({
    '@id': '#repro-workflow-language',
    '@type': 'ComputerLanguage',
    name: 'repro workflow (YAML)',
    alternateName: 'repro',
    version: opts.repro.version,
  });
  add({
    '@id': workflowId,
    '@type': ['File', 'SoftwareSourceCode', 'ComputationalWorkflow', 'HowTo'],
    name: record.workflow.title ?? record.workflow.name,
    alternateName: basename(record.workflow.file),
    programmingLanguage: ref('#repro-workflow-language'),
    sha256: record.workflow.sha256,
    encodingFormat: 'application/yaml',
    hasPart: kinds.map((k) => ref(toolId(k))),
    step: declared.map((s) => ref(howToId(s))),
    ...(record.workflow.source ? { url: record.workflow.source.url, version: record.workflow.source.commit } : {}),
  });

  // Artifacts as data entities, keyed by store path (one entity per stored object).
  const artifactId = (name: string, a: ArtifactRecord): string => {
    if (a.type === 'value') {
      return add({ '@id': `#value-${a.sha256.slice(0, 16)}`, '@type': 'PropertyValue', name, value: JSON.stringify(a.value ?? null), identifier: `sha256:${a.sha256}` });
    }
    const id = a.storePath ? fileUri(record.store, a.storePath) : `#artifact-${a.sha256}`;
    return add({
      '@id': id,
      '@type': a.type === 'dir' ? 'Dataset' : 'File',
      name: a.storePath ? basename(a.storePath) : name,
      alternateName: a.storePath,
      sha256: a.sha256,
      identifier: `sha256:${a.sha256}`,
      ...(a.size !== undefined ? { contentSize: String(a.size) } : {}),
    });
  };

  const controlIds: string[] = [];
  record.steps.forEach((s) => {
    const failed = s.status === 'failed' || s.status === 'interrupted';
    const skipped = s.status === 'skipped';
    if (skipped) return; // never ran: nothing happened to describe
    const actionId = local('action', s.id);
    add({
      '@id': actionId,
      '@type': 'CreateAction',
      name: `Run of ${s.id}${s.status === 'cached' ? ' (outputs restored from the cache)' : ''}`,
      description: `fingerprint ${s.fingerprint}` + (s.facts ? `; facts ${JSON.stringify(s.facts)}` : ''),
      instrument: ref(toolId(s.uses)),
      agent: ref(agentId),
      object: Object.entries(s.inputs).map(([n, a]) => ref(artifactId(n, a))),
      result: Object.entries(s.outputs).map(([n, a]) => ref(artifactId(n, a))),
      ...(s.startedAt ? { startTime: s.startedAt } : {}),
      ...(s.finishedAt ? { endTime: s.finishedAt } : {}),
      actionStatus: ref(failed ? 'http://schema.org/FailedActionStatus' : 'http://schema.org/CompletedActionStatus'),
      ...(failed && s.error ? { error: s.error } : {}),
    });
    controlIds.push(
      add({ '@id': local('control', s.id), '@type': 'ControlAction', name: `orchestrate ${s.id}`, instrument: ref(howToId(s.stepId)), object: ref(actionId) }),
    );
  });

  // The workflow run as a whole: params in, the run's recorded outcome out.
  const paramIds = Object.entries(record.params).map(([name, value]) =>
    add({ '@id': local('param', name), '@type': 'PropertyValue', name, value: typeof value === 'string' ? value : JSON.stringify(value) }),
  );
  const fetched = record.steps.filter((s) => s.uses === 'fetch').flatMap((s) => Object.entries(s.outputs).map(([n, a]) => ref(artifactId(n, a))));
  const finalOutputs = record.steps
    .filter((s) => s.uses === 'compare' || s.uses === 'report')
    .flatMap((s) => Object.entries(s.outputs).map(([n, a]) => ref(artifactId(n, a))));
  for (const f of opts.files) {
    add({
      '@id': f.path,
      '@type': 'File',
      name: f.name,
      encodingFormat: f.encodingFormat,
      ...(f.sha256 ? { sha256: f.sha256 } : {}),
      ...(f.size !== undefined ? { contentSize: String(f.size) } : {}),
      about: ref(runActionId),
    });
  }
  const runFailed = record.status !== 'succeeded';
  add({
    '@id': runActionId,
    '@type': 'CreateAction',
    name: `Run ${record.runId} of workflow ${record.workflow.name}${record.profile ? ` (profile ${record.profile})` : ''}`,
    description: record.command.join(' '),
    instrument: ref(workflowId),
    agent: ref(agentId),
    object: [...paramIds.map(ref), ...fetched],
    result: [...finalOutputs, ...opts.files.filter((f) => f.path === 'run.json').map((f) => ref(f.path))],
    startTime: record.startedAt,
    ...(record.finishedAt ? { endTime: record.finishedAt } : {}),
    actionStatus: ref(runFailed ? 'http://schema.org/FailedActionStatus' : 'http://schema.org/CompletedActionStatus'),
    ...(runFailed ? { error: `run ${record.status}` } : {}),
  });
  add({
    '@id': engineActionId,
    '@type': 'OrganizeAction',
    name: `Run of repro ${opts.repro.version}`,
    instrument: ref(reproId),
    agent: ref(agentId),
    object: controlIds.map(ref),
    result: ref(runActionId),
    startTime: record.startedAt,
    ...(record.finishedAt ? { endTime: record.finishedAt } : {}),
  });
  add({ '@id': agentId, '@type': 'Person', name: opts.agent.name });

  for (const p of Object.values(PROFILES)) add({ '@id': p.id, '@type': 'CreativeWork', name: p.name, version: p.version });
  add({
    '@id': '#license-of-results',
    '@type': 'CreativeWork',
    name: 'Not specified',
    description: "No licence was chosen for these results; the data sets' own licences apply (see checklist.yaml).",
  });

  const hasPart = [...(opts.workflowInCrate ? [workflowId] : []), ...opts.files.map((f) => f.path)];
  const root: Entity = {
    '@id': './',
    '@type': 'Dataset',
    name: `repro run ${record.runId} of ${record.workflow.name}`,
    description:
      `Provenance of run ${record.runId} of the workflow ${record.workflow.name}` +
      `${record.scale ? ` (a ${record.scale} run)` : ''}, recorded by repro ${opts.repro.version}: every step with its inputs and outputs by sha256.`,
    datePublished: record.finishedAt ?? record.startedAt,
    license: ref('#license-of-results'),
    conformsTo: [PROFILES.process.id, PROFILES.workflow.id, PROFILES.provenance.id, PROFILES.workflowRoCrate.id].map(ref),
    mainEntity: ref(workflowId),
    hasPart: hasPart.map(ref),
    mentions: [ref(runActionId), ref(engineActionId)],
  };
  const descriptor: Entity = {
    '@id': 'ro-crate-metadata.json',
    '@type': 'CreativeWork',
    conformsTo: [ref(ROCRATE_SPEC), ref(PROFILES.workflowRoCrate.id)],
    about: ref('./'),
  };
  return {
    '@context': ['https://w3id.org/ro/crate/1.1/context', 'https://w3id.org/ro/terms/workflow-run/context'],
    '@graph': [descriptor, root, ...graph.values()],
  };
}

function kindVersionFromRecord(record: RunRecord, kind: string): string | null {
  for (const s of record.steps) {
    if (s.uses !== kind) continue;
    const v = s.fingerprintComponents?.version ?? s.fingerprintComponents?.kindVersion;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return null;
}

const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const idsOf = (v: unknown): string[] => asArray(v).map((x) => (x as { '@id'?: string })?.['@id']).filter((x): x is string => typeof x === 'string');
const typesOf = (e: Record<string, unknown> | undefined): string[] => asArray(e?.['@type']).map(String);

/**
 * Checks a crate against the MUSTs of RO-Crate 1.1's root and of the Process / Workflow / Provenance
 * Run Crate profiles (v0.5). Returns the problems; empty means it conforms. Used by the tests, and
 * usable by anyone holding a crate.
 */
export function checkRunCrate(crate: { '@context'?: unknown; '@graph'?: unknown }): string[] {
  const problems: string[] = [];
  const graph = Array.isArray(crate['@graph']) ? (crate['@graph'] as Array<Record<string, unknown>>) : null;
  if (!graph) return ['no @graph'];
  if (!crate['@context']) problems.push('no @context');
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of graph) {
    const id = e['@id'];
    if (typeof id !== 'string') problems.push(`an entity without @id: ${JSON.stringify(e).slice(0, 80)}`);
    else if (byId.has(id)) problems.push(`duplicate @id ${id}`);
    else byId.set(id, e);
    if (!e['@type']) problems.push(`${String(id)} has no @type`);
  }
  const is = (id: string | undefined, type: string) => !!id && typesOf(byId.get(id)).includes(type);

  const descriptor = byId.get('ro-crate-metadata.json');
  if (!descriptor) return [...problems, 'no metadata descriptor ro-crate-metadata.json'];
  if (!idsOf(descriptor.conformsTo).some((id) => id.startsWith('https://w3id.org/ro/crate/'))) problems.push('descriptor does not conform to an RO-Crate version');
  const rootId = idsOf(descriptor.about)[0];
  const root = rootId ? byId.get(rootId) : undefined;
  if (!root) return [...problems, 'descriptor is not about a root data entity'];
  if (!is(rootId, 'Dataset')) problems.push('root data entity is not a Dataset');
  for (const p of ['name', 'description', 'datePublished', 'license']) if (root[p] === undefined) problems.push(`root data entity has no ${p}`);

  const conforms = idsOf(root.conformsTo);
  for (const p of [PROFILES.process, PROFILES.workflow, PROFILES.provenance]) {
    if (!conforms.includes(p.id)) problems.push(`root does not conform to ${p.name} ${p.id}`);
  }
  for (const id of conforms) if (!is(id, 'CreativeWork')) problems.push(`profile ${id} is not described as a CreativeWork`);

  // Workflow Run Crate: the main entity is the workflow, and a CreateAction ran it.
  const wfId = idsOf(root.mainEntity)[0];
  const wf = wfId ? byId.get(wfId) : undefined;
  if (!wf) return [...problems, 'no mainEntity'];
  for (const t of ['File', 'SoftwareSourceCode', 'ComputationalWorkflow']) if (!is(wfId, t)) problems.push(`mainEntity is not typed ${t}`);
  if (!idsOf(wf.programmingLanguage).some((id) => is(id, 'ComputerLanguage'))) problems.push('workflow has no programmingLanguage ComputerLanguage');
  const actions = graph.filter((e) => typesOf(e).includes('CreateAction'));
  const runs = actions.filter((a) => idsOf(a.instrument).includes(wfId!));
  if (runs.length === 0) problems.push('no CreateAction has the workflow as instrument');
  const mentions = idsOf(root.mentions);
  for (const r of runs) if (!mentions.includes(r['@id'] as string)) problems.push(`workflow run ${String(r['@id'])} is not in the root's mentions`);

  // Process Run Crate: every action names its tool; its objects and results are data entities with sha256.
  const tools = new Set(idsOf(wf.hasPart));
  for (const a of actions) {
    const inst = idsOf(a.instrument);
    if (inst.length !== 1) problems.push(`${String(a['@id'])} must have exactly one instrument`);
    const t = inst[0];
    if (t && !['SoftwareApplication', 'SoftwareSourceCode', 'ComputationalWorkflow'].some((ty) => is(t, ty))) problems.push(`${String(a['@id'])}: instrument ${t} is not a tool`);
    if (t && t !== wfId && !tools.has(t)) problems.push(`${String(a['@id'])}: tool ${t} is not in the workflow's hasPart`);
    for (const id of [...idsOf(a.object), ...idsOf(a.result)]) {
      const e = byId.get(id);
      if (!e) problems.push(`${String(a['@id'])} refers to ${id}, which is not in the crate`);
      else if ((is(id, 'File') || is(id, 'Dataset')) && typeof e.sha256 !== 'string' && id !== './') problems.push(`${id} has no sha256`);
    }
  }

  // Provenance Run Crate: step executions as ControlActions on HowToSteps of the workflow.
  const steps = new Set(idsOf(wf.step));
  if (steps.size && !is(wfId, 'HowTo')) problems.push('a workflow with steps must be typed HowTo');
  for (const c of graph.filter((e) => typesOf(e).includes('ControlAction'))) {
    const inst = idsOf(c.instrument)[0];
    if (!is(inst, 'HowToStep')) problems.push(`${String(c['@id'])}: instrument is not a HowToStep`);
    else if (!steps.has(inst!)) problems.push(`${String(c['@id'])}: ${inst} is not a step of the workflow`);
    const obj = idsOf(c.object)[0];
    if (!is(obj, 'CreateAction')) problems.push(`${String(c['@id'])}: object is not a CreateAction`);
  }
  for (const s of steps) {
    const e = byId.get(s);
    if (!e) problems.push(`workflow step ${s} is not in the crate`);
    else if (!idsOf(e.workExample).some((t) => tools.has(t))) problems.push(`step ${s} has no workExample among the workflow's tools`);
  }
  if (runs.length > 0 && actions.length <= runs.length) problems.push('no tool executions recorded (Provenance Run Crate needs a CreateAction per step)');
  for (const o of graph.filter((e) => typesOf(e).includes('OrganizeAction'))) {
    if (!idsOf(o.instrument).length) problems.push(`${String(o['@id'])} has no instrument`);
    if (!idsOf(o.result).every((id) => runs.some((r) => r['@id'] === id))) problems.push(`${String(o['@id'])}: result is not the workflow run`);
    if (!idsOf(o.object).every((id) => is(id, 'ControlAction'))) problems.push(`${String(o['@id'])}: object must be ControlActions`);
  }

  // Every local reference resolves.
  for (const e of graph) {
    for (const [k, v] of Object.entries(e)) {
      if (k.startsWith('@')) continue;
      for (const id of idsOf(v)) {
        if (!byId.has(id) && !/^https?:\/\//.test(id)) problems.push(`${String(e['@id'])}.${k} refers to missing ${id}`);
      }
    }
  }
  return problems;
}
