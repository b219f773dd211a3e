import { Command, Option } from "clipanion";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { printable, sessionMention } from "../output.js";

export class RemoveCommand extends BaseCommand {
  static override paths = [["rm"], ["remove"]];
  static override usage = Command.Usage({
    description: "Forget ended sessions",
    details:
      "Removes sessions that are not running from the daemon's list. Their logs are kept unless `--delete-log` is given.",
    examples: [
      ["Forget a session", "$0 rm api"],
      ["Forget it and delete its log", "$0 rm --delete-log api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  deleteLog = Option.Boolean("--delete-log", false, { description: "Also delete the log file" });
  ids = Option.Rest({ name: "id", required: 1 });

  async run(): Promise<number> {
    let failed = false;
    for (const id of this.ids) {
      try {
        const { session } = await this.call(
          (client) => client.sessions.removeSession({ sessionId: id, deleteLog: this.deleteLog }),
          id,
        );
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
