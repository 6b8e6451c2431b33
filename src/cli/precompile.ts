// Run by `npm run build`: precompiles the workflow schema and every step kind's `with` schema into
// dist/validators/ (see precompileValidators in schema.ts), so validating a workflow compiles nothing.
import { fileURLToPath } from 'node:url';
import { precompileValidators, workflowSchema } from '../workflow/schema.js';
import { stepKinds } from '../steps/registry.js';
import { claimsFileSchema } from '../compare/claims-file.js';

const outDir = fileURLToPath(new URL('../validators/', import.meta.url));
const schemas = [workflowSchema(), claimsFileSchema, ...[...stepKinds.values()].map((k) => k.withSchema as object)];
const n = precompileValidators(schemas, outDir);
process.stdout.write(`precompiled ${n} schema validators into dist/validators/\n`);
