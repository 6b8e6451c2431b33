// Structural validation with ajv (JSON Schema 2020-12): the workflow file against
// schemas/workflow.schema.json, and each step's `with` against its kind's `withSchema`.
// ajv's errors are rewritten into sentences that name the key and say what was expected.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { didYouMean } from './suggest.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';

// ajv and ajv-formats are CommonJS; createRequire keeps their default exports simple under NodeNext.
const require = createRequire(import.meta.url);
// Loaded only when a schema must be compiled: the build's precompiled validators need neither.
type Ajv2020Class = typeof import('ajv/dist/2020.js').default;
const loadAjv = () => require('ajv/dist/2020.js') as Ajv2020Class;
const addFormats = (a: InstanceType<Ajv2020Class>) => (require('ajv-formats') as typeof import('ajv-formats').default)(a);

export const WORKFLOW_SCHEMA_URL = new URL('../../schemas/workflow.schema.json', import.meta.url);

let ajv: InstanceType<Ajv2020Class> | null = null;
let workflowValidator: ValidateFunction | null = null;
const kindValidators = new WeakMap<object, ValidateFunction>();

// verbose: errors carry their schema, so 'unknown key' can list the keys that are allowed.
const AJV_OPTIONS = { allErrors: true, verbose: true, strict: false, allowUnionTypes: true } as const;

function getAjv(): InstanceType<Ajv2020Class> {
  if (!ajv) {
    const Ajv2020 = loadAjv();
    ajv = new Ajv2020({ ...AJV_OPTIONS });
    addFormats(ajv);
  }
  return ajv;
}

/**
 * Compiling the schemas is most of a `repro validate` (about half a second), so the build writes
 * each one as a standalone validator module into dist/validators/ (`precompileValidators`, run by
 * `npm run build`), named by the hash of the schema. A schema without one (changed since the
 * build) is compiled here as before.
 */
const PRECOMPILED_DIR = new URL('../validators/', import.meta.url);

export function schemaKey(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).update(JSON.stringify(AJV_OPTIONS)).digest('hex').slice(0, 32);
}

/** A validator for `schema`: the build's precompiled module when there is one, else compiled now. */
export function compileSchema(schema: object): ValidateFunction {
  const file = fileURLToPath(new URL(`${schemaKey(schema)}.cjs`, PRECOMPILED_DIR));
  if (existsSync(file)) return require(file) as ValidateFunction;
  return getAjv().compile(schema);
}

/** Writes a standalone validator module per schema into `outDir` (the build's dist/validators). */
export function precompileValidators(schemas: object[], outDir: string): number {
  const standaloneCode = require('ajv/dist/standalone').default as (a: unknown, v: ValidateFunction) => string;
  const Ajv2020 = loadAjv();
  const generator = new Ajv2020({ ...AJV_OPTIONS, code: { source: true } });
  addFormats(generator);
  mkdirSync(outDir, { recursive: true });
  const keep = new Set<string>();
  for (const schema of schemas) {
    const name = `${schemaKey(schema)}.cjs`;
    keep.add(name);
    writeFileSync(join(outDir, name), standaloneCode(generator, generator.compile(schema)));
  }
  for (const old of readdirSync(outDir)) if (!keep.has(old)) rmSync(join(outDir, old));
  return keep.size;
}

/**
 * The workflow schema that validation uses: the published file without its per-kind `with` part
 * (`$defs.step.allOf`, for editors), since each kind checks its own `with` after expressions are
 * evaluated (kind-checks.ts), which the editor part cannot do.
 */
export function workflowSchema(): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(WORKFLOW_SCHEMA_URL, 'utf8')) as Record<string, any>;
  delete schema.$defs?.step?.allOf;
  return schema;
}

/**
 * schemas/workflow.schema.json as published: workflowSchema() plus, for each kind, its own `with`
 * schema (the one source: the kind's `withSchema`) under `if uses is KIND`, so an editor completes
 * and checks `with` per kind. Every value that is not a plain string may also be a ${{ ... }}
 * expression there, as in a workflow file. `node dist/cli/write-workflow-schema.js` writes it.
 */
export function publishedWorkflowSchema(kinds: ReadonlyMap<string, { withSchema: object }>): Record<string, unknown> {
  const schema = workflowSchema() as Record<string, any>;
  schema.$defs.step.allOf = [...kinds].map(([name, kind]) => ({
    if: { properties: { uses: { const: name } }, required: ['uses'] },
    then: { properties: { with: expressionsAllowed(kind.withSchema, true) } },
  }));
  return schema;
}

export function publishedWorkflowSchemaText(kinds: ReadonlyMap<string, { withSchema: object }>): string {
  return `${JSON.stringify(publishedWorkflowSchema(kinds), null, 2)}\n`;
}

const EXPRESSION = { $ref: '#/$defs/expression' };

