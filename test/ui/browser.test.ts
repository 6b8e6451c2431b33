/// <reference lib="dom" />
// `repro ui` in real headless Chromium (Debian's package, driven by playwright-core) over real runs:
// the Fashion-MNIST scikit-learn example's smoke profile (about 15 s; left out, saying why, without
// Debian's dataset-fashion-mnist or python3-sklearn), the flagship's smoke profile, run once, and
// again with one parameter changed (`--set seeds=[3]`: a third seed, so only two models train again,
// and the across-runs view pools three seeds), plus a copy of the first record with a hostile title. It filters the list, opens a run, compares
// the two runs (the diff names exactly the changed parameter), opens the across-runs view, checks
// no console error and no request leaving 127.0.0.1, and takes the screenshots of docs/ui.md.
// Skips, saying why, where Chromium is not installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { repro, tempDir } from '../support/index.js';
import { startUi, type UiServer } from '../../src/ui/server.js';
import { registrySource } from '../../src/cli/commands/ui.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED repro ui browser test: ${CHROMIUM} is not installed (apt-get install -y chromium).`);

// The second workflow of the list, where Debian's Fashion-MNIST and scikit-learn are installed (as in test/data/examples.test.ts).
const FASHION_WF = 'fashion-mnist-sklearn';
const noFashion = !existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz')
  ? 'apt-get install dataset-fashion-mnist'
  : spawnSync('/usr/bin/python3', ['-c', 'import sklearn, numpy']).status !== 0
    ? 'apt-get install python3-sklearn'
    : null;
const withFashion = haveChromium && noFashion === null;
if (haveChromium && noFashion) console.warn(`repro ui browser test: without the Fashion-MNIST smoke run (${noFashion}).`);

const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
// REPRO_UI_SCREENSHOTS=docs regenerates the pictures of docs/ui.md and the README.
const SHOTS = process.env.REPRO_UI_SCREENSHOTS ?? tempDir('repro-ui-shots-');

