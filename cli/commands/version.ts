import { Command } from "clipanion";
import { VERSION } from "../../daemon/common/version.js";
import { BaseCommand } from "../base-command.js";
import { LIVENESS_TIMEOUT_MS } from "../liveness.js";
import { printable } from "../output.js";

export class VersionCommand extends BaseCommand {
  static override paths = [["version"], ["--version"], ["-v"]];
  static override usage = Command.Usage({
    description: "Print the version",
    details:
      "Prints the CLI's version and, if a daemon is running, its version. Never starts a daemon.",
    examples: [["Print versions", "$0 version"]],
  });

  protected override readonly daemonNeed = "none";

  async run(): Promise<number> {
    this.context.stdout.write(`claude-sessions ${VERSION}\n`);
    const client = this.client();
    try {
      const ping = await client.daemon.ping({}, { deadline: Date.now() + LIVENESS_TIMEOUT_MS });
      this.context.stdout.write(`daemon ${printable(ping.version)} (pid ${ping.pid})\n`);
    } catch {
      this.context.stdout.write("daemon not running\n");
    }
    return 0;
  }
}
