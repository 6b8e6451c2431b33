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

describe.skipIf(!haveChromium)('report in a real browser', () => {
  it('renders every plot as a visible, non-empty SVG, offline, and screenshots it', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2', 'learned'], seeds: [1, 2, 3] });
    const { files } = await writeRunReport(f.runDir);
    const { chromium } = await import('playwright-core');
    // A fresh profile each time (playwright passes it as --user-data-dir).
    const context = await chromium.launchPersistentContext(tempDir('repro-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1240, height: 900 },
    });
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
});
