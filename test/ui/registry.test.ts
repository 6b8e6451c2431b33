// `repro ui --registry URL`: a local bare git repository as the results registry, holding real
// submissions signed with real keys (src/share/registry.ts makes and checks them). The across-runs
// page draws the accepted ones beside the local runs, marked as the registry's; unsigned and
// unknown-key ones are listed apart and never drawn; a rejected file is listed with its reason; every
// string a submission brings (a machine name, a file name) is escaped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { makeRunFixture } from '../report/fixture.js';
import { startRepro, tempDir, until, type StartedRepro } from '../support/index.js';
import { submissionFile } from '../../src/share/registry.js';
import { signEnvelope } from '../../src/share/attest.js';
import { generateKey, loadSigningKey } from '../../src/share/keys.js';
import { runIdTime } from '../../src/ui/registry.js';

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** The drift chart's data, as the page hands it to vega-lite. */
function chartRows(body: string): Array<Record<string, unknown>> {
  const json = body.match(/<script type="application\/json" id="spec-drift">(.*?)<\/script>/s)![1]!;
  return JSON.parse(json).data.values;
}

describe('the time a submitted run started', () => {
  it('is the second its run id begins with, in either form run ids have had', () => {
    expect(runIdTime('20250131-123005-ab12')).toBe('2025-01-31T12:30:05.000Z');
    expect(runIdTime('20250131T123005Z-lr0001')).toBe('2025-01-31T12:30:05.000Z');
    for (const id of ['run-1', '2025-01-31', '20251399-999999-x', null]) expect(runIdTime(id)).toBeNull();
  });
});

