import { describe, expect, it } from "vitest";
import { helpIsTaken, isHelpRequest, renderHelp } from "./help-command.js";

const ping = { name: "ping", aliases: ["p"], usage: "!ping", help: "Answers pong" };

describe("host-level !help", () => {
  it("recognises !help with or without arguments, and nothing else", () => {
    expect(isHelpRequest("!help")).toBe(true);
    expect(isHelpRequest("  !HELP echo ")).toBe(true);
    expect(isHelpRequest("!helpme")).toBe(false);
    expect(isHelpRequest("please !help")).toBe(false);
    expect(isHelpRequest(undefined)).toBe(false);
  });

  it("lists each instance's commands with usage, aliases and help text", () => {
    const text = renderHelp([
      { instanceId: "echo2", commands: [] },
      { instanceId: "echo1", commands: [ping, { name: "sub", aliases: [], usage: "!sub <url>", help: "Subscribe *now*" }] },
    ]);
    expect(text).toBe("**echo1**\n\n- `!ping` (also `!p`): Answers pong\n- `!sub <url>`: Subscribe \\*now\\*");
  });

  it("says so when no instance has commands", () => {
    expect(renderHelp([])).toBe("This bot has no commands.");
  });

  it("leaves !help to an instance that registers it", () => {
    expect(helpIsTaken([{ commands: [ping] }])).toBe(false);
    expect(helpIsTaken([{ commands: [{ ...ping, aliases: ["help"] }] }])).toBe(true);
  });
});
