import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { pingDaemon, shutdownDaemon } from "../daemon-shutdown.js";
import { parseDuration } from "../durations.js";

export class StopDaemonCommand extends BaseCommand {
  static override paths = [["stop-daemon"]];
  static override usage = Command.Usage({
    description: "Stop the daemon",
    details: `
      Asks the daemon to shut down: logs are flushed, the state is written, the socket and pid file are removed. Running sessions keep running in their session hosts, and the next daemon (\`claude-sessions daemon\`, or any command that starts one) reconnects to them with nothing lost.

      With \`--stop-sessions\` it ends them first: each gets SIGTERM, then SIGKILL after \`--timeout\` (default 5s), and becomes interrupted, so \`daemon --resume\` brings them back. \`--timeout\` matters only with \`--stop-sessions\`.

      Waits until the daemon is gone (exit 1 if it is still there 10 seconds after its grace period). Never starts a daemon.
    `,
    examples: [
      ["Stop the daemon, leaving sessions running", "$0 stop-daemon"],
      ["Stop the daemon and every session", "$0 stop-daemon --stop-sessions"],
      ["Give sessions 10 seconds to exit", "$0 stop-daemon --stop-sessions --timeout 10s"],
    ],
  });

  protected override readonly daemonNeed = "none";

  stopSessions = Option.Boolean("--stop-sessions", false, {
    description: "End the running sessions first (they become interrupted)",
  });
  timeout = Option.String("--timeout", {
    description: "With --stop-sessions: grace period between SIGTERM and SIGKILL (default 5s)",
  });

  async run(): Promise<number> {
    const client = this.client();
    const ping = await pingDaemon(client);
    if (ping === undefined) {
      this.context.stdout.write("Daemon is not running\n");
      return 0;
    }
    const graceMs =
      this.timeout === undefined ? undefined : parseDuration(this.timeout, "--timeout");
    const pid = await this.call((daemon) =>
      shutdownDaemon(daemon, { stopSessions: this.stopSessions, graceMs }),
    );
    const ended =
      this.stopSessions && ping.runningCount > 0
        ? `, and the ${ping.runningCount === 1 ? "session that was" : `${ping.runningCount} sessions that were`} running`
        : "";
    this.context.stdout.write(`✅ Daemon stopped (pid ${pid})${ended}\n`);
    return 0;
  }
}
