/**
 * The `claude-sessions` command line. Misuse (unknown command or flag, missing argument) exits
 * 2 with usage; errors from the daemon or the system exit 1.
 */
import { Builtins, Cli, type CommandClass } from "clipanion";
import { VERSION } from "../daemon/common/version.js";
import { type CliContext, EXIT_USAGE } from "./base-command.js";
import { AttachCommand } from "./commands/attach.js";
import { CaptureCommand } from "./commands/capture.js";
import { DaemonCommand } from "./commands/daemon.js";
import { ListCommand } from "./commands/list.js";
import { LogsCommand } from "./commands/logs.js";
import { RenameCommand } from "./commands/rename.js";
import { ResizeCommand } from "./commands/resize.js";
import { RestartCommand } from "./commands/restart.js";
import { ResumeCommand } from "./commands/resume.js";
import { RemoveCommand } from "./commands/rm.js";
import { SendCommand } from "./commands/send.js";
import { ShowCommand } from "./commands/show.js";
import { StartCommand } from "./commands/start.js";
import { StatusCommand } from "./commands/status.js";
import { StopCommand } from "./commands/stop.js";
import { StopDaemonCommand } from "./commands/stop-daemon.js";
import { VersionCommand } from "./commands/version.js";
import { WatchCommand } from "./commands/watch.js";
import { printable } from "./output.js";

/** Every command, in the order `--help` lists them. */
const commands: Array<CommandClass<CliContext>> = [
  DaemonCommand,
  StatusCommand,
  StopDaemonCommand,
  StartCommand,
  ListCommand,
  ShowCommand,
  StopCommand,
  RemoveCommand,
  ResumeCommand,
  RestartCommand,
  RenameCommand,
  AttachCommand,
  LogsCommand,
  CaptureCommand,
  SendCommand,
  ResizeCommand,
  WatchCommand,
  VersionCommand,
];

/**
 * The commands whose path starts with `word`, or all of them when none does (`--help`, a typo).
 * Clipanion builds its parser from every registered command on each run, which costs more than
 * the rest of a command such as `list`; a command's path always comes first, so the others
 * could never match.
 */
function commandsFor(word: string | undefined): Array<CommandClass<CliContext>> {
  const matching = commands.filter((command) => command.paths?.some((path) => path[0] === word));
  return matching.length > 0 ? matching : commands;
}

/** The CLI with the commands that can match `args` (all of them by default). */
export function createCli(args?: readonly string[]): Cli<CliContext> {
  const cli = new Cli<CliContext>({
    binaryLabel: "claude-sessions",
    binaryName: "claude-sessions",
    binaryVersion: VERSION,
    enableColors: process.stdout.isTTY === true && !("NO_COLOR" in process.env),
  });
  for (const command of args === undefined ? commands : commandsFor(args[0])) {
    cli.register(command);
  }
  cli.register(Builtins.HelpCommand);
  return cli;
}

/** A candidate command line clipanion considered, and why it did not fit. */
interface Candidate {
  usage: string;
  reason: string | null;
}

/**
 * Clipanion's message for a command line it cannot parse. When every candidate is the same
 * command (an optional positional makes two: `start . extra`), it would answer "Command not
 * found; did you mean one of" the same usage twice; say what is wrong with it instead.
 */
function misuseMessage(cli: Cli<CliContext>, error: Error): string {
  const candidates = (error as Error & { candidates?: Candidate[] }).candidates ?? [];
  const [first] = candidates;
  if (first?.reason && candidates.every((candidate) => candidate.usage === first.usage)) {
    return `Unknown Syntax Error: ${first.reason}\n\n$ ${first.usage}\n`;
  }
  return cli.error(error, { colored: false });
}

/** Runs the CLI with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  // Everything after the first `--` is a program and its arguments, never our options.
  const separator = args.indexOf("--");
  const passthrough = separator >= 0 ? args.slice(separator + 1) : undefined;
  const ours = separator >= 0 ? args.slice(0, separator) : args;
  const cli = createCli(ours);
  const context: CliContext = { ...Cli.defaultContext, passthrough };
  let command: ReturnType<typeof cli.process>;
  try {
    command = cli.process(ours, context);
  } catch (error) {
    // It quotes the command line, which may hold anything.
    const lines = misuseMessage(cli, error as Error).split("\n");
    context.stderr.write(lines.map(printable).join("\n"));
    context.stderr.write(`Run 'claude-sessions --help' for the list of commands.\n`);
    return EXIT_USAGE;
  }
  return cli.run(command, context);
}
