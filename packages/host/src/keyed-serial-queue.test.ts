import { describe, expect, it } from "vitest";
import { KeyedSerialQueue } from "./keyed-serial-queue.js";

describe("KeyedSerialQueue", () => {
  it("runs sends to one room one after another, in order, even when one fails", async () => {
    const queue = new KeyedSerialQueue();
    const order: string[] = [];
    const task = (name: string, fail = false) => async () => {
      order.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      order.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue.run("!a", task("1")), queue.run("!a", task("2", true)), queue.run("!a", task("3"))]);
    expect(order).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("lets different rooms proceed independently and forgets idle rooms", async () => {
    const queue = new KeyedSerialQueue();
    let releaseA!: () => void;
    const a = queue.run("!a", () => new Promise<string>((r) => (releaseA = () => r("a"))));
    const b = await queue.run("!b", async () => "b");
    expect(b).toBe("b");
    releaseA();
    expect(await a).toBe("a");
    await new Promise((r) => setImmediate(r));
    expect(queue.size).toBe(0);
  });
});
