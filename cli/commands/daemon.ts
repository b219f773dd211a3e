import { createRequire } from "node:module";
import { Command, Option } from "clipanion";
import { resolveHome } from "../../daemon/common/paths.js";
import { BaseCommand, EXIT_ERROR } from "../base-command.js";
import { printable } from "../output.js";

export class DaemonCommand extends BaseCommand {
  static override paths = [["daemon"]];
  static override localOnly = true;
  static override usage = Command.Usage({
    description: "Start the daemon",
    details: `
      Starts the daemon for the state home ($CLAUDE_SESSIONS_HOME, default ~/.claude-sessions). It detaches into the background (its output goes to daemon.log in the home) and this command returns once the daemon answers on its socket.

      With \`--foreground\` it stays attached to the terminal, for systemd and tests. With \`--resume\` it also resumes every session that was interrupted when the previous daemon stopped.

      Only one daemon runs per home: starting a second one fails with exit code 1.
    `,
    examples: [
      ["Start the daemon in the background", "$0 daemon"],
      ["Run it in the foreground", "$0 daemon --foreground"],
      ["Start it and resume interrupted sessions", "$0 daemon --resume"],
    ],
  });

  protected override readonly daemonNeed = "none";

  foreground = Option.Boolean("--foreground", false, { description: "Stay in the foreground" });
  resume = Option.Boolean("--resume", false, {
    description: "Resume interrupted sessions at start",
  });

  async run(): Promise<number> {
    const home = resolveHome();
    if (this.foreground) {
      // Beside the bundle; see daemon-foreground.ts for why it is a script of its own.
      const { runDaemonInForeground } = createRequire(import.meta.url)(
        "./daemon-foreground.cjs",
      ) as typeof import("../daemon-foreground.js");
      return runDaemonInForeground(this.resume ? ["--resume"] : []);
    }
    const { launchDaemon } = await import("../daemon-launcher.js");
    const client = this.client();
    if (await client.isRunning()) {
      const { pid } = await client.daemon.ping({});
      this.context.stderr.write(
        `error: a daemon is already running for ${printable(home)} (pid ${pid})\n`,
      );
      return EXIT_ERROR;
    }
    const pid = await launchDaemon(home, { resume: this.resume });
    this.context.stdout.write(`✅ Daemon started (pid ${pid})\n`);
    return 0;
  }
}
