// The README's results and its picture come from one real run (npm run readme:results): the results
// block names the run, and docs/report-screenshot.png carries the same run id in a PNG text chunk.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { pngRunId, readmeRunId, tagPng } from '../../src/report/readme.js';

const REPO = join(import.meta.dirname, '..', '..');

describe("the README's results and picture", () => {
  it('name the same run: the picture cannot go stale without this failing', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const runId = readmeRunId(readme);
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(pngRunId(readFileSync(join(REPO, 'docs', 'report-screenshot.png')))).toBe(runId);
    // The caption says what the picture is.
    expect(readme).toMatch(/!\[[^\]]*default run[^\]]*\]\(docs\/report-screenshot\.png\)/);
  });

  it('a tagged PNG still decodes to the same pixels, and an untagged one has no run', async () => {
    const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: { r: 200, g: 10, b: 30 } } }).png().toBuffer();
    expect(pngRunId(png)).toBeNull();
    const tagged = tagPng(png, '20261207-002139-56ee');
    expect(pngRunId(tagged)).toBe('20261207-002139-56ee');
    const [a, b] = await Promise.all([sharp(png).raw().toBuffer(), sharp(tagged).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
  });
});
