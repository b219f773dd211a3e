/** Reading a session's log file the way a user's script would: line by line. */
import { readFileSync } from "node:fs";

export interface FileRecord {
  seq: number;
  time: string;
  kind: "output" | "event";
  data: string;
}

/** Every record; a torn last line (no newline) is ignored, any other bad line fails. */
export function readLogFile(path: string): FileRecord[] {
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  const last = lines.pop();
  if (last !== undefined && last !== "") {
    // A torn last line is tolerated, as readers must.
  }
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as FileRecord;
    } catch {
      throw new Error(`${path}:${index + 1} does not parse: ${line.slice(0, 200)}`);
    }
  });
}
