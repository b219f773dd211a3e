import { Command, Option, UsageError } from "clipanion";
import { DEFAULT_GRACE_MS } from "../../daemon/common/grace.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { durationMessage, parseDuration } from "../durations.js";
import { describeEnd, isLive, printable, sessionMention } from "../output.js";
import { listAllSessions } from "../session-list.js";

export class StopCommand extends BaseCommand {
  static override paths = [["stop"]];
  static override usage = Command.Usage({
    description: "Stop sessions",
    details: `
      Sends SIGTERM to each session's processes, then SIGKILL after the grace period (\`--timeout\`, default 5s), and waits until they are gone. Stopping a session that has already ended changes nothing, and says how it ended. \`--all\` stops every running session.
    `,
    examples: [
      ["Stop a session", "$0 stop api"],
      ["Stop two, killing after 1 second", "$0 stop api web --timeout 1s"],
      ["Stop every running session", "$0 stop --all"],
    ],
  });

  protected override readonly daemonNeed = "session";

  timeout = Option.String("-t,--timeout", {
    description: "Grace period before SIGKILL (default 5s)",
  });
  all = Option.Boolean("-a,--all", false, { description: "Stop every running session" });
  ids = Option.Rest({ name: "id" });

  async run(): Promise<number> {
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    if (this.all === this.ids.length > 0)
      throw new UsageError("name the sessions to stop, or give --all (not both)");
    const ids = this.all ? await this.runningIds() : this.ids;
    if (this.all && ids.length === 0) this.context.stdout.write("No running sessions.\n");
    let failed = false;
    for (const id of ids) {
      try {
        // StopSession returns an ended session unchanged; only its state before tells the two apart.
        const before = await this.call(
          (client) => client.sessions.getSession({ sessionId: id }),
          id,
        );
        const { session } = await this.call(
          (client) =>
            client.sessions.stopSession(
              {
                sessionId: id,
                ...(grace === undefined ? {} : { gracePeriod: durationMessage(grace) }),
              },
              { deadline: client.deadlineAfter(grace ?? DEFAULT_GRACE_MS) },
            ),
          id,
        );
        const done =
          before.session !== undefined && !isLive(before.session)
            ? "Session already ended"
            : "✅ Session stopped";
        this.context.stdout.write(
          `${done}: ${session ? sessionMention(session) : printable(id)}${session ? ` (${describeEnd(session)})` : ""}\n`,
        );
      } catch (error) {
        failed = true;
        this.context.stderr.write(errorLine(error as Error));
      }
    }
    return failed ? EXIT_ERROR : 0;
  }

  /** The full ids of the sessions that run (or are starting), for --all. */
  private async runningIds(): Promise<string[]> {
    const sessions = await this.call((client) =>
      listAllSessions(client, [SessionState.STARTING, SessionState.RUNNING]),
    );
    return sessions.map((session) => session.id);
  }
}
