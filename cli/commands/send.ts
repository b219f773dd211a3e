import { Command, Option, UsageError } from "clipanion";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { selectorOf } from "../label-args.js";
import { printable, sessionMention } from "../output.js";
import { listAllSessions } from "../session-list.js";

export class SendCommand extends BaseCommand {
  static override paths = [["send"]];
  static override passthrough = "[-- text]";
  static override usage = Command.Usage({
    description: "Type text into a session",
    details:
      "Writes the text to the session's terminal as if typed. `--enter` presses Enter after it (alone, it presses Enter). Text that starts with a dash goes after `--`. With `-l key=value` the text goes to every running session whose labels match, each named as it is sent to.",
    examples: [
      ["Ask Claude something", "$0 send api 'run the tests' --enter"],
      ["Press Ctrl-C", "$0 send api $'\\x03'"],
      ["Type text that starts with a dash", "$0 send api --enter -- --version"],
      ["Press Enter", "$0 send api --enter"],
      [
        "Broadcast to every running session labelled team=api",
        "$0 send -l team=api 'git pull --rebase' --enter",
      ],
    ],
  });

  protected override readonly daemonNeed = "session";

  enter = Option.Boolean("--enter", false, { description: "Press Enter after the text" });
  selector = Option.Array("-l,--selector", {
    description: "Send to every running session whose labels match (repeatable: all must hold)",
  });
  id = Option.String({ required: false, name: "id" });
  text = Option.String({ required: false, name: "text" });

  async run(): Promise<number> {
    if (this.selector !== undefined) {
      // With -l the only positional is the text.
      if (this.text !== undefined)
        throw new UsageError("with -l, give only the text: send -l team=api 'text' --enter");
      return this.broadcast(selectorOf(this.selector), this.id);
    }
    if (this.id === undefined)
      throw new UsageError("name the session to send to, or select sessions with -l");
    const id = this.id;
    const after = this.context.passthrough;
    if (this.text !== undefined && after !== undefined)
      throw new UsageError("give the text to send, or put it after -- if it starts with a dash");
    if (this.text === undefined && after === undefined && !this.enter) {
      throw new UsageError(
        "give the text to send (or --enter alone to press Enter), or put it after -- if it starts with a dash",
      );
    }
    const text = this.typed(this.text);
    await this.call(
      (client) =>
        client.sessions.sendInput({ sessionId: id, input: { case: "text", value: text } }),
      id,
    );
    return 0;
  }

  /** What to write: the text given (or after --), and Enter if asked. */
  private typed(text: string | undefined): string {
    const typed = text ?? (this.context.passthrough ?? []).join(" ");
    return this.enter ? `${typed}\r` : typed;
  }

  /** Sends to every running session `selector` matches, saying which; exit 1 if one failed. */
  private async broadcast(selector: string, given: string | undefined): Promise<number> {
    if (given === undefined && this.context.passthrough === undefined && !this.enter)
      throw new UsageError("give the text to send (or --enter alone to press Enter)");
    const text = this.typed(given);
    const sessions = await this.call((client) =>
      listAllSessions(client, [SessionState.RUNNING], selector),
    );
    if (sessions.length === 0) {
      this.context.stderr.write(`error: no running session matches -l ${printable(selector)}\n`);
      return EXIT_ERROR;
    }
    const results = await Promise.allSettled(
      sessions.map((session) =>
        this.call(
          (client) =>
            client.sessions.sendInput({
              sessionId: session.id,
              input: { case: "text", value: text },
            }),
          session.id,
        ),
      ),
    );
    let failed = false;
    results.forEach((result, index) => {
      const session = sessions[index] as (typeof sessions)[number];
      if (result.status === "fulfilled")
        this.context.stdout.write(`📨 Sent to ${sessionMention(session)}\n`);
      else {
        failed = true;
        this.context.stderr.write(errorLine(result.reason as Error));
      }
    });
    return failed ? EXIT_ERROR : 0;
  }
}
