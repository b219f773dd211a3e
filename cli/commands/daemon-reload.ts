import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { jsonText, printable } from "../output.js";

export class DaemonReloadCommand extends BaseCommand {
  static override paths = [["daemon", "reload"]];
  static override usage = Command.Usage({
    description: "Make the daemon read its config file again",
    details: `
      The daemon reads \`config.json\` in its home again (as it does on SIGHUP) and applies it: sessions started from now on get its defaults, running ones keep theirs, and the notify command is replaced. A file that is not valid (not JSON, an unknown key, a bad value) changes nothing: the error names the file and the key, and the daemon keeps the config it had (exit 1).

      \`--json\` prints the config now in effect, every key with its value.
    `,
    examples: [
      ["Reload the config file", "$0 daemon reload"],
      ["And print what is in effect", "$0 daemon reload --json"],
    ],
  });

  protected override readonly daemonNeed = "none";

  json = Option.Boolean("--json", false, { description: "Print the config in effect as JSON" });

  async run(): Promise<number> {
    const reply = await this.call((client) => client.daemon.reloadConfig({}));
    if (this.json) {
      this.context.stdout.write(`${jsonText(JSON.parse(reply.effective), 2)}\n`);
      return 0;
    }
    this.context.stdout.write(
      reply.found
        ? `✅ Config reloaded from ${printable(reply.path)}\n`
        : `✅ Config reloaded: there is no ${printable(reply.path)}, so the built-in defaults apply\n`,
    );
    return 0;
  }
}
