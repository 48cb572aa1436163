import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { checkHealth } from "./health-check.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A local server answering the n-th request (from 0) with answers[n] (the last one repeats). */
async function serve(answers: { status: number; body: string }[]): Promise<string> {
  let n = 0;
  server = createServer((_req, res) => {
    const answer = answers[Math.min(n++, answers.length - 1)]!;
    res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/_matrix/maubot/v1/health`;
}

const options = { attempts: 3, intervalMs: 10, timeoutMs: 5000 };

describe("checkHealth", () => {
  it("is healthy on 200 {status: ok} at the first attempt", async () => {
    const url = await serve([{ status: 200, body: '{"status":"ok"}' }]);
    expect(await checkHealth({ url, ...options })).toEqual({ healthy: true, detail: "200 ok", attemptsMade: 1 });
  });

  it("tries again after a failed attempt", async () => {
    const url = await serve([
      { status: 503, body: "busy" },
      { status: 200, body: '{"status":"ok"}' },
    ]);
    expect(await checkHealth({ url, ...options })).toEqual({ healthy: true, detail: "200 ok", attemptsMade: 2 });
  });

  it("is unhealthy when no attempt gets {status: ok}, saying what the last one saw", async () => {
    const url = await serve([{ status: 200, body: '{"status":"starting"}' }]);
    const result = await checkHealth({ url, ...options });
    expect(result.healthy).toBe(false);
    expect(result.attemptsMade).toBe(3);
    expect(result.detail).toBe('200 "{\\"status\\":\\"starting\\"}"');
  });

  it("names the connection error when nothing listens", async () => {
    const url = await serve([{ status: 200, body: '{"status":"ok"}' }]);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    expect(await checkHealth({ url, ...options, attempts: 2 })).toEqual({ healthy: false, detail: "ECONNREFUSED", attemptsMade: 2 });
  });
});
