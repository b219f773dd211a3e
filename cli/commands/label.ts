import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { parseLabelChanges } from "../label-args.js";
import { jsonText, labelsText, sessionJson, sessionMention } from "../output.js";

export class LabelCommand extends BaseCommand {
  static override paths = [["label"]];
  static override usage = Command.Usage({
    description: "Set or remove a session's labels",
    details: `
      \`key=value\` sets a label, \`key-\` removes one, as \`kubectl label\` takes them; a session's labels are its groups, for \`-l key=value\` in \`list\`, \`stop\`, \`rm\`, \`wait\` and \`send\`. Keys are an optional DNS prefix and \`/\`, then at most 63 letters, digits, \`-\`, \`_\` or \`.\` (alphanumeric at both ends); values are empty or the same. Any session, running or not. Prints the labels it then has.
    `,
    examples: [
      ["Put a session in team api", "$0 label worker-1 team=api"],
      ["Change one label, remove another", "$0 label worker-1 role=review draft-"],
    ],
  });

  protected override readonly daemonNeed = "session";

  json = Option.Boolean("--json", false, { description: "Print the session as JSON" });
  id = Option.String({ name: "id" });
  changes = Option.Rest({ name: "key=value|key-", required: 1 });

  async run(): Promise<number> {
    const { set, remove } = parseLabelChanges(this.changes);
    const { session } = await this.call(
      (client) => client.sessions.labelSession({ sessionId: this.id, set, remove }),
      this.id,
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    this.context.stdout.write(
      this.json
        ? `${jsonText(sessionJson(session), 2)}\n`
        : `🏷️  ${sessionMention(session)}: ${labelsText(session.labels) || "no labels"}\n`,
    );
    return 0;
  }
}
