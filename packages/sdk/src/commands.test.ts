import { describe, expect, it } from "vitest";
import { arg } from "./arguments.js";
import { CommandRouter, command, type CommandOutcome } from "./commands.js";
import { MessageContext } from "./message-context.js";
import { PluginClient } from "./client.js";
import { textMessage } from "./testing.js";

// Runs an outcome's handler with a context whose client is never called.
async function runOutcome(outcome: CommandOutcome): Promise<void> {
  if (outcome.kind !== "run") throw new Error(`expected a run, got ${outcome.kind}`);
  const client = new PluginClient(async () => {
    throw new Error("no client in this test");
  });
  await outcome.run(new MessageContext(client, textMessage("x"), "x"));
}

function router(): { r: CommandRouter; seen: unknown[] } {
  const seen: unknown[] = [];
  const r = new CommandRouter();
  r.add(
    command({
      name: "roll",
      aliases: ["dice"],
      help: "Roll a die",
      args: [arg.integer("sides", { min: 2, max: 100 }), arg.word("label", { optional: true })],
      handler(_ctx, args) {
        // Typed: sides is a number, label string | undefined.
        const sides: number = args.sides;
        const label: string | undefined = args.label;
        seen.push({ sides, label });
      },
    }),
  );
  r.add({
    name: "say",
    args: [arg.string("who"), arg.rest("text")],
    handler: (_ctx, args) => void seen.push(args),
  });
  r.add({
    name: "feed",
    help: "Manage feeds",
    subcommands: [
      command({ name: "add", aliases: ["subscribe"], help: "Add a feed", args: [arg.url("url")], handler: (_c, a) => void seen.push(["add", a.url.href]) }),
      command({ name: "list", help: "List feeds", handler: () => void seen.push(["list"]) }),
    ],
  });
  r.add({
    name: "tag",
    args: [arg.regex("tag", /#(\w+)/), arg.choice("mode", ["on", "off"])],
    handler: (_c, a) => void seen.push([a.tag[1], a.mode]),
  });
  return { r, seen };
}

describe("CommandRouter", () => {
  it("parses typed arguments and leaves optional ones undefined", async () => {
    const { r, seen } = router();
    await runOutcome(r.resolve("!roll 20 fire", "m.text"));
    await runOutcome(r.resolve("!roll 6", "m.text"));
    expect(seen).toEqual([
      { sides: 20, label: "fire" },
      { sides: 6, label: undefined },
    ]);
  });

  it("matches names and aliases case-insensitively", async () => {
    const { r, seen } = router();
    await runOutcome(r.resolve("!ROLL 6", "m.text"));
    await runOutcome(r.resolve("!Dice 8", "m.text"));
    expect(seen).toEqual([
      { sides: 6, label: undefined },
      { sides: 8, label: undefined },
    ]);
  });

  it("takes quoted strings and the rest of the line", async () => {
    const { r, seen } = router();
    await runOutcome(r.resolve('!say "Alice Smith" hello  there\nsecond line', "m.text"));
    expect(seen).toEqual([{ who: "Alice Smith", text: "hello  there\nsecond line" }]);
  });

  it("dispatches subcommands by name and alias", async () => {
    const { r, seen } = router();
    await runOutcome(r.resolve("!feed add https://example.org/x", "m.text"));
    await runOutcome(r.resolve("!feed SUBSCRIBE <https://example.org/y>", "m.text"));
    await runOutcome(r.resolve("!feed list", "m.text"));
    expect(seen).toEqual([["add", "https://example.org/x"], ["add", "https://example.org/y"], ["list"]]);
  });

  it("parses regex and choice arguments", async () => {
    const { r, seen } = router();
    await runOutcome(r.resolve("!tag #news ON", "m.text"));
    expect(seen).toEqual([["news", "on"]]);
  });

  it("answers bad input with the generated usage and the reason", () => {
    const { r } = router();
    const bad = r.resolve("!roll many", "m.text");
    expect(bad).toMatchObject({ kind: "usage", command: "!roll" });
    if (bad.kind !== "usage") throw new Error("unreachable");
    expect(bad.text).toContain("**Usage:** `!roll <sides> [label]`");
    expect(bad.text).toContain('"many" is not an integer');

    const missing = r.resolve("!roll", "m.text");
    expect(missing.kind === "usage" && missing.text).toContain("missing <sides>");
    const tooBig = r.resolve("!roll 1000", "m.text");
    expect(tooBig.kind === "usage" && tooBig.text).toContain("above 100");
    const extra = r.resolve("!roll 6 a b", "m.text");
    expect(extra.kind === "usage" && extra.text).toContain('unexpected "b"');
    const badUrl = r.resolve("!feed add ftp://x", "m.text");
    expect(badUrl.kind === "usage" && badUrl.text).toContain("**Usage:** `!feed add <url>`");
  });

  it("quotes the sender's text in the reason as literal code, not Markdown or HTML", () => {
    const { r } = router();
    const html = r.resolve('!roll <a href="https://evil.example">x</a>', "m.text");
    expect(html.kind === "usage" && html.text).toContain('\n\n`<sides>: "<a" is not an integer`');
    const ticks = r.resolve("!roll 6 a `**b**`", "m.text");
    expect(ticks.kind === "usage" && ticks.text).toContain('\n\n``unexpected "`**b**`"``');
  });

  it("lists subcommands when none is given", () => {
    const { r } = router();
    const outcome = r.resolve("!feed", "m.text");
    expect(outcome.kind).toBe("usage");
    if (outcome.kind !== "usage") throw new Error("unreachable");
    expect(outcome.text).toContain("`!feed <subcommand> [...]`");
    expect(outcome.text).toContain("* `!feed add <url>` - Add a feed");
    expect(outcome.text).toContain("* `!feed list` - List feeds");
  });

  it("ignores other text, unknown commands and notices", () => {
    const { r } = router();
    expect(r.resolve("roll 6", "m.text").kind).toBe("none");
    expect(r.resolve("!unknown", "m.text").kind).toBe("none");
    expect(r.resolve("!roll 6", "m.notice").kind).toBe("none");
    expect(r.resolve("! roll 6", "m.text").kind).toBe("none");
  });

  it("generates help for !help", () => {
    const { r } = router();
    expect(r.help()).toEqual([
      { name: "roll", aliases: ["dice"], usage: "!roll <sides> [label]", help: "Roll a die" },
      { name: "say", aliases: [], usage: "!say <who> <text>", help: "" },
      { name: "feed", aliases: [], usage: "!feed <subcommand> [...]", help: "Manage feeds" },
      { name: "tag", aliases: [], usage: "!tag <tag> <on|off>", help: "" },
    ]);
  });

  it("refuses bad definitions at registration", () => {
    const r = new CommandRouter();
    r.add({ name: "a", handler: () => undefined });
    expect(() => r.add({ name: "A", handler: () => undefined })).toThrow(/already registered/);
    expect(() => r.add({ name: "b", args: [arg.rest("x"), arg.word("y")], handler: () => undefined })).toThrow(/must be the last/);
    expect(() => r.add({ name: "c", args: [arg.word("x", { optional: true }), arg.word("y")], handler: () => undefined })).toThrow(/after an optional/);
    expect(() => r.add({ name: "d" })).toThrow(/neither a handler nor subcommands/);
    expect(() => r.add({ name: "!e", handler: () => undefined })).toThrow(/invalid command name/);
  });
});

describe("argument parsers", () => {
  it("parse numbers, quoted strings and reject what they cannot read", async () => {
    const seen: unknown[] = [];
    const r = new CommandRouter();
    r.add({ name: "scale", args: [arg.number("factor", { min: 0 }), arg.string("label")], handler: (_c, a) => void seen.push([a.factor, a.label]) });
    await runOutcome(r.resolve("!scale 1.5e2 'it\\'s'", "m.text"));
    await runOutcome(r.resolve("!scale .5 plain", "m.text"));
    expect(seen).toEqual([
      [150, "it's"],
      [0.5, "plain"],
    ]);
    const unterminated = r.resolve('!scale 2 "open', "m.text");
    expect(unterminated.kind === "usage" && unterminated.text).toContain("unterminated quote");
    const glued = r.resolve('!scale 2 "a"b', "m.text");
    expect(glued.kind === "usage" && glued.text).toContain("text right after a closing quote");
    const negative = r.resolve("!scale -1 x", "m.text");
    expect(negative.kind === "usage" && negative.text).toContain("below 0");
    const nan = r.resolve("!scale 1x x", "m.text");
    expect(nan.kind === "usage" && nan.text).toContain('"1x" is not a number');
  });
});
