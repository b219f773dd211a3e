import { Command, Option } from "clipanion";
import { parseDuration } from "../durations.js";
import { stopSession } from "../session-stop.js";
import { ResumeCommand } from "./resume.js";

/** `stop`, then `resume`: the same session, id, directory and command, its program started anew. */
export class RestartCommand extends ResumeCommand {
  static override paths = [["restart"]];
  static override usage = Command.Usage({
    description: "Stop a session and start it again",
    details: `
      Stops the session as \`stop\` does (SIGTERM, SIGKILL after \`--timeout\`, default 5s; an ended session is left as it is), then resumes it as \`resume\` does: same id, directory and command, in this shell's environment; Claude Code continues its conversation. The log continues.
    `,
    examples: [
      ["Restart a session", "$0 restart api"],
      ["Restart, killing after 1 second, and attach", "$0 restart --timeout 1s --attach api"],
    ],
  });

  protected override readonly verb = "restarted";

  timeout = Option.String("-t,--timeout", {
    description: "Grace period before SIGKILL (default 5s)",
  });

  override async run(): Promise<number> {
    const grace = this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    await this.call((client) => stopSession(client, this.id, grace), this.id);
    return super.run();
  }
}
