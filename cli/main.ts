/**
 * The `claude-sessions` command line. Misuse (unknown command or flag, missing argument) exits
 * 2 with usage; errors from the daemon or the system exit 1.
 */
import { Builtins, Cli } from "clipanion";
import { VERSION } from "../daemon/version.js";
import { type CliContext, EXIT_USAGE } from "./base-command.js";
import { AttachCommand } from "./commands/attach.js";
import { CaptureCommand } from "./commands/capture.js";
import { DaemonCommand } from "./commands/daemon.js";
import { ListCommand } from "./commands/list.js";
import { LogsCommand } from "./commands/logs.js";
import { ResizeCommand } from "./commands/resize.js";
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

export function createCli(): Cli<CliContext> {
  const cli = new Cli<CliContext>({
    binaryLabel: "claude-sessions",
    binaryName: "claude-sessions",
    binaryVersion: VERSION,
    enableColors: process.stdout.isTTY === true && !("NO_COLOR" in process.env),
  });
  for (const command of [
    DaemonCommand,
    StatusCommand,
    StopDaemonCommand,
    StartCommand,
    ListCommand,
    ShowCommand,
    StopCommand,
    RemoveCommand,
    ResumeCommand,
    AttachCommand,
    LogsCommand,
    CaptureCommand,
    SendCommand,
    ResizeCommand,
    WatchCommand,
    VersionCommand,
  ]) {
    cli.register(command);
  }
  cli.register(Builtins.HelpCommand);
  return cli;
}

/** Runs the CLI with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const cli = createCli();
  // Everything after the first `--` is a program and its arguments, never our options.
  const separator = args.indexOf("--");
  const passthrough = separator >= 0 ? args.slice(separator + 1) : undefined;
  const ours = separator >= 0 ? args.slice(0, separator) : args;
  const context: CliContext = { ...Cli.defaultContext, passthrough };
  let command: ReturnType<typeof cli.process>;
  try {
    command = cli.process(ours, context);
  } catch (error) {
    context.stderr.write(cli.error(error as Error, { colored: false }));
    context.stderr.write(`Run 'claude-sessions --help' for the list of commands.\n`);
    return EXIT_USAGE;
  }
  return cli.run(command, context);
}
