// Runs tasks one at a time per key, in the order they were asked for: each key has a promise
// chain, and a task starts only when the previous one for that key has finished (or failed).
// Used for the sends to one room (matrix/bot-client.ts) and the operations on one instance
// (instances/instance-supervisor.ts).
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // Drop the chain once it is idle so keys that are no longer used do not accumulate.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task queued so far has settled (never rejects). */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