/** A kind's schema where each value below the top may be written as an expression instead. */
function expressionsAllowed(node: unknown, top = false): unknown {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return node;
  const n = { ...(node as Record<string, unknown>) };
  const each = (v: unknown) => Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, s]) => [k, expressionsAllowed(s)]));
  if (n.properties) n.properties = each(n.properties);
  if (n.patternProperties) n.patternProperties = each(n.patternProperties);
  if (n.additionalProperties && typeof n.additionalProperties === 'object') n.additionalProperties = expressionsAllowed(n.additionalProperties);
  if (n.items) n.items = expressionsAllowed(n.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(n[key])) n[key] = (n[key] as unknown[]).map((s) => strip(expressionsAllowed(s)));
  // An unconstrained string already admits an expression.
  const plainString = n.type === 'string' && !('pattern' in n || 'enum' in n || 'const' in n || 'format' in n || 'minLength' in n || 'maxLength' in n);
  if (top || plainString) return n;
  const { description, deprecated, ...rest } = n;
  return { ...(description === undefined ? {} : { description }), ...(deprecated === undefined ? {} : { deprecated }), anyOf: [rest, EXPRESSION] };
}

/** A branch of anyOf/oneOf as a plain schema again (the expression is allowed once, around them). */
function strip(s: unknown): unknown {
  const n = s as Record<string, unknown>;
  return Array.isArray(n?.anyOf) && n.anyOf.length === 2 && n.anyOf[1] === EXPRESSION ? { ...(n.anyOf[0] as object), ...(n.description === undefined ? {} : { description: n.description }) } : s;
}

/** Validates the whole document; returns false (with diagnostics in `sink`) when its structure is wrong. */
export function validateWorkflowShape(value: unknown, sink: DiagnosticSink): boolean {
  workflowValidator ??= compileSchema(workflowSchema());
  if (workflowValidator(value)) return true;
  schemaProblems(workflowValidator.errors ?? [], '', value, (p) => sink.error(p.path, p.message, { code: p.code, hint: p.hint, key: p.key }), {
    describe: describeWorkflowPath,
  });
  return false;
}

/** A problem found by a schema, before it is given a position. */
export interface SchemaProblem {
  path: string;
  message: string;
  code: string;
  hint?: string;
  /** Point at the key rather than the value (unknown and missing keys). */
  key?: boolean;
}

/**
 * Validates a step's concrete `with` against its kind's schema and returns the problems (paths
 * under `basePath`). Errors at or under `skip` paths (values that are still references to other
 * steps' outputs, or that failed to evaluate) are ignored: the schema describes the resolved value.
 */
export function validateWith(
  kindSchema: object,
  value: unknown,
  basePath: string,
  context: { stepLabel: string; skip: string[] },
): SchemaProblem[] {
  let validate = kindValidators.get(kindSchema);
  if (!validate) {
    validate = compileSchema(kindSchema);
    kindValidators.set(kindSchema, validate);
  }
  if (validate(value)) return [];
  const skipped = (p: string): boolean => context.skip.some((s) => p === s || p.startsWith(`${s}/`));
  const errors = (validate.errors ?? []).filter((e) => {
    // A missing key is reported on its parent: check the key's own path against the skips.
    const missing = e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : null;
    return !skipped(missing === null ? e.instancePath : pointer(e.instancePath, missing));
  });
  const problems: SchemaProblem[] = [];
  schemaProblems(errors, basePath, value, (p) => problems.push(p), {
    describe: (p) => `step '${context.stepLabel}' with${p ? `.${dotted(p)}` : ''}`,
  });
  return problems;
}

