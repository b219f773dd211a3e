import { createRequire } from "node:module";
import type { Writable } from "node:stream";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Command, Option, UsageError } from "clipanion";
import { type LogEntry, LogEntryKind } from "../../gen/claude_sessions/v1/session_pb.js";
import { BaseCommand } from "../base-command.js";
import type { DaemonConnection } from "../daemon-connection.js";
import { parseSince } from "../durations.js";
import { isoTime, jsonText } from "../output.js";

export class LogsCommand extends BaseCommand {
  static override paths = [["logs"]];
  static override usage = Command.Usage({
    description: "Print a session's output",
    details: `
      Prints the output recorded in the session's log, exactly as the program wrote it. \`-n\` starts with the last N lines, as \`tail\` does, \`--since\` with the output made after a time (RFC 3339) or a duration ago (10m), \`--from\` at a record's seq. \`-f\` keeps following new output until the session ends; a follower that reconnects with \`--from <last seq + 1>\` misses nothing. Ctrl-C exits 130; a daemon that goes away under a follower is an error (exit 1).

      \`--plain\` prints the text a person reads instead: the output rendered by a terminal, so colours, cursor moves and redraws in place (Claude Code's screen) leave only the lines they drew, and a full-screen program that is showing now, its screen. It renders the whole log (\`-n\` then counts its lines) and cannot follow.

      \`--json\` prints every record (output and lifecycle events) as one JSON object per line, as stored: {"seq","time","kind","data"}; with it \`-n\` counts records.
    `,
    examples: [
      ["Everything so far", "$0 logs api"],
      ["The last 100 lines, then follow", "$0 logs -f -n 100 api"],
      ["What Claude Code's screen said, as text", "$0 logs --plain api"],
      ["The last 10 minutes as JSON", "$0 logs --since 10m --json api"],
    ],
  });

  protected override readonly daemonNeed = "session";

  follow = Option.Boolean("-f,--follow", false, { description: "Keep printing new output" });
  tail = Option.String("-n,--tail", {
    description: "Start with the last N lines (records with --json)",
  });
  since = Option.String("--since", { description: "Start at a time or a duration ago" });
  from = Option.String("--from", { description: "Start at this seq" });
  json = Option.Boolean("--json", false, { description: "Print records as JSON lines" });
  plain = Option.Boolean("--plain", false, {
    description: "Print the text a person reads, escape sequences rendered",
  });
  id = Option.String({ name: "id" });

