import { Command, Option, UsageError } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { printable } from "../output.js";

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
    const number = (text: string, what: string) => {
      if (!/^\d+$/.test(text))
        throw new UsageError(`${what} must be a whole number, got '${text}'`);
      return Number(text);
    };
    const cols = number(this.cols, "cols");
    const rows = number(this.rows, "rows");
    const { session } = await this.call(
      (client) => client.sessions.resizeSession({ sessionId: this.id, cols, rows }),
      this.id,
    );
    this.context.stdout.write(
      `✅ Session ${printable(session?.id ?? this.id)} resized to ${cols}x${rows}\n`,
    );
    return 0;
  }
}
