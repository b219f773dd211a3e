import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { jsonText, sessionJson, sessionMention } from "../output.js";
import { terminalSize } from "../session-args.js";
import { sessionLabel } from "../session-table.js";
import { attachTerminal } from "../terminal-attach.js";

export class ResumeCommand extends BaseCommand {
  static override paths = [["resume"]];
  static override usage = Command.Usage({
    description: "Start an ended or interrupted session again",
    details: `
      Runs the session again with the same id, directory and command, in this shell's environment (as \`start\` does). Claude Code sessions continue their conversation (\`claude --resume <id>\`), or start it afresh (\`claude --session-id <id>\`) if Claude Code has no transcript of it yet because no prompt was sent. The log continues where it ended.
    `,
    examples: [
      ["Resume a session", "$0 resume api"],
      ["Resume and attach", "$0 resume --attach api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  /** What the command did, for its message: "resumed". */
  protected readonly verb: string = "resumed";

  attach = Option.Boolean("--attach", false, { description: "Attach once resumed" });
  json = Option.Boolean("--json", false, { description: "Print the session as JSON" });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const size = terminalSize(this.context.stdout);
    const { session } = await this.call(
      (client) =>
        client.sessions.resumeSession({
          sessionId: this.id,
          env: this.sessionEnvironment(client),
          ...(size ?? {}),
        }),
      this.id,
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    if (this.json) this.context.stdout.write(`${jsonText(sessionJson(session), 2)}\n`);
    else if (!this.attach)
      this.context.stdout.write(
        `✅ Session ${this.verb}: ${sessionMention(session)} (pid ${session.pid})\n`,
      );
    if (!this.attach) return 0;
    return attachTerminal(await this.daemon(session.id), session.id, {
      readOnly: false,
      detachKeys: undefined,
      context: this.context,
      title: sessionLabel(session),
    });
  }
}
