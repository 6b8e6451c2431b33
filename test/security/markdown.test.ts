// report.md, checklist.md and `repro compare --markdown` carry a workflow's strings (titles, variant
// names, claim text, licences, metric keys) into pull-request comments (issue 21). Markdown output
// escapes what repro did not write: no HTML, image, link or emphasis of the workflow's survives as
// markup. Checked on a real run of a hostile workflow, and on the escaping helper itself.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeMd, mdCode, mdUrl } from '../../src/core/markdown.js';
import { project, repro } from './helpers.js';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(1)>';
const BADGE = '![reproduced](https://img.shields.io/badge/reproduced-yes-green)';
const LINK = '[the data](https://evil.example/x)';

/** The tags repro's own Markdown uses; any other `<` must be escaped. */
const OWN_TAGS = /^<\/?(br|details|summary|sub)>/;

function markupProblems(md: string): string[] {
  const problems: string[] = [];
  md.split('\n').forEach((raw, i) => {
    // An escaped character is text: blank it out (keeping the length) before looking for syntax.
    const line = raw.replace(/\\[\s\S]/g, '··');
    for (let k = line.indexOf('<'); k >= 0; k = line.indexOf('<', k + 1)) {
      if (!OWN_TAGS.test(line.slice(k)) && !line.slice(0, k).match(/`[^`]*$/)) problems.push(`line ${i + 1}: raw ${line.slice(k, k + 30)}`);
    }
    for (const m of line.matchAll(/(!?)\[([^\]]*)\]\(([^)]*)\)/g)) {
      // repro's links: a source id to a relative path, and the paper's citation to its (http) URL.
      const paper = raw.startsWith('Reproducing: [') && m.index === 'Reproducing: '.length && /^https?:/.test(m[3]!);
      const ours = !m[1] && ((/^[a-z]\d+$/.test(m[2]!) && !/^\w+:/.test(m[3]!)) || paper);
      if (!ours) problems.push(`line ${i + 1}: link ${m[0].slice(0, 60)}`);
    }
    if (/\bhttps?:\/\/evil|www\.evil|@evil/.test(line.replace(/\]\([^)]*\)/g, ''))) problems.push(`line ${i + 1}: autolink`);
    if (/javascript:/i.test(line)) problems.push(`line ${i + 1}: javascript:`);
  });
  return problems;
}

describe('Markdown escapes what repro did not write', () => {
  it('escapeMd leaves no markup: HTML, images, links, emphasis, code, pipes, line breaks, autolinks', () => {
    for (const hostile of [SCRIPT, IMG, BADGE, LINK, '**bold** _it_ ~~gone~~', '`code`', 'a | b', 'line\n# heading', '&lt;b&gt;', 'see https://evil.example and www.evil.example', 'me@evil.example', '$x$']) {
      const out = escapeMd(hostile);
      expect(out).not.toMatch(/\n/);
      expect(markupProblems(out)).toEqual([]);
      // Every syntax character is preceded by a backslash (which Markdown shows as the character itself).
      expect(out.replace(/\\./g, '')).not.toMatch(/[<>[\]`*_~|&$]/);
    }
    expect(escapeMd('plain text, 1.5 (as is)')).toBe('plain text, 1.5 (as is)');
    expect(mdCode('a `b` | c')).toBe('``a `b` \\| c``');
    expect(mdUrl('https://x/a b)(c')).toBe('https://x/a%20b%29%28c');
  });

  it('a hostile workflow’s report.md and checklist.md show its strings as text (a real run)', () => {
    const dir = project(`name: hostile
title: "${SCRIPT} ${BADGE}"
paper:
  title: "${IMG} ${LINK}"
  authors: ["**Fake** ${BADGE}"]
  url: "https://evil.example/paper)**fake**(x"
steps:
  data:
    uses: dataset
    with:
      format: csv
      csv: d.csv
      name: "${IMG}"
      description: "${LINK} www.evil.example"
      licence: "${SCRIPT}"
      citation: "${BADGE}"
  score:
    uses: run
    matrix: {variant: ["small ${LINK}", "big <b>x</b>"], seed: [1, 2]}
    with:
      command: ['${process.execPath}', '-e', 'require("fs").writeFileSync("metrics.json", JSON.stringify({accuracy: process.env.V.startsWith("small") ? 0.8 + Number(process.env.S) / 100 : 0.7, "${IMG.replace(/"/g, '\\"')}": 1}))']
      env: {V: "\${{ matrix.variant }}", S: "\${{ matrix.seed }}"}
    outputs: {metrics: metrics.json}
  compare:
    uses: compare
    with:
      results: \${{ steps.score.outputs.metrics }}
      scale_note: "${SCRIPT} | injected | cell"
      claims:
        - id: c1
          text: "**Reproduced!** ${BADGE} ${LINK} ${IMG}"
          metric: accuracy
          relation: {type: better, a: "small ${LINK}", b: "big <b>x</b>"}
`);
    writeFileSync(join(dir, 'd.csv'), 'a,label\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n7,0\n8,1\n9,0\n10,1\n');
    const r = repro(dir, ['run', 'wf.yaml']);
    expect(r.code, r.out).toBe(0);
    const run = join(dir, 'results', 'hostile', 'latest');
    const md = readFileSync(join(run, 'report.md'), 'utf8');
    const checklist = readFileSync(join(run, 'checklist.md'), 'utf8');
    expect(markupProblems(md)).toEqual([]);
    expect(markupProblems(checklist)).toEqual([]);
    // The paper's URL is a link, but cannot end it early and add markup after it.
    expect(md).toContain('](https://evil.example/paper%29**fake**%28x)');
    // The strings are there, as text.
    expect(md).toContain(escapeMd(SCRIPT));
    expect(md).toContain(escapeMd(`**Reproduced!** ${BADGE}`));
    expect(md).toContain(`licence ${escapeMd(SCRIPT)}`);
    expect(md).toContain(escapeMd(`small ${LINK}`));
    expect(checklist).toContain(escapeMd(SCRIPT));
    // A scale note with pipes stays in its table cell: every row of the claims table has 11 cells.
    for (const row of md.split('\n').filter((l) => l.startsWith('| **c1**'))) expect(row.split(/(?<!\\)\|/).length - 2).toBe(11);

    const cmp = repro(dir, ['compare', '--markdown']);
    expect(cmp.code, cmp.out).toBe(0);
    expect(markupProblems(cmp.stdout)).toEqual([]);
    expect(cmp.stdout).toContain(escapeMd(`small ${LINK}`));
  });
});
