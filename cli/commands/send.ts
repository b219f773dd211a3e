import { Command, Option, UsageError } from "clipanion";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand, EXIT_ERROR, errorLine } from "../base-command.js";
import { ClientError } from "../client-error.js";
import { selectorOf } from "../label-args.js";
import { sessionMention } from "../output.js";
import { Status } from "../rpc/call-error.js";
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
    // With -l the sessions are selected, and the one positional is the text.
    const selecting = this.selector !== undefined;
    if (selecting && this.text !== undefined)
      throw new UsageError("with -l, give only the text: send -l team=api 'text' --enter");
    const id = selecting ? undefined : this.id;
    if (!selecting && id === undefined)
      throw new UsageError("name the session to send to, or select sessions with -l");
    const text = this.textToSend(selecting ? this.id : this.text);
    if (id === undefined) return this.broadcast(selectorOf(this.selector), text);
    await this.call(
      (client) =>
        client.sessions.sendInput({ sessionId: id, input: { case: "text", value: text } }),
      id,
    );
    return 0;
  }

  /** What to write: the text given or after `--` (not both), then Enter if asked. */
  private textToSend(given: string | undefined): string {
    const after = this.context.passthrough;
    if (given !== undefined && after !== undefined)
      throw new UsageError("give the text to send, or put it after -- if it starts with a dash");
    if (given === undefined && after === undefined && !this.enter) {
      throw new UsageError(
        "give the text to send (or --enter alone to press Enter), or put it after -- if it starts with a dash",
      );
    }
    const typed = given ?? (after ?? []).join(" ");
    return this.enter ? `${typed}\r` : typed;
  }

  /** Sends to every running session `selector` matches, naming each; exit 1 if one failed. */
  private async broadcast(selector: string, text: string): Promise<number> {
    const sessions = await this.call((client) =>
      listAllSessions(client, [SessionState.RUNNING], selector),
    );
    if (sessions.length === 0)
      throw new ClientError(`no running session matches -l ${selector}`, Status.NOT_FOUND);
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
      if (result.status === "fulfilled")
        this.context.stdout.write(`📨 Sent to ${sessionMention(sessions[index] as Session)}\n`);
      else {
        failed = true;
        this.context.stderr.write(errorLine(result.reason as Error));
      }
    });
    return failed ? EXIT_ERROR : 0;
  }
}