  async run(): Promise<number> {
    const starts = [this.tail, this.since, this.from].filter((value) => value !== undefined);
    if (starts.length > 1) throw new UsageError("use only one of -n, --since and --from");
    if (this.plain && this.json) throw new UsageError("use only one of --plain and --json");
    if (this.plain && this.follow)
      throw new UsageError(
        "--plain cannot follow: a line is final only once it has scrolled off the screen",
      );
    const count = (text: string, flag: string) => {
      if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number, got '${text}'`);
      return BigInt(text);
    };
    const lines = this.tail !== undefined && !this.json ? count(this.tail, "-n") : undefined;
    const start =
      this.tail !== undefined && this.json
        ? { case: "tail" as const, value: count(this.tail, "-n") }
        : this.from !== undefined
          ? { case: "fromSeq" as const, value: count(this.from, "--from") }
          : this.since !== undefined
            ? { case: "since" as const, value: timestampFromDate(parseSince(this.since)) }
            : undefined;
    const client = await this.streamingDaemon(this.id);
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once("SIGINT", onSigint);
    try {
      if (this.plain) await this.printPlain(client, start, lines, stop.signal);
      else if (lines !== undefined) await this.printLastLines(client, Number(lines), stop.signal);
      else
        await this.print(client, { ...(start ? { start } : {}), follow: this.follow }, stop.signal);
    } catch (error) {
      // Ctrl-C, and only that, is the shell's 130; the daemon going away is an error.
      if (stop.signal.aborted) return 130;
      throw error;
    } finally {
      process.off("SIGINT", onSigint);
    }
    return 0;
  }

  /** The entries of one AttachSession call, as they come; cancelled by `signal`. */
  private async *entries(
    client: DaemonConnection,
    request: { start?: Start; follow: boolean },
    signal: AbortSignal,
  ): AsyncGenerator<LogEntry> {
    const stream = client.sessions.attachSession({ sessionId: this.id, ...request });
    const cancel = () => stream.cancel();
    signal.addEventListener("abort", cancel);
    try {
      for await (const response of stream) {
        if (response.droppedEntries > 0n) {
          const first = response.entries[0]?.seq;
          this.context.stderr.write(
            `claude-sessions: ${response.droppedEntries} earlier record(s) were dropped by log retention (--max-log-size)${first === undefined ? "" : `; starting at seq ${first}`}\n`,
          );
        }
        yield* response.entries;
      }
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }

  /** Prints entries as stored (--json) or their output as the program wrote it. */
  private async print(
    client: DaemonConnection,
    request: { start?: Start; follow: boolean },
    signal: AbortSignal,
  ): Promise<void> {
    const { stdout } = this.context;
    for await (const entry of this.entries(client, request, signal)) {
      if (this.json) {
        const kind = entry.kind === LogEntryKind.EVENT ? "event" : "output";
        await write(
          stdout,
          `${jsonText({ seq: Number(entry.seq), time: isoTime(entry.time), kind, data: entry.data })}\n`,
        );
      } else if (entry.kind === LogEntryKind.OUTPUT) await write(stdout, entry.data);
    }
  }

  /**
   * `-n`: the last `count` lines of output, as `tail -n` gives them. The log is read from its
   * end in growing tails of records until they hold enough lines (or the log's start); then, with
   * `-f`, followed from the record after the last one read.
   */
  private async printLastLines(
    client: DaemonConnection,
    count: number,
    signal: AbortSignal,
  ): Promise<void> {
    let text = "";
    let lastSeq = 0n;
    for (let records = Math.max(count, 1) * 4; ; records *= 4) {
      const read: LogEntry[] = [];
      const start = { case: "tail" as const, value: BigInt(records) };
      for await (const entry of this.entries(client, { start, follow: false }, signal))
        read.push(entry);
      text = read.map((entry) => (entry.kind === LogEntryKind.OUTPUT ? entry.data : "")).join("");
      lastSeq = read.at(-1)?.seq ?? lastSeq;
      const fromStart = read.length < records || read[0]?.seq === 1n;
      if (fromStart || newlines(text) > count) break;
    }
    await write(this.context.stdout, lastLines(text, count));
    if (!this.follow) return;
    const start =
      lastSeq > 0n
        ? { case: "fromSeq" as const, value: lastSeq + 1n }
        : { case: "tail" as const, value: 0n };
    await this.print(client, { start, follow: true }, signal);
  }

  /** `--plain`: the log rendered by a terminal ({@link LogRenderer}); `count` last lines of it. */
  private async printPlain(
    client: DaemonConnection,
    start: Start | undefined,
    count: bigint | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    // Beside the bundle; see log-render.ts for why it is a script of its own.
    const { LogRenderer } = createRequire(import.meta.url)(
      "./log-render.cjs",
    ) as typeof import("../log-render.js");
    const { session } = await client.sessions.getSession({ sessionId: this.id });
    const kept: string[] = [];
    const limit = count === undefined ? undefined : Number(count);
    const { stdout } = this.context;
    let printing = Promise.resolve();
    const renderer = new LogRenderer(session?.cols ?? 80, session?.rows ?? 24, (line) => {
      if (limit === undefined) {
        const text = `${line}\n`;
        printing = printing.then(() => write(stdout, text));
        return;
      }
      kept.push(line);
      if (kept.length > limit) kept.shift();
    });
    for await (const entry of this.entries(
      client,
      { ...(start ? { start } : {}), follow: false },
      signal,
    )) {
      if (entry.kind === LogEntryKind.OUTPUT) {
        await renderer.write(entry.data);
        await printing;
        continue;
      }
      const launch = /^(?:started|resumed): .* \(pid \d+, (\d+)x(\d+)\)$/.exec(entry.data);
      if (launch) renderer.restart(Number(launch[1]), Number(launch[2]));
      const resize = /^resized to (\d+)x(\d+)$/.exec(entry.data);
      if (resize) renderer.resize(Number(resize[1]), Number(resize[2]));
    }
    renderer.end();
    await printing;
    for (const line of kept) await write(stdout, `${line}\n`);
  }
}

type Start = NonNullable<Parameters<DaemonConnection["sessions"]["attachSession"]>[0]["start"]>;

/** Writes `text`, waiting while `stream`'s buffer is full. */
async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise((resolve) => stream.once("drain", resolve));
}

function newlines(text: string): number {
  let found = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) found += 1;
  return found;
}

/** The last `count` lines of `text`, as `tail -n` prints them (an unended last line counts). */
export function lastLines(text: string, count: number): string {
  if (count === 0) return "";
  let at = text.endsWith("\n") ? text.length - 1 : text.length;
  for (let found = 0; found < count; found++) {
    if (at <= 0) return text;
    at = text.lastIndexOf("\n", at - 1);
    if (at < 0) return text;
  }
  return text.slice(at + 1);
}
