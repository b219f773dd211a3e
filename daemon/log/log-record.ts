/** The session log's record: one JSON object per line of `logs/<id>.jsonl`. */
import { parseJsonObject } from "../common/json-object.js";

export type LogKind = "output" | "event";

export interface LogRecord {
  /** 1 for the session's first record, one more for each after it, across daemon restarts. */
  seq: number;
  /** RFC 3339 with milliseconds, UTC. */
  time: string;
  kind: LogKind;
  data: string;
}

/** One line of the log file, newline included. */
export function encodeRecord(record: LogRecord): string {
  // Property order is part of the format: seq, time, kind, data.
  return `{"seq":${record.seq},"time":"${record.time}","kind":"${record.kind}","data":${JSON.stringify(record.data)}}\n`;
}

/** Parses one line (without its newline); undefined for a torn or foreign line. */
export function decodeRecord(line: string): LogRecord | undefined {
  if (line.length === 0) return undefined;
  const fields = parseJsonObject(line);
  if (fields === undefined) return undefined;
  const { seq, time, kind, data } = fields;
  if (
    typeof seq !== "number" ||
    !Number.isSafeInteger(seq) ||
    seq < 1 ||
    typeof time !== "string" ||
    (kind !== "output" && kind !== "event") ||
    typeof data !== "string"
  ) {
    return undefined;
  }
  return { seq, time, kind, data };
}

/** The byte size a record takes on disk, used to bound memory. */
export function recordCost(record: LogRecord): number {
  return record.data.length + 64;
}
