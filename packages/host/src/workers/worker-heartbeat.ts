// Liveness of one worker: a HEARTBEAT every interval, answered by the worker's event loop; a worker
// that leaves them unanswered for the timeout is stuck (a plugin in an endless loop, a native call).
export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private lastAck = Date.now();

  /**
   * @param send posts HEARTBEAT number `seq` to the worker
   * @param onMissed called when no answer came for `timeoutMs`; the heartbeat stops sending then
   */
  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly send: (seq: number) => void,
    private readonly onMissed: (timeoutMs: number) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    let lastTick = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      // If the host itself stalled, the worker's answers may still be queued here: give it a new period.
      if (now - lastTick > this.intervalMs * 2) this.lastAck = now;
      lastTick = now;
      if (now - this.lastAck > this.timeoutMs) {
        this.stop();
        this.onMissed(this.timeoutMs);
        return;
      }
      this.send(++this.seq);
    }, this.intervalMs);
    this.timer.unref();
  }

  /** The worker answered a heartbeat. */
  ack(): void {
    this.lastAck = Date.now();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
