// ro-crate-metadata.json for a run, following RO-Crate 1.1 and the Workflow Run RO-Crate profiles
// (Process Run Crate, Workflow Run Crate and Provenance Run Crate, v0.5:
// https://w3id.org/ro/wfrun/provenance/0.5).
//
// The crate's root is the directory the report is written to; the workflow file, run.json and the
// report files are in it, by relative paths. Step inputs and outputs stay in the content-addressed
// store, wherever it is on some machine, so they are named by their content instead: an RFC 6920
// `ni:///sha-256;…` URI (an absolute URI that means the same on every machine), with the store path
// as `alternateName`. Every data entity is reachable from the root through `hasPart`.

import { basename } from 'node:path';
import { roleOf, type ArtifactRecord, type RunRecord } from '../formats/run-record.js';

export const PROFILES = {
  process: { id: 'https://w3id.org/ro/wfrun/process/0.5', name: 'Process Run Crate', version: '0.5' },
  workflow: { id: 'https://w3id.org/ro/wfrun/workflow/0.5', name: 'Workflow Run Crate', version: '0.5' },
  provenance: { id: 'https://w3id.org/ro/wfrun/provenance/0.5', name: 'Provenance Run Crate', version: '0.5' },
  workflowRoCrate: { id: 'https://w3id.org/workflowhub/workflow-ro-crate/1.0', name: 'Workflow RO-Crate', version: '1.0' },
} as const;

export const ROCRATE_SPEC = 'https://w3id.org/ro/crate/1.1';
const FORMAL_PARAMETER_PROFILE = 'https://bioschemas.org/profiles/FormalParameter/1.0-RELEASE';

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
  /**
   * What the dataset steps recorded about their data (their manifest.json): each dataset's name and the
   * licence of each source file, so that the data entities carry their licences.
   */
  datasets?: Array<{ step: string; name: string; licence?: string | null; sources: Array<{ path: string; sha256: string; licence: string | null }> }>;
}

/** RFC 6920 named-information URI of a sha256 (hex): the same name for the same bytes on any machine. */
export function niUri(sha256Hex: string): string {
  return `ni:///sha-256;${Buffer.from(sha256Hex, 'hex').toString('base64url')}`;
}

/** Ids with matrix brackets are fine as names but not as IRIs: encode them. */
function local(prefix: string, name: string): string {
  return `#${prefix}-${encodeURIComponent(name)}`;
}

// SPDX ids of the licences datasets commonly name, so that `license` points at a resolvable licence.
const SPDX: Record<string, string> = {
  'cc by 4.0': 'CC-BY-4.0',
  'cc-by-4.0': 'CC-BY-4.0',
  'cc by-sa 4.0': 'CC-BY-SA-4.0',
  'cc-by-sa-4.0': 'CC-BY-SA-4.0',
  'cc by-nc 4.0': 'CC-BY-NC-4.0',
  'cc by-nc-sa 4.0': 'CC-BY-NC-SA-4.0',
  'cc0 1.0': 'CC0-1.0',
  'cc0-1.0': 'CC0-1.0',
  mit: 'MIT',
  'apache-2.0': 'Apache-2.0',
  'apache 2.0': 'Apache-2.0',
};

