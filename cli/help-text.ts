/**
 * The CLI's help, saying what to type: an option's value by what it is (`--socket <path>`
 * rather than clipanion's `--socket #0`), what a command takes after `--`, and a command's
 * other names.
 */
import { Cli, type CommandClass } from "clipanion";
import type { BaseCommand, CliContext } from "./base-command.js";

/** What each option's value is, by the option's long name; any other shows its own name. */
const VALUES: Record<string, string> = {
  socket: "path",
  timeout: "duration",
  tail: "lines",
  since: "time",
  from: "seq",
  "detach-keys": "keys",
};

/** `usage` with each `--name #0` written `--name <value>`. */
function withValues(usage: string): string {
  return usage.replace(/--([\w-]+)((?: #\d+)+)/g, (_, name: string, slots: string) => {
    const value = ` <${VALUES[name] ?? name}>`;
    return `--${name}${value.repeat(slots.trim().split(" ").length)}`;
  });
}

/** Clipanion's `Cli`, with usage lines that show what to type. */
export class CommandLine extends Cli<CliContext> {
  protected override getUsageByIndex(
    n: number,
    opts?: { detailed?: boolean; inlineOptions?: boolean },
  ): {
    usage: string;
    options: Array<{ definition: string; description: string; required: boolean }>;
  } {
    const { usage, options } = super.getUsageByIndex(n, opts);
    let commandClass: CommandClass<CliContext> | undefined;
    for (const [registered, { index }] of this.registrations)
      if (index === n) commandClass = registered;
    // The path alone (detailed: false) names the command, without its arguments.
    const after =
      opts?.detailed === false
        ? undefined
        : (commandClass as typeof BaseCommand | undefined)?.passthrough;
    return {
      usage: withValues(after === undefined ? usage : `${usage} ${after}`),
      options: options.map((option) => ({ ...option, definition: withValues(option.definition) })),
    };
  }
}

/**
 * Adds a command's other names to its description ("List sessions (also: ls)"), as clipanion's
 * help shows only the first.
 */
export function describeAliases(command: CommandClass<CliContext>): void {
  const [, ...aliases] = command.paths ?? [];
  if (command.usage?.description === undefined || aliases.length === 0) return;
  const names = aliases.map((path) => path.join(" ")).join(", ");
  command.usage = {
    ...command.usage,
    description: `${command.usage.description} (also: ${names})`,
  };
}
