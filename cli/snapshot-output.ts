/** How `snapshots` and `snapshot show` print snapshots: a table, the details, the JSON form. */
import type { Snapshot } from "../gen/claude_sessions/v1/snapshot_pb.js";
import { detailLines, isoTime, labelsText, paint, printable, relativeAge } from "./output.js";
import { shellQuote } from "./shell-quote.js";

const SHORT_ID_LENGTH = 8;
const COMMIT_LENGTH = 12;

/** The session a snapshot is of, as a person reads it: its name then, else its short id. */
function sessionCalled(snapshot: Snapshot): string {
  return printable(snapshot.sessionName) || snapshot.sessionId.slice(0, SHORT_ID_LENGTH);
}

/** "3 files", "1 file", or "-" when the snapshot holds no files. */
function filesText(snapshot: Snapshot): string {
  if (snapshot.files === undefined) return "-";
  const count = snapshot.files.changedFileCount;
  return `${count} file${count === 1 ? "" : "s"}`;
}

/** The table of `snapshots`, a header line first: one line per snapshot, oldest first. */
export function snapshotTable(snapshots: readonly Snapshot[], now = Date.now()): string {
  const header = ["ID", "NAME", "SESSION", "TAKEN", "SEQ", "COMMIT", "CHANGED"];
  const rows = snapshots.map((snapshot) => [
    snapshot.id.slice(0, SHORT_ID_LENGTH),
    printable(snapshot.name) || "-",
    sessionCalled(snapshot),
    relativeAge(snapshot.createdAt, now),
    String(snapshot.seq),
    snapshot.files ? snapshot.files.commit.slice(0, COMMIT_LENGTH) : "-",
    filesText(snapshot),
  ]);
  const widths = header.map((title, column) =>
    Math.max([...title].length, ...rows.map((row) => [...(row[column] as string)].length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1
            ? cell
            : cell + " ".repeat((widths[column] as number) - [...cell].length),
        )
        .join("  "),
    )
    .join("\n");
}

/** The details of `snapshot show`. */
export function snapshotDetails(snapshot: Snapshot, color: boolean): string {
  const rows: Array<[string, string]> = [
    ["ID", snapshot.id],
    ["Name", printable(snapshot.name) || "-"],
    ["Taken", isoTime(snapshot.createdAt) ?? "-"],
    [
      "Session",
      `${snapshot.sessionId}${snapshot.sessionName ? ` (${printable(snapshot.sessionName)})` : ""}`,
    ],
    ["Directory", printable(snapshot.workingDir)],
    ["Command", printable(shellQuote(snapshot.command))],
    ["Log seq", String(snapshot.seq)],
    ["Size", `${snapshot.cols}x${snapshot.rows}`],
    ["Labels", labelsText(snapshot.labels) || "-"],
  ];
  if (snapshot.claudeCode)
    rows.push([
      "Conversation",
      snapshot.conversationId
        ? `${printable(snapshot.conversationId)}${snapshot.hasTranscript ? " (transcript copied)" : ""}`
        : "- (no prompt was sent yet)",
    ]);
  const files = snapshot.files;
  if (files === undefined) rows.push(["Files", "- (not in a git repository)"]);
  else {
    rows.push(
      ["Commit", `${files.commit} (kept as ${printable(files.ref)})`],
      ["Repository", printable(files.repository)],
      [
        "HEAD",
        `${files.head.slice(0, COMMIT_LENGTH)}${files.branch ? ` on ${printable(files.branch)}` : " (detached)"}${files.uncommitted ? paint(", with uncommitted changes", "yellow", color) : ", clean"}`,
      ],
      [
        "Changed",
        `${filesText(snapshot)} since ${files.base.slice(0, COMMIT_LENGTH)}${files.changedFiles.length > 0 ? `: ${files.changedFiles.map(printable).join(", ")}` : ""}`,
      ],
    );
  }
  return detailLines(rows);
}

/** The stable JSON form of a snapshot (documented in the README), as sessions have theirs. */
export function snapshotJson(snapshot: Snapshot): Record<string, unknown> {
  const files = snapshot.files;
  return {
    id: snapshot.id,
    name: snapshot.name,
    created_at: isoTime(snapshot.createdAt),
    session_id: snapshot.sessionId,
    session_name: snapshot.sessionName,
    working_dir: snapshot.workingDir,
    command: snapshot.command,
    claude_code: snapshot.claudeCode,
    seq: Number(snapshot.seq),
    cols: snapshot.cols,
    rows: snapshot.rows,
    conversation_id: snapshot.conversationId || null,
    has_transcript: snapshot.hasTranscript,
    labels: { ...snapshot.labels },
    files: files
      ? {
          repository: files.repository,
          commit: files.commit,
          ref: files.ref,
          head: files.head,
          branch: files.branch || null,
          relative_dir: files.relativeDir,
          changed_files: files.changedFiles,
          changed_file_count: files.changedFileCount,
          base: files.base,
          uncommitted: files.uncommitted,
        }
      : null,
    screen_text: snapshot.screenText,
  };
}
