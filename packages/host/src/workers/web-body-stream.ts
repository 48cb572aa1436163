// The host's side of a streamed web response body: a Readable that asks the worker for the next
// chunk only when its reader wants more, so a large plugin answer passes through the host one
// chunk at a time at the pace of the HTTP client, and a client that goes away cancels the rest.
import { Readable } from "node:stream";

export class WebBodyStream extends Readable {
  private received = 0;
  private waiting = false;
  private finished = false;

  /**
   * @param bytes the body's length, as the worker announced it
   * @param pull asks the worker for the next chunk (answered through `deliver`)
   * @param cancel tells the worker to drop the rest (the stream was destroyed before its end)
   */
  constructor(
    readonly bytes: number,
    private readonly pull: () => void,
    private readonly cancel: () => void,
  ) {
    // One chunk in hand is enough: the next is pulled once the reader has taken this one.
    super({ highWaterMark: 1 });
  }

  override _read(): void {
    if (this.waiting || this.finished) return;
    this.waiting = true;
    this.pull();
  }

  /** A chunk from the worker; a body longer or shorter than announced ends the stream with an error. */
  deliver(chunk: Uint8Array, last: boolean): void {
    if (this.finished || this.destroyed) return;
    this.waiting = false;
    this.received += chunk.byteLength;
    if (this.received > this.bytes || (last && this.received !== this.bytes)) {
      this.destroy(new Error(`the plugin's body did not match its announced ${this.bytes} bytes`));
      return;
    }
    this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (last) {
      this.finished = true;
      this.push(null);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.finished) {
      this.finished = true;
      this.cancel();
    }
    callback(err);
  }
}
