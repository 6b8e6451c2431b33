// The results registry end to end: a local bare git repository as the registry, real runs published
// from three project folders (two give bit-identical results, one a slightly different "engine"),
// `repro results` pooling them; tampered, unknown-key, oversized, deeply nested and hostile-named
// submissions listed as rejected with their reasons, never pooled, never rendered raw.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectWith, repro, scriptedTrainStep, tempDir } from '../support/index.js';
import { signEnvelope } from '../../src/share/attest.js';
import { loadSigningKey } from '../../src/share/keys.js';
import { jsonNesting, pool } from '../../src/share/registry.js';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// A deterministic "training": per variant and seed a fixed accuracy; DRIFT (a number in the script
// itself, as another engine's arithmetic would be) moves every value a little.
const fakeTrain = (drift: number) => `
import { writeFileSync } from 'node:fs';
const variant = process.env.VARIANT, seed = Number(process.env.SEED);
const noise = { xe: [0.004, -0.006, 0.002], emd2: [-0.002, 0.005, 0.001] };
const accuracy = 0.5 + (variant === 'emd2' ? 0.05 : 0) + noise[variant][seed - 1] + ${drift};
writeFileSync('metrics.json', JSON.stringify({ accuracy, mae: 0.6 - accuracy / 10 }));
writeFileSync('history.json', JSON.stringify({ loss: variant, facts: {}, epochs: [{ epoch: 1, train_loss: 1, ms_per_step: 10 }] }));
`;

const workflow = `
name: tiny-registry
params:
  data_dir: {type: string, default: /srv/someone/data}
  label: {type: string, default: plain}
steps:
${scriptedTrainStep({ seeds: [1, 2, 3] })}  compare:
    uses: compare
    with:
      results: \${{ steps.train.outputs.metrics }}
      scale: smoke
      scale_note: a deterministic script stands in for training
      claims:
        - id: C1
          text: EMD² beats XE
          metric: accuracy
          relation: {type: better, a: emd2, b: xe}
          test: paired-t
          required: true
`;

describe('pooling', () => {
  it('random effects (DerSimonian–Laird) matches a hand computation; falls back to the mean of means without variances', () => {
    // y = 1, 2; v = 0.1, 0.1 (sd² / n with sd = 1, n = 10): Q = 5, C = 10, τ² = 0.4; weights equal → μ = 1.5, se = √(0.5/2).
    const p = pool([{ mean: 1, sd: 1, n: 10 }, { mean: 2, sd: 1, n: 10 }]);
    expect(p.model).toBe('random-effects');
    expect(p.tau2).toBeCloseTo(0.4, 12);
    expect(p.estimate).toBeCloseTo(1.5, 12);
    expect(p.ci95![1] - p.estimate).toBeCloseTo(1.959964 * Math.sqrt(0.25), 5);
    const f = pool([{ mean: 1, sd: null, n: 1 }, { mean: 2, sd: 0, n: 3 }, { mean: 3, sd: 1, n: 3 }]);
    expect(f.model).toBe('mean-of-means');
    expect(f.estimate).toBe(2);
  });

  it('counts nesting on the text, skipping strings', () => {
    expect(jsonNesting('{"a": [[1], {"b": "[[[[{{{"}]}')).toBe(3);
    expect(jsonNesting('['.repeat(100) + ']'.repeat(100))).toBe(100);
  });
});