describe.skipIf(!haveChromium)('repro ui in a real browser, over real runs', { timeout: 240_000 }, () => {
  const dir = tempDir('repro-ui-runs-');
  const wf = 'hou2016-emd2';
  let ui: UiServer;
  let context: BrowserContext;
  let page: Page;
  let first: string;
  let second: string;
  const remote: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const common = ['--store', join(dir, '.repro'), '--results', join(dir, 'results')];
    if (withFashion) {
      // First, so that the flagship's runs stay the newest.
      const fm = repro(['run', resolve('workflows/examples/fashion-mnist-sklearn.yaml'), '--profile', 'smoke', '-q', ...common], { cwd: dir });
      expect(fm.code, fm.out).toBe(0);
    }
    const a = repro(['run', resolve('workflows/paper.yaml'), '--profile', 'smoke', ...common], { cwd: dir });
    expect(a.code, a.out).toBe(0);
    const b = repro(['run', resolve('workflows/paper.yaml'), '--profile', 'smoke', '--set', 'seeds=[3]', '--no-report', ...common], { cwd: dir });
    expect(b.code, b.out).toBe(0);
    [second, first] = readdirSync(join(dir, 'results', wf)).filter((n) => n !== 'latest').sort().reverse() as [string, string];
    // A third record: the first with a hostile title, as a shared workflow could have.
    const record = JSON.parse(readFileSync(join(dir, 'results', wf, first, 'run.json'), 'utf8'));
    record.workflow.title = HOSTILE;
    record.runId = '20000101-000000-evil';
    mkdirSync(join(dir, 'results', wf, record.runId));
    writeFileSync(join(dir, 'results', wf, record.runId, 'run.json'), JSON.stringify(record));

    ui = await startUi({ dir });
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(tempDir('repro-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1320, height: 900 },
    });
    // Every request of every page and frame: one to anywhere but our server is recorded and refused.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname !== '127.0.0.1') {
        remote.push(url.href);
        return route.abort();
      }
      return route.continue();
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
  }, 200_000);

  afterAll(async () => {
    await context?.close();
    await ui?.close();
  });

  const rows = () => page.locator('table.runs tbody tr');
  const total = withFashion ? 4 : 3;

  it('lists the runs, newest first, and filters them', async () => {
    await page.goto(ui.url);
    expect(await rows().count()).toBe(total);
    expect(await rows().first().getAttribute('data-run')).toBe(`${wf}/${second}`);
    expect(await rows().first().locator('td').nth(4).textContent()).toBe('smoke');
    expect(await rows().nth(1).textContent()).toContain('1 inconclusive (smoke)');
    await page.screenshot({ path: join(SHOTS, 'ui-runs.png') });

    await page.fill('input[name=q]', second.slice(-4));
    await page.selectOption('select[name=profile]', 'smoke');
    await page.click('form.filters button');
    await page.waitForURL(/q=/);
    expect(await rows().count()).toBe(1);
    expect(await page.locator('#count').textContent()).toMatch(new RegExp(`^1 of ${total} runs`));
    await page.click('form.filters a'); // clear
    expect(await rows().count()).toBe(total);
  });

  it.skipIf(!withFashion)('filters to the Fashion-MNIST run, opens it and its metric across runs', async () => {
    await page.goto(ui.url);
    await page.selectOption('select[name=workflow]', FASHION_WF);
    await page.click('form.filters button');
    await page.waitForURL(/workflow=fashion/);
    expect(await rows().count()).toBe(1);
    expect(await rows().first().textContent()).toMatch(/inconclusive/);
    await rows().first().locator('a').first().click();
    await page.waitForURL(/\/run\/fashion-mnist-sklearn\//);
    const report = page.frameLocator('iframe.report');
    await expect.poll(() => report.locator('h1').textContent(), { timeout: 30_000 }).toContain('Fashion-MNIST scikit-learn benchmark');
    expect((await page.locator('table.steps tbody tr').allTextContents()).some((s) => s.startsWith('benchmark[variant=knn,seed=1'))).toBe(true);
    await page.goto(`${ui.url}drift?workflow=${FASHION_WF}`);
    await page.waitForSelector('.chart[data-drawn] svg', { timeout: 30_000 });
    expect(await page.locator('.chart svg g.mark-symbol path').count()).toBe(1);
    expect(await page.locator('table.drift tbody tr').count()).toBe(1);
  });

  it('opens a run: its report, its steps with logs and hashes, its environment', async () => {
    await page.goto(ui.url);
    await page.click(`a:text("${first}")`);
    await page.waitForURL(/\/run\//);
    const report = page.frameLocator('iframe.report');
    await expect.poll(() => report.locator('h1').textContent(), { timeout: 30_000 }).toContain("Squared Earth Mover's Distance");
    expect(await report.locator('figure.plot svg').count()).toBeGreaterThan(0);
    const steps = await page.locator('table.steps tbody tr').allTextContents();
    expect(steps.some((s) => s.startsWith('train[variant=xe,seed=1'))).toBe(true);
    expect(await page.locator('table.steps a:text("log")').count()).toBeGreaterThan(5);
    expect(await page.locator('table.env').textContent()).toContain('Node.js');
    await page.screenshot({ path: join(SHOTS, 'ui-run.png') });
    // A log opens as text.
    const log = await page.request.get(new URL((await page.locator('table.steps a:text("log")').first().getAttribute('href'))!, ui.url).href);
    expect(log.status()).toBe(200);
  });

  it('compares the two runs: the diff is exactly the changed parameter', async () => {
    await page.goto(ui.url);
    await page.check(`input[value="${wf}/${first}"]`);
    await page.check(`input[value="${wf}/${second}"]`);
    await page.click('button:text("Compare the ticked runs")');
    await page.waitForURL(/\/compare\?/);
    // The baseline is the first ticked in list order: the newest, the seeds=[3] run.
    const items = await page.locator('ul.changes li.param').allTextContents();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(/^param `seeds`: \[3\] → \[1,2\]$/);
    expect(await page.locator('table.metrics tbody tr').count()).toBeGreaterThanOrEqual(8);
    expect(await page.locator('table.verdicts tbody tr').count()).toBe(1);
    await page.waitForSelector('.chart[data-drawn] svg', { timeout: 30_000 });
    expect(await page.locator('.chart svg g.mark-symbol path, .chart svg g.mark-line path').count()).toBeGreaterThan(4);
    await page.screenshot({ path: join(SHOTS, 'ui-compare.png'), fullPage: true });
  });

  it('shows one metric across runs, and the seeds pooled', async () => {
    await page.click('header a:text("Across runs")');
    await page.waitForSelector('.chart[data-drawn] svg', { timeout: 30_000 });
    expect(await page.locator('.chart svg g.mark-symbol path').count()).toBe(3);
    // The three records differ only in their seeds (the hostile copy not even in those): one pool of
    // two variants, three seeds each (the copy's steps have the first run's fingerprints: counted once).
    const pooled = await page.locator('table.pooled tbody tr').allTextContents();
    expect(pooled).toHaveLength(2);
    for (const row of pooled) expect(row).toMatch(/evaluate variant=(xe|emd2)3/);
    expect(await page.locator('ul.poi li').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'ui-drift.png'), fullPage: true });

    // In commit order: all three runs used the workflow at one commit (this checkout's), side by side there.
    await page.selectOption('select[name=order]', 'commit');
    await page.locator('form.filters button').first().click();
    await page.waitForURL(/order=commit/);
    await page.waitForSelector('.chart[data-drawn] svg', { timeout: 30_000 });
    expect(await page.locator('.chart svg g.mark-symbol path').count()).toBe(3);
    const commit = JSON.parse(readFileSync(join(dir, 'results', wf, first, 'run.json'), 'utf8')).git.commit as string | null;
    expect(await page.locator('.chart svg').textContent()).toContain(commit?.slice(0, 10) ?? 'no commit');
  });

  it('draws a results registry beside the local runs: the signed submission drawn, the unsigned one listed apart', async () => {
    // A registry as docs/registry.md sets one up, a run published to it signed and another unsigned.
    const env = { REPRO_KEYS_DIR: join(dir, 'keys') };
    const bare = join(dir, 'registry.git');
    const git = (cwd: string, ...args: string[]) => expect(spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd }).status).toBe(0);
    git(dir, 'init', '--quiet', '--bare', bare);
    git(dir, 'clone', '--quiet', bare, join(dir, 'reg'));
    expect(repro(['key', 'generate', 'lab'], { env }).code).toBe(0);
    mkdirSync(join(dir, 'reg', 'keys'));
    expect(repro(['key', 'export', 'lab', '-o', join(dir, 'reg', 'keys', 'lab.pub.json')], { env }).code).toBe(0);
    git(join(dir, 'reg'), 'add', 'keys');
    git(join(dir, 'reg'), 'commit', '--quiet', '-m', 'keys');
    git(join(dir, 'reg'), 'push', '--quiet', 'origin', 'HEAD');
    expect(repro(['publish', join(dir, 'results', wf, first), '--registry', bare, '--sign', 'lab'], { env }).code).toBe(0);
    expect(repro(['publish', join(dir, 'results', wf, second), '--registry', bare], { env }).code).toBe(0);

    const withRegistry = await startUi({ dir, registry: await registrySource(bare) });
    try {
      await page.goto(`${withRegistry.url}drift?workflow=${wf}`);
      await page.waitForSelector('.chart[data-drawn] svg', { timeout: 30_000 });
      // Three local runs and the one accepted submission (a diamond over its own run's point).
      expect(await page.locator('.chart svg g.mark-symbol path').count()).toBe(4);
      expect(await page.locator('table.registry tbody tr').count()).toBe(1);
      expect(await page.locator('table.registry tbody tr').textContent()).toContain(first);
      expect(await page.locator('table.registry-apart tbody tr').textContent()).toMatch(/unverified\s*unsigned/);
      await page.locator('#registry').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'ui-registry.png'), fullPage: true });
    } finally {
      await withRegistry.close();
    }
  });

  it('renders a hostile title as text', async () => {
    await page.goto(`${ui.url}run/${wf}/20000101-000000-evil`);
    expect(await page.locator('h1').textContent()).toBe(HOSTILE);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
  });

  it('refuses a request without the token, and nothing left 127.0.0.1 nor failed in the console', async () => {
    const bare = await context.newPage();
    const r = await bare.goto(new URL(ui.url).origin + '/');
    expect(r?.status()).toBe(403);
    await bare.close();
    expect(remote).toEqual([]);
    expect(errors).toEqual([]);
    for (const name of ['ui-runs.png', 'ui-run.png', 'ui-compare.png', 'ui-drift.png', 'ui-registry.png']) expect(statSync(join(SHOTS, name)).size).toBeGreaterThan(20_000);
  });
});
