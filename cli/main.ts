/**
 * The `claude-sessions` command line. Misuse (unknown command or flag, missing argument) exits
 * 2 with usage; errors from the daemon or the system exit 1.
 */
import { Builtins, Cli, type CommandClass } from "clipanion";
import { closestWord } from "../daemon/common/closest-word.js";
import { VERSION } from "../daemon/common/version.js";
import { type CliContext, EXIT_USAGE } from "./base-command.js";
import { AttachCommand } from "./commands/attach.js";
import { CaptureCommand } from "./commands/capture.js";
import { CompleteCommand } from "./commands/complete.js";
import { CompletionCommand } from "./commands/completion.js";
import {
  ContextAddCommand,
  ContextListCommand,
  ContextRemoveCommand,
  ContextShowCommand,
  ContextUseCommand,
} from "./commands/context.js";
import { DaemonCommand } from "./commands/daemon.js";
import { DaemonReloadCommand } from "./commands/daemon-reload.js";
import { DaemonRestartCommand } from "./commands/daemon-restart.js";
import { DialStdioCommand } from "./commands/dial-stdio.js";
import { ForkCommand } from "./commands/fork.js";
import { LabelCommand } from "./commands/label.js";
import { ListCommand } from "./commands/list.js";
import { LogsCommand } from "./commands/logs.js";
import { PruneCommand } from "./commands/prune.js";
import { RenameCommand } from "./commands/rename.js";
import { ResizeCommand } from "./commands/resize.js";
import { RestartCommand } from "./commands/restart.js";
import { RestoreCommand } from "./commands/restore.js";
import { ResumeCommand } from "./commands/resume.js";
import { RemoveCommand } from "./commands/rm.js";
import { SendCommand } from "./commands/send.js";
import { ServiceInstallCommand } from "./commands/service-install.js";
import { ServiceUninstallCommand } from "./commands/service-uninstall.js";
import { ShowCommand } from "./commands/show.js";
import {
  SnapshotCommand,
  SnapshotRemoveCommand,
  SnapshotShowCommand,
  SnapshotsCommand,
} from "./commands/snapshot.js";
import { StartCommand } from "./commands/start.js";
import { StatusCommand } from "./commands/status.js";
import { StopCommand } from "./commands/stop.js";
import { StopDaemonCommand } from "./commands/stop-daemon.js";
import { VersionCommand } from "./commands/version.js";
import { WaitCommand } from "./commands/wait.js";
import { WatchCommand } from "./commands/watch.js";
import { WebCommand } from "./commands/web.js";
import { CommandLine, describeAliases } from "./help-text.js";
import { printable } from "./output.js";

/** Every command, in the order `--help` lists them. */
const commands: Array<CommandClass<CliContext>> = [
  DaemonCommand,
  DaemonRestartCommand,
  DaemonReloadCommand,
  StatusCommand,
  StopDaemonCommand,
  ServiceInstallCommand,
  ServiceUninstallCommand,
  StartCommand,
  ListCommand,
  ShowCommand,
  StopCommand,
  RemoveCommand,
  PruneCommand,
  ResumeCommand,
  RestartCommand,
  RenameCommand,
  LabelCommand,
  ForkCommand,
  SnapshotCommand,
  SnapshotsCommand,
  SnapshotShowCommand,
  SnapshotRemoveCommand,
  RestoreCommand,
  AttachCommand,
  LogsCommand,
  CaptureCommand,
  SendCommand,
  ResizeCommand,
  WatchCommand,
  WaitCommand,
  WebCommand,
  ContextAddCommand,
  ContextListCommand,
  ContextUseCommand,
  ContextRemoveCommand,
  ContextShowCommand,
  DialStdioCommand,
  VersionCommand,
  CompletionCommand,
  CompleteCommand,
];
for (const command of commands) describeAliases(command);

/** Whether `word` starts some command's path, or asks for help. */
function isCommandWord(word: string): boolean {
  return (
    word === "-h" ||
    word === "--help" ||
    commands.some((command) => command.paths?.some((path) => path[0] === word))
  );
}

/**
 * The commands whose path starts with `word`, or all of them when none does (`--help`, a typo).
 * Clipanion builds its parser from every registered command on each run, which costs more than
 * the rest of a command such as `list`; a command's path always comes first, so the others
 * could never match.
 */
function commandsFor(word: string | undefined): Array<CommandClass<CliContext>> {
  const matching = commands.filter((command) => command.paths?.some((path) => path[0] === word));
  // `__complete` completes every command, from their definitions.
  return matching.length > 0 && matching[0] !== CompleteCommand ? matching : commands;
}

