/**
 * A state home holding an ended session with a log of a given size, written directly (no
 * program has to produce it): valid records, seq 1..N, a start event, output records of
 * {@link RECORD_CHARS} (text lines with colour escapes), and an exit event last.
 */
import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { homePaths } from "../../daemon/common/paths.js";
import { encodeRecord, type LogRecord } from "../../daemon/log/log-record.js";
import type { SessionRecord } from "../../daemon/session/session-record.js";

/** Characters of output per record. */
export const RECORD_CHARS = 8 * 1024;

/** One record's output: lines of 64 characters, each with a coloured word, ending in CRLF. */
function recordData(): string {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < RECORD_CHARS; i++) {
    const line = `\x1b[32mok\x1b[0m step ${String(i).padStart(6, "0")} ${"-".repeat(38)}\r\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join("").slice(0, RECORD_CHARS);
}

export interface SyntheticSession {
  record: SessionRecord;
  /** How many records the log holds (the last is the exit event). */
  records: number;
  /** The log file's size in bytes. */
  bytes: number;
  /** The output characters of one record. */
  recordChars: number;
}

/** Writes `logs/<id>.jsonl` of about `targetBytes` for a new session id in `home`. */
export function writeSyntheticLog(
  home: string,
  targetBytes: number,
  name: string,
): SyntheticSession {
  const paths = homePaths(home);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const id = randomUUID();
  const data = recordData();
  const started = Date.parse("2026-01-01T00:00:00.000Z");
  const time = (seq: number) => new Date(started + seq * 10).toISOString();
  const file = openSync(join(paths.logs, `${id}.jsonl`), "w", 0o600);
  let bytes = 0;
  let seq = 0;
  const batch: string[] = [];
  let batchBytes = 0;
  const append = (record: Omit<LogRecord, "seq" | "time">) => {
    seq += 1;
    const line = encodeRecord({ seq, time: time(seq), ...record });
    batch.push(line);
    batchBytes += line.length;
    bytes += line.length;
    if (batchBytes >= 4 * 1024 * 1024) flush();
  };
  const flush = () => {
    writeSync(file, batch.join(""));
    batch.length = 0;
    batchBytes = 0;
  };
  try {
    append({ kind: "event", data: "started: bench-generator (pid 1, 120x40)" });
    const exitLine = encodeRecord({
      seq,
      time: time(seq),
      kind: "event",
      data: "exited (exit code 0)",
    });
    while (bytes + exitLine.length < targetBytes) append({ kind: "output", data });
    append({ kind: "event", data: "exited (exit code 0)" });
    flush();
  } finally {
    closeSync(file);
  }
  const record: SessionRecord = {
    id,
    name,
    workingDir: home,
    command: ["bench-generator"],
    state: "exited",
    pid: 0,
    exitCode: 0,
    createdAt: time(0),
    startedAt: time(0),
    endedAt: time(seq),
    cols: 120,
    rows: 40,
    claudeCode: false,
  };
  return { record, records: seq, bytes, recordChars: data.length };
}

/** Writes `state.json` listing `sessions`, as the daemon would have. */
export function writeState(home: string, sessions: readonly SessionRecord[]): void {
  writeFileSync(homePaths(home).state, JSON.stringify({ version: 1, sessions }, null, 1), {
    mode: 0o600,
  });
}
