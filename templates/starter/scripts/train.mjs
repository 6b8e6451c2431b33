// Trains VARIANT (majority | logreg) with SEED on $DATA and writes metrics.json: accuracy, log_loss.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { train, test } = JSON.parse(readFileSync(process.env.DATA, 'utf8'));
let state = Number(process.env.SEED) >>> 0;
const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
// Each seed trains on its own bootstrap sample of the training set.
const sample = train.map(() => train[Math.floor(uniform() * train.length)]);

let predict; // x → probability of class 1
if (process.env.VARIANT === 'majority') {
  const p1 = sample.filter((r) => r.y === 1).length / sample.length;
  predict = () => p1;
} else {
  const w = [0, 0, 0];
  const sigmoid = (z) => 1 / (1 + Math.exp(-z));
  for (let epoch = 0; epoch < 50; epoch++) {
    for (const { x, y } of sample) {
      const g = sigmoid(w[0] + w[1] * x[0] + w[2] * x[1]) - y;
      w[0] -= 0.05 * g;
      w[1] -= 0.05 * g * x[0];
      w[2] -= 0.05 * g * x[1];
    }
    console.log(`::progress ${(epoch + 1) / 50} epoch ${epoch + 1}/50`);
  }
  predict = (x) => sigmoid(w[0] + w[1] * x[0] + w[2] * x[1]);
}

let correct = 0;
let loss = 0;
for (const { x, y } of test) {
  const p = Math.min(1 - 1e-12, Math.max(1e-12, predict(x)));
  correct += (p >= 0.5 ? 1 : 0) === y ? 1 : 0;
  loss -= y ? Math.log(p) : Math.log(1 - p);
}
const metrics = { accuracy: correct / test.length, log_loss: loss / test.length, n: test.length };
writeFileSync(join(process.env.REPRO_OUT, 'metrics.json'), JSON.stringify(metrics, null, 2));
console.log(JSON.stringify(metrics));
