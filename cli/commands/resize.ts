import { Command, Option, UsageError } from "clipanion";
import { MAX_DIMENSION } from "../../daemon/common/terminal-size.js";
import { BaseCommand } from "../base-command.js";
import { printable, sessionMention } from "../output.js";

export class ResizeCommand extends BaseCommand {
  static override paths = [["resize"]];
  static override usage = Command.Usage({
    description: "Resize a session's terminal",
    examples: [["Make it 100 columns by 30 rows", "$0 resize api 100 30"]],
  });

  protected override readonly daemonNeed = "session";

  id = Option.String({ name: "id" });
  cols = Option.String({ name: "cols" });
  rows = Option.String({ name: "rows" });

  async run(): Promise<number> {
    // Checked here as the daemon would: a size it cannot take is misuse (exit 2), not an error.
    const number = (text: string, what: string) => {
      if (!/^\d+$/.test(text))
        throw new UsageError(`${what} must be a whole number, got '${printable(text)}'`);
      const value = Number(text);
      if (value < 1 || value > MAX_DIMENSION)
        throw new UsageError(`${what} must be between 1 and ${MAX_DIMENSION}, got ${value}`);
      return value;
    };
    const cols = number(this.cols, "cols");
    const rows = number(this.rows, "rows");
    const { session } = await this.call(
      (client) => client.sessions.resizeSession({ sessionId: this.id, cols, rows }),
      this.id,
    );
    this.context.stdout.write(
      `✅ Session ${session ? sessionMention(session) : printable(this.id)} resized to ${cols}x${rows}\n`,
    );
    return 0;
  }
}
