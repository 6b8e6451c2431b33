// Data benchmarks:
//   data.fetch.loopback  fetch + SHA-256 of a 200 MB file served over 127.0.0.1 (src/data/fetch.ts)
//   data.sha256          SHA-256 of the same file from disk, the ceiling fetch can reach
//   data.preprocess      JPEG decode + resize 256 + centre crop 227 (Levi & Hassner's input) per second
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeManifest } from '../data/tensors.js';
import { preprocessStep } from '../steps/preprocess.js';
import { fetchVerified } from '../data/fetch.js';
import { imageLibrary } from '../data/images.js';
import { sha256File } from '../core/hash.js';
import { IMAGES_FORMAT } from '../formats/dataset.js';

const FETCH_MB = Number(process.env.REPRO_BENCH_FETCH_MB ?? 200);
const PREPROCESS_IMAGES = Number(process.env.REPRO_BENCH_IMAGES ?? 200);

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-data-'));
  try {
    await benchFetch(dir);
    await benchPreprocess(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchFetch(dir: string): Promise<void> {
  const file = join(dir, 'big.bin');
  // Random bytes in 8 MiB pieces: incompressible, and no 200 MB buffer held at once.
  for (let i = 0; i < FETCH_MB / 8; i++) writeFileSync(file, randomBytes(8 * 2 ** 20), { flag: i ? 'a' : 'w' });
  const size = statSync(file).size;
  let t = performance.now();
  const sha = await sha256File(file);
  const hashSeconds = (performance.now() - t) / 1000;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-length': size });
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.bin`;
  try {
    t = performance.now();
    await fetchVerified({ sources: [url], baseDir: dir, sha256: sha, dest: join(dir, 'got.bin'), partial: join(dir, 'got.part') });
    const seconds = (performance.now() - t) / 1000;
    console.log(`bench: data.fetch.loopback ${(size / 1e6 / seconds).toFixed(0)} MB/s (${(size / 1e6).toFixed(0)} MB, server and client in one process)`);
    console.log(`bench: data.sha256 ${(size / 1e6 / hashSeconds).toFixed(0)} MB/s`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function benchPreprocess(dir: string): Promise<void> {
  const sharp = (await import('sharp')).default;
  // Adience's aligned faces are 816×816 JPEGs; these are smaller but of the same kind (noise, so
  // the JPEG decoder has real work to do).
  const root = join(dir, 'images');
  mkdirSync(root, { recursive: true });
  const entries = [];
  for (let i = 0; i < PREPROCESS_IMAGES; i++) {
    const file = `img${i}.jpg`;
    await sharp(randomBytes(400 * 400 * 3), { raw: { width: 400, height: 400, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(root, file));
    entries.push({ file, label: i % 8 });
  }
  const list = join(dir, 'list');
  mkdirSync(list, { recursive: true });
  writeManifest(list, { format: IMAGES_FORMAT, name: 'bench', root, classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], ordered: true, positions: [0, 1, 2, 3, 4, 5, 6, 7], splits: { train: entries }, sources: [] });
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  const threads = Math.max(1, availableParallelism());
  const ctx = {
    id: 'bench', workflowDir: dir, workDir: work, scratchDir: join(dir, 'scratch'), matrix: {}, params: {},
    secret: () => undefined, signal: new AbortController().signal, log: () => undefined, progress: () => undefined,
    threads, options: {},
  };
  const t = performance.now();
  await preprocessStep.run(ctx, { dataset: list, resize: 256, crop: { size: 227 } });
  const seconds = (performance.now() - t) / 1000;
  console.log(`bench: data.preprocess ${(PREPROCESS_IMAGES / seconds).toFixed(0)} images/s (400×400 JPEG → resize 256 → crop 227, ${threads} threads, ${await imageLibrary()})`);
}
