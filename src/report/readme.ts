// `npm run readme:results`: copies the results of the latest default run into README.md, between
// the markers <!-- results:start --> and <!-- results:end -->, from that run's report.md. The README's
// numbers are thus always a real run's, regenerated, never typed by hand.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
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
}
