import { describe, expect, it } from "vitest";
import { formatRecord } from "./log-stream.js";

describe("formatRecord", () => {
  it("prints a record as maubot's mbc does", () => {
    expect(formatRecord({ time: "2026-01-02T03:04:05.678Z", levelname: "INFO", name: "instance.echo1", msg: "started" })).toBe(
      "[2026-01-02 03:04:05] [INFO@instance.echo1] started",
    );
  });

  it("shows terminal escape sequences from the server as text instead of sending them to the terminal", () => {
    const line = formatRecord({ time: "2026-01-02T03:04:05Z", levelname: "WARNING", name: "instance.x\u001b[2J", msg: "title \u001b]0;pwned\u0007 \u009b31m\nnext" });
    expect(line).toBe("[2026-01-02 03:04:05] [WARNING@instance.x\\x1b[2J] title \\x1b]0;pwned\\x07 \\x9b31m\nnext");
  });

  it("prints a record with missing or non-text fields instead of throwing", () => {
    const record = JSON.parse('{"levelname":"INFO","name":"api","msg":{"a":1}}') as Parameters<typeof formatRecord>[0];
    expect(formatRecord(record)).toBe('[] [INFO@api] {"a":1}');
  });
});
