// A synchronous message channel between the main thread and one worker. Both sides block in
// Atomics.wait instead of returning to their event loop, so computeGradients() stays a plain
// (synchronous) function call.
// Messages travel on a MessagePort and are read with receiveMessageOnPort; a shared counter per
// direction wakes the reader.
import { receiveMessageOnPort, type MessagePort, type TransferListItem } from 'node:worker_threads';

/** Counter index per direction in the shared Int32Array. */
export const TO_WORKER = 0;
export const TO_MAIN = 1;

export class SyncChannel {
  private readonly flags: Int32Array;

  constructor(
    private readonly port: MessagePort,
    shared: SharedArrayBuffer,
    /** The counter this side bumps when it sends. */
    private readonly sendIndex: number,
  ) {
    this.flags = new Int32Array(shared);
  }

  static sharedFlags(): SharedArrayBuffer {
    return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  }

  send(message: unknown, transfer: TransferListItem[] = []): void {
    this.port.postMessage(message, transfer);
    Atomics.add(this.flags, this.sendIndex, 1);
    Atomics.notify(this.flags, this.sendIndex);
  }

  /** Blocks until the other side sends; throws after `timeoutMs` without a message. */
  receive<T>(timeoutMs = 30 * 60_000): T {
    const index = 1 - this.sendIndex;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.flags, index);
      // Looking after reading the counter: a message sent in between moves the counter, so the wait
      // below returns at once instead of sleeping through it.
      const got = receiveMessageOnPort(this.port);
      if (got) return got.message as T;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('a data-parallel training worker stopped answering');
      Atomics.wait(this.flags, index, seen, Math.min(left, 1000));
    }
  }
}
