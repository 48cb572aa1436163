// Keeps sends to one room in the order they were asked for: each room has a promise chain, and
// a send starts only when the previous one to that room has finished (or failed).
export class RoomSendQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(roomId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(roomId, tail);
    // Drop the chain once it is idle so rooms that are no longer used do not accumulate.
    void tail.then(() => {
      if (this.tails.get(roomId) === tail) this.tails.delete(roomId);
    });
    return result;
  }

  get size(): number {
    return this.tails.size;
  }
}
