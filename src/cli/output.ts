// Output to a closed pipe (`repro run --json | head -1`) ends quietly. When the reader of stdout or
// stderr goes away, writing fails with EPIPE, which Node raises as an error event with a stack trace,
// leaving a run `running` with its lock held. Instead: further writes to that stream are dropped, and
// the command is told (`onOutputClosed`), so a run stops its steps and closes its record as interrupted.
import { EventEmitter } from 'node:events';

const closed = new EventEmitter();
let installed = false;

/** Call once at start-up: EPIPE on stdout or stderr becomes an 'output closed' event instead of a crash. */
export function watchOutputPipes(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      // Nobody reads any more: later writes are dropped, not raised again.
      stream.write = ((_chunk: unknown, ...rest: unknown[]) => {
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }) as typeof stream.write;
      closed.emit('closed', stream === process.stdout ? 'stdout' : 'stderr');
    });
  }
}

/** Runs `fn` when stdout or stderr is closed by its reader; returns how to stop listening. */
export function onOutputClosed(fn: (which: 'stdout' | 'stderr') => void): () => void {
  closed.on('closed', fn);
  return () => closed.off('closed', fn);
}
