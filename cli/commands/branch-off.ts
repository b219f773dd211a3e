/**
 * What `fork` and `restore` share: the options of the session they start, the call (which may
 * take a while: the daemon runs git for it), and what is said or attached to afterwards.
 */
import { Option } from "clipanion";
import type { Session } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, type CliContext } from "../base-command.js";
import type { DaemonConnection } from "../daemon-connection.js";
import { parseLabelWords } from "../label-args.js";
import { jsonText, printable, sessionJson, sessionMention } from "../output.js";
import { terminalSize } from "../session-args.js";
import { sessionLabel } from "../session-table.js";
import { attachTerminal } from "../terminal-attach.js";

/**
 * How much longer than the usual answer a fork, a snapshot or a restore may take: the daemon
 * runs git for them, which on a large repository or a busy disk takes a while (each git run is
 * stopped after a minute). Past the usual deadline the daemon would finish the work unseen.
 */
export const GIT_WORK_MS = 120_000;

/** The new session's part of a ForkSession or RestoreSnapshot request. */
export interface NewSessionFields {
  name: string;
  labels: Record<string, string>;
  branch: string;
  env: Record<string, string>;
  cols?: number;
  rows?: number;
}

export abstract class BranchOffCommand extends BaseCommand {
  protected override readonly daemonNeed = "session";

  name = Option.String("--name", { description: "A name for the new session" });
  abstract labels: string[] | undefined;
  branch = Option.String("--branch", { description: "The new worktree's branch" });
  attach = Option.Boolean("--attach", false, { description: "Attach once started" });
  json = Option.Boolean("--json", false, { description: "Print the new session as JSON" });

  /**
   * Makes the new session with `start` (given its fields and how long the call may take), says
   * what it `verb` (or prints it as JSON), then attaches to it if asked. `query` names the
   * session the daemon to ask is found by.
   */
  protected async startFrom(
    verb: string,
    start: (
      client: DaemonConnection,
      fields: NewSessionFields,
      options: { deadline: number },
    ) => Promise<{ session?: Session | undefined }>,
    query?: string,
  ): Promise<number> {
    const size = terminalSize(this.context.stdout);
    const labels = parseLabelWords(this.labels ?? [], "--label");
    const { session } = await this.call(
      (client) =>
        start(
          client,
          {
            name: this.name ?? "",
            labels,
            branch: this.branch ?? "",
            env: this.sessionEnvironment(client),
            ...(size ?? {}),
          },
          { deadline: client.deadlineAfter(GIT_WORK_MS) },
        ),
      query,
    );
    if (session === undefined) throw new Error("the daemon returned no session");
    return reportNewSession(this.context, session, {
      verb,
      json: this.json,
      attach: this.attach ? await this.daemon(session.id) : undefined,
    });
  }
}

/**
 * Says what a fork or a restore started (or prints it as JSON), then attaches to it if asked:
 * `attach` is the daemon to attach through.
 */
async function reportNewSession(
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
