// Writes schemas/workflow.schema.json with each step kind's own `with` schema (publishedWorkflowSchema
// in src/workflow/schema.ts): `node dist/cli/write-workflow-schema.js` after changing a kind's schema.
// Not part of the build, so test/workflow/schema.test.ts can say when the committed file is stale.
import { fileURLToPath } from 'node:url';
import { publishedWorkflowSchemaText, WORKFLOW_SCHEMA_URL } from '../workflow/schema.js';
import { stepKinds } from '../steps/registry.js';
import { writeFileAtomic } from '../core/atomic.js';

writeFileAtomic(fileURLToPath(WORKFLOW_SCHEMA_URL), publishedWorkflowSchemaText(stepKinds));
process.stdout.write(`wrote ${fileURLToPath(WORKFLOW_SCHEMA_URL)}\n`);
