import { Command, Option, UsageError } from "clipanion";
import { DEFAULT_GRACE_MS } from "../../daemon/common/grace.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { durationMessage, parseDuration } from "../durations.js";
import { selectorOf } from "../label-args.js";
import { describeEnd, isLive, printable, sessionMention } from "../output.js";
import { listAllSessions } from "../session-list.js";

export class StopCommand extends BaseCommand {
  static override paths = [["stop"]];
  static override usage = Command.Usage({
    description: "Stop sessions",
    details: `
      Hangs up each session's terminal (SIGHUP, as closing a terminal does: an interactive shell ends on it), sends SIGTERM to its processes, then SIGKILL after the grace period (\`--timeout\`, default 5s), and waits until they are gone. Several sessions are stopped at once. Stopping a session that has already ended changes nothing, and says how it ended. \`--all\` stops every running session; \`-l key=value\` those whose labels match.
    `,
    examples: [
      ["Stop a session", "$0 stop api"],
      ["Stop two, killing after 1 second", "$0 stop api web --timeout 1s"],
      ["Stop every running session", "$0 stop --all"],
      ["Stop the running sessions labelled team=api", "$0 stop -l team=api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  timeout = Option.String("-t,--timeout", {
    description: "Grace period before SIGKILL (default 5s)",
  });
  all = Option.Boolean("-a,--all", false, { description: "Stop every running session" });
  selector = Option.Array("-l,--selector", {
    description: "Stop the running sessions whose labels match (repeatable: all must hold)",
  });
  ids = Option.Rest({ name: "id" });

  async run(): Promise<number> {
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    const selecting = this.selector !== undefined;
    if ([this.all, this.ids.length > 0, selecting].filter(Boolean).length !== 1)
      throw new UsageError(
        "name the sessions to stop, or give --all, or -l key=value (one of them)",
      );
    const ids = this.all || selecting ? await this.runningIds(selectorOf(this.selector)) : this.ids;
    if ((this.all || selecting) && ids.length === 0)
      this.context.stdout.write(
        selecting ? "No running session matches.\n" : "No running sessions.\n",
      );
    // Connected (or a daemon started) once, before the calls share the connection; if that
    // fails, each call fails on its own, naming its session.
    await this.daemon(ids[0]).catch(() => undefined);
    // All at once, so that each session's grace runs beside the others', not after them; the
    // results are printed in the order the sessions were named.
    const results = await Promise.allSettled(
      ids.map(async (id) => {
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
        return `${done}: ${session ? sessionMention(session) : printable(id)}${session ? ` (${describeEnd(session)})` : ""}\n`;
      }),
    );
    let failed = false;
    for (const result of results) {
      if (result.status === "fulfilled") this.context.stdout.write(result.value);
      else {
        failed = true;
        this.context.stderr.write(errorLine(result.reason as Error));
      }
    }
    return failed ? EXIT_ERROR : 0;
  }

  /** The full ids of the sessions that run (or are starting), for --all and -l. */
  private async runningIds(selector: string): Promise<string[]> {
    const sessions = await this.call((client) =>
      listAllSessions(client, [SessionState.STARTING, SessionState.RUNNING], selector),
    );
    return sessions.map((session) => session.id);
  }
}