export function buildRunCrate(record: RunRecord, opts: CrateOptions): { '@context': unknown; '@graph': Entity[] } {
  const graph = new Map<string, Entity>();
  // Each id names one thing: a second, different entity under an id already taken is a bug here,
  // never something to merge (merging once gave the fetch step's input the dataset step's name).
  const add = (e: Entity) => {
    const prev = graph.get(e['@id']);
    if (prev && JSON.stringify(prev) !== JSON.stringify(e)) throw new Error(`RO-Crate: two different entities with @id ${e['@id']}`);
    graph.set(e['@id'], e);
    return e['@id'];
  };

  const workflowId = opts.workflowInCrate ?? niUri(record.workflow.sha256);
  const runActionId = local('run', record.runId);
  const engineActionId = local('engine-run', record.runId);
  const agentId = opts.agent.id;
  const reproId = '#repro';

  // Tool versions: repro itself, its runtime and the packages installed where it ran.
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
  const absent = record.environment.packagesAbsent ?? [];
  add({
    '@id': reproId,
    '@type': 'SoftwareApplication',
    name: 'repro',
    description:
      'Reproduces published ML results from a declarative YAML workflow.' +
      (absent.length ? ` Optional packages not installed where this run ran: ${absent.join(', ')}.` : ''),
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

  // Licences: each dataset's sources carry theirs; a dataset step's outputs carry the licences of its sources.
  const licenceIds = new Map<string, string>();
  const licenceRef = (name: string) => {
    let id = licenceIds.get(name);
    if (!id) {
      const spdx = SPDX[name.trim().toLowerCase()];
      id = spdx ? `https://spdx.org/licenses/${spdx}` : local('license', name);
      add({ '@id': id, '@type': 'CreativeWork', name, ...(spdx ? { identifier: spdx } : {}) });
      licenceIds.set(name, id);
    }
    return ref(id);
  };
  const licencesBySha = new Map<string, Set<string>>();
  const licenceOf = (sha: string, licence: string) => {
    const set = licencesBySha.get(sha) ?? new Set<string>();
    set.add(licence);
    licencesBySha.set(sha, set);
  };
  const datasetNames = new Map<string, string>();
  for (const d of opts.datasets ?? []) {
    const outputs = Object.values(record.steps.find((s) => s.id === d.step)?.outputs ?? {});
    for (const a of outputs) if (a.type === 'dir') datasetNames.set(a.sha256, d.name);
    const licences = [...new Set([d.licence, ...d.sources.map((x) => x.licence)].filter((x): x is string => !!x))];
    for (const x of d.sources) if (x.licence) licenceOf(x.sha256, x.licence);
    for (const a of outputs) if (a.type !== 'value') for (const l of licences) licenceOf(a.sha256, l);
  }

  // Data entities: one per distinct content, named by its hash. The name comes from the stored copy
  // when there is one (the same for every step that used it), else from the first step that named it.
  const dataIds: string[] = [];
  const dataEntities = new Map<string, Entity>();
  const valueId = (name: string, a: ArtifactRecord) =>
    add({ '@id': `#value-${a.sha256.slice(0, 16)}`, '@type': 'PropertyValue', name, value: JSON.stringify(a.value ?? null), identifier: `sha256:${a.sha256}` });
  const collect = (name: string, a: ArtifactRecord) => {
    if (a.type === 'value') return;
    const id = niUri(a.sha256);
    const prev = dataEntities.get(id);
    if (prev && (prev.alternateName || !a.storePath)) return;
    const licences = [...(licencesBySha.get(a.sha256) ?? [])];
    dataEntities.set(id, {
      '@id': id,
      '@type': a.type === 'dir' ? 'Dataset' : 'File',
      // A directory's store name is its hash: name it by what it is (the dataset's name, else the output's).
      name: a.type === 'dir' ? (datasetNames.get(a.sha256) ?? name) : basename(a.storePath ?? name),
      ...(a.storePath ? { alternateName: a.storePath } : {}),
      sha256: a.sha256,
      identifier: `sha256:${a.sha256}`,
      ...(a.size !== undefined ? { contentSize: String(a.size) } : {}),
      ...(licences.length ? { license: licences.length === 1 ? licenceRef(licences[0]!) : licences.map(licenceRef) } : {}),
    });
  };
  for (const s of record.steps) for (const [n, a] of Object.entries(s.outputs)) collect(n, a);
  for (const s of record.steps) for (const [n, a] of Object.entries(s.inputs)) collect(n, a);
  const artifactId = (name: string, a: ArtifactRecord): string => (a.type === 'value' ? valueId(name, a) : niUri(a.sha256));

  const controlIds: string[] = [];
  const usedData = new Set<string>();
  record.steps.forEach((s) => {
    const failed = s.status === 'failed' || s.status === 'interrupted';
    const skipped = s.status === 'skipped';
    if (skipped) return; // never ran: nothing happened to describe
    const actionId = local('action', s.id);
    const object = [...new Set(Object.entries(s.inputs).map(([n, a]) => artifactId(n, a)))];
    const result = [...new Set(Object.entries(s.outputs).map(([n, a]) => artifactId(n, a)))];
    for (const id of [...object, ...result]) usedData.add(id);
    add({
      '@id': actionId,
      '@type': 'CreateAction',
      name: `Run of ${s.id}${s.status === 'cached' ? ' (outputs restored from the cache)' : ''}`,
      description: `fingerprint ${s.fingerprint}` + (s.facts ? `; facts ${JSON.stringify(s.facts)}` : ''),
      instrument: ref(toolId(s.uses)),
      agent: ref(agentId),
      object: object.map(ref),
      result: result.map(ref),
      ...(s.startedAt ? { startTime: s.startedAt } : {}),
      ...(s.finishedAt ? { endTime: s.finishedAt } : {}),
      actionStatus: ref(failed ? 'http://schema.org/FailedActionStatus' : 'http://schema.org/CompletedActionStatus'),
      ...(failed && s.error ? { error: s.error } : {}),
    });
    controlIds.push(
      add({ '@id': local('control', s.id), '@type': 'ControlAction', name: `orchestrate ${s.id}`, instrument: ref(howToId(s.stepId)), object: ref(actionId) }),
    );
  });

  // The workflow's interface (Workflow Run Crate): each param is an input FormalParameter, realised in
  // this run by a PropertyValue; the final outputs (verdicts, report) are output FormalParameters.
  const inputParams: string[] = [];
  const paramValues = Object.entries(record.params).map(([name, value]) => {
    const fp = add({
      '@id': local('param', name),
      '@type': 'FormalParameter',
      conformsTo: ref(FORMAL_PARAMETER_PROFILE),
      name,
      additionalType: dataTypeOf(value),
      description: `The workflow param '${name}'.`,
    });
    inputParams.push(fp);
    return add({
      '@id': local('pv', name),
      '@type': 'PropertyValue',
      name,
      value: typeof value === 'string' ? value : JSON.stringify(value),
      exampleOfWork: ref(fp),
    });
  });
  const outputParams: string[] = [];
  const finalOutputs: string[] = [];
  for (const s of record.steps.filter((x) => (roleOf(x) === 'comparison' || roleOf(x) === 'report') && x.status !== 'skipped')) {
    for (const [n, a] of Object.entries(s.outputs)) {
      const id = artifactId(n, a);
      finalOutputs.push(id);
      const fp = add({
        '@id': local('output', `${s.id}.${n}`),
        '@type': 'FormalParameter',
        conformsTo: ref(FORMAL_PARAMETER_PROFILE),
        name: `${s.id}.${n}`,
        additionalType: a.type === 'dir' ? 'Dataset' : a.type === 'file' ? 'File' : 'PropertyValue',
        description: `Output '${n}' of the step ${s.id}.`,
      });
      outputParams.push(fp);
      const e = dataEntities.get(id);
      if (e) e.exampleOfWork = [...idsOf(e.exampleOfWork).map(ref), ref(fp)];
    }
  }
  const fetched = [
    ...new Set(record.steps.filter((s) => s.uses === 'fetch' && s.status !== 'skipped').flatMap((s) => Object.entries(s.outputs).map(([n, a]) => artifactId(n, a)))),
  ];

  // Every data entity that a step used or made is part of the crate (reachable from the root).
  for (const [id, e] of dataEntities) {
    if (!usedData.has(id)) continue;
    add(e);
    dataIds.push(id);
  }
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
    input: inputParams.map(ref),
    output: outputParams.map(ref),
    ...(record.workflow.source ? { url: record.workflow.source.url, version: record.workflow.source.commit } : {}),
  });
  const runFailed = record.status !== 'succeeded';
  add({
    '@id': runActionId,
    '@type': 'CreateAction',
    name: `Run ${record.runId} of workflow ${record.workflow.name}${record.profile ? ` (profile ${record.profile})` : ''}`,
    description: record.command.join(' '),
    instrument: ref(workflowId),
    agent: ref(agentId),
    object: [...paramValues, ...fetched].map(ref),
    result: [...new Set([...finalOutputs, ...opts.files.filter((f) => f.path === 'run.json').map((f) => f.path)])].map(ref),
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
  const dataLicences = [...new Set([...licencesBySha.values()].flatMap((x) => [...x]))];
  add({
    '@id': '#license-of-results',
    '@type': 'CreativeWork',
    name: 'Not specified',
    description:
      'No licence was chosen for these results.' +
      (dataLicences.length ? ` The data they derive from is under ${dataLicences.join(', ')} (see each data entity's license).` : " The data sets' own licences apply (see checklist.yaml)."),
  });

  const hasPart = [...(opts.workflowInCrate ? [workflowId] : []), ...opts.files.map((f) => f.path), ...(opts.workflowInCrate ? [] : [workflowId]), ...dataIds];
  const root: Entity = {
    '@id': './',
    '@type': 'Dataset',
    name: `repro run ${record.runId} of ${record.workflow.name}`,
    description:
      `Provenance of run ${record.runId} of the workflow ${record.workflow.name}` +
      `${record.scale ? ` (a ${record.scale} run)` : ''}, recorded by repro ${opts.repro.version}: every step with its inputs and outputs by sha256.` +
      ' Files in the artifact store are named by ni:///sha-256 URIs (RFC 6920) of their content, with their path in the store as alternateName.',
    datePublished: record.finishedAt ?? record.startedAt,
    license: ref('#license-of-results'),
    conformsTo: [PROFILES.process.id, PROFILES.workflow.id, PROFILES.provenance.id, PROFILES.workflowRoCrate.id].map(ref),
    mainEntity: ref(workflowId),
    hasPart: [...new Set(hasPart)].map(ref),
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

/** The schema.org DataType of a param's value (Workflow Run Crate: a FormalParameter's additionalType). */
function dataTypeOf(value: unknown): string {
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float';
  if (typeof value === 'string') return 'Text';
  return 'PropertyValue'; // lists and maps: structured values, given as JSON
}

function kindVersionFromRecord(record: RunRecord, kind: string): string | null {
  for (const s of record.steps) {
    if (s.uses !== kind) continue;
    const v = s.fingerprintComponents?.version ?? s.fingerprintComponents?.kindVersion;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return null;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const ABSOLUTE_URI = /^[a-z][a-z0-9+.-]*:/i;
const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const idsOf = (v: unknown): string[] => asArray(v).map((x) => (x as { '@id'?: string })?.['@id']).filter((x): x is string => typeof x === 'string');
const typesOf = (e: Record<string, unknown> | undefined): string[] => asArray(e?.['@type']).map(String);

/**
 * Checks a crate against the MUSTs of RO-Crate 1.1 (metadata descriptor, root data entity, flat graph,
 * data entity ids, every data entity reachable from the root through hasPart), of Workflow RO-Crate 1.0
 * (the main workflow, its language, a licence), and of the Process / Workflow / Provenance Run Crate
 * profiles 0.5 (tools, actions, FormalParameters, ControlActions). Returns the problems; empty means it
 * conforms. Used by the tests, and usable by anyone holding a crate.
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
  if (!rootId!.endsWith('/')) problems.push(`root data entity @id ${rootId} does not end with /`);
  if (typeof root.datePublished === 'string' && !ISO_8601.test(root.datePublished)) problems.push(`root datePublished ${root.datePublished} is not ISO 8601`);
  if (!idsOf(descriptor.conformsTo).includes(ROCRATE_SPEC)) problems.push(`descriptor does not conform to ${ROCRATE_SPEC}`);
  if (!is('ro-crate-metadata.json', 'CreativeWork')) problems.push('descriptor is not a CreativeWork');

  // RO-Crate 1.1: the graph is flat (a property's object is a reference or a literal, never a nested entity).
  for (const e of graph) {
    for (const [k, v] of Object.entries(e)) {
      if (k.startsWith('@')) continue;
      for (const x of asArray(v)) {
        if (x && typeof x === 'object' && Object.keys(x).some((key) => key !== '@id' && key !== '@value' && key !== '@language')) {
          problems.push(`${String(e['@id'])}.${k} nests an entity (the @graph must be flat)`);
        }
      }
    }
  }

  // RO-Crate 1.1 data entities: a File's or Dataset's @id is a path relative to the crate root or an
  // absolute URI (never a local #id), and every one is reachable from the root through hasPart.
  const reachable = new Set<string>();
  const queue = [rootId!];
  while (queue.length) {
    const id = queue.pop()!;
    if (reachable.has(id)) continue;
    reachable.add(id);
    for (const part of idsOf(byId.get(id)?.hasPart)) queue.push(part);
  }
  for (const e of graph) {
    const id = e['@id'];
    if (typeof id !== 'string' || id === rootId || id === 'ro-crate-metadata.json') continue;
    const t = typesOf(e);
    if (!t.includes('File') && !t.includes('Dataset')) continue;
    if (id.startsWith('#')) problems.push(`data entity ${id} has a local #id; a File or Dataset needs a path relative to the crate root or an absolute URI`);
    else if (/^file:/i.test(id)) problems.push(`data entity ${id} is a file: URI of one machine; the crate is not portable`);
    else if (!ABSOLUTE_URI.test(id) && (id.startsWith('/') || /(^|\/)\.\.(\/|$)/.test(id))) problems.push(`data entity ${id} is not a path inside the crate root`);
    if (!reachable.has(id)) problems.push(`data entity ${id} is not reachable from the root data entity through hasPart`);
  }

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
  if (!conforms.includes(PROFILES.workflowRoCrate.id)) problems.push(`root does not conform to ${PROFILES.workflowRoCrate.name} ${PROFILES.workflowRoCrate.id}`);

  // Workflow Run Crate: parameters are FormalParameters with an additionalType, referenced from the
  // workflow's input/output; what realises one points at a FormalParameter of the workflow.
  const formal = new Set([...idsOf(wf.input), ...idsOf(wf.output)]);
  for (const id of formal) {
    const p = byId.get(id);
    if (!is(id, 'FormalParameter')) problems.push(`workflow parameter ${id} is not a FormalParameter`);
    else if (p!.additionalType === undefined) problems.push(`FormalParameter ${id} has no additionalType`);
  }
  for (const e of graph) {
    if (typesOf(e).includes('FormalParameter') && !formal.has(e['@id'] as string)) problems.push(`FormalParameter ${String(e['@id'])} is not an input or output of the workflow`);
    for (const id of idsOf(e.exampleOfWork)) {
      if (!is(id, 'FormalParameter')) problems.push(`${String(e['@id'])}.exampleOfWork ${id} is not a FormalParameter`);
    }
  }
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
