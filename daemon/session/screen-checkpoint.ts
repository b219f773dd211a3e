/**
 * `run/<id>.screen`: the screen of a running session as an attach frame draws it, with the seq
 * of the last log record it shows. A daemon that reconnects to the session's host draws it on a
 * fresh screen and replays the records after it, so a full-screen program looks exactly as it
 * did, without replaying the whole run. Written by the daemon now and then while the session
 * runs (see Session), and when it stops; losing one only costs a longer replay.
 */
import { readRegularFile, replaceRegularFile } from "../common/regular-file.js";

export interface ScreenCheckpoint {
  /** The last record the frame shows; the replay starts after it. */
  seq: number;
  cols: number;
  rows: number;
  /** The escape sequences that draw the screen on a fresh terminal ("" for a blank one). */
  frame: string;
}

export function writeCheckpoint(path: string, checkpoint: ScreenCheckpoint): void {
  replaceRegularFile(path, JSON.stringify(checkpoint));
}

/** The checkpoint at `path`, or undefined if there is none or it is not one. */
export function readCheckpoint(path: string): ScreenCheckpoint | undefined {
  try {
    const value = JSON.parse(readRegularFile(path).toString("utf8")) as Partial<ScreenCheckpoint>;
    if (
      typeof value.seq === "number" &&
      typeof value.cols === "number" &&
      typeof value.rows === "number" &&
      typeof value.frame === "string"
    )
      return { seq: value.seq, cols: value.cols, rows: value.rows, frame: value.frame };
  } catch {
    // None, or unreadable: the replay starts further back.
  }
  return undefined;
}
