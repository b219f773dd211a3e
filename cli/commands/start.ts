import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { jsonText, printable, sessionJson, sessionTitle } from "../output.js";
import { clientEnv, resolveDirectory, terminalSize } from "../session-args.js";
import { attachTerminal } from "../terminal-attach.js";

export class StartCommand extends BaseCommand {
  static override paths = [["start"]];
  static override usage = Command.Usage({
    description: "Start a session",
    details: `
      Starts a program in a new pseudo-terminal run by the daemon, in the given directory (default: the current one). Relative directories resolve against the current directory; \`~\` expands.

      The program is Claude Code by default (\`claude --session-id <session id>\`, so the session id is the conversation id), or \`$CLAUDE_SESSIONS_COMMAND\`, or whatever follows \`--\`. The session gets this shell's environment and terminal size.

      Starts the daemon if none is running.
    `,
    examples: [
      ["Start Claude Code in a project", "$0 start ~/src/api"],
      ["Name the session", "$0 start --name api ~/src/api"],
      ["Run another program", "$0 start . -- bash -l"],
      ["Start and attach at once", "$0 start --attach ."],
    ],
  });

  protected override readonly daemonNeed = "answer";

  name = Option.String("--name", {
    description: "A unique name, usable instead of the id (not hexadecimal, which reads as an id)",
  });
  attach = Option.Boolean("--attach", false, { description: "Attach to the session once started" });
  json = Option.Boolean("--json", false, { description: "Print the session as JSON" });
  dir = Option.String({ required: false, name: "dir" });
  protected override acceptsPassthrough = true;

  async run(): Promise<number> {
    const workingDir = resolveDirectory(this.dir ?? ".");
    const size = terminalSize(this.context.stdout);
    const { session } = await this.call((client) =>
      client.sessions.startSession({
        workingDir,
        command: this.context.passthrough ?? [],
        env: clientEnv(),
        name: this.name ?? "",
        ...(size ?? {}),
      }),
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    if (this.json) {
      this.context.stdout.write(`${jsonText(sessionJson(session))}\n`);
    } else if (!this.attach) {
      this.context.stdout.write(
        `✅ Session started: ${sessionTitle(session)}\n📂 Working directory: ${jsonText(session.workingDir)}\n📝 Logs: ${printable(session.logPath)}\n`,
      );
    }
    if (!this.attach) return 0;
    return attachTerminal(await this.daemon(), session.id, {
      readOnly: false,
      detachKeys: undefined,
      context: this.context,
    });
  }
}
