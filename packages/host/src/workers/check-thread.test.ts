import { afterEach, describe, expect, it } from "vitest";
import { CheckFailure, CheckThread } from "./check-thread.js";

// A pattern that backtracks exponentially on a run of "a"s followed by a mismatch.
const catastrophic = { type: "object", properties: { name: { type: "string", pattern: "^(a+)+$" } } };
const hostileValue = `name: ${"a".repeat(40)}!\n`;

let thread: CheckThread | undefined;
afterEach(async () => {
  await thread?.close();
  thread = undefined;
});

describe("CheckThread", () => {
  it("answers a job, and a refusal with the thread's message", async () => {
    thread = new CheckThread();
    const schema = { type: "object", properties: { n: { type: "integer" } } };
    await expect(thread.run({ kind: "instance-config", configSchema: schema, baseConfig: { n: 1 }, yamlText: "n: 2\n" }, 10_000)).resolves.toEqual({ config: { n: 2 } });
    await expect(thread.run({ kind: "instance-config", configSchema: schema, baseConfig: null, yamlText: "n: x\n" }, 10_000)).resolves.toEqual({
      problem: "invalid config at /n: must be integer",
    });
    const refused = await thread.run({ kind: "read-bundle", zip: Buffer.from("not a zip") }, 10_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CheckFailure);
    expect(refused).toMatchObject({ reason: "refused", errcode: "plugin_invalid", message: expect.stringMatching(/not a zip archive/) });
  });

  it("terminates a job stuck in a backtracking pattern at its time limit, and runs the next job on a fresh thread", async () => {
    thread = new CheckThread();
    const stuck = thread.run({ kind: "instance-config", configSchema: catastrophic, baseConfig: null, yamlText: hostileValue }, 300);
    // Queued behind the stuck job: it must still get its answer.
    const next = thread.run({ kind: "instance-config", configSchema: catastrophic, baseConfig: null, yamlText: "name: aaa\n" }, 10_000);
    await expect(stuck).rejects.toMatchObject({ reason: "timeout", message: "the check took longer than 0.3 s" });
    await expect(next).resolves.toEqual({ config: { name: "aaa" } });
  });
});
