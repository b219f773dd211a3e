import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.js";

export class CaptureCommand extends BaseCommand {
  static override paths = [["capture"]];
  static override usage = Command.Usage({
    description: "Print a session's current screen",
    details:
      "Prints the screen as text, like `tmux capture-pane -p`; `--escapes` keeps colours and attributes as `tmux capture-pane -e -p` does (spaces as spaces, LF line ends, no escape sequence but SGR, every row of the screen, blank ones too); `--scrollback` adds the lines above the screen.",
    examples: [
      ["The screen as text", "$0 capture api"],
      ["With colours", "$0 capture --escapes api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  escapes = Option.Boolean("-e,--escapes", false, {
    description: "Include colours and attributes",
  });
  scrollback = Option.Boolean("--scrollback", false, { description: "Include the scrollback" });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const screen = await this.call(
      (client) =>
        client.sessions.captureScreen({
          sessionId: this.id,
          escapes: this.escapes,
          scrollback: this.scrollback,
        }),
      this.id,
    );
    this.context.stdout.write(`${screen.text}\n`);
    return 0;
  }
}
