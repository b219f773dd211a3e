/**
 * `list`'s compact table: one line per session, as `docker ps` and `pm2 ls` show theirs, made to
 * fit the terminal's width (80 columns when it is not a terminal).
 */
import { homedir } from "node:os";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Session } from "../gen/claude_sessions/v1/session_pb.js";
import { paint, printable, stateColor, stateName } from "./output.js";

/** The width the table fits when stdout is no terminal. */
export const DEFAULT_TABLE_WIDTH = 80;

/** How much of a session id the table shows: its first group, as `docker ps` shows 12 digits. */
const SHORT_ID_LENGTH = 8;

/** The widest a name is shown; a longer one ends in an ellipsis. */
const MAX_NAME_WIDTH = 16;

/** The narrowest the directory column gets, however narrow the terminal. */
const MIN_DIRECTORY_WIDTH = 12;

const ELLIPSIS = "…";
const GAP = "  ";

/** A session id as the table shows it. */
export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/** How long ago `timestamp` was, in its largest whole unit: "12s", "3m", "2h", "5d". */
export function relativeAge(timestamp: Timestamp | undefined, now = Date.now()): string {
  if (timestamp === undefined) return "-";
  const then = Number(timestamp.seconds) * 1000 + timestamp.nanos / 1e6;
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** `text` in at most `width` characters, cut on the right. */
function cutRight(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, width - 1).join("") + ELLIPSIS;
}

/** `text` in at most `width` characters, cut on the left: a path's end says the most. */
export function cutLeft(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : ELLIPSIS + chars.slice(chars.length - width + 1).join("");
}

/** A directory under the user's home as `~/...`, shorter to read. */
function homeRelative(dir: string, home = homedir()): string {
  if (home.length > 1 && (dir === home || dir.startsWith(`${home}/`)))
    return `~${dir.slice(home.length)}`;
  return dir;
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

/**
 * The table of `sessions`, a header line first, every line at most `width` characters (so a
 * directory is cut on the left: `…/src/api`). The state is coloured when `color` is set.
 */
export function sessionTable(
  sessions: readonly Session[],
  options: { color: boolean; width?: number | undefined; now?: number },
): string {
  const now = options.now ?? Date.now();
  const rows = sessions.map((session) => ({
    id: printable(shortId(session.id)),
    name: cutRight(printable(session.name) || "-", MAX_NAME_WIDTH),
    state: stateName(session.state),
    color: stateColor(session.state),
    age: relativeAge(session.createdAt, now),
    dir: printable(homeRelative(session.workingDir)),
  }));
  const widthOf = (header: string, values: string[]) =>
    Math.max(header.length, ...values.map((value) => [...value].length));
  const nameWidth = widthOf(
    "NAME",
    rows.map((row) => row.name),
  );
  const stateWidth = widthOf(
    "STATE",
    rows.map((row) => row.state),
  );
  const ageWidth = widthOf(
    "AGE",
    rows.map((row) => row.age),
  );
  const fixed = SHORT_ID_LENGTH + nameWidth + stateWidth + ageWidth + 4 * GAP.length;
  const dirWidth = Math.max(MIN_DIRECTORY_WIDTH, (options.width ?? DEFAULT_TABLE_WIDTH) - fixed);
  const line = (id: string, name: string, state: string, age: string, dir: string) =>
    [pad(id, SHORT_ID_LENGTH), pad(name, nameWidth), state, pad(age, ageWidth), dir].join(GAP);
  const lines = [
    line("ID", "NAME", pad("STATE", stateWidth), "AGE", "DIRECTORY"),
    ...rows.map((row) =>
      line(
        row.id,
        row.name,
        paint(row.state, row.color, options.color) + pad("", stateWidth - row.state.length),
        row.age,
        cutLeft(row.dir, dirWidth),
      ),
    ),
  ];
  return `${lines.map((text) => text.trimEnd()).join("\n")}\n`;
}

/** How a session is named to a person in one word: its name, else its short id. */
export function sessionLabel(session: Pick<Session, "id" | "name">): string {
  return printable(session.name || shortId(session.id));
}
