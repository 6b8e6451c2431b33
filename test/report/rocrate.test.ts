// ro-crate-metadata.json follows the Workflow Run RO-Crate profiles (Process, Workflow, Provenance
// Run Crate 0.5): checked property by property, and parsed by the ro-crate library.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROCrate } from 'ro-crate';
import { makeRunFixture } from './fixture.js';
import { writeRunReport } from '../../src/report/index.js';
import { checkRunCrate, PROFILES } from '../../src/report/rocrate.js';

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
});
