// Host-level `!help`: one notice listing the commands of every running instance of the bot
// that received it (maubot issues #137 and #59 ask for this).
import type { CommandHelp } from "@botyard/sdk";
import { byCodeUnits } from "../code-unit-order.js";

export const HELP_COMMAND = "help";

/** True when `body` is a bare `!help` (trailing arguments are allowed and ignored). */
export function isHelpRequest(body: unknown): boolean {
  if (typeof body !== "string") return false;
  return /^!help(\s|$)/i.test(body.trim());
}

/** True when some instance handles `!help` itself; the host then stays quiet. */
export function helpIsTaken(list: Array<{ commands: CommandHelp[] }>): boolean {
  return list.some((i) => i.commands.some((c) => c.name.toLowerCase() === HELP_COMMAND || c.aliases.some((a) => a.toLowerCase() === HELP_COMMAND)));
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>#|~])/g, "\\$1");
}

/** Markdown text of the help notice. */
export function renderHelp(list: Array<{ instanceId: string; commands: CommandHelp[] }>): string {
  const withCommands = list.filter((i) => i.commands.length > 0);
  if (withCommands.length === 0) return "This bot has no commands.";
  const lines: string[] = [];
  for (const instance of [...withCommands].sort((a, b) => byCodeUnits(a.instanceId, b.instanceId))) {
    lines.push(`**${escapeMarkdown(instance.instanceId)}**`, "");
    for (const cmd of instance.commands) {
      const usage = cmd.usage.trim() || `!${cmd.name}`;
      const aliases = cmd.aliases.length > 0 ? ` (also ${cmd.aliases.map((a) => `\`!${a}\``).join(", ")})` : "";
      const help = cmd.help.trim() ? `: ${escapeMarkdown(cmd.help.trim())}` : "";
      lines.push(`- \`${usage.replace(/`/g, "'")}\`${aliases}${help}`);
    }
    lines.push("");
  }
  return lines.join("\n").trimEnd();
}
