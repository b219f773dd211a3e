import { Command, Option } from "clipanion";
import { resolveHome } from "../../daemon/common/paths.js";
import { BaseCommand } from "../base-command.js";
import { ClientError } from "../client-error.js";
import { pingDaemon, shutdownDaemon } from "../daemon-shutdown.js";
import { Status } from "../rpc/call-error.js";
import { serviceUnitOf } from "../service-daemon.js";

export class DaemonRestartCommand extends BaseCommand {
  static override paths = [["daemon", "restart"]];
  static override localOnly = true;
  static override usage = Command.Usage({
    description: "Replace the daemon with a new one, leaving sessions running",
    details: `
      Stops the home's daemon as \`stop-daemon\` does (its sessions keep running in their session hosts), waits until it is gone, and starts a new one in the background as \`daemon\` does; the new daemon reconnects to the sessions. Use it after an upgrade, or to pick up a changed environment. With no daemon running it starts one, and says so.

      A daemon that a systemd unit runs (\`service install\`) is restarted with \`systemctl --user restart\`: this command says so and leaves it as it is.

      Exits 1 if the old daemon does not go away, or the new one does not start.
    `,
    examples: [
      ["Restart the daemon", "$0 daemon restart"],
      ["Restart it and resume interrupted sessions", "$0 daemon restart --resume"],
    ],
  });

  protected override readonly daemonNeed = "none";

  resume = Option.Boolean("--resume", false, {
    description: "Resume interrupted sessions when the new daemon starts",
  });

  async run(): Promise<number> {
    const { launchDaemon } = await import("../daemon-launcher.js");
    const client = this.client();
    const ping = await pingDaemon(client);
    if (ping === undefined) {
      if (this.socket !== undefined) {
        // A socket named by hand has no home to start a daemon for.
        throw new ClientError(
          `daemon is not running (nothing answers on ${this.socket})`,
          Status.UNAVAILABLE,
        );
      }
      this.context.stdout.write("Daemon is not running; starting one\n");
      const pid = await launchDaemon(resolveHome(), { resume: this.resume });
      this.context.stdout.write(`✅ Daemon started (pid ${pid})\n`);
      return 0;
    }
    const unit = serviceUnitOf(ping.pid);
    if (unit !== undefined) {
      throw new Error(
        `the daemon (pid ${ping.pid}) runs in the systemd unit ${unit}; restart it with: systemctl --user restart ${unit}`,
      );
    }
    // The daemon knows its home when the socket was named by hand.
    const home = this.socket === undefined ? resolveHome() : ping.home;
    const old = await this.call((daemon) => shutdownDaemon(daemon, { stopSessions: false }));
    let pid: number;
    try {
      pid = await launchDaemon(home, { resume: this.resume });
    } catch (error) {
      throw new Error(
        `the daemon (pid ${old}) stopped, but a new one did not start: ${(error as Error).message}`,
      );
    }
    this.context.stdout.write(`✅ Daemon restarted (pid ${old} -> ${pid})\n`);
    return 0;
  }
}
