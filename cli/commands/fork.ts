import { Command, Option } from "clipanion";
import { BranchOffCommand } from "./branch-off.js";

export class ForkCommand extends BranchOffCommand {
  static override paths = [["fork"]];
  static override usage = Command.Usage({
    description: "Start a new session that branches off another",
    details: `
      Starts a new session from where the session is now, which is not touched (running or ended). In a git repository, the new session gets a worktree of its own on a new branch (\`--branch\`, else \`claude-sessions/<name>\` or \`claude-sessions/<short id>\`) that starts at the session's HEAD, with its uncommitted changes, untracked files included, carried over as uncommitted. Claude Code continues the session's conversation in a new branch of it: \`claude --resume <conversation> --fork-session\`, the new conversation's id being the new session's; a session that was never sent a prompt has no conversation yet, and the fork starts afresh. Any other program runs the same command in the new worktree. Outside a git repository the fork runs in the same directory.

      Labels are the session's unless \`--label\` gives others.
    `,
    examples: [
      ["Try another approach from where an agent is", "$0 fork api --name api-b"],
      ["Fork and attach", "$0 fork --attach api"],
    ],
  });

  labels = Option.Array("-l,--label", {
    description: "A label for the new session, key=value (repeatable; default: the source's)",
  });
  id = Option.String({ name: "id" });

  run(): Promise<number> {
    return this.startFrom(
      "forked",
      (client, fields, options) =>
        client.sessions.forkSession({ sessionId: this.id, ...fields }, options),
      this.id,
    );
  }
}