describe('results registry', { timeout: 240_000 }, () => {
  const root = tempDir('repro-registry-');
  const keys = join(root, 'keys');
  const env = { REPRO_KEYS_DIR: keys };
  const registry = join(root, 'registry.git');
  const maintainer = join(root, 'maintainer');
  const projects = [0, 0, 0.0015].map((drift, i) => projectWith({ 'fake-train.mjs': fakeTrain(drift), 'wf.yaml': workflow }, `repro-registry-p${i}-`));

  const results = (...extra: string[]) => repro(['results', 'tiny-registry', '--registry', registry, ...extra], { cwd: root, env });

  /** Adds a file to the registry as any pusher could (the registry does not trust its pushers). */
  function push(rel: string, data: string | Buffer | null, link?: string): void {
    const dir = join(root, `push-${Math.random().toString(36).slice(2)}`);
    git(root, 'clone', '--quiet', registry, dir);
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    if (link) symlinkSync(link, join(dir, rel));
    else writeFileSync(join(dir, rel), data!);
    git(dir, 'add', rel);
    git(dir, 'commit', '--quiet', '-m', `add ${rel}`);
    git(dir, 'push', '--quiet', 'origin', 'HEAD');
  }

  it('a maintainer sets up a registry that accepts two keys (the three commands of docs/registry.md)', () => {
    for (const k of ['alice', 'bob', 'mallory']) expect(repro(['key', 'generate', k], { env }).code).toBe(0);
    for (const k of ['alice', 'bob']) expect(repro(['key', 'export', k, '-o', join(root, `${k}.pub.json`)], { env }).code).toBe(0);
    git(root, 'init', '--quiet', '--bare', registry);
    git(root, 'clone', '--quiet', registry, maintainer);
    mkdirSync(join(maintainer, 'keys'));
    for (const k of ['alice', 'bob']) cpSync(join(root, `${k}.pub.json`), join(maintainer, 'keys', `${k}.pub.json`));
    git(maintainer, 'add', 'keys');
    git(maintainer, 'commit', '--quiet', '-m', 'registry: accept alice and bob');
    git(maintainer, 'push', '--quiet', 'origin', 'HEAD');
  });

  it('publish --dry-run prints the exact file, pushes nothing; publish pushes it at its content address', () => {
    for (const p of projects) expect(repro(['run', 'wf.yaml', '-q', '--no-report'], { cwd: p }).code).toBe(0);
    const dry = repro(['publish', '--registry', registry, '--sign', 'alice', '--dry-run'], { cwd: projects[0], env });
    expect(dry.code).toBe(0);
    const [, path] = dry.stdout.match(/^would add (submissions\/tiny-registry\/[0-9a-f]{64}\.json) to /m)!;
    const text = dry.stdout.slice(dry.stdout.indexOf('\n') + 1);
    const envelope = JSON.parse(text);
    const payload = Buffer.from(envelope.payload, 'base64');
    expect(path).toBe(`submissions/tiny-registry/${sha(payload)}.json`);
    const statement = JSON.parse(payload.toString());
    expect(statement.predicateType).toBe('https://repro.dev/predicates/submission/v1');
    expect(statement.predicate.variants['train variant=emd2'].accuracy).toHaveLength(3);
    expect(statement.predicate.claims).toEqual([expect.objectContaining({ id: 'C1', verdict: expect.any(String) })]);
    // Nothing that names the person or the machine's layout.
    expect(payload.toString()).not.toContain(projects[0]);
    expect(statement.predicate.params).toEqual({ data_dir: '<path>', label: 'plain' });
    expect(payload.toString()).not.toContain(process.env.HOME ?? '/root');
    expect(git(root, '--git-dir', registry, 'log', '--oneline', '--all').trim().split('\n')).toHaveLength(1);

    const pub = repro(['publish', '--registry', registry, '--sign', 'alice'], { cwd: projects[0], env });
    expect(pub.code).toBe(0);
    expect(git(root, '--git-dir', registry, 'show', `HEAD:${path}`)).toBe(text);
    // Published by repro, not by the user's git identity.
    expect(git(root, '--git-dir', registry, 'log', '-1', '--format=%an <%ae>')).toMatch(/^repro publish <repro-publish@invalid>/);
    expect(repro(['publish', '--registry', registry, '--sign', 'bob'], { cwd: projects[1], env }).code).toBe(0);
    expect(repro(['publish', '--registry', registry, '--sign', 'bob'], { cwd: projects[2], env }).code).toBe(0);
    // Without a key: an envelope without signatures, which `repro results` lists apart.
    const bare = repro(['publish', '--registry', registry, '--dry-run'], { cwd: projects[1], env });
    expect(bare.stdout).toMatch(/^would add .* \(unsigned\):$/m);
    expect(JSON.parse(bare.stdout.slice(bare.stdout.indexOf('\n') + 1)).signatures).toEqual([]);
    // The same run again is the same file: nothing new.
    expect(repro(['publish', '--registry', registry, '--sign', 'bob'], { cwd: projects[2], env }).out).toMatch(/^already in /);
    // Valid, but by a key the registry does not hold (another run: a cached re-run has its own id).
    expect(repro(['run', 'wf.yaml', '-q', '--no-report'], { cwd: projects[2] }).code).toBe(0);
    expect(repro(['publish', '--registry', registry, '--sign', 'mallory'], { cwd: projects[2], env }).code).toBe(0);
  });

  it('refuses tampered and hostile submissions with reasons, and pools only the accepted ones', () => {
    const alice = loadSigningKey('alice', keys);
    const dir = join(root, 'look');
    git(root, 'clone', '--quiet', registry, dir);
    const sub = join(dir, 'submissions', 'tiny-registry');
    const files = readdirSync(sub);
    const aliceFile = files.find((f) => JSON.parse(readFileSync(join(sub, f), 'utf8')).signatures[0].keyid === alice.keyid)!;
    const original = JSON.parse(readFileSync(join(sub, aliceFile), 'utf8'));
    const statement = JSON.parse(Buffer.from(original.payload, 'base64').toString());

    // Tampered: a better accuracy, the payload re-encoded and filed at its new address, Alice's signature kept.
    const forged = structuredClone(statement);
    forged.predicate.variants['train variant=emd2'].accuracy[0] = 0.99;
    const forgedPayload = Buffer.from(JSON.stringify(forged));
    push(`submissions/tiny-registry/${sha(forgedPayload)}.json`, JSON.stringify({ ...original, payload: forgedPayload.toString('base64') }));

    // Validly signed by Alice, but hostile inside: markup in a variant name; nesting 40 deep in a param.
    const signed = (s: unknown) => {
      const payload = Buffer.from(JSON.stringify(s));
      push(`submissions/tiny-registry/${sha(payload)}.json`, JSON.stringify(signEnvelope('application/vnd.in-toto+json', payload, alice)));
    };
    const script = structuredClone(statement);
    script.predicate.variants['<script>alert(1)</script>'] = { accuracy: [1] };
    signed(script);
    const deep = structuredClone(statement);
    deep.predicate.params.x = JSON.parse('['.repeat(40) + ']'.repeat(40));
    signed(deep);
    // A huge file, a link to a file of this machine, and a file name that is markup.
    push('submissions/tiny-registry/huge.json', Buffer.alloc(2 * 1024 * 1024, 0x20));
    push('submissions/tiny-registry/passwd.json', null, '/etc/passwd');
    push('submissions/tiny-registry/<img src=x onerror=alert(1)>.json', JSON.stringify(original));

    const r = results('--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const by = (status: string) => out.submissions.filter((s: { status: string }) => s.status === status);
    expect(by('accepted')).toHaveLength(3);
    expect(by('unverified')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/which the registry does not hold/) })]);
    const reasons = by('rejected').map((s: { reason: string }) => s.reason).join('\n');
    expect(by('rejected')).toHaveLength(6);
    expect(reasons).toMatch(/signature by alice .* does not verify: changed after signing/);
    expect(reasons).toMatch(/does not match schemas\/submission.schema.json: \/predicate\/variants/);
    expect(reasons).toMatch(/nested deeper than 12 levels/);
    expect(reasons).toMatch(/larger than 1048576 bytes/);
    // git checks the link out as a plain file holding its target's name: never the machine's /etc/passwd.
    expect(reasons).toMatch(/not JSON/);
    expect(r.stdout).not.toMatch(/root:/);
    expect(reasons).toMatch(/not at its content address/);

    // Pooled: the three accepted, one workflow version; two bit-identical, the third apart.
    expect(out.pools).toHaveLength(1);
    const p = out.pools[0];
    expect(p.submissions).toHaveLength(3);
    expect(p.identical.metrics.map((g: string[]) => g.length).sort()).toEqual([1, 2]);
    expect(p.identical.outputs.map((g: string[]) => g.length).sort()).toEqual([1, 2]);
    const acc = p.metrics.find((m: { variant: string; metric: string }) => m.variant === 'train variant=emd2' && m.metric === 'accuracy');
    expect(acc.model).toBe('random-effects');
    expect(acc.submissions).toHaveLength(3);
    // The forged 0.99 never entered: the pooled accuracy lies within the honest submissions' means.
    const means = acc.submissions.map((s: { mean: number }) => s.mean);
    expect(acc.estimate).toBeGreaterThanOrEqual(Math.min(...means) - 1e-12);
    expect(acc.estimate).toBeLessThanOrEqual(Math.max(...means) + 1e-12);
    expect(Math.max(...means)).toBeLessThan(0.6);
    expect(acc.ci95[0]).toBeLessThan(acc.estimate);
    const c1 = p.claims.find((c: { id: string }) => c.id === 'C1');
    expect(c1.machines).toHaveLength(3);
    expect(c1.agree).toBe(true);

    const md = results();
    expect(md.code).toBe(0);
    expect(md.out).toMatch(/3 accepted, 1 unverified \(not pooled\), 6 rejected/);
    expect(md.out).toMatch(/\| C1 \| all 3 agree \(1 machine kind\) \|/);
    expect(md.out).toMatch(/DerSimonian–Laird/);
    const groups = md.out.match(/\*\*Bit-identical\*\*: every output: ([0-9a-f =;]+)\./)![1]!.split('; ');
    expect(groups.map((g) => g.split(' = ').length).sort()).toEqual([1, 2]);
    // No raw tag: every '<' a submission brought is backslash-escaped.
    expect(md.out).not.toMatch(/(?<!\\)<img/);
    expect(md.out).not.toMatch(/(?<!\\)<script/);
    // Escaped for Markdown (core/markdown.ts, as report.md): shown as the text it is, never as markup.
    expect(md.out).toContain('\\<img src=x onerror=alert(1)\\>');
  });
});

