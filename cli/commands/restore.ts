import { Command, Option } from "clipanion";
import { BranchOffCommand } from "./branch-off.js";

export class RestoreCommand extends BranchOffCommand {
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

  labels = Option.Array("-l,--label", {
    description: "A label for the new session, key=value (repeatable; default: the snapshot's)",
  });
  snapshot = Option.String({ name: "snapshot" });

  run(): Promise<number> {
    return this.startFrom("restored", (client, fields, options) =>
      client.sessions.restoreSnapshot({ snapshotId: this.snapshot, ...fields }, options),
    );
  }
}
