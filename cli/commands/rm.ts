import { Command, Option, UsageError } from "clipanion";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { parseDuration } from "../durations.js";
import { printable, sessionMention } from "../output.js";
import { stopSession } from "../session-stop.js";

export class RemoveCommand extends BaseCommand {
  static override paths = [["rm"], ["remove"]];
  static override usage = Command.Usage({
    description: "Forget ended sessions",
    details:
      "Removes sessions that are not running from the daemon's list. Their logs are kept unless `--delete-log` is given. `--force` (`-f`) stops a running session first, as `stop` does (SIGKILL after `--timeout`, default 5s).",
    examples: [
      ["Forget a session", "$0 rm api"],
      ["Forget it and delete its log", "$0 rm --delete-log api"],
      ["Stop it if it runs, then forget it", "$0 rm -f api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  deleteLog = Option.Boolean("--delete-log", false, { description: "Also delete the log file" });
  force = Option.Boolean("-f,--force", false, { description: "Stop a running session first" });
  timeout = Option.String("-t,--timeout", {
    description: "With --force: grace period before SIGKILL (default 5s)",
  });
  ids = Option.Rest({ name: "id", required: 1 });

  async run(): Promise<number> {
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    if (grace !== undefined && !this.force) throw new UsageError("--timeout goes with --force");
    let failed = false;
    for (const id of this.ids) {
      try {
        const { session } = await this.call(async (client) => {
          if (this.force) await stopSession(client, id, grace);
          return client.sessions.removeSession({ sessionId: id, deleteLog: this.deleteLog });
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
