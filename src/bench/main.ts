// `npm run bench`: every speed figure of the project, one line each:
//   bench: NAME VALUE UNIT
// Each area has its own module exporting `bench()`; pass area names to run only some.
import os from 'node:os';

const areas: Record<string, () => Promise<{ bench: () => Promise<void> }>> = {
  workflow: () => import('./workflow.js'),
  engine: () => import('./engine.js'),
  data: () => import('./data.js'),
  ml: () => import('./ml.js'),
  torch: () => import('./torch.js'),
  ui: () => import('./ui.js'),
};

const wanted = process.argv.slice(2);
console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()}-${os.arch()}`);
for (const [name, load] of Object.entries(areas)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const mod = await load();
  await mod.bench();
}
