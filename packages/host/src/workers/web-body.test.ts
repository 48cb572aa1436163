import { describe, expect, it } from "vitest";
import { WebBodyOutbox } from "./web-body-outbox.js";
import { WebBodyStream } from "./web-body-stream.js";

describe("WebBodyOutbox (worker side)", () => {
  it("sends a small body inline and keeps a larger one to be pulled chunk by chunk, each chunk a copy", () => {
    const released: number[] = [];
    const outbox = new WebBodyOutbox(1000, (bytes) => released.push(bytes), 4);
    expect(outbox.answer(1, { status: 200, body: "abc" })).toEqual({ type: "WEB_RESPONSE", reqId: 1, head: { status: 200, headers: {}, bytes: 3, body: "abc" } });
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(outbox.answer(2, { status: 201, headers: { "x-n": "1" }, body: data })).toEqual({
      type: "WEB_RESPONSE",
      reqId: 2,
      head: { status: 201, headers: { "x-n": "1" }, bytes: 10 },
    });
    const chunks = [outbox.pull(2), outbox.pull(2), outbox.pull(2)];
    expect(chunks.map((c) => [Array.from(c!.chunk), c!.last])).toEqual([
      [[1, 2, 3, 4], false],
      [[5, 6, 7, 8], false],
      [[9, 10], true],
    ]);
    expect(chunks[0]!.chunk.buffer).not.toBe(data.buffer);
    expect(outbox.pull(2)).toBeNull();
    expect(outbox.size).toBe(0);
    expect(released).toEqual([10]);
  });

  it("counts a string's UTF-8 bytes, refuses a body over the limit without keeping it, and drops a cancelled one", () => {
    const released: number[] = [];
    const outbox = new WebBodyOutbox(5, (bytes) => released.push(bytes), 2);
    expect(outbox.answer(1, { status: 200, body: "ééé" })).toEqual({ type: "WEB_RESPONSE", reqId: 1, failure: { kind: "too_large", bytes: 6, limit: 5 } });
    expect(outbox.size).toBe(0);
    outbox.answer(2, { status: 200, body: "éé" });
    expect(outbox.size).toBe(1);
    outbox.cancel(2);
    expect(outbox.size).toBe(0);
    expect(outbox.pull(2)).toBeNull();
    expect(released).toEqual([6, 4]);
  });

  it("refuses answers a plugin should not give: a bad status, a body of another type, headers that are no object", () => {
    const outbox = new WebBodyOutbox(100);
    const bad = (response: unknown) => outbox.answer(1, response as never);
    expect(bad({ status: 99 })).toMatchObject({ failure: { kind: "handler", message: expect.stringContaining("status 99") } });
    expect(bad({ status: 200, body: 5 })).toMatchObject({ failure: { kind: "handler", message: expect.stringContaining("string or a Uint8Array") } });
    expect(bad({ status: 200, headers: "x" })).toMatchObject({ failure: { kind: "handler" } });
    expect(bad(null)).toMatchObject({ failure: { kind: "handler" } });
    expect(bad({ status: 204, headers: { "x-n": 5 } })).toEqual({ type: "WEB_RESPONSE", reqId: 1, head: { status: 204, headers: { "x-n": "5" }, bytes: 0 } });
  });
});

describe("WebBodyStream (host side)", () => {
  it("pulls the next chunk only when its reader wants more, and ends after the last", async () => {
    let pulls = 0;
    const stream = new WebBodyStream(6, () => pulls++, () => {
      throw new Error("not cancelled");
    });
    const read: number[] = [];
    stream.on("data", (chunk: Buffer) => read.push(...chunk));
    const ended = new Promise((resolve) => stream.on("end", resolve));
    await new Promise((r) => setImmediate(r));
    expect(pulls).toBe(1);
    stream.deliver(new Uint8Array([1, 2, 3]), false);
    await new Promise((r) => setImmediate(r));
    expect(pulls).toBe(2);
    stream.deliver(new Uint8Array([4, 5, 6]), true);
    await ended;
    expect(read).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pulls).toBe(2);
  });

  it("tells the worker to drop the rest when destroyed early, and fails on a body longer than announced", async () => {
    let cancels = 0;
    const early = new WebBodyStream(10, () => undefined, () => cancels++);
    early.destroy();
    expect(cancels).toBe(1);

    const liar = new WebBodyStream(2, () => undefined, () => cancels++);
    const failed = new Promise<Error>((resolve) => liar.on("error", resolve));
    liar.resume();
    liar.deliver(new Uint8Array([1, 2, 3]), true);
    expect((await failed).message).toMatch(/did not match its announced 2 bytes/);
    expect(cancels).toBe(2);
  });
});
