// Metric files of any shape (issue 21, item 5), through the real CLI: keys named like JavaScript's
// prototype members, a thousand undeclared metrics, nesting 200,000 levels deep and an infinite
// declared metric. Each run records, compares and reports (HTML, Markdown, checklist, RO-Crate), or
// fails with an error that names the file; never a missing report, a stack trace or "is null".
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOTYPE_NAMES } from '../../src/core/names.js';
import { MAX_METRIC_COLUMNS, MAX_OTHER_METRICS } from '../../src/report/model.js';
import { MAX_JSON_DEPTH } from '../../src/formats/json.js';
import { checkRunCrate } from '../../src/report/rocrate.js';
import { canonicalJson, sha256Json } from '../../src/core/hash.js';
import { projectWith, repro } from '../support/index.js';

/** A workflow whose `score` step (variants small and big, seeds 1 and 2) writes what score.mjs writes. */
function project(script: string, compareWith: string, outputs = '{metrics: metrics.json}'): string {
  return projectWith({
    'score.mjs': `import { writeFileSync } from 'node:fs';\nconst small = process.env.V === 'small', seed = Number(process.env.S);\n${script}\n`,
    'wf.yaml': `name: shapes
steps:
  score:
    uses: run
    matrix: {variant: [small, big], seed: [1, 2]}
    with:
      command: ['${process.execPath}', '\${{ workflow.dir }}/score.mjs']
      inputs: [score.mjs]
      env: {V: "\${{ matrix.variant }}", S: "\${{ matrix.seed }}"}
    outputs: ${outputs}
  compare:
    uses: compare
    with:
      results: \${{ steps.score.outputs.metrics }}
${compareWith}
`,
  });
}

const run = (dir: string, args = ['run', 'wf.yaml']) => repro(args, { cwd: dir, env: { REPRO_CACHE: join(dir, '.cache') }, timeout: 120_000 });
const latest = (dir: string, file: string) => readFileSync(join(dir, 'results', 'shapes', 'latest', file), 'utf8');

describe('metric keys named like prototype members', () => {
  it('constructor, toString, valueOf, hasOwnProperty and __proto__ are recorded, compared and reported', () => {
    // JSON text, so '__proto__' is an ordinary key of the file (JSON.stringify of a literal would drop it).
    const keys = PROTOTYPE_NAMES.map((k, i) => `"${k}": \${(small ? 1 : 2) + ${i} / 10 + seed / 100}`).join(', ');
    const dir = project(`writeFileSync('metrics.json', \`{${keys}, "accuracy": \${small ? 0.8 : 0.7}}\`);`, `      metrics:
        constructor: {label: ctor, direction: lower}
        __proto__: {label: proto, direction: lower}
      claims:
        - {id: toString, text: small has the lower ctor, metric: constructor, relation: {type: better, a: small, b: big}, test: paired-t}
        - {id: valueOf, text: small has the lower proto, metric: __proto__, relation: {type: better, a: small, b: big}, test: paired-t}`);
    const r = run(dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/could not be written|internal error|Operator not defined|\n\s+at /);
    const md = latest(dir, 'report.md');
    // Every key is a column of the metrics table, declared ones under their labels.
    const header = md.split('\n').find((l) => l.startsWith('| variant | n |'))!;
    for (const title of ['ctor', 'proto', 'toString', 'valueOf', 'hasOwnProperty', 'accuracy']) expect(header).toContain(`| ${title} `);
    // small: constructor (i = 1) over seeds 1, 2: 1.1 + 0.015 on average, printed with three decimals.
    expect(md).toMatch(/\| \*\*small\*\* \| 2 \| .*1\.115 ± 0\.007/);
    expect(md.match(/✅ reproduced/g)).toHaveLength(2);
    const html = latest(dir, 'report.html');
    expect(html).toContain('data-plot="per-seed"');
    expect(html).toContain('>hasOwnProperty<');
    const checklist = latest(dir, 'checklist.md');
    expect(checklist).toMatch(/\*\*Metrics:\*\* .*ctor.*proto/);
    const run1 = JSON.parse(latest(dir, 'run.json'));
    expect(run1.status).toBe('succeeded');
    expect(checkRunCrate(JSON.parse(latest(dir, 'ro-crate-metadata.json')))).toEqual([]);
    const again = run(dir, ['report']);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toMatch(/\n\s+at /);
  });
});

