/** Reading a session's JSONL log the way any outside reader would: line by line, strictly. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { segmentsDirOf } from "../../daemon/log/log-file.js";

export interface RawRecord {
  seq: number;
  time: string;
  kind: "output" | "event";
  data: string;
}

export interface LogContents {
  records: RawRecord[];
  /** The last line, when it has no newline (a write cut short by a crash). */
  torn: string | undefined;
}

/**
 * Parses every complete line of the log at `path`, its older segments first (log retention
 * moves whole files into `<id>.segments/`, named by their first seq); throws if one of them is
 * not a valid record. Only a last line without its newline may be torn.
 */
export function readLog(path: string): LogContents {
  const dir = segmentsDirOf(path);
  let segments: string[] = [];
  try {
    segments = readdirSync(dir).sort();
  } catch {
    // None: the whole log is in the one file.
  }
  const older = segments.flatMap((name) => {
    const { records, torn } = readLogFile(join(dir, name));
    if (torn !== undefined) throw new Error(`segment ${name} of ${path} ends in a torn line`);
    return records;
  });
  const { records, torn } = readLogFile(path);
  return { records: [...older, ...records], torn };
}

function readLogFile(path: string): LogContents {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { records: [], torn: undefined };
    throw error;
  }
  const lines = text.split("\n");
  const last = lines.pop() as string;
  const records = lines.map((line, index) => {
    const value = JSON.parse(line) as RawRecord;
    if (
      !Number.isInteger(value.seq) ||
      typeof value.time !== "string" ||
      (value.kind !== "output" && value.kind !== "event") ||
      typeof value.data !== "string"
    ) {
      throw new Error(`line ${index + 1} of ${path} is not a log record: ${line}`);
    }
    return value;
  });
  return { records, torn: last === "" ? undefined : last };
}

/** All output records' data joined, as a program's terminal output. */
export function outputText(records: readonly RawRecord[]): string {
  return records
    .filter((record) => record.kind === "output")
    .map((record) => record.data)
    .join("");
}

/** Throws unless the seqs are `first` (1 by default), then one more each, with no gap. */
export function assertContiguous(records: readonly RawRecord[], first = 1): void {
  records.forEach((record, index) => {
    if (record.seq !== first + index) {
      throw new Error(
        `record ${index + 1} has seq ${record.seq}; seqs: ${records.map((r) => r.seq).join(",")}`,
      );
    }
  });
}

/**
 * The seq a log's records start at: 1, or, once log retention has deleted its oldest segments,
 * the first seq of the oldest segment left (a segment is named by its first seq).
 */
export function firstKeptSeq(path: string): number {
  let names: string[] = [];
  try {
    names = readdirSync(segmentsDirOf(path)).sort();
  } catch {
    // No segments: nothing was ever dropped.
  }
  const oldest = names[0];
  return oldest === undefined ? 1 : Number.parseInt(oldest, 10);
}

/**
 * Every byte a session's log holds on disk: the file and its segments, if it has any (read by
 * listing the directory, as any outside reader would, not with the daemon's own code).
 */
export function bytesOnDisk(path: string): number {
  const dir = segmentsDirOf(path);
  let segments: string[] = [];
  try {
    segments = readdirSync(dir);
  } catch {
    // None: the whole log is in the one file.
  }
  return segments.reduce((sum, name) => sum + statSync(join(dir, name)).size, statSync(path).size);
}
