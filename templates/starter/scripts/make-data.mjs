// Two overlapping Gaussian classes in 2-D, always the same (a fixed seed): data.json in $REPRO_OUT.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

let state = 42;
const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

const n = Number(process.env.SAMPLES ?? 400);
const rows = [];
for (let i = 0; i < n; i++) {
  const y = uniform() < 0.6 ? 0 : 1; // 60 % class 0: the majority
  rows.push({ x: [normal() + (y ? 1.5 : 0), normal() + (y ? 1 : 0)], y });
}
const cut = Math.floor(n * 0.75);
writeFileSync(join(process.env.REPRO_OUT, 'data.json'), JSON.stringify({ train: rows.slice(0, cut), test: rows.slice(cut) }));
console.log(`wrote ${n} samples`);
