// The paper's numbers and claims may live in a YAML file beside the workflow (`claims_file:`),
// holding `reported:` and/or `claims:` exactly as in the compare step. It is read with the
// workflow parser (same limits, positions kept), so a problem in it is reported at its own
// file:line:column.

import type { ValidateFunction } from 'ajv';
import { compileSchema } from '../workflow/schema.js';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readWorkflowSource } from '../workflow/source.js';
import { DiagnosticSink, displayLocation } from '../workflow/diagnostics.js';
import { checkCompareWith, compareWithSchema, type ClaimEntry, type CompareWith, type Issue, type ReportedEntry } from './spec.js';
import type { ClassOrder } from '../workflow/types.js';

export interface ClaimsFile {
  file: string;
  reported: ReportedEntry[];
  claims: ClaimEntry[];
  /** Problems found while reading it, each already prefixed with its file:line:column. */
  problems: string[];
  /** 'claims.yaml:12:7' for a slash path inside the file ('claims/0/relation/a'). */
  locate(path: string): string;
}

export function claimsFilePath(spec: string, workflowDir: string | undefined): string | null {
  if (isAbsolute(spec)) return spec;
  return workflowDir ? join(workflowDir, spec) : null;
}

export const claimsFileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    paper: { description: 'Free description of the paper (ignored by checks).' },
    description: { type: 'string' },
    reported: compareWithSchema.properties.reported,
    claims: compareWithSchema.properties.claims,
  },
};

let validator: ValidateFunction | null = null;

function validate(value: unknown) {
  // Loaded on first use only: most workflows keep their claims inline. Precompiled by the build.
  validator ??= compileSchema(claimsFileSchema);
  const ok = validator(value);
  return ok ? [] : (validator.errors ?? []);
}

export function readClaimsFile(abs: string): ClaimsFile {
  const { parsed, sink } = readWorkflowSource(abs);
  const where = parsed ? new DiagnosticSink(abs, parsed.text, parsed.ranges, parsed.keyRanges) : sink;
  const locate = (path: string): string => {
    const range = where.rangeOf(path ? `/${path.replace(/^\/+/, '')}` : '');
    return displayLocation({ severity: 'error', message: '', file: abs, line: range?.start.line ?? 0, column: range?.start.column ?? 0 });
  };
  const out: ClaimsFile = { file: abs, reported: [], claims: [], problems: [], locate };
  if (!parsed) {
    out.problems = sink.diagnostics.filter((d) => d.severity === 'error').map((d) => `${displayLocation(d)}: ${d.message}`);
    return out;
  }
  const value = parsed.value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    out.problems.push(`${locate('')}: expected a mapping with reported: and/or claims:`);
    return out;
  }
  for (const e of validate(value)) {
    const extra = e.params?.additionalProperty ? ` '${String(e.params.additionalProperty)}'` : '';
    out.problems.push(`${locate(e.instancePath)}: ${e.message ?? 'invalid'}${extra}`);
  }
  const v = value as { reported?: ReportedEntry[]; claims?: ClaimEntry[] };
  out.reported = Array.isArray(v.reported) ? v.reported : [];
  out.claims = Array.isArray(v.claims) ? v.claims : [];
  return out;
}

/** The step's `with` with the file's entries appended after the inline ones. */
export function mergeClaims(w: CompareWith, file: ClaimsFile): CompareWith {
  return { ...w, reported: [...(w.reported ?? []), ...file.reported], claims: [...(w.claims ?? []), ...file.claims] };
}

/**
 * The plan-time checks, the claims file included. A problem in the file is reported on the
 * `claims_file` line of the workflow, its message starting with the file's own line:column.
 * A relative path whose base is not known yet (no workflowDir) is checked when the step runs.
 */
export function checkCompare(
  w: CompareWith & Record<string, unknown>,
  workflowDir: string | undefined,
  classOrder?: (ref: unknown) => ClassOrder | undefined,
): Issue[] {
  const check = (spec: CompareWith & Record<string, unknown>) => checkCompareWith(spec, classOrder);
  if (typeof w.claims_file !== 'string') return check(w);
  const abs = claimsFilePath(w.claims_file, workflowDir);
  if (!abs) return check(w);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    return [...check(w), { path: 'claims_file', message: `claims_file: no such file ${abs}` }];
  }
  const file = readClaimsFile(abs);
  if (file.problems.length) return [...check(w), ...file.problems.map((message) => ({ path: 'claims_file', message }))];
  const inline = { reported: Array.isArray(w.reported) ? w.reported.length : 0, claims: Array.isArray(w.claims) ? w.claims.length : 0 };
  return check(mergeClaims(w, file) as CompareWith & Record<string, unknown>).map((issue) => {
    const m = /^(reported|claims)\/(\d+)(.*)$/.exec(issue.path);
    if (!m) return issue;
    const kind = m[1] as 'reported' | 'claims';
    const i = Number(m[2]);
    if (i < inline[kind]) return issue;
    return { ...issue, path: 'claims_file', message: `${file.locate(`${kind}/${i - inline[kind]}${m[3]}`)}: ${issue.message}` };
  });
}
