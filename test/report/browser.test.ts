/// <reference lib="dom" />
// Opens report.html in real headless Chromium (Debian's package, driven by playwright-core), takes a
// screenshot, and checks the plots rendered: every figure holds a non-empty, visible SVG with marks,
// and the page fetches nothing from the network. Skips, saying why, where Chromium is not installed.
import { describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeRunFixture } from './fixture.js';
import { writeRunReport } from '../../src/report/index.js';
import { tempDir } from '../support/index.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`SKIPPED report browser test: ${CHROMIUM} is not installed (apt-get install -y chromium).`);
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium with a fresh profile each time (playwright passes it as --user-data-dir), `width` px wide. */
async function launch(width: number) {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(tempDir('repro-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width, height: 900 },
  });
}

describe.skipIf(!haveChromium)('report in a real browser', () => {
  it('renders every plot as a visible, non-empty SVG, offline, and screenshots it', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2', 'learned'], seeds: [1, 2, 3] });
    const { files } = await writeRunReport(f.runDir);
    const context = await launch(1240);
    try {
      const page = await context.newPage();
      const remote: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) remote.push(r.url());
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(pathToFileURL(files['report.html']).href, { waitUntil: 'load' });

      const figures = await page.$$eval('figure.plot', (figs) =>
        figs.map((fig) => {
          const svg = fig.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            plot: fig.getAttribute('data-plot'),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            marks: svg ? svg.querySelectorAll('g[class*="mark-"] path, g[class*="mark-"] text, g[class*="mark-"] line').length : 0,
            symbols: svg ? svg.querySelectorAll('g.mark-symbol path').length : 0,
            rects: svg ? svg.querySelectorAll('g.mark-rect path').length : 0,
          };
        }),
      );
      expect(figures.map((x) => x.plot)).toEqual(['learning-curves', 'per-seed', 'confusion', 'ground-distance-learned']);
      for (const fig of figures) {
        expect(fig.width, fig.plot!).toBeGreaterThan(200);
        expect(fig.height, fig.plot!).toBeGreaterThan(100);
        expect(fig.marks, fig.plot!).toBeGreaterThan(20);
      }
      // 3 variants × 3 seeds × 4 metrics points; 3 × 25 confusion cells; 8 epochs × 25 D cells.
      expect(figures[1]!.symbols).toBeGreaterThanOrEqual(36);
      expect(figures[2]!.rects).toBeGreaterThanOrEqual(75);
      expect(figures[3]!.rects).toBeGreaterThanOrEqual(8 * 25);
      expect(await page.locator('.banner[data-scale="proxy"]').isVisible()).toBe(true);
      expect(remote).toEqual([]);
      expect(errors).toEqual([]);

      // REPRO_REPORT_SCREENSHOT=docs/report-screenshot.png regenerates the README's picture (top of the page).
      const target = process.env.REPRO_REPORT_SCREENSHOT;
      const shot = target ?? join(f.runDir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true, ...(target ? { clip: { x: 0, y: 0, width: 1240, height: 2350 } } : {}) });
      expect(statSync(shot).size).toBeGreaterThan(50_000);
    } finally {
      await context.close();
    }
  });

  it('reads right after a one-epoch run at 1280 px: points for single values, integer epoch ticks, no axis without a panel, aligned headers, nothing wider than the page', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2', 'learned'], seeds: [1, 2], epochs: 1 });
    const { files } = await writeRunReport(f.runDir);
    const context = await launch(1280);
    try {
      const page = await context.newPage();
      await page.goto(pathToFileURL(files['report.html']).href, { waitUntil: 'load' });
      const got = await page.evaluate(() => {
        const svg = document.querySelector('figure[data-plot="learning-curves"] svg')!;
        const xAxes = [...svg.querySelectorAll('g.role-axis')].filter((g) => (g.getAttribute('aria-label') ?? '').startsWith('X-axis'));
        const panels = [...svg.querySelectorAll('g.role-title text, g.role-header text, g.mark-text.role-header-label text')].map((t) => t.textContent);
        const main = document.querySelector('main')!;
        const pad = parseFloat(getComputedStyle(main).paddingRight);
        const contentRight = main.getBoundingClientRect().right - pad;
        const tooWide = [...main.querySelectorAll('table, figure, .wide, pre')]
          .filter((e) => e.getBoundingClientRect().right > contentRight + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} right ${e.getBoundingClientRect().right.toFixed(0)} > ${contentRight.toFixed(0)}`);
        // A header sits over its numbers: each th aligns as the cells of its column do.
        const misaligned: string[] = [];
        for (const table of document.querySelectorAll('#timings ~ table, #timings ~ details table, table.metrics')) {
          const head = [...table.querySelectorAll('thead th')];
          const row = table.querySelector('tbody tr');
          if (!row) continue;
          [...row.querySelectorAll('td')].forEach((td, i) => {
            const th = head[i];
            if (th && getComputedStyle(th).textAlign !== getComputedStyle(td).textAlign) misaligned.push(`${th.textContent}: ${getComputedStyle(th).textAlign} over ${getComputedStyle(td).textAlign}`);
          });
        }
        return {
          symbols: svg.querySelectorAll('g.mark-symbol path').length,
          lines: [...svg.querySelectorAll('g.mark-line path')].filter((p) => (p.getAttribute('d') ?? '').length > 0).length,
          xTicks: xAxes.flatMap((g) => [...g.querySelectorAll('g.role-axis-label text')].map((t) => t.textContent ?? '')),
          xAxes: xAxes.length,
          panels,
          scrollWidth: document.documentElement.scrollWidth,
          tooWide,
          misaligned,
        };
      });
      // 3 variants × 5 panels (train loss and 4 validation metrics), each mean a visible point.
      expect(got.symbols).toBeGreaterThanOrEqual(15);
      expect(got.xTicks.length).toBeGreaterThan(0);
      for (const t of got.xTicks) expect(t, 'epoch tick').toMatch(/^\d+$/);
      // One x axis per panel: none drawn under an empty sixth cell.
      expect(got.xAxes).toBe(5);
      expect(got.scrollWidth).toBeLessThanOrEqual(1280);
      expect(got.tooWide).toEqual([]);
      expect(got.misaligned).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
