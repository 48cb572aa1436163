// `!command` registration and dispatch, without decorators: maubot's @command.new / @subcommand /
// @argument as plain objects. Names and aliases are case-insensitive; a message whose arguments
// do not parse is answered with the generated usage.

import { argsUsage, checkArgList, parseArgs, takeWord, type Arg, type ArgsOf } from "./arguments.js";
import type { CommandHelp } from "./contract.js";
import type { MessageContext } from "./message-context.js";

export const COMMAND_PREFIX = "!";

export interface CommandSpec<A extends readonly Arg[] = readonly Arg[]> {
  /** Name without the "!" prefix; matched case-insensitively. */
  name: string;
  aliases?: readonly string[];
  /** One line shown by `!help` and in usage lists. */
  help?: string;
  /** Typed arguments, parsed in order: `[arg.word("name"), arg.rest("text")]`. */
  args?: A;
  /**
   * Subcommands (`!name sub ...`). When the next word names no subcommand, the command's own
   * handler runs with its arguments; without a handler the usage is sent.
   * Wrap each in `command({...})` to get typed `args` in its handler.
   */
  subcommands?: readonly CommandSpec[];
  /** msgtypes that may invoke it (default `["m.text"]`: bots' `m.notice` never triggers commands). */
  msgtypes?: readonly string[];
  /** Runs the command. Throws are caught and logged against the instance. */
  handler?(ctx: MessageContext, args: ArgsOf<A>): unknown;
}

/** Identity function that infers the argument types of a (sub)command. */
export function command<const A extends readonly Arg[]>(spec: CommandSpec<A>): CommandSpec<A> {
  return spec;
}

interface CompiledCommand {
  spec: CommandSpec;
  name: string;
  names: Set<string>;
  args: readonly Arg[];
  subcommands: CompiledCommand[];
}

const NAME = /^[^\s!][^\s]*$/;

function compile(spec: CommandSpec, where: string): CompiledCommand {
  const name = spec.name.toLowerCase();
  const all = [spec.name, ...(spec.aliases ?? [])];
  for (const n of all) {
    if (!NAME.test(n)) throw new Error(`${where}: invalid command name ${JSON.stringify(n)} (one word, no "!")`);
  }
  const path = `${where}${name}`;
  const args = spec.args ?? [];
  checkArgList(args, `command ${path}`);
  const subcommands = (spec.subcommands ?? []).map((s) => compile(s, `${path} `));
  assertUniqueNames(subcommands, `command ${path}`);
  if (!spec.handler && subcommands.length === 0) throw new Error(`command ${path} has neither a handler nor subcommands`);
  return { spec, name, names: new Set(all.map((n) => n.toLowerCase())), args, subcommands };
}

function assertUniqueNames(commands: CompiledCommand[], where: string): void {
  const seen = new Set<string>();
  for (const c of commands) {
    for (const n of c.names) {
      if (seen.has(n)) throw new Error(`${where}: the name ${n} is used twice`);
      seen.add(n);
    }
  }
}

function usageLine(cmd: CompiledCommand, path: string): string {
  if (cmd.subcommands.length > 0 && !cmd.spec.handler) return `${path} <subcommand> [...]`;
  const own = argsUsage(cmd.args);
  return own ? `${path} ${own}` : path;
}

/** Markdown usage of a command: its line, then one line per subcommand. */
function usageText(cmd: CompiledCommand, path: string): string {
  let text = `**Usage:** \`${usageLine(cmd, path)}\``;
  if (cmd.subcommands.length > 0) {
    const lines = cmd.subcommands.map((s) => {
      const line = `\`${usageLine(s, `${path} ${s.name}`)}\``;
      return s.spec.help ? `* ${line} - ${s.spec.help}` : `* ${line}`;
    });
    text += `\n\n${lines.join("\n")}`;
  }
  return text;
}

/**
 * Text as a Markdown code span: a parse failure's reason quotes what the sender typed, which the
 * host renders as Markdown with raw HTML allowed; inside a code span it stays literal text.
 */
function codeSpan(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

export type CommandOutcome =
  | { kind: "none" }
  | { kind: "usage"; command: string; text: string }
  | { kind: "run"; command: string; run: (ctx: MessageContext) => Promise<unknown> };

export class CommandRouter {
  #commands: CompiledCommand[] = [];
  /** `this` of the handlers (the plugin), so method-style handlers can reach it too. */
  readonly #owner: unknown;

  constructor(owner?: unknown) {
    this.#owner = owner;
  }

  add<const A extends readonly Arg[]>(spec: CommandSpec<A>): void {
    const compiled = compile(spec as unknown as CommandSpec, "");
    for (const n of compiled.names) {
      if (this.#commands.some((c) => c.names.has(n))) throw new Error(`command name ${n} is already registered`);
    }
    this.#commands.push(compiled);
  }

  clear(): void {
    this.#commands = [];
  }

  get size(): number {
    return this.#commands.length;
  }

  /**
   * Decides what a message body means: not a command of ours, a usage error to answer, or a
   * handler to run with parsed arguments. Pure: sends nothing, so it can be tested alone.
   */
  resolve(body: string, msgtype: string | null): CommandOutcome {
    if (!body.startsWith(COMMAND_PREFIX)) return { kind: "none" };
    const { token, rest } = takeWord(body.slice(COMMAND_PREFIX.length));
    const wanted = token.toLowerCase();
    const root = this.#commands.find((c) => c.names.has(wanted));
    if (!root) return { kind: "none" };
    const allowed = root.spec.msgtypes ?? ["m.text"];
    if (!allowed.includes(msgtype ?? "")) return { kind: "none" };

    let cmd = root;
    let path = `${COMMAND_PREFIX}${root.name}`;
    let remaining = rest;
    while (cmd.subcommands.length > 0) {
      const next = takeWord(remaining);
      const sub = cmd.subcommands.find((s) => s.names.has(next.token.toLowerCase()));
      if (!sub) break;
      cmd = sub;
      path = `${path} ${sub.name}`;
      remaining = next.rest;
    }
    const handler = cmd.spec.handler;
    if (!handler) return { kind: "usage", command: path, text: usageText(cmd, path) };
    const parsed = parseArgs(cmd.args, remaining);
    if (!parsed.ok) return { kind: "usage", command: path, text: `${usageText(cmd, path)}\n\n${codeSpan(parsed.reason)}` };
    const owner = this.#owner ?? cmd.spec;
    return {
      kind: "run",
      command: path,
      run: async (ctx) => handler.call(owner as CommandSpec, ctx, parsed.values as never),
    };
  }

  help(): CommandHelp[] {
    return this.#commands.map((c) => ({
      name: c.name,
      aliases: (c.spec.aliases ?? []).map((a) => a.toLowerCase()),
      usage: usageLine(c, `${COMMAND_PREFIX}${c.name}`),
      help: c.spec.help ?? "",
    }));
  }
}