/** '/steps/train/with/epochs' → 'steps.train.with.epochs'. */
export function dotted(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function describeWorkflowPath(path: string): string {
  const parts = path.split('/').slice(1);
  if (parts.length === 0) return 'the workflow';
  if (parts[0] === 'steps' && parts.length >= 2) {
    const rest = parts.slice(2).join('.');
    return `step '${parts[1]}'${rest ? ` ${rest}` : ''}`;
  }
  if (parts[0] === 'params' && parts.length >= 2) return `param '${parts[1]}'${parts.length > 2 ? ` ${parts.slice(2).join('.')}` : ''}`;
  if (parts[0] === 'profiles' && parts.length >= 2) return `profile '${parts[1]}'${parts.length > 2 ? ` ${parts.slice(2).join('.')}` : ''}`;
  return `'${dotted(path)}'`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the number ${v}`;
  if (typeof v === 'string') return `the string '${v.length > 40 ? v.slice(0, 37) + '...' : v}'`;
  return `${typeof v} ${String(v)}`;
}

function article(t: string): string {
  if (t === 'object') return 'a mapping';
  if (t === 'array') return 'a list';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function valueAt(root: unknown, path: string): unknown {
  let v = root;
  for (const seg of path.split('/').slice(1)) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v && typeof v === 'object') v = (v as Record<string, unknown>)[key];
    else return undefined;
  }
  return v;
}

function schemaProblems(
  errors: ErrorObject[],
  basePath: string,
  root: unknown,
  emit: (p: SchemaProblem) => void,
  opts: { describe: (instancePath: string) => string },
): void {
  const sink = {
    error: (path: string, message: string, o: { code: string; hint?: string; key?: boolean }): void => emit({ path, message, ...o }),
  };
  // anyOf/oneOf: ajv reports every failed branch. One sentence per alternative set reads better:
  // 'must be a string or a list' when the branches differ by type, 'matches none of its allowed forms' otherwise.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inBranch = (e: ErrorObject): ErrorObject | undefined => unions.find((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`));
  for (const u of unions) {
    if (inBranch(u)) continue;
    const branches = errors.filter((e) => e.schemaPath.startsWith(`${u.schemaPath}/`));
    const value = valueAt(root, u.instancePath);
    const shallow = branches.every((b) => b.instancePath === u.instancePath && ['type', 'const', 'enum'].includes(b.keyword));
    const alternatives = branches.map((b) =>
      b.keyword === 'type'
        ? ([] as string[]).concat((b.params as { type: string | string[] }).type).map(article).join(' or ')
        : b.keyword === 'const'
          ? JSON.stringify((b.params as { allowedValue: unknown }).allowedValue)
          : ((b.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(' or '),
    );
    const message = shallow
      ? `${opts.describe(u.instancePath)} must be ${[...new Set(alternatives)].join(' or ')}, found ${typeName(value)}`
      : `${opts.describe(u.instancePath)} matches none of its allowed forms (found ${typeName(value)})`;
    emit({ path: basePath + u.instancePath, message, code: 'wrong-type' });
  }
  // A union type ('string or list') reports one error per branch keyword; keep the first per path and keyword.
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf' || inBranch(e)) continue;
    const id = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const where = opts.describe(e.instancePath);
    const path = basePath + e.instancePath;
    const value = valueAt(root, e.instancePath);
    const code = 'schema';
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
        const what = e.instancePath === '' && basePath === '' ? `top-level key '${key}'` : `key '${key}' in ${where}`;
        sink.error(pointer(path, key), `unknown ${what}${didYouMean(key, allowed)}`, {
          code: 'unknown-key',
          key: true,
          hint: allowed.length ? `allowed: ${allowed.join(', ')}` : undefined,
        });
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        sink.error(path, `${where}: missing required key '${missing}'`, { code: 'missing-key', key: true });
        break;
      }
      case 'type': {
        const t = (e.params as { type: string | string[] }).type;
        const expected = (Array.isArray(t) ? t : String(t).split(',')).map(article).join(' or ');
        sink.error(path, `${where} must be ${expected}, found ${typeName(value)}`, { code: 'wrong-type' });
        break;
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
        const s = typeof value === 'string' ? didYouMean(value, allowed.map(String)) : '';
        sink.error(path, `${where} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, found ${typeName(value)}${s}`, {
          code: 'wrong-value',
        });
        break;
      }
      case 'propertyNames':
        break; // reported by the 'pattern' error on the name itself, below
      case 'pattern': {
        const name = (e as ErrorObject & { propertyName?: string }).propertyName;
        if (name !== undefined) {
          sink.error(pointer(path, name), `'${name}' is not a valid name in ${where}: use letters, digits and '_' (step ids may also use '-'), starting with a letter`, {
            code: 'bad-name',
            key: true,
          });
        } else {
          sink.error(path, `${where}: ${typeName(value)} is not in the expected form${patternHint(e.schemaPath)}`, { code: 'wrong-value' });
        }
        break;
      }
      case 'format':
        sink.error(path, `${where} must be a ${(e.params as { format: string }).format}, found ${typeName(value)}`, { code: 'wrong-value' });
        break;
      default:
        sink.error(path, `${where} ${e.message ?? 'is invalid'}`, { code });
    }
  }
}

function patternHint(schemaPath: string): string {
  if (schemaPath.includes('/if/')) return " (true, false, or one ${{ ... }} expression such as ${{ params.data == 'adience' }})";
  if (schemaPath.includes('/memory/')) return " (a byte count, or a size such as '512MiB' or '2GiB')";
  if (schemaPath.includes('/matrix/')) return ' (a list of values, or one ${{ ... }} expression yielding a list)';
  if (schemaPath.includes('/name/')) return " (lowercase letters, digits, '.', '_' and '-')";
  if (schemaPath.includes('/arxiv/')) return " (an arXiv id such as '1611.05916')";
  if (schemaPath.includes('/version/')) return " (such as 'v4')";
  if (schemaPath.includes('/needs/') || schemaPath.includes('stepId')) return ' (a step id)';
  return '';
}
