// `npm run build` runs this: engines/torch/loss_table.json from the loss table (src/ml/loss-table.ts),
// so the torch engine's list of losses and their defaults are the TypeScript side's.
import { writeFileSync } from 'node:fs';
import { TORCH_LOSS_TABLE_FILE, torchLossTableText } from './loss-table.js';

writeFileSync(TORCH_LOSS_TABLE_FILE, torchLossTableText());
