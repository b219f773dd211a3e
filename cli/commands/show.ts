import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { jsonText, sessionDetails, sessionJson, useColor } from "../output.js";

export class ShowCommand extends BaseCommand {
  static override paths = [["show"]];
  static override usage = Command.Usage({
    description: "Show one session",
    details:
      "The session may be named by its id, a unique id prefix (at least 4 characters) or its name.",
    examples: [
      ["By name", "$0 show api"],
      ["By id prefix, as JSON", "$0 show 3f2a --json"],
    ],
  });

  protected override readonly daemonNeed = "session";

  json = Option.Boolean("--json", false, { description: "Print JSON" });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const { session } = await this.call(
      (client) => client.sessions.getSession({ sessionId: this.id }),
      this.id,
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    this.context.stdout.write(
      this.json
        ? `${jsonText(sessionJson(session), 2)}\n`
        : `${sessionDetails(session, useColor(this.context.stdout))}\n`,
    );
    return 0;
  }
}
