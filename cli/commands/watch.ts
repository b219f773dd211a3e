import { Command, Option } from "clipanion";
import { SessionEventKind } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { BaseCommand } from "../base-command.js";
import { daemonGone } from "../client-error.js";
import {
  describeActivity,
  describeState,
  jsonText,
  printable,
  sessionJson,
  sessionMention,
} from "../output.js";

const kinds: Record<SessionEventKind, string> = {
  [SessionEventKind.UNSPECIFIED]: "unknown",
  [SessionEventKind.EXISTING]: "existing",
  [SessionEventKind.STARTED]: "started",
  [SessionEventKind.STATE_CHANGED]: "changed",
  [SessionEventKind.EXITED]: "exited",
  [SessionEventKind.REMOVED]: "removed",
  [SessionEventKind.RESYNC]: "resync",
  [SessionEventKind.ACTIVITY_CHANGED]: "activity",
  [SessionEventKind.LIMIT_REACHED]: "limit",
};

export class WatchCommand extends BaseCommand {
  static override paths = [["watch"]];
  static override usage = Command.Usage({
    description: "Print session events as they happen",
    details:
      "Streams events (started, changed, activity: what it is doing now, limit: its memory limit was passed, exited, removed) until interrupted (exit 0); a daemon that goes away under it is an error (exit 1). `--existing` first lists the current sessions; `--json` prints one JSON object per event. A watch that falls behind (its output not read) skips events; it then prints a `resync` line and the current sessions as `existing` events, which replace what came before.",
    examples: [["Watch everything", "$0 watch --existing"]],
  });

  protected override readonly daemonNeed = "answer";

  existing = Option.Boolean("--existing", false, {
    description: "First print the existing sessions",
  });
  json = Option.Boolean("--json", false, { description: "Print JSON lines" });

  async run(): Promise<number> {
    const client = await this.streamingDaemon();
    const stream = client.sessions.watchSessions({ includeExisting: this.existing });
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      stream.cancel();
    };
    process.once("SIGINT", stop);
    try {
      for await (const event of stream) {
        if (event.kind === SessionEventKind.RESYNC) {
          const skipped = Number(event.skippedEvents);
          this.context.stdout.write(
            this.json
              ? `${JSON.stringify({ event: "resync", skipped_events: skipped, sessions: event.listedSessions })}\n`
              : `${new Date().toISOString()} resync: fell behind and skipped ${skipped} events; the ${event.listedSessions} sessions as they are now follow\n`,
          );
          continue;
        }
        if (event.session === undefined) continue;
        const kind = kinds[event.kind] ?? "unknown";
        this.context.stdout.write(
          this.json
            ? `${jsonText({ event: kind, session: sessionJson(event.session) })}\n`
            : `${new Date().toISOString()} ${kind} ${sessionMention(event.session)}: ${
                event.kind === SessionEventKind.ACTIVITY_CHANGED
                  ? describeActivity(event.session)
                  : event.kind === SessionEventKind.LIMIT_REACHED
                    ? printable(event.session.limitEvent)
                    : describeState(event.session)
              }\n`,
        );
      }
    } catch (error) {
      if (interrupted) return 0;
      throw error;
    } finally {
      process.off("SIGINT", stop);
    }
    if (interrupted) return 0;
    // The daemon ends a watch only when it shuts down.
    throw daemonGone(this.address, "it ended the watch");
  }
}
