import { Command, Option } from "clipanion";
import type { Session } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, type CliContext } from "../base-command.js";
import type { DaemonConnection } from "../daemon-connection.js";
import { parseLabelWords } from "../label-args.js";
import { jsonText, printable, sessionJson, sessionMention } from "../output.js";
import { terminalSize } from "../session-args.js";
import { sessionLabel } from "../session-table.js";
import { attachTerminal } from "../terminal-attach.js";

export class ForkCommand extends BaseCommand {
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

  protected override readonly daemonNeed = "session";

  name = Option.String("--name", { description: "A name for the new session" });
  labels = Option.Array("-l,--label", {
    description: "A label for the new session, key=value (repeatable; default: the source's)",
  });
  branch = Option.String("--branch", { description: "The new worktree's branch" });
  attach = Option.Boolean("--attach", false, { description: "Attach once started" });
  json = Option.Boolean("--json", false, { description: "Print the new session as JSON" });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const size = terminalSize(this.context.stdout);
    const labels = parseLabelWords(this.labels ?? [], "--label");
    const { session } = await this.call(
      (client) =>
        client.sessions.forkSession({
          sessionId: this.id,
          name: this.name ?? "",
          labels,
          branch: this.branch ?? "",
          env: this.sessionEnvironment(client),
          ...(size ?? {}),
        }),
      this.id,
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    return reportNewSession(this.context, session, {
      verb: "forked",
      json: this.json,
      attach: this.attach ? await this.daemon(session.id) : undefined,
    });
  }
}

/**
 * Says what a fork or a restore started (or prints it as JSON), then attaches to it if asked:
 * `attach` is the daemon to attach through.
 */
export async function reportNewSession(
  context: CliContext,
  session: Session,
  options: { verb: string; json: boolean; attach: DaemonConnection | undefined },
): Promise<number> {
  if (options.json) context.stdout.write(`${jsonText(sessionJson(session), 2)}\n`);
  else if (options.attach === undefined) {
    const { origin, worktree } = session;
    const from = origin?.snapshotId
      ? `snapshot ${origin.snapshotId.slice(0, 8)}`
      : `session ${origin?.sessionId.slice(0, 8) ?? "?"}`;
    const lines = [
      `✅ Session ${options.verb}: ${sessionMention(session)} from ${from}`,
      ...(worktree
        ? [
            `🌿 Worktree: ${printable(worktree.path)} on branch ${printable(worktree.branch)}${origin?.commit ? ` (files of ${origin.commit.slice(0, 12)})` : ""}`,
          ]
        : []),
      ...(origin?.conversationId
        ? [`💬 Conversation: forked from ${printable(origin.conversationId)}`]
        : []),
      `📂 Working directory: ${jsonText(session.workingDir)}`,
      `📝 Logs: ${printable(session.logPath)}`,
    ];
    context.stdout.write(`${lines.join("\n")}\n`);
  }
  if (options.attach === undefined) return 0;
  return attachTerminal(options.attach, session.id, {
    readOnly: false,
    detachKeys: undefined,
    context,
    title: sessionLabel(session),
  });
}
