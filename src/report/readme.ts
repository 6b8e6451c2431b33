// `npm run readme:results`: copies the results of the latest default run into README.md, between
// the markers <!-- results:start --> and <!-- results:end -->, from that run's report.md. The README's
// numbers are thus always a real run's, regenerated, never typed by hand. The README's picture,
// docs/report-screenshot.png, is taken from the same run's report.html in the same command, and carries
// that run's id in a PNG text chunk, so test/report/readme.test.ts fails when the two disagree.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from '../core/atomic.js';

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

/** The sections of report.md worth showing in a README: claims and metrics, without the artifact links. */
export function readmeResults(reportMd: string, runLabel: string): string {
  const sections = reportMd.split(/^### /m).slice(1);
  // "Test metrics by variant": the heading of report.md files written before the report fit any workflow.
  const keep = sections.filter((s) => /^(Claims and reported numbers|Metrics by variant|Test metrics by variant)/.test(s));
  const body = keep.map((s) => '#### ' + stripLinks(dropDetails(s)).trimEnd()).join('\n\n');
  return `${START}\n_${runLabel}_\n\n${body}\n${END}`;
}

function dropDetails(section: string): string {
  return section.replace(/<details>[\s\S]*?<\/details>\n?/g, '');
}

/** Links into the run directory and the store do not resolve from the README: keep their text, drop source columns. */
function stripLinks(section: string): string {
  const lines = section.split('\n').map((l) => l.replace(/\[([^\]]+)\]\((?:\.\.\/|run\.json|\.repro)[^)]*\)/g, '$1'));
  // Drop the last column of tables whose header ends with a sources column.
  const out: string[] = [];
  let dropLast = false;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      dropLast = false;
      out.push(line);
      continue;
    }
    const cells = line.split('|').slice(1, -1);
    if (/^\s*(source|sources)\s*$/.test(cells[cells.length - 1] ?? '')) dropLast = true;
    out.push(dropLast ? `|${cells.slice(0, -1).join('|')}|` : line);
  }
  return out.join('\n');
}

/** The run id in a results block (`_Run <id> of …`), or null. */
export function readmeRunId(readme: string): string | null {
  return /<!-- results:start -->\n_Run (\S+) of /.exec(readme)?.[1] ?? null;
}

const PNG_KEY = 'repro-run';

/** `png` with a tEXt chunk `repro-run` = runId after its header chunk (the picture's pixels unchanged). */
export function tagPng(png: Buffer, runId: string): Buffer {
  const data = Buffer.from(`${PNG_KEY}\0${runId}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8); // signature, then IHDR (length, type, data, crc)
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/** The run id a PNG was tagged with by tagPng, or null. */
export function pngRunId(png: Buffer): string | null {
  for (let at = 8; at + 12 <= png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'tEXt') {
      const text = png.toString('latin1', at + 8, at + 8 + len);
      const nul = text.indexOf('\0');
      if (text.slice(0, nul) === PNG_KEY) return text.slice(nul + 1);
    }
    if (type === 'IEND') break;
    at += 12 + len;
  }
  return null;
}

/** The top 1500 px of the run's report.html at 1400 px, in Debian's Chromium (a developer's tool: playwright-core). */
async function screenshotReport(runDir: string, runId: string, out: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(pathToFileURL(join(runDir, 'report.html')).href, { waitUntil: 'load' });
    const png = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 1500 } });
    writeFileAtomic(out, tagPng(png, runId));
  } finally {
    await browser.close();
  }
}

export function updateReadme(readmePath: string, runDir: string): void {
  const report = join(runDir, 'report.md');
  if (!existsSync(report)) throw new Error(`${report} is missing: run \`npx repro run workflows/paper.yaml\` first`);
  const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  const env = record.environment ?? {};
  const label =
    `Run ${record.runId} of workflows/paper.yaml (profile ${record.profile ?? 'default'}), ${env.cores ?? '?'} × ${env.cpuModel ?? 'CPU'}, ` +
    `node ${env.node ?? '?'}; copied from its report.md by \`npm run readme:results\`.`;
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${readmePath} has no ${START} … ${END} section`);
  writeFileAtomic(readmePath, readme.slice(0, a) + readmeResults(readFileSync(report, 'utf8'), label) + readme.slice(b + END.length));
}

if (process.argv[1] && import.meta.url === new URL(`file://${realpathSync(process.argv[1])}`).href) {
  const runDir = realpathSync(process.argv[2] ?? 'results/hou2016-emd2/latest');
  updateReadme('README.md', runDir);
  process.stdout.write(`README.md: results of ${relative(process.cwd(), runDir)}\n`);
  const runId = (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { runId: string }).runId;
  await screenshotReport(runDir, runId, join('docs', 'report-screenshot.png'));
  process.stdout.write(`docs/report-screenshot.png: the top of its report.html (run ${runId})\n`);
}
