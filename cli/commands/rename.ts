import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { printable } from "../output.js";

export class RenameCommand extends BaseCommand {
  static override paths = [["rename"]];
  static override usage = Command.Usage({
    description: "Rename a session",
    details: `
      Gives the session a new name, usable wherever a session id is taken; the name is checked as \`start --name\` checks it, and must not be another session's. An empty name (\`""\`) removes the name. The session may be running or ended.
    `,
    examples: [
      ["Rename a session", "$0 rename 3f2a api"],
      ["Remove its name", '$0 rename api ""'],
    ],
  });

  protected override readonly daemonNeed = "session";

  id = Option.String({ name: "id" });
  name = Option.String({ name: "new-name" });

  async run(): Promise<number> {
    const { session } = await this.call(
      (client) => client.sessions.renameSession({ sessionId: this.id, name: this.name }),
      this.id,
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    const now = session.name ? `'${printable(session.name)}'` : "no name";
    this.context.stdout.write(`✅ Session renamed: ${printable(session.id)} is now ${now}\n`);
    return 0;
  }
}