describe('repro ui --registry', { timeout: 60_000 }, () => {
  const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1, 2], epochs: 3 });
  const root = tempDir('repro-ui-registry-');
  const keys = join(root, 'keys');
  const registry = join(root, 'registry.git');
  let ui: StartedRepro;
  let url = '';

  beforeAll(async () => {
    for (const k of ['alice', 'mallory']) generateKey(k, keys);
    git(root, 'init', '--quiet', '--bare', registry);
    const work = join(root, 'work');
    git(root, 'clone', '--quiet', registry, work);
    mkdirSync(join(work, 'keys'));
    cpSync(join(keys, 'alice.pub.json'), join(work, 'keys', 'alice.pub.json'));

    // Submissions of the fixture's run as three other machines would make them: their own run id,
    // accuracy and CPU (one CPU name is markup), each signed (or not) as a submitter would sign it.
    const { statement } = submissionFile({ path: f.runJson, record: f.record }, null);
    const sub = join(work, 'submissions', 'paper');
    mkdirSync(sub, { recursive: true });
    const submit = (runId: string, accuracy: number[], cpu: string, signer: 'alice' | 'mallory' | null) => {
      const s = structuredClone(statement);
      const p = s.predicate as { run: { id: string }; variants: Record<string, Record<string, number[]>>; environment: { cpuModel: string } };
      p.run.id = runId;
      p.variants['evaluate variant=xe']!.accuracy = accuracy;
      p.environment.cpuModel = cpu;
      const payload = Buffer.from(JSON.stringify(s));
      const envelope = signer ? signEnvelope('application/vnd.in-toto+json', payload, loadSigningKey(signer, keys)) : { payloadType: 'application/vnd.in-toto+json', payload: payload.toString('base64'), signatures: [] };
      writeFileSync(join(sub, `${sha(payload)}.json`), JSON.stringify(envelope));
      return join(sub, `${sha(payload)}.json`);
    };
    submit('20250105-120000-aaaa', [0.41, 0.43], HOSTILE, 'alice');
    submit('20250106-120000-bbbb', [0.91, 0.93], 'Mallory CPU', 'mallory');
    submit('20250107-120000-cccc', [0.81, 0.83], 'Nobody CPU', null);
    // Signed by Alice but moved to a name that is markup: not at its content address, so rejected.
    renameSync(submit('20250108-120000-dddd', [0.71, 0.73], 'Moved CPU', 'alice'), join(sub, '<img src=x onerror=alert(1)>.json'));
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'a registry with four submissions');
    git(work, 'push', '--quiet', 'origin', 'HEAD');

    ui = startRepro(['ui', f.root, '--registry', registry]);
    await until(() => /http:\/\/127\.0\.0\.1:\d+\/\w+\//.test(ui.output()), 20_000, 'the URL');
    url = ui.output().match(/http:\/\/127\.0\.0\.1:\d+\/\w+\//)![0];
  });
  afterAll(() => ui?.child.kill('SIGINT'));

  it('draws only accepted submissions, marked as the registry', async () => {
    const r = await get(`${url}drift?workflow=paper&group=${encodeURIComponent('evaluate variant=xe')}&metric=accuracy`);
    expect(r.status).toBe(200);
    const rows = chartRows(r.body);
    const registryRows = rows.filter((x) => x.source === 'registry');
    expect(registryRows).toEqual([expect.objectContaining({ run: '20250105-120000-aaaa', time: '2025-01-05T12:00:00.000Z', n: 2, mean: expect.closeTo(0.42, 12) })]);
    expect(rows.filter((x) => x.source === 'local').map((x) => x.run)).toEqual([f.record.runId]);
    // Mallory's, the unsigned one and the misfiled copy never reach the chart.
    for (const m of [0.92, 0.82, 0.72]) expect(rows.some((x) => Math.abs((x.mean as number) - m) < 1e-9)).toBe(false);
    expect(r.body).toMatch(/1 accepted \(signed by a key the registry holds\), 2 unverified, 1 rejected/);
    expect(r.body).toMatch(/<tr data-source="registry"><td class="mono">[0-9a-f]{12}<\/td><td class="mono">20250105-120000-aaaa<\/td>/);
  });

  it('lists the others apart with their reasons, every string escaped', async () => {
    const r = await get(`${url}drift?workflow=paper&group=${encodeURIComponent('evaluate variant=xe')}&metric=accuracy`);
    const apart = r.body.slice(r.body.indexOf('<h3>Not drawn</h3>'));
    expect(apart).toMatch(/<tr data-status="unverified">.*which the registry does not hold/);
    expect(apart).toMatch(/<tr data-status="unverified">.*unsigned/);
    expect(apart).toMatch(/<tr data-status="rejected"><td class="mono">submissions\/paper\/&lt;img src=x onerror=alert\(1\)&gt;\.json<\/td><td>rejected<\/td><td>not at its content address/);
    // The accepted machine's hostile CPU name is text, never markup.
    expect(r.body).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(r.body).not.toContain('<script>window.__pwned');
    expect(r.body).not.toContain('<img src=x');
  });

  it('in commit order, the registry submission stands at its commit', async () => {
    const r = await get(`${url}drift?workflow=paper&group=${encodeURIComponent('evaluate variant=xe')}&metric=accuracy&order=commit`);
    const spec = JSON.parse(r.body.match(/<script type="application\/json" id="spec-drift">(.*?)<\/script>/s)![1]!);
    const x = spec.layer.find((l: { mark: { type: string } }) => l.mark.type === 'point').encoding.x;
    expect(x).toMatchObject({ field: 'commit', type: 'ordinal', sort: ['0123456789'] });
    expect(chartRows(r.body).map((row) => row.commit)).toEqual(['0123456789', '0123456789']);
    expect(r.body).toMatch(/<option value="commit" selected>/);
  });

  it('says so on the page when the registry cannot be read', async () => {
    const bad = startRepro(['ui', f.root, '--registry', join(root, 'no-such-registry.git')]);
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+\/\w+\//.test(bad.output()), 20_000, 'the URL');
      const r = await get(`${bad.output().match(/http:\/\/127\.0\.0\.1:\d+\/\w+\//)![0]}drift`);
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/Could not read the registry <span class="mono">[^<]*no-such-registry\.git<\/span>: cannot read the registry/);
      expect(chartRows(r.body).every((x) => x.source === 'local')).toBe(true);
    } finally {
      bad.child.kill('SIGINT');
    }
  });
});
