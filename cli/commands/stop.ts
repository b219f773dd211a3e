import { Command, Option } from "clipanion";
import { DEFAULT_GRACE_MS } from "../../daemon/common/grace.js";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { durationMessage, parseDuration } from "../durations.js";
import { describeEnd, printable } from "../output.js";

export class StopCommand extends BaseCommand {
  static override paths = [["stop"]];
  static override usage = Command.Usage({
    description: "Stop sessions",
    details: `
      Hangs up each session's terminal (SIGHUP, as closing a terminal does: an interactive shell ends on it), sends SIGTERM to its processes, then SIGKILL after the grace period (\`--timeout\`, default 5s), and waits until they are gone. Several sessions are stopped at once. Stopping a session that has already ended changes nothing.
    `,
    examples: [
      ["Stop a session", "$0 stop api"],
      ["Stop two, killing after 1 second", "$0 stop api web --timeout 1s"],
    ],
  });

  protected override readonly daemonNeed = "session";

  timeout = Option.String("-t,--timeout", {
    description: "Grace period before SIGKILL (default 5s)",
  });
  ids = Option.Rest({ name: "id", required: 1 });

  async run(): Promise<number> {
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    // Connected (or a daemon started) once, before the calls share the connection; if that
    // fails, each call fails on its own, naming its session.
    await this.daemon(this.ids[0]).catch(() => undefined);
    // All at once, so that each session's grace runs beside the others', not after them; the
    // results are printed in the order the sessions were named.
    const results = await Promise.allSettled(
      this.ids.map(async (id) => {
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
        return `✅ Session stopped: ${printable(session?.id ?? id)}${session ? ` (${describeEnd(session)})` : ""}\n`;
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
}
