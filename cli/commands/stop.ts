import { Command, Option } from "clipanion";
import { DEFAULT_GRACE_MS } from "../../daemon/common/grace.js";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { durationMessage, parseDuration } from "../durations.js";
import { describeEnd, printable, sessionMention } from "../output.js";

export class StopCommand extends BaseCommand {
  static override paths = [["stop"]];
  static override usage = Command.Usage({
    description: "Stop sessions",
    details: `
      Sends SIGTERM to each session's processes, then SIGKILL after the grace period (\`--timeout\`, default 5s), and waits until they are gone. Stopping a session that has already ended changes nothing.
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
    let failed = false;
    for (const id of this.ids) {
      try {
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
        this.context.stdout.write(
          `✅ Session stopped: ${session ? sessionMention(session) : printable(id)}${session ? ` (${describeEnd(session)})` : ""}\n`,
        );
      } catch (error) {
        failed = true;
        this.context.stderr.write(errorLine(error as Error));
      }
    }
    return failed ? EXIT_ERROR : 0;
  }
}
