// ro-crate-metadata.json follows the Workflow Run RO-Crate profiles (Process, Workflow, Provenance
// Run Crate 0.5): checked property by property, and parsed by the ro-crate library.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROCrate } from 'ro-crate';
import { makeRunFixture } from './fixture.js';
import { writeRunReport } from '../../src/report/index.js';
import { checkRunCrate, niUri, PROFILES } from '../../src/report/rocrate.js';

type Entity = Record<string, unknown> & { '@id': string; '@type': string | string[] };
const types = (e: Entity) => (Array.isArray(e['@type']) ? e['@type'] : [e['@type']]);
const ids = (v: unknown) => (Array.isArray(v) ? v : v ? [v] : []).map((x) => (x as { '@id': string })['@id']);

async function crateOf() {
  const f = makeRunFixture({ variants: ['xe', 'emd2', 'learned'], seeds: [1, 2] });
  await writeRunReport(f.runDir);
  const crate = JSON.parse(readFileSync(join(f.runDir, 'ro-crate-metadata.json'), 'utf8')) as { '@context': unknown; '@graph': Entity[] };
  return { f, crate, byId: new Map(crate['@graph'].map((e) => [e['@id'], e])) };
}

describe('Workflow Run RO-Crate', () => {
  it('meets the required properties of the Process, Workflow and Provenance Run Crate profiles', async () => {
    const { crate, byId } = await crateOf();
    expect(checkRunCrate(crate)).toEqual([]);

    const root = byId.get('./')!;
    expect(ids(root.conformsTo)).toEqual(expect.arrayContaining([PROFILES.process.id, PROFILES.workflow.id, PROFILES.provenance.id, PROFILES.workflowRoCrate.id]));
    const wf = byId.get(ids(root.mainEntity)[0]!)!;
    expect(wf['@id']).toBe('workflow/paper.yaml');
    expect(types(wf)).toEqual(['File', 'SoftwareSourceCode', 'ComputationalWorkflow', 'HowTo']);
    expect(ids(root.hasPart)).toEqual(expect.arrayContaining(['workflow/paper.yaml', 'run.json', 'report.html', 'report.md', 'checklist.yaml']));

    // The ro-crate library reads it as a crate with that root and main entity.
    const parsed = new ROCrate(crate as never, { array: true, link: true });
    expect(parsed.rootDataset['@id']).toBe('./');
    expect(parsed.getEntity('workflow/paper.yaml')).toBeTruthy();
  });

  it('is portable: store artifacts are named by ni:///sha-256 URIs, all reachable from the root, none by a path of this machine', async () => {
    const { f, crate, byId } = await crateOf();
    const text = JSON.stringify(crate);
    expect(text).not.toContain('file:');
    expect(text).not.toContain(f.store);
    expect(text).not.toContain('#artifact-');
    const data = crate['@graph'].filter((e) => e['@id'] !== './' && (types(e).includes('File') || types(e).includes('Dataset')));
    const parts = new Set(ids(byId.get('./')!.hasPart));
    for (const e of data) expect(parts.has(e['@id']), e['@id']).toBe(true);
    // The npz the fetch step wrote is the one the dataset step read: one entity, named by its stored copy.
    const npz = f.record.steps.find((s) => s.uses === 'fetch')!.outputs.path!;
    const npzId = niUri(npz.sha256);
    expect(npzId).toMatch(/^ni:\/\/\/sha-256;[A-Za-z0-9_-]{43}$/);
    expect(byId.get(npzId)).toMatchObject({ '@type': 'File', name: 'retinamnist.npz', alternateName: npz.storePath, sha256: npz.sha256 });
    // Each dataset carries its licence (the manifest's CC BY 4.0), as an SPDX licence entity.
    expect(ids(byId.get(npzId)!.license)).toEqual(['https://spdx.org/licenses/CC-BY-4.0']);
    const dir = f.record.steps.find((s) => s.uses === 'dataset')!.outputs.dataset!;
    expect(byId.get(niUri(dir.sha256))).toMatchObject({ '@type': 'Dataset', name: 'retinamnist', license: { '@id': 'https://spdx.org/licenses/CC-BY-4.0' } });
    expect(byId.get('https://spdx.org/licenses/CC-BY-4.0')).toMatchObject({ '@type': 'CreativeWork', name: 'CC BY 4.0' });
  });

  it("describes the workflow's params as FormalParameters, realised by the run's PropertyValues", async () => {
    const { f, crate, byId } = await crateOf();
    const wf = byId.get('workflow/paper.yaml')!;
    const inputs = ids(wf.input).map((id) => byId.get(id)!);
    expect(inputs.map((p) => p.name).sort()).toEqual(Object.keys(f.record.params).sort());
    for (const p of inputs) {
      expect(types(p)).toEqual(['FormalParameter']);
      expect(p.additionalType).toBeTruthy();
    }
    const run = crate['@graph'].find((e) => types(e).includes('CreateAction') && ids(e.instrument)[0] === 'workflow/paper.yaml')!;
    const values = ids(run.object).map((id) => byId.get(id)!).filter((e) => types(e).includes('PropertyValue'));
    expect(values.map((v) => ids(v.exampleOfWork)[0]).sort()).toEqual(ids(wf.input).sort());
    // The verdicts are an output parameter, and the verdicts file says so.
    const verdicts = byId.get(niUri(f.record.steps.find((s) => s.uses === 'compare')!.outputs.verdicts!.sha256))!;
    expect(ids(verdicts.exampleOfWork).every((id) => ids(wf.output).includes(id))).toBe(true);
  });

  it('names the installed packages, and the optional ones that are absent', async () => {
    const { crate, byId } = await crateOf();
    const repro = byId.get('#repro')!;
    expect(String(repro.description)).toContain('not installed where this run ran: @tensorflow/tfjs-node, @tensorflow/tfjs-node-gpu');
    expect(crate['@graph'].some((e) => e.name === '@tensorflow/tfjs-node')).toBe(false);
  });

  it('records every step as a CreateAction whose inputs and outputs are Files with the recorded sha256', async () => {
    const { f, crate, byId } = await crateOf();
    const actions = crate['@graph'].filter((e) => types(e).includes('CreateAction'));
    // One per step, plus the workflow run itself.
    expect(actions).toHaveLength(f.record.steps.length + 1);
    for (const step of f.record.steps) {
      const action = actions.find((a) => a.name === `Run of ${step.id}`)!;
      expect(action, step.id).toBeTruthy();
      expect(ids(action.instrument)).toEqual([`#kind-${step.uses}`]);
      const results = ids(action.result).map((id) => byId.get(id)!);
      expect(results.map((r) => r.sha256).sort()).toEqual(Object.values(step.outputs).map((o) => o.sha256).sort());
      // Files and directories (the dataset is a tree), each a data entity of its kind.
      for (const r of results) expect(['File', 'Dataset']).toContain(types(r)[0]);
      expect(action.startTime).toBe(step.startedAt);
      expect(ids(action.actionStatus)).toEqual(['http://schema.org/CompletedActionStatus']);
    }
    // The workflow run: the workflow as instrument, in the root's mentions, by a Person.
    const run = actions.find((a) => ids(a.instrument)[0] === 'workflow/paper.yaml')!;
    expect(ids(byId.get('./')!.mentions)).toContain(run['@id']);
    expect(types(byId.get(ids(run.agent)[0]!)!)).toEqual(['Person']);
    // Tool versions: repro and the recorded packages.
    const repro = byId.get('#repro')!;
    expect(repro.softwareVersion).toBe('0.1.0');
    const reqs = ids(repro.softwareRequirements).map((id) => byId.get(id)!);
    expect(reqs.map((r) => `${r.name}@${r.softwareVersion}`)).toEqual(expect.arrayContaining(['@tensorflow/tfjs-core@4.22.0', 'Node.js@20.19.0']));
  });

  it('finds what a broken crate lacks', async () => {
    const { crate } = await crateOf();
    const broken = structuredClone(crate);
    const action = broken['@graph'].find((e) => e.name === 'Run of compare')!;
    delete action.instrument;
    const ctrl = broken['@graph'].find((e) => types(e).includes('ControlAction'))!;
    ctrl.instrument = { '@id': '#nowhere' };
    const root = broken['@graph'].find((e) => e['@id'] === './')!;
    root.conformsTo = [{ '@id': PROFILES.process.id }];
    const problems = checkRunCrate(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        '#action-compare must have exactly one instrument',
        `${ctrl['@id']}: instrument is not a HowToStep`,
        `root does not conform to Provenance Run Crate ${PROFILES.provenance.id}`,
      ]),
    );
  });

  it('finds the RO-Crate 1.1 faults of the crates repro used to write: unreachable data, #ids and file: URIs for files, nested entities', async () => {
    const { crate } = await crateOf();
    const broken = structuredClone(crate);
    const root = broken['@graph'].find((e) => e['@id'] === './')!;
    root.hasPart = ids(root.hasPart).filter((id) => !id.startsWith('ni:')).map((id) => ({ '@id': id }));
    broken['@graph'].push({ '@id': '#artifact-abc', '@type': 'File', name: 'claims.yaml', sha256: 'abc' });
    broken['@graph'].push({ '@id': 'file:///home/someone/.repro/files/x/metrics.json', '@type': 'File', sha256: 'def' });
    root.hasPart = [...(root.hasPart as unknown[]), { '@id': '#artifact-abc' }, { '@id': 'file:///home/someone/.repro/files/x/metrics.json' }];
    root.author = { '@type': 'Person', name: 'nested' };
    const wfParam = broken['@graph'].find((e) => types(e).includes('FormalParameter'))!;
    delete wfParam.additionalType;
    const problems = checkRunCrate(broken);
    expect(problems.some((p) => /^data entity ni:\/\/\/sha-256;\S+ is not reachable from the root data entity through hasPart$/.test(p))).toBe(true);
    expect(problems).toEqual(
      expect.arrayContaining([
        'data entity #artifact-abc has a local #id; a File or Dataset needs a path relative to the crate root or an absolute URI',
        'data entity file:///home/someone/.repro/files/x/metrics.json is a file: URI of one machine; the crate is not portable',
        './.author nests an entity (the @graph must be flat)',
        `FormalParameter ${wfParam['@id']} has no additionalType`,
      ]),
    );
  });
});