describe('records', () => {
  it('a value keyed __proto__ hashes by its content (canonical JSON keeps the key)', () => {
    const a = JSON.parse('{"__proto__": 1, "accuracy": 0.5}');
    const b = JSON.parse('{"__proto__": 2, "accuracy": 0.5}');
    expect(canonicalJson(a)).toBe('{"__proto__":1,"accuracy":0.5}');
    expect(sha256Json(a)).not.toBe(sha256Json(b));
    // Any other value hashes as before.
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: null })).toBe('{"a":null,"b":[1,{"c":3,"d":2}]}');
  });
});

describe('a thousand metrics', () => {
  it('the report is written: declared metrics as columns, a bounded table of the rest, and how many were left out', () => {
    const dir = project(
      `const m = { accuracy: small ? 0.8 : 0.7 };\nfor (let i = 0; i < 1000; i++) m['m' + i] = i + seed / 10;\nwriteFileSync('metrics.json', JSON.stringify(m));`,
      `      metrics:
        m999: {label: last one, direction: higher}
      claims:
        - {id: a, text: small is more accurate, metric: accuracy, relation: {type: better, a: small, b: big}}`,
    );
    const r = run(dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/could not be written|internal error|\n\s+at /);
    const md = latest(dir, 'report.md');
    const header = md.split('\n').find((l) => l.startsWith('| variant | n |'))!;
    // accuracy and m999 are declared (a column each); the first undeclared ones fill the columns.
    expect(header.split('|').length - 1).toBe(MAX_METRIC_COLUMNS + 4);
    expect(header).toContain('| accuracy |');
    expect(header).toContain('| last one |');
    const left = 1001 - MAX_METRIC_COLUMNS - MAX_OTHER_METRICS;
    expect(md).toContain(`**Other metrics.** The runs wrote 1001 metrics: the table above has ${MAX_METRIC_COLUMNS}, this one the next ${MAX_OTHER_METRICS}; ${left} more are left out (they are in the metrics files).`);
    // Columns: accuracy, m999 and m0…m9; rows: m10…m109.
    expect(header).toContain('| m9 |');
    expect(md).toMatch(/^\| m109 \| /m);
    expect(md).not.toMatch(/^\| m110 \| /m);
    const html = latest(dir, 'report.html');
    expect(html).toContain(`${left} more are left out`);
    expect(html.length).toBeLessThan(2_000_000);
    expect(latest(dir, 'checklist.md')).toContain(`and ${1001 - MAX_METRIC_COLUMNS} more (in the metrics files)`);
  });
});

describe('files that cannot be metrics', () => {
  it('a value output nested 200,000 levels deep is an error naming the file, not a stack overflow', () => {
    const dir = project(`writeFileSync(process.env.REPRO_OUT + '/m.json', '{"a":'.repeat(200000) + '1' + '}'.repeat(200000));`, '', '{metrics: "value:m.json"}');
    const r = run(dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`output \`metrics\`: m.json nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep (at character ${5 * MAX_JSON_DEPTH})`);
    expect(r.out).not.toMatch(/internal error|Maximum call stack/);
  });

  it('a metrics file nested 200,000 levels deep fails the compare step, naming the file', () => {
    const dir = project(`writeFileSync('metrics.json', '{"accuracy": 0.5, "deep": ' + '['.repeat(200000) + ']'.repeat(200000) + '}');`, `      claims:
        - {id: a, text: small is more accurate, metric: accuracy, relation: {type: better, a: small, b: big}, test: paired-t}`);
    const r = run(dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/compare failed: score\[variant=small,seed=1\]: \S+\/metrics\.json nests objects or arrays more than 256 levels deep/);
    expect(r.out).not.toMatch(/internal error|Maximum call stack/);
    const report = run(dir, ['report']);
    expect(report.out).not.toMatch(/internal error|Maximum call stack|\n\s+at /);
  });

  it('an infinite declared metric says it is Infinity, not null', () => {
    const dir = project(`writeFileSync('metrics.json', '{"accuracy": ' + (small ? '1e999' : '0.5') + '}');`, `      claims:
        - {id: a, text: small is more accurate, metric: accuracy, relation: {type: better, a: small, b: big}, test: paired-t}`);
    const r = run(dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/metrics\.json: metric 'accuracy' is Infinity, not a finite number/);
    expect(r.out).not.toMatch(/is null/);
    expect(existsSync(join(dir, 'results', 'shapes', 'latest', 'run.json'))).toBe(true);
  });
});
