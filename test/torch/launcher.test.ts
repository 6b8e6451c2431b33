// The launcher's errors when torch is missing: these run on every machine, torch or not.
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseEngine, findTorch, requireTorch, trainWithTorch } from '../../src/ml/torch.js';
import { recordingIO } from './helpers.js';
import { StepError } from '../../src/core/errors.js';
import { tempDir } from '../support/index.js';

describe('torch launcher without torch', () => {
  it('names the interpreter tried and the Debian packages when --python does not exist', async () => {
    expect(await findTorch('/nonexistent/python3')).toBeNull();
    const err = await requireTorch('/nonexistent/python3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toContain('/nonexistent/python3: not found');
    expect((err as StepError).hint).toContain('python3-torch libopenblas0-pthread');
    expect((err as StepError).hint).toContain('--python');
  });

  it('train fails with that StepError before starting anything', async () => {
    const io = recordingIO({ python: '/nonexistent/python3' });
    const err = await trainWithTorch({} as never, io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(io.logs).toEqual([]);
  });

  it('engine auto falls back to tfjs when the Python has no torch', async () => {
    expect(await chooseEngine('auto', '/nonexistent/python3')).toBe('tfjs');
    expect(await chooseEngine('torch', '/nonexistent/python3')).toBe('torch');
    expect(await chooseEngine(undefined, '/nonexistent/python3')).toBe('tfjs');
  });

  // A real Python whose site-packages are switched off (-S): it runs, but cannot import torch.
  it.skipIf(!existsSync('/usr/bin/python3'))('reports a Python without the torch module as such', async () => {
    const wrapper = join(tempDir('repro-torch-nosite-'), 'python-without-torch');
    writeFileSync(wrapper, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(wrapper, 0o755);
    const err = await requireTorch(wrapper).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toContain(`${wrapper}: no torch module`);
  });
});
