import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../detach-keys.js";
import { attachTerminal } from "../terminal-attach.js";

export class AttachCommand extends BaseCommand {
  static override paths = [["attach"]];
  static override usage = Command.Usage({
    description: "Attach to a session's terminal",
    details: `
      Shows the session's current screen, then its live output; what you type goes to the session and your window size follows. Detach with ctrl-\\ (or \`--detach-keys\`, in docker's notation): the session keeps running. When the session ends, attach exits with its exit code; attaching to a session that has already ended shows its final screen and how it ended, and exits with its code.

      \`--read-only\` watches without sending input (ctrl-c leaves). Without a terminal on stdin, attach streams the output read-only; once its reader has gone (\`| head -c1\`) it exits 141, quietly. If the daemon goes away under it, attach says so and exits 1.
    `,
    examples: [
      ["Attach", "$0 attach api"],
      ["Watch without typing", "$0 attach --read-only api"],
      ["Detach with ctrl-p ctrl-q", "$0 attach --detach-keys ctrl-p,ctrl-q api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  readOnly = Option.Boolean("-r,--read-only", false, { description: "Watch only" });
  detachKeys = Option.String("--detach-keys", {
    description: `Key sequence that detaches (default ${DEFAULT_DETACH_KEYS})`,
  });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    // Check the keys before touching the terminal.
    parseDetachKeys(this.detachKeys ?? DEFAULT_DETACH_KEYS);
    const client = await this.streamingDaemon(this.id);
    return attachTerminal(client, this.id, {
      readOnly: this.readOnly,
      detachKeys: this.detachKeys,
      context: this.context,
    });
  }
}
