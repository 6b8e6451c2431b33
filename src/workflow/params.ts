// Param values: declared default → chosen profile → environment variable (`env`) → `--set`.
// Every value is checked against the param's type and enum wherever it comes from.
import { parse as parseYaml } from 'yaml';
import { COMMAND_LINE, pointer, type DiagnosticSink } from './diagnostics.js';
import { nullRecord } from '../core/names.js';
import { didYouMean } from './suggest.js';
import type { ParamDecl, Workflow } from './types.js';

export interface ResolvedParams {
  params: Record<string, unknown>;
  secretParams: string[];
  profile: string | null;
  /** `--set steps.ID.with.KEY=VALUE` overrides, applied to the steps' raw `with` by the planner. */
  withOverrides: Array<{ step: string; path: string[]; value: unknown }>;
  /** `--set steps.ID.if=true|false`: a step switched on or off whatever its `if:` says. */
  ifOverrides: Record<string, boolean>;
}

/** Why `value` does not fit `decl`, or null when it does. */
export function typeError(value: unknown, decl: ParamDecl): string | null {
  const ok = (() => {
    switch (decl.type) {
      case 'string':
        return typeof value === 'string';
      case 'number':
        return typeof value === 'number' && Number.isFinite(value);
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value);
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
    }
  })();
  if (!ok) return `expected ${decl.type === 'array' ? 'a list' : decl.type === 'object' ? 'a mapping' : `${/^[aeiou]/.test(decl.type) ? 'an' : 'a'} ${decl.type}`}, found ${describe(value)}`;
  if (decl.enum && !decl.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    const s = typeof value === 'string' ? didYouMean(value, decl.enum.filter((e): e is string => typeof e === 'string')) : '';
    return `expected one of ${decl.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${JSON.stringify(value)}${s}`;
  }
  return null;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Text from the command line or the environment → a value of the param's type. */
