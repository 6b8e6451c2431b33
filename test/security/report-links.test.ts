// Only http(s) and relative links are rendered as links in report.html (issue 17, item 7): a
// workflow's `paper.url` of `javascript:…` (or data:, file:, //host) is shown as nothing clickable.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { citation, linkable } from '../../src/report/format.js';
import { project, repro } from './helpers.js';

describe('links in the report', () => {
  it('linkable keeps http(s) and relative references only', () => {
    for (const ok of ['https://arxiv.org/abs/1611.05916', 'HTTP://example.org/x', 'run.json', '../../.repro/files/ab/metrics.json', '#src-a'])
      expect(linkable(ok)).toBe(ok);
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<script>', 'file:///etc/passwd', '//evil.example/x', 'vbscript:x', 'java\nscript:x'])
      expect(linkable(bad)).toBeNull();
    expect(citation({ title: 'T', url: 'javascript:alert(1)', arxiv: '1611.05916' })!.url).toBe('https://arxiv.org/abs/1611.05916');
    expect(citation({ title: 'T', url: 'javascript:alert(1)' })!.url).toBeNull();
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
});