/** The CLI with the commands that can match `args` (all of them by default). */
export function createCli(args?: readonly string[]): Cli<CliContext> {
  const cli = new CommandLine({
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

const HELP_HINT = "claude-sessions --help";

/**
 * What to say of a command line that names no command (a typo): one line, with the command
 * it most likely meant, or the list of them.
 */
function unknownCommandMessage(word: string): string {
  // Only the commands help lists: a hidden one (no usage, `__complete`) is never suggested.
  const listed = commands.filter((command) => command.usage !== undefined);
  const names = listed.flatMap((command) => (command.paths ?? []).map((path) => path.join(" ")));
  const what = word.startsWith("-") ? "option" : "command";
  const meant = closestWord(word, names);
  if (meant !== undefined)
    return `error: unknown ${what} '${word}'; did you mean '${meant}'? (all commands: ${HELP_HINT})`;
  const shown = listed.map((command) => command.paths?.[0]?.join(" "));
  return `error: unknown ${what} '${word}'; the commands: ${shown.join(", ")} (details: ${HELP_HINT})`;
}

/**
 * What to say of a command line clipanion cannot parse, for a known command: what is wrong, then
 * the usage of the command its words name (the longest path: `daemon restart --bogus` is
 * restart's, `daemon --bogus` daemon's). Clipanion would say "Unknown Syntax Error", and when
 * every candidate is the same command (an optional positional makes two: `start . extra`),
 * offer the same usage twice. A group's name alone (`service`) is told its subcommands.
 */
function misuseMessage(cli: Cli<CliContext>, error: Error, args: readonly string[]): string {
  const candidates = (error as Error & { candidates?: Candidate[] }).candidates ?? [];
  const reason = candidates.find((candidate) => candidate.reason)?.reason ?? error.message;
  const [word = ""] = args;
  const named = commandsFor(word).flatMap((command) =>
    (command.paths ?? [])
      .filter((path) => path.every((part, i) => args[i] === part))
      .map((path) => ({ command, path })),
  );
  const longest = Math.max(0, ...named.map(({ path }) => path.length));
  const [fit, ...others] = named.filter(({ path }) => path.length === longest);
  if (fit !== undefined && others.length === 0) {
    return `error: ${reason}\n${cli.usage(fit.command)}run 'claude-sessions ${fit.path.join(" ")} --help' for its details\n`;
  }
  const subcommands = commandsFor(word).flatMap((command) =>
    (command.paths ?? []).filter((path) => path.length > 1).map((path) => path.slice(1).join(" ")),
  );
  if (fit === undefined && subcommands.length > 0) {
    const got = args[1] === undefined ? "" : ` (got '${args[1]}')`;
    return `error: '${word}' takes a subcommand: ${subcommands.join(", ")}${got}; see: ${HELP_HINT}\n`;
  }
  return cli.error(error, { colored: false });
}

/** Options whose value may be left out (`start --worktree`, `start --worktree feat-x`). */
const OPTIONAL_VALUES: Record<string, readonly string[]> = { start: ["--worktree"] };

/**
 * `args` with the word after an option of {@link OPTIONAL_VALUES} bound to it as its value
 * (`--worktree feat-x` as `--worktree=feat-x`), unless it is an option itself: clipanion takes
 * such an option's value only after `=`, and would read the word as the next positional.
 */
export function bindOptionalValues(args: readonly string[]): string[] {
  const options = OPTIONAL_VALUES[args[0] ?? ""];
  if (options === undefined) return [...args];
  const bound: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    const next = args[i + 1];
    if (options.includes(word) && next !== undefined && !next.startsWith("-")) {
      bound.push(`${word}=${next}`);
      i++;
    } else bound.push(word);
  }
  return bound;
}

/** The options every command takes that say which daemon, with their values. */
const DAEMON_OPTIONS = ["--host", "--context", "--socket"];

/**
 * `args` with the options that say which daemon moved from before the command to after it:
 * `claude-sessions --host ssh://box list`, as docker takes `-H`. Clipanion reads a command's
 * words first, and takes its options anywhere after them.
 */
export function hoistDaemonOptions(args: readonly string[]): string[] {
  const leading: string[] = [];
  let at = 0;
  for (;;) {
    const word = args[at];
    if (word === undefined) break;
    if (DAEMON_OPTIONS.some((option) => word.startsWith(`${option}=`))) {
      leading.push(word);
      at += 1;
    } else if (DAEMON_OPTIONS.includes(word) && args[at + 1] !== undefined) {
      leading.push(`${word}=${args[at + 1]}`);
      at += 2;
    } else break;
  }
  return leading.length === 0 ? [...args] : [...args.slice(at), ...leading];
}

/** Runs the CLI with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  // Everything after the first `--` is a program and its arguments, never our options.
  const separator = args.indexOf("--");
  const passthrough = separator >= 0 ? args.slice(separator + 1) : undefined;
  const typed = hoistDaemonOptions(separator >= 0 ? args.slice(0, separator) : args);
  // `help [command]`, as git and docker take it: the same as `[command] --help`.
  const asked = typed[0] === "help" ? [...typed.slice(1), "--help"] : typed;
  const ours = bindOptionalValues(asked);
  const [word = ""] = ours;
  const cli = createCli(ours);
  const context: CliContext = { ...Cli.defaultContext, passthrough };
  let command: ReturnType<typeof cli.process>;
  try {
    command = cli.process(ours, context);
  } catch (error) {
    // It quotes the command line, which may hold anything.
    if (!isCommandWord(word)) {
      context.stderr.write(`${printable(unknownCommandMessage(word))}\n`);
      return EXIT_USAGE;
    }
    const lines = misuseMessage(cli, error as Error, ours).split("\n");
    context.stderr.write(lines.map(printable).join("\n"));
    return EXIT_USAGE;
  }
  return cli.run(command, context);
}
