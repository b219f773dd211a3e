import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";

export class SendCommand extends BaseCommand {
  static override paths = [["send"]];
  static override usage = Command.Usage({
    description: "Type text into a session",
    details:
      "Writes the text to the session's terminal as if typed. `--enter` presses Enter after it.",
    examples: [
      ["Ask Claude something", "$0 send api 'run the tests' --enter"],
      ["Press Ctrl-C", "$0 send api $'\\x03'"],
    ],
  });

  enter = Option.Boolean("--enter", false, { description: "Press Enter after the text" });
  id = Option.String({ name: "id" });
  text = Option.String({ name: "text" });

  async run(): Promise<number> {
    const text = this.enter ? `${this.text}\r` : this.text;
    await this.call((client) =>
      client.sessions.sendInput({ sessionId: this.id, input: { case: "text", value: text } }),
    );
    return 0;
  }
}
