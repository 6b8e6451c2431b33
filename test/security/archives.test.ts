// Archive refusals are called refusals (issue 17, class 6): tricks that tar itself blocks (a symlink
// chain that is inside only by its text, a hard link through it, `strip` over symlinks) and archives
// that expand past the limit say "refused: …", not "corrupt … fetch it again"; zip has the same
// expansion limit as tar.gz; a workflow raises it with `max_ratio:`. Real archives, built byte by byte.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractArchive } from '../../src/data/archive.js';
import { makeTarGz, makeZip, type TarEntry } from '../data/archives.js';
import { project, repro, tempDir } from './helpers.js';

async function refusal(name: string, bytes: Buffer, opts: { strip?: number; maxRatio?: number } = {}): Promise<string> {
  const dir = tempDir('repro-sec-archive-');
  const archive = join(dir, name);
  writeFileSync(archive, bytes);
  const err = await extractArchive(archive, join(dir, 'out'), opts).then(
    () => null,
    (e: Error) => e,
  );
  expect(err, `${name} was extracted`).not.toBeNull();
  // Nothing landed next to the target folder.
  expect(readdirSync(dir).sort()).toEqual([name, 'out'].filter((f) => f === name || existsSync(join(dir, f))).sort());
  return err!.message;
}

// 20 MB of zeros deflate to ~20 kB: about 1,030 bytes out per byte in, past the default 1,000.
const ZEROS = Buffer.alloc(20_000_000);

describe('unsafe entries that tar blocks are refusals', () => {
  const cases: Array<[string, TarEntry[], number]> = [
    ['a symlink chain inside only by its text', [{ name: 'd', type: '2', link: '.' }, { name: 'd/e', type: '2', link: '..' }, { name: 'd/e/x.txt', body: 'x' }], 0],
    ['a hard link through that chain', [{ name: 'd', type: '2', link: '.' }, { name: 'd/e', type: '2', link: '..' }, { name: 'h', type: '1', link: 'd/e/x' }], 0],
    ['strip over a symlink', [{ name: 'top/l', type: '2', link: '.' }, { name: 'top/m', type: '2', link: 'l/..' }, { name: 'top/m/x.txt', body: 'x' }], 1],
  ];
  for (const [label, entries, strip] of cases) {
    it(label, async () => {
      const message = await refusal('t.tar.gz', makeTarGz(entries), { strip });
      expect(message).toMatch(/refused: unsafe entry/);
      expect(message).not.toMatch(/corrupt|truncated/);
    });
  }
});

describe('the expansion limit', () => {
  it('refuses a tar.gz bomb as a refusal, naming the limit', async () => {
    const message = await refusal('bomb.tar.gz', makeTarGz([{ name: 'zeros', body: ZEROS }]));
    expect(message).toMatch(/refused: expands past the limit of 1000/);
    expect(message).not.toMatch(/corrupt|truncated/);
  });

  it('refuses a zip bomb too (it had no limit)', async () => {
    const message = await refusal('bomb.zip', makeZip([{ name: 'zeros', body: ZEROS }]));
    expect(message).toMatch(/refused: expands past the limit of 1000/);
    // The limit counts the bytes that come out, over all members, against the archive's size.
    const many = makeZip(Array.from({ length: 8 }, (_, i) => ({ name: `z${i}`, body: Buffer.alloc(1_000_000) })));
    expect(await refusal('many.zip', many, { maxRatio: 100 })).toMatch(/refused: expands past the limit of 100 /);
  });

  it('a workflow raises the limit for a legitimate archive with max_ratio:', () => {
    for (const [file, bytes] of [
      ['data.tar.gz', makeTarGz([{ name: 'zeros', body: ZEROS }])],
      ['data.zip', makeZip([{ name: 'zeros', body: ZEROS }])],
    ] as const) {
      const wf = (extra: string) => `name: bomb\nsteps:\n  x:\n    uses: extract\n    with: {archive: ${file}${extra}}\n`;
      const dir = project(wf(''));
      writeFileSync(join(dir, file), bytes);
      const refused = repro(dir, ['run', 'wf.yaml', '--no-report']);
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/refused: expands past the limit of 1000/);
      expect(refused.out).toMatch(/max_ratio/);
      writeFileSync(join(dir, 'wf.yaml'), wf(', max_ratio: 5000'));
      const ok = repro(dir, ['run', 'wf.yaml', '--no-report']);
      expect(ok.code, ok.out).toBe(0);
    }
  });
});
