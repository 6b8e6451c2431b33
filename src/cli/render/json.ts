// The --json renderer: every RunEvent as one JSON object per line on stdout, nothing else there,
// so `repro run --json | jq` works. The last line is the run-finished event (with the record path).
import type { RunEvent } from '../../engine/events.js';

export function jsonRenderer(out: NodeJS.WritableStream = process.stdout): (e: RunEvent) => void {
  return (e) => {
    out.write(JSON.stringify(e) + '\n');
  };
}
