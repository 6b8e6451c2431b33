// The progress of a run still going, from what the engine writes while it runs: run.json (rewritten
// as each step ends, status 'running') and logs/<step>.log (opened when a step starts, appended as
// it prints). A log without an ended step is a step running now; its last line is what it says.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../formats/run-record.js';
import { safeName } from '../engine/executor.js';
import { summarizeRun } from '../engine/runs.js';

export interface RunProgress {
  done: number;
  ran: number;
  cached: number;
  failed: number;
  /** Steps of the last finished run of the same workflow and profile: what this one will likely have. */
  expected: number | null;
  /** Steps with a log but no end yet, each with its log's last line. */
  running: Array<{ log: string; last: string }>;
}

/** The last non-empty line of a file, reading at most its last 4 KiB. */
function lastLine(path: string): string {
  let fd: number | null = null;
  try {
    const size = statSync(path).size;
    const len = Math.min(size, 4096);
    const buf = Buffer.alloc(len);
    fd = openSync(path, 'r');
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    return lines[lines.length - 1] ?? '';
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function runProgress(record: RunRecord, runDir: string, expected: number | null): RunProgress {
  // Counted as `repro runs` counts them.
  const { ran, cached, failed } = summarizeRun(join(runDir, 'run.json'), record);
  const ended = new Set(record.steps.map((s) => `${safeName(s.id)}.log`));
  let logs: string[] = [];
  try {
    logs = readdirSync(join(runDir, 'logs')).filter((f) => f.endsWith('.log') && !ended.has(f));
  } catch {
    /* no step started yet */
  }
  return {
    done: record.steps.length,
    ran,
    cached,
    failed,
    expected,
    running: logs.sort().map((log) => ({ log: log.slice(0, -4), last: lastLine(join(runDir, 'logs', log)).slice(0, 200) })),
  };
}

/** One line for people: '7 of about 13 steps done (4 ran, 3 cached); running: train[…] (epoch 2/5)'. */
export function describeProgress(p: RunProgress): string {
  const of = p.expected && p.expected >= p.done ? ` of about ${p.expected}` : '';
  const now = p.running.map((r) => (r.last ? `${r.log} (${r.last})` : r.log)).join('; ');
  return `${p.done}${of} step${p.done === 1 && !of ? '' : 's'} done (${p.ran} ran, ${p.cached} cached${p.failed ? `, ${p.failed} failed` : ''})${now ? `; running: ${now}` : ''}`;
}
