import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { parseLabelWords } from "../label-args.js";
import { terminalSize } from "../session-args.js";
import { reportNewSession } from "./fork.js";

export class RestoreCommand extends BaseCommand {
  static override paths = [["restore"]];
  static override usage = Command.Usage({
    description: "Start a new session from a snapshot",
    details: `
      Starts a new session from the point a snapshot recorded. When it recorded files, the session runs in a new worktree on a new branch (\`--branch\`, else \`claude-sessions/<name>\` or \`claude-sessions/<short id>\`) at the snapshot's HEAD, with the snapshot's uncommitted changes restored as uncommitted (staged ones staged). Claude Code forks the conversation from the snapshot's copy of its transcript (\`claude --resume <conversation> --fork-session\`), so what was said after the snapshot is not in it. Until the program first draws, \`capture\` and \`attach\` show the snapshot's screen. The snapshot's session, if still there, is not touched.

      Labels are the snapshot's unless \`--label\` gives others.
    `,
    examples: [
      ["Go back to a snapshot", "$0 restore before-refactor --name api-again"],
      ["Restore and attach", "$0 restore --attach 5c1e"],
    ],
  });

  protected override readonly daemonNeed = "session";

  name = Option.String("--name", { description: "A name for the new session" });
  labels = Option.Array("-l,--label", {
    description: "A label for the new session, key=value (repeatable; default: the snapshot's)",
  });
  branch = Option.String("--branch", { description: "The new worktree's branch" });
  attach = Option.Boolean("--attach", false, { description: "Attach once started" });
  json = Option.Boolean("--json", false, { description: "Print the new session as JSON" });
  snapshot = Option.String({ name: "snapshot" });

  async run(): Promise<number> {
    const size = terminalSize(this.context.stdout);
    const labels = parseLabelWords(this.labels ?? [], "--label");
    const { session } = await this.call((client) =>
      client.sessions.restoreSnapshot({
        snapshotId: this.snapshot,
        name: this.name ?? "",
        labels,
        branch: this.branch ?? "",
        env: this.sessionEnvironment(client),
        ...(size ?? {}),
      }),
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    return reportNewSession(this.context, session, {
      verb: "restored",
      json: this.json,
      attach: this.attach ? await this.daemon(session.id) : undefined,
    });
  }
}
