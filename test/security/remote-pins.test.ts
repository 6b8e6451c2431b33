// A workflow from a git URL (issue 21, items 2 and 3), with real repositories through file:// URLs:
// a workflow file or a local input that is a symbolic link leaving the checkout (or an absolute path
// elsewhere) is refused without --trust; a branch or tag is resolved once to a full commit, printed
// and pinned in repro.pins.json, and a later run that finds it moved stops naming both commits
// until `repro pin` moves the pin.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, repository, repro, tempDir } from './helpers.js';

const sha = (data: string) => createHash('sha256').update(data).digest('hex');

/** A file outside any repository: what a hostile link or path would read. */
function privateFile(text: string): string {
  const file = join(tempDir('repro-sec-private-'), 'private.txt');
  writeFileSync(file, text);
  return file;
}

const fetchOf = (source: string, text: string) => `name: reads
steps:
  get:
    uses: fetch
    with:
      sources: [${JSON.stringify(source)}]
      sha256: ${sha(text)}
`;

describe('symbolic links and paths that leave a remote checkout', { timeout: 120_000 }, () => {
  it('a workflow file that is a link to a local file is refused, whatever the trust', () => {
    const local = privateFile(fetchOf('data.txt', 'x\n'));
    const repo = repository({ 'wf.yaml': { link: local } });
    const work = tempDir('repro-sec-work-');
    for (const trust of [[], ['--trust']]) {
      const r = repro(work, ['run', `file://${repo.dir}#wf.yaml@${repo.commit}`, '--no-report', ...trust]);
      expect(r.code, r.out).toBe(2);
      expect(r.stderr).toMatch(/wf\.yaml is a symbolic link leaving the repository \(to .*private\.txt\); refused/);
    }
    expect(existsSync(join(work, 'results'))).toBe(false);
  });

  it('an input that is a link out of the checkout, or an absolute path, is not read without --trust', () => {
    const secret = 'the receiver\u2019s private data\n';
    const target = privateFile(secret);
    const repo = repository({ 'linked.yaml': fetchOf('data.txt', secret), 'data.txt': { link: target }, 'absolute.yaml': fetchOf(target, secret) });
    const work = tempDir('repro-sec-work-');
    for (const [wf, why] of [
      ['linked.yaml', /input data\.txt is a symbolic link to .*private\.txt, outside the repository's checkout: a workflow from a remote repository reads only its own files without --trust/],
      ['absolute.yaml', /input .*private\.txt lies outside the repository's checkout/],
    ] as const) {
      const r = repro(work, ['run', `file://${repo.dir}#${wf}@${repo.commit}`, '--no-report']);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(why);
    }
    const records = join(work, 'results', 'reads');
    const stored = (id: string) => {
      const rec = JSON.parse(readFileSync(join(records, id, 'run.json'), 'utf8'));
      return rec.steps[0].outputs?.path;
    };
    expect(readdirSync(records).filter((d) => d !== 'latest').map(stored)).toEqual([undefined, undefined]);
    // With --trust the author's word is taken: the file is read.
    const trusted = repro(work, ['run', `file://${repo.dir}#linked.yaml@${repo.commit}`, '--no-report', '--trust']);
    expect(trusted.code, trusted.out).toBe(0);
  });

  it('links between folders of the checkout that form a loop are looked at once each: a clear error, not a crash', () => {
    const wf = 'name: loop\nsteps:\n  d:\n    uses: dataset\n    with: {format: image-folder, folder: imgs}\n';
    const repo = repository({ 'wf.yaml': wf, 'imgs/a': { link: '../y' }, 'y/b': { link: '../z' }, 'z/c': { link: '../y' } });
    const work = tempDir('repro-sec-work-');
    const r = repro(work, ['run', `file://${repo.dir}#wf.yaml@${repo.commit}`, '--no-report']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).not.toMatch(/internal error|call stack/);
    expect(r.out).toMatch(/input imgs cannot be read: ELOOP/);
  });

  it('a link inside the checkout to a file of the checkout is fine', () => {
    const repo = repository({ 'wf.yaml': fetchOf('alias.txt', 'x\n'), 'data.txt': 'x\n', 'alias.txt': { link: 'data.txt' } });
    const work = tempDir('repro-sec-work-');
    const r = repro(work, ['run', `file://${repo.dir}#wf.yaml@${repo.commit}`, '--no-report']);
    expect(r.code, r.out).toBe(0);
  });
});

describe('reading a remote workflow (validate, plan)', { timeout: 60_000 }, () => {
  it('lists, as warnings at file:line:col, each place that would need --trust to run', () => {
    const repo = repository({ 'wf.yaml': 'name: w\nsteps:\n  s:\n    uses: run\n    with: {command: "echo hi > o.txt"}\n    outputs: {o: o.txt}\n' });
    const work = tempDir('repro-sec-work-');
    const url = `file://${repo.dir}#wf.yaml@${repo.commit}`;
    for (const cmd of ['validate', 'plan']) {
      const r = repro(work, [cmd, url]);
      expect(r.code, r.out).toBe(0);
      expect(r.stderr).toMatch(/wf\.yaml:4:11: warning: this workflow comes from a remote repository: it runs a command \(step 's'\), which needs --trust/);
    }
  });
});

describe('pins: a branch or tag resolves once to a commit', { timeout: 120_000 }, () => {
  it('is pinned on first use; a moved branch stops the next run naming both commits; repro pin moves it', () => {
    const repo = repository({ 'wf.yaml': fetchOf('data.txt', 'one\n'), 'data.txt': 'one\n' });
    const work = tempDir('repro-sec-work-');
    const url = `file://${repo.dir}#wf.yaml@main`;
    const first = repro(work, ['run', url, '--no-report']);
    expect(first.code, first.out).toBe(0);
    expect(first.stderr).toContain(`${url} is commit ${repo.commit}: pinned in repro.pins.json`);
    const pins = JSON.parse(readFileSync(join(work, 'repro.pins.json'), 'utf8'));
    expect(pins.pins[`file://${repo.dir}@main`].commit).toBe(repo.commit);
    const latest = () => JSON.parse(readFileSync(join(work, 'results', 'reads', 'latest', 'run.json'), 'utf8'));
    expect(latest().workflow.source).toMatchObject({ rev: 'main', commit: repo.commit });
    const firstRun = latest().runId;

    // The author pushes another commit to main.
    writeFileSync(join(repo.dir, 'wf.yaml'), fetchOf('data.txt', 'two\n'));
    writeFileSync(join(repo.dir, 'data.txt'), 'two\n');
    git(repo.dir, 'commit', '-qam', 'two');
    const second = git(repo.dir, 'rev-parse', 'HEAD');

    const moved = repro(work, ['run', url, '--no-report']);
    expect(moved.code, moved.out).toBe(2);
    expect(moved.stderr).toContain(`'main' moved since it was pinned: pinned commit ${repo.commit}`);
    expect(moved.stderr).toContain(`now ${second}; nothing ran`);
    expect(moved.stderr).toContain(`repro pin ${url}`);
    expect(latest().runId).toBe(firstRun);
    // plan and validate read the same pin: what one reads is what runs.
    expect(repro(work, ['validate', url]).code).toBe(2);

    const pin = repro(work, ['pin', url]);
    expect(pin.code, pin.out).toBe(0);
    expect(pin.stdout).toContain(`is commit ${second}: pinned in repro.pins.json (was ${repo.commit})`);
    const again = repro(work, ['run', url, '--no-report']);
    expect(again.code, again.out).toBe(0);
    expect(latest().workflow.source.commit).toBe(second);
  });

  it('a moved tag is refused the same way; a full commit needs no pin and is printed', () => {
    const repo = repository({ 'wf.yaml': fetchOf('data.txt', 'one\n'), 'data.txt': 'one\n' });
    git(repo.dir, 'tag', 'v1');
    const work = tempDir('repro-sec-work-');
    const tagged = `file://${repo.dir}#wf.yaml@v1`;
    expect(repro(work, ['run', tagged, '--no-report']).code).toBe(0);
    writeFileSync(join(repo.dir, 'data.txt'), 'two\n');
    git(repo.dir, 'commit', '-qam', 'two');
    git(repo.dir, 'tag', '-f', 'v1');
    const moved = repro(work, ['run', tagged, '--no-report']);
    expect(moved.code, moved.out).toBe(2);
    expect(moved.stderr).toMatch(/'v1' moved since it was pinned/);

    const other = tempDir('repro-sec-work-');
    const byCommit = repro(other, ['run', `file://${repo.dir}#wf.yaml@${repo.commit}`, '--no-report']);
    expect(byCommit.code, byCommit.out).toBe(0);
    expect(byCommit.stderr).toContain(`is commit ${repo.commit}`);
    // An abbreviated commit names its commit too.
    const short = repro(other, ['run', `file://${repo.dir}#wf.yaml@${repo.commit.slice(0, 10)}`, '--no-report']);
    expect(short.code, short.out).toBe(0);
    expect(short.stderr).toContain(`is commit ${repo.commit}\n`);
    expect(existsSync(join(other, 'repro.pins.json'))).toBe(false);
  });
});
