import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Command, Option, UsageError } from "clipanion";
import { LogEntryKind } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand } from "../base-command.js";
import { parseSince } from "../durations.js";
import { isoTime, jsonText } from "../output.js";

export class LogsCommand extends BaseCommand {
  static override paths = [["logs"]];
  static override usage = Command.Usage({
    description: "Print a session's output",
    details: `
      Prints the output recorded in the session's log, exactly as the program wrote it. \`-n\` starts with the last N records, \`--since\` with those made after a time (RFC 3339) or a duration ago (10m), \`--from\` at a record's seq. \`-f\` keeps following new output until the session ends; a follower that reconnects with \`--from <last seq + 1>\` misses nothing. Ctrl-C exits 130; a daemon that goes away under a follower is an error (exit 1).

      \`--json\` prints every record (output and lifecycle events) as one JSON object per line, as stored: {"seq","time","kind","data"}.
    `,
    examples: [
      ["Everything so far", "$0 logs api"],
      ["The last 100 records, then follow", "$0 logs -f -n 100 api"],
      ["The last 10 minutes as JSON", "$0 logs --since 10m --json api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  follow = Option.Boolean("-f,--follow", false, { description: "Keep printing new output" });
  tail = Option.String("-n,--tail", { description: "Start with the last N records" });
  since = Option.String("--since", { description: "Start at a time or a duration ago" });
  from = Option.String("--from", { description: "Start at this seq" });
  json = Option.Boolean("--json", false, { description: "Print records as JSON lines" });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const starts = [this.tail, this.since, this.from].filter((value) => value !== undefined);
    if (starts.length > 1) throw new UsageError("use only one of -n, --since and --from");
    const count = (text: string, flag: string) => {
      if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number, got '${text}'`);
      return BigInt(text);
    };
    const start =
      this.tail !== undefined
        ? { case: "tail" as const, value: count(this.tail, "-n") }
        : this.from !== undefined
          ? { case: "fromSeq" as const, value: count(this.from, "--from") }
          : this.since !== undefined
            ? { case: "since" as const, value: timestampFromDate(parseSince(this.since)) }
            : undefined;
    const client = await this.streamingDaemon(this.id);
    const stream = client.sessions.attachSession({
      sessionId: this.id,
      follow: this.follow,
      ...(start ? { start } : {}),
    });
    const { stdout } = this.context;
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      stream.cancel();
    };
    process.once("SIGINT", stop);
    try {
      for await (const response of stream) {
        for (const entry of response.entries) {
          if (this.json) {
            const kind = entry.kind === LogEntryKind.EVENT ? "event" : "output";
            const line = `${jsonText({ seq: Number(entry.seq), time: isoTime(entry.time), kind, data: entry.data })}\n`;
            if (!stdout.write(line)) await new Promise((resolve) => stdout.once("drain", resolve));
          } else if (entry.kind === LogEntryKind.OUTPUT) {
            if (!stdout.write(entry.data))
              await new Promise((resolve) => stdout.once("drain", resolve));
          }
        }
      }
    } catch (error) {
      // Ctrl-C, and only that, is the shell's 130; the daemon going away is an error.
      if (interrupted) return 130;
      throw error;
    } finally {
      process.off("SIGINT", stop);
    }
    return 0;
  }
}
