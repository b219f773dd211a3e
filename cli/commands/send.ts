import { Command, Option, UsageError } from "clipanion";
import { BaseCommand } from "../base-command.js";

export class SendCommand extends BaseCommand {
  static override paths = [["send"]];
  static override passthrough = "[-- text]";
  static override usage = Command.Usage({
    description: "Type text into a session",
    details:
      "Writes the text to the session's terminal as if typed. `--enter` presses Enter after it (alone, it presses Enter). Text that starts with a dash goes after `--`.",
    examples: [
      ["Ask Claude something", "$0 send api 'run the tests' --enter"],
      ["Press Ctrl-C", "$0 send api $'\\x03'"],
      ["Type text that starts with a dash", "$0 send api --enter -- --version"],
      ["Press Enter", "$0 send api --enter"],
    ],
  });

  protected override readonly daemonNeed = "session";

  enter = Option.Boolean("--enter", false, { description: "Press Enter after the text" });
  id = Option.String({ name: "id" });
  text = Option.String({ required: false, name: "text" });

  async run(): Promise<number> {
    const after = this.context.passthrough;
    if (this.text !== undefined && after !== undefined)
      throw new UsageError("give the text to send, or put it after -- if it starts with a dash");
    if (this.text === undefined && after === undefined && !this.enter) {
      throw new UsageError(
        "give the text to send (or --enter alone to press Enter), or put it after -- if it starts with a dash",
      );
    }
    const typed = this.text ?? (after ?? []).join(" ");
    const text = this.enter ? `${typed}\r` : typed;
    await this.call(
      (client) =>
        client.sessions.sendInput({ sessionId: this.id, input: { case: "text", value: text } }),
      this.id,
    );
    return 0;
  }
}