function parseValueText(text: string, decl: ParamDecl | undefined): { value: unknown } | { error: string } {
  // A string param takes the text as it is: `--set name=123` is the string '123'.
  if (decl?.type === 'string') return { value: text };
  try {
    return { value: parseYaml(text, { uniqueKeys: true, maxAliasCount: 0 }) ?? null };
  } catch (err) {
    return { error: `cannot read '${text}' as a YAML value: ${(err as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
  }
}

export function resolveParams(
  wf: Workflow,
  options: { profile?: string; set?: string[]; env?: Record<string, string | undefined> },
  sink: DiagnosticSink,
): ResolvedParams {
  const env = options.env ?? process.env;
  const names = Object.keys(wf.params);
  const values = nullRecord<unknown>();

  // Declarations: defaults and enums must fit the declared type; secrets come only from the environment.
  for (const [name, decl] of Object.entries(wf.params)) {
    const at = pointer('/params', name);
    decl.enum?.forEach((e, i) => {
      const err = typeError(e, { type: decl.type });
      if (err) sink.error(pointer(`${at}/enum`, i), `param '${name}': enum value ${err}`, { code: 'wrong-type' });
    });
    if (decl.secret && !decl.env) {
      sink.error(`${at}/secret`, `secret param '${name}' needs 'env': its value can only come from an environment variable`, { code: 'secret-without-env' });
    }
    if (decl.secret && decl.default !== undefined) {
      sink.error(`${at}/default`, `secret param '${name}' cannot have a default: the workflow file would hold the secret`, { code: 'secret-default' });
    } else if (decl.default !== undefined) {
      const err = typeError(decl.default, decl);
      if (err) sink.error(`${at}/default`, `default of param '${name}': ${err}`, { code: 'wrong-type' });
      else values[name] = decl.default;
    }
  }

  // Profiles: at most one default; overrides name declared params and fit their types.
  let defaultProfile: string | null = null;
  for (const [pname, profile] of Object.entries(wf.profiles)) {
    if (profile.default) {
      if (defaultProfile) {
        const first = sink.rangeOf(`/profiles/${defaultProfile}/default`);
        sink.error(`/profiles/${pname}/default`, `only one profile may be the default, and '${defaultProfile}' already is${first ? ` (line ${first.start.line})` : ''}`, { code: 'two-default-profiles' });
      } else defaultProfile = pname;
    }
    for (const [name, value] of Object.entries(profile.params)) {
      const at = pointer(`/profiles/${pname}/params`, name);
      const decl = wf.params[name];
      if (!decl) {
        sink.error(at, `profile '${pname}' sets unknown param '${name}'${didYouMean(name, names)}`, { code: 'unknown-param', key: true, hint: paramsHint(names) });
        continue;
      }
      if (decl.secret) {
        sink.error(at, `profile '${pname}' cannot set secret param '${name}': it comes from $${decl.env ?? '...'} only`, { code: 'secret-in-profile', key: true });
        continue;
      }
      const err = typeError(value, decl);
      if (err) sink.error(at, `profile '${pname}', param '${name}': ${err}`, { code: 'wrong-type' });
    }
  }

  let profile: string | null = defaultProfile;
  if (options.profile !== undefined) {
    const known = Object.keys(wf.profiles);
    if (wf.profiles[options.profile]) profile = options.profile;
    else {
      sink.errorNoPosition(`unknown profile '${options.profile}'${didYouMean(options.profile, known)}`, {
        file: COMMAND_LINE,
        code: 'unknown-profile',
        hint: known.length ? `profiles in this workflow: ${known.join(', ')}` : 'this workflow declares no profiles',
      });
    }
  }
  if (profile) {
    for (const [name, value] of Object.entries(wf.profiles[profile]!.params)) {
      const decl = wf.params[name];
      if (decl && !decl.secret && !typeError(value, decl)) values[name] = value;
    }
  }

  // The environment, for params that name a variable.
  for (const [name, decl] of Object.entries(wf.params)) {
    if (!decl.env) continue;
    const text = env[decl.env];
    if (text === undefined) continue;
    const parsed = parseValueText(text, decl);
    // Never echo a secret's value in a message.
    const shown = decl.secret ? '(hidden)' : `'${text}'`;
    const err = 'error' in parsed ? parsed.error : typeError(parsed.value, decl);
    if (err) sink.error(`/params/${name}/env`, `environment variable ${decl.env}=${shown} does not fit param '${name}': ${decl.secret ? `expected ${decl.type}` : err}`, { code: 'wrong-type' });
    else values[name] = (parsed as { value: unknown }).value;
  }

  // --set, in order (a later one wins).
  const withOverrides: ResolvedParams['withOverrides'] = [];
  const ifOverrides: ResolvedParams['ifOverrides'] = nullRecord<boolean>();
  for (const arg of options.set ?? []) {
    const cl = (message: string, hint?: string): void => sink.errorNoPosition(`--set ${arg}: ${message}`, { file: COMMAND_LINE, code: 'bad-set', hint });
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      cl(eq === 0 ? 'missing the name before =' : "expected NAME=VALUE (for example --set epochs=3)", 'NAME is a param, params.NAME, steps.ID.with.KEY or steps.ID.if');
      continue;
    }
    const key = arg.slice(0, eq).trim();
    const text = arg.slice(eq + 1);
    const segs = key.split('.');
    if (segs.some((s) => !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s))) {
      cl(`'${key}' is not a name: use NAME, params.NAME, steps.ID.with.KEY or steps.ID.if`);
      continue;
    }
    if (segs[0] === 'steps') {
      const isIf = segs.length === 3 && segs[2] === 'if';
      if (!isIf && (segs.length < 4 || segs[2] !== 'with')) {
        cl(`expected steps.ID.with.KEY or steps.ID.if, found '${key}'`);
        continue;
      }
      const stepId = segs[1]!;
      if (!wf.steps[stepId]) {
        cl(`unknown step '${stepId}'${didYouMean(stepId, Object.keys(wf.steps))}`);
        continue;
      }
      const parsed = parseValueText(text, undefined);
      if (isIf) {
        if ('error' in parsed || typeof parsed.value !== 'boolean') cl(`expected true or false, found '${text}'`);
        else ifOverrides[stepId] = parsed.value;
        continue;
      }
      if ('error' in parsed) cl(parsed.error);
      else withOverrides.push({ step: stepId, path: segs.slice(3), value: parsed.value });
      continue;
    }
    if (segs[0] === 'params') segs.shift();
    if (segs.length !== 1) {
      cl(`'${key}' is not a param name: params have no fields to set (set the whole value)`);
      continue;
    }
    const name = segs[0]!;
    const decl = wf.params[name];
    if (!decl) {
      cl(`unknown param '${name}'${didYouMean(name, names)}`, paramsHint(names));
      continue;
    }
    if (decl.secret) {
      cl(`'${name}' is secret: set the environment variable ${decl.env} instead, so the value stays out of your shell history`);
      continue;
    }
    const parsed = parseValueText(text, decl);
    const err = 'error' in parsed ? parsed.error : typeError(parsed.value, decl);
    if (err) cl(`param '${name}': ${err}`);
    else values[name] = (parsed as { value: unknown }).value;
  }

  // A param with neither a value nor an environment variable to come from is a mistake in the workflow.
  for (const [name, decl] of Object.entries(wf.params)) {
    if (name in values) continue;
    if (decl.env) values[name] = null;
    else
      sink.error(pointer('/params', name), `param '${name}' has no value`, {
        code: 'missing-param-value',
        key: true,
        hint: `give it a default, set it in a profile, or pass --set ${name}=VALUE`,
      });
  }

  const secretParams = Object.entries(wf.params)
    .filter(([, d]) => d.secret)
    .map(([n]) => n);
  return { params: values, secretParams, profile, withOverrides, ifOverrides };
}

function paramsHint(names: string[]): string {
  return names.length ? `params: ${names.join(', ')}` : 'this workflow declares no params';
}
