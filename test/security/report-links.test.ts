// Only http(s) and relative links are rendered as links in report.html (issue 17, item 7): a
// workflow's `paper.url` of `javascript:…` (or data:, file:, //host, /\host) is shown as nothing clickable.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { citation, linkable } from '../../src/report/format.js';
import { project, repro } from './helpers.js';
import { makeRunFixture } from '../report/fixture.js';
import { loadRunReport, renderHtml } from '../../src/report/index.js';

describe('links in the report', () => {
  it('linkable keeps http(s) and relative references only', () => {
    for (const ok of ['https://arxiv.org/abs/1611.05916', 'HTTP://example.org/x', 'run.json', '../../.repro/files/ab/metrics.json', '#src-a'])
      expect(linkable(ok)).toBe(ok);
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<script>', 'file:///etc/passwd', '//evil.example/x', 'vbscript:x', 'java\nscript:x', '/\\evil.example/x', '\\\\evil.example/x', '\\/evil.example', ' //evil.example'])
      expect(linkable(bad)).toBeNull();
    expect(citation({ title: 'T', url: 'javascript:alert(1)', arxiv: '1611.05916' })!.url).toBe('https://arxiv.org/abs/1611.05916');
    expect(citation({ title: 'T', url: 'javascript:alert(1)' })!.url).toBeNull();
    // What a browser makes of each refused one: a script, or another host (a backslash reads as a slash).
    const base = 'http://127.0.0.1:8000/results/links/run/report.html';
    for (const bad of ['/\\evil.example/x', '\\\\evil.example/x', '\\/evil.example']) expect(new URL(bad, base).host).toBe('evil.example');
  });

  it('a javascript: paper.url does not become a live link in a real run’s report.html', () => {
    const dir = project(`name: links
paper:
  title: A paper
  url: "javascript:alert(document.cookie)"
steps:
  a:
    uses: run
    with: {command: "echo 1 > o.txt"}
    outputs: {o: o.txt}
`);
    const r = repro(dir, ['run', 'wf.yaml']);
    expect(r.code, r.out).toBe(0);
    const html = readFileSync(join(dir, 'results', 'links', 'latest', 'report.html'), 'utf8');
    expect(html).toContain('A paper');
    expect(html).not.toMatch(/href="\s*javascript:/i);
    const md = readFileSync(join(dir, 'results', 'links', 'latest', 'report.md'), 'utf8');
    expect(md).not.toMatch(/\]\(\s*javascript:/i);
  });

  it('a paper.url that names another host through backslashes (/\\host) is text in report.html', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1, 2], epochs: 2 });
    (f.record.workflow as { paper?: unknown }).paper = { title: 'A paper', url: '/\\evil.example/x' };
    const html = await renderHtml(loadRunReport(f.record, f.runJson, { outDir: f.runDir, generator: 'test' }));
    expect(html).toContain('A paper');
    const base = 'http://127.0.0.1:8000/results/paper/run/report.html';
    const hosts = [...html.matchAll(/href="([^"]*)"/g)].map((m) => new URL(m[1]!.replace(/&amp;/g, '&'), base));
    expect(hosts.filter((u) => u.host === 'evil.example' || !/^https?:$/.test(u.protocol))).toEqual([]);
  });
});