// The flagship smoke profile run for real on this machine, on two engines (tfjs wasm twice, in stores
// of their own; PyTorch where /usr/bin/python3 has torch). tfjs's cpu backend gives the same numbers as
// wasm but takes about ten minutes here, so it is left out.
const TORCH = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!TORCH) console.log('registry flagship test: /usr/bin/python3 has no torch; only the tfjs submissions are made');

describe('results registry: the flagship smoke profile on two engines', { timeout: 600_000 }, () => {
  it('shows which submissions agree bit for bit, how the rest differ, and agrees with repro compare', () => {
    const root = tempDir('repro-registry-flagship-');
    const env = { REPRO_KEYS_DIR: join(root, 'keys') };
    const registry = join(root, 'registry.git');
    git(root, 'init', '--quiet', '--bare', registry);
    const reg = join(root, 'reg');
    git(root, 'clone', '--quiet', registry, reg);
    expect(repro(['key', 'generate', 'lab'], { env }).code).toBe(0);
    mkdirSync(join(reg, 'keys'));
    expect(repro(['key', 'export', 'lab', '-o', join(reg, 'keys', 'lab.pub.json')], { env }).code).toBe(0);
    git(reg, 'add', 'keys');
    git(reg, 'commit', '--quiet', '-m', 'keys');
    git(reg, 'push', '--quiet', 'origin', 'HEAD');

    const wf = join(process.cwd(), 'workflows', 'paper.yaml');
    const runs: Array<[string, string[]]> = [['wasm-a', ['--backend', 'wasm']], ['wasm-b', ['--backend', 'wasm']]];
    if (TORCH) runs.push(['torch', ['--engine', 'torch', '--python', '/usr/bin/python3']]);
    const compared = new Map<string, Record<string, string>>();
    for (const [name, opts] of runs) {
      const where = ['--store', join(root, `store-${name}`), '--results', join(root, `results-${name}`)];
      const r = repro(['run', wf, '--profile', 'smoke', '--no-report', '-q', ...where, ...opts], { cwd: root });
      expect(r.code, r.out).toBe(0);
      expect(repro(['publish', 'hou2016-emd2', '--results', join(root, `results-${name}`), '--registry', registry, '--sign', 'lab'], { cwd: root, env }).code).toBe(0);
      const c = JSON.parse(repro(['compare', 'hou2016-emd2', '--results', join(root, `results-${name}`), '--json'], { cwd: root }).stdout);
      compared.set(c.run, Object.fromEntries(c.verdicts[0].file.checks.map((x: { id: string; verdict: string }) => [x.id, x.verdict])));
    }

    const out = JSON.parse(repro(['results', wf, '--registry', registry, '--json'], { cwd: root, env }).stdout);
    expect(out.submissions.map((s: { status: string }) => s.status)).toEqual(runs.map(() => 'accepted'));
    expect(out.pools).toHaveLength(1);
    const shared = out.pools[0];
    expect(shared.profile).toBe('smoke');
    const machines: string[] = shared.submissions.map((s: { machine: string }) => s.machine);
    expect(machines.filter((m) => m.endsWith(' · engine=tfjs backend=wasm device=cpu'))).toHaveLength(2);
    // Two tfjs wasm runs in stores of their own: the same per-seed metrics, to the last bit.
    const byRun = new Map<string, string>(shared.submissions.map((s: { run: string; id: string }) => [s.run, s.id]));
    const wasmIds = [...compared.keys()].slice(0, 2).map((run) => byRun.get(run));
    expect(shared.identical.metrics).toContainEqual(expect.arrayContaining(wasmIds));
    if (TORCH) {
      expect(machines.filter((m) => / · engine=torch device=(cpu|cuda)/.test(m))).toHaveLength(1);
      const torchId = byRun.get([...compared.keys()][2]!)!;
      expect(shared.identical.metrics.find((g: string[]) => g.includes(torchId))).not.toContain(wasmIds[0]);
    }
    // Every claim's verdict per submission is the one `repro compare` gives for that run.
    for (const claim of shared.claims) {
      for (const m of claim.machines) {
        const run = shared.submissions.find((s: { id: string }) => s.id === m.id).run;
        expect(m.verdict).toBe(compared.get(run)![claim.id]);
      }
    }
    const acc = shared.metrics.find((m: { variant: string; metric: string }) => m.variant === 'evaluate variant=xe' && m.metric === 'accuracy');
    expect(acc.submissions).toHaveLength(runs.length);
    expect(shared.metrics.some((m: { metric: string }) => m.metric === 'examples_per_second')).toBe(false);
  });
});
