import { Command, Option } from "clipanion";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand } from "../base-command.js";
import { ClientError } from "../client-error.js";
import type { DaemonConnection } from "../daemon-connection.js";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../detach-keys.js";
import { Status } from "../rpc/call-error.js";
import { listAllSessions } from "../session-list.js";
import { sessionLabel } from "../session-table.js";
import { attachTerminal } from "../terminal-attach.js";

export class AttachCommand extends BaseCommand {
  static override paths = [["attach"]];
  static override usage = Command.Usage({
    description: "Attach to a session's terminal",
    details: `
      Shows the session's current screen on your terminal's alternate screen (your screen and scrollback come back when you leave), then its live output; what you type goes to the session and your window size follows. Without an id, attaches the running session started most recently (as \`tmux attach\` does). Detach with ctrl-\\ (or \`--detach-keys\`, in docker's notation): the session keeps running. When the session ends, attach exits with its exit code; attaching to a session that has already ended shows its final screen and how it ended, and exits with its code.

      While attached, the terminal's title says which session it is ("claude-sessions: api"; your own title comes back when you leave, on terminals that keep a title stack), and one line printed before the session's screen (on your normal screen, so it stays in the scrollback) names it and the detach keys.

      With \`--bell\` (or CLAUDE_SESSIONS_BELL=1), your terminal's bell rings when another session starts waiting for input (a permission prompt, a question), so one agent that needs you is heard from inside another.

      \`--read-only\` watches without sending input or resizing the session (ctrl-c leaves). A watcher whose terminal is smaller than the session's sees the part of the screen around the cursor, as tmux shows a smaller client, with a notice on its last row ("showing 80x23 of 120x40"), redrawn at most every 50 ms while output flows; once its terminal is as large, the whole screen and the live output. Without a terminal on stdin, attach streams the output read-only; once its reader has gone (\`| head -c1\`) it exits 141, quietly. If the daemon goes away under it, attach says so and exits 1.
    `,
    examples: [
      ["Attach", "$0 attach api"],
      ["Attach the newest running session", "$0 attach"],
      ["Watch without typing", "$0 attach --read-only api"],
      ["Detach with ctrl-p ctrl-q", "$0 attach --detach-keys ctrl-p,ctrl-q api"],
      ["Hear when another session needs you", "$0 attach --bell api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  readOnly = Option.Boolean("-r,--read-only", false, { description: "Watch only" });
  detachKeys = Option.String("--detach-keys", {
    description: `Key sequence that detaches (default ${DEFAULT_DETACH_KEYS})`,
  });
  bell = Option.Boolean("--bell", false, {
    description: "Ring the bell when another session starts waiting for input",
  });
  id = Option.String({ name: "id", required: false });

  async run(): Promise<number> {
    // Check the keys before touching the terminal.
    parseDetachKeys(this.detachKeys ?? DEFAULT_DETACH_KEYS);
    const session = await this.call((connection) => this.sessionToAttach(connection), this.id);
    const client = await this.streamingDaemon(this.id);
    // Named as the user would name it, in attach's messages ("attach again with: ...").
    return attachTerminal(client, this.id ?? (session.name || session.id), {
      readOnly: this.readOnly,
      detachKeys: this.detachKeys,
      context: this.context,
      title: sessionLabel(session),
      bellExcept: this.bell || process.env.CLAUDE_SESSIONS_BELL === "1" ? session.id : undefined,
    });
  }

  /** The session named, or the running one started last. */
  private async sessionToAttach(client: DaemonConnection): Promise<Session> {
    if (this.id !== undefined) {
      const { session } = await client.sessions.getSession({ sessionId: this.id });
      if (session === undefined) throw new Error("the daemon returned no session");
      return session;
    }
    const running = await listAllSessions(client, [SessionState.RUNNING]);
    const newest = running.reduce<Session | undefined>(
      (best, session) =>
        best === undefined || startedMs(session) >= startedMs(best) ? session : best,
      undefined,
    );
    if (newest === undefined) {
      throw new ClientError(
        "no running session to attach to; start one with: claude-sessions start <dir>",
        Status.NOT_FOUND,
      );
    }
    return newest;
  }
}

/** When the session's program last started, in ms (its creation if never started). */
function startedMs(session: Session): number {
  const time = session.startedAt ?? session.createdAt;
  return time === undefined ? 0 : Number(time.seconds) * 1000 + time.nanos / 1e6;
}
