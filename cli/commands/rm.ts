import { Command, Option, UsageError } from "clipanion";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { parseDuration } from "../durations.js";
import { selectorOf } from "../label-args.js";
import { printable, sessionMention } from "../output.js";
import { listAllSessions } from "../session-list.js";
import { stopSession } from "../session-stop.js";

export class RemoveCommand extends BaseCommand {
  static override paths = [["rm"], ["remove"]];
  static override usage = Command.Usage({
    description: "Forget ended sessions",
    details:
      "Removes sessions that are not running from the daemon's list, and their git worktrees (the branches are kept); a worktree with uncommitted changes is refused, naming them. Their logs are kept unless `--delete-log` is given. `--force` (`-f`) stops a running session first, as `stop` does (SIGKILL after `--timeout`, default 5s), and removes its worktree whatever it holds. `-l key=value` removes the sessions whose labels match.",
    examples: [
      ["Forget a session", "$0 rm api"],
      ["Forget it and delete its log", "$0 rm --delete-log api"],
      ["Stop it if it runs, then forget it", "$0 rm -f api"],
      ["Forget every session labelled team=api", "$0 rm -l team=api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  deleteLog = Option.Boolean("--delete-log", false, { description: "Also delete the log file" });
  force = Option.Boolean("-f,--force", false, {
    description: "Stop a running session first; remove its worktree even with uncommitted changes",
  });
  timeout = Option.String("-t,--timeout", {
    description: "With --force: grace period before SIGKILL (default 5s)",
  });
  selector = Option.Array("-l,--selector", {
    description: "Remove the sessions whose labels match (repeatable: all must hold)",
  });
  ids = Option.Rest({ name: "id" });

  async run(): Promise<number> {
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    if (grace !== undefined && !this.force) throw new UsageError("--timeout goes with --force");
    if (this.ids.length > 0 === (this.selector !== undefined))
      throw new UsageError(
        "name the sessions to remove, or select them with -l key=value (not both)",
      );
    const ids =
      this.selector === undefined
        ? this.ids
        : (await this.call((client) => listAllSessions(client, [], selectorOf(this.selector)))).map(
            (session) => session.id,
          );
    if (this.selector !== undefined && ids.length === 0)
      this.context.stdout.write("No session matches.\n");
    let failed = false;
    for (const id of ids) {
      try {
        const { session } = await this.call(async (client) => {
          if (this.force) await stopSession(client, id, grace);
          return client.sessions.removeSession({
            sessionId: id,
            deleteLog: this.deleteLog,
            force: this.force,
          });
        }, id);
        this.context.stdout.write(
          `🗑️  Session removed: ${session ? sessionMention(session) : printable(id)}\n`,
        );
      } catch (error) {
        failed = true;
        this.context.stderr.write(errorLine(error as Error));
      }
    }
    return failed ? EXIT_ERROR : 0;
  }
}
