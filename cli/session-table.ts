/**
 * `list`'s compact table: one line per session, as `docker ps` and `pm2 ls` show theirs, with what
 * each one is doing (working, waiting for you, idle) and its foreground command, made to fit the
 * terminal's width (80 columns when it is not a terminal).
 */
import { homedir } from "node:os";
import type { Session } from "../gen/claude_sessions/v1/session_pb.js";
import {
  activityColor,
  activityWord,
  paint,
  printable,
  relativeAge,
  stateColor,
  stateName,
} from "./output.js";

/** The width the table fits when stdout is no terminal. */
export const DEFAULT_TABLE_WIDTH = 80;

/** How much of a session id the table shows: its first group, as `docker ps` shows 12 digits. */
const SHORT_ID_LENGTH = 8;

/** The widest a name is shown; a longer one ends in an ellipsis. */
const MAX_NAME_WIDTH = 16;

/** The widest a foreground command is shown. */
const MAX_FOREGROUND_WIDTH = 10;

/** The widest a worktree's branch is shown (the column is there only if a session has one). */
const MAX_BRANCH_WIDTH = 24;

/** The narrowest the directory column gets, however narrow the terminal. */
const MIN_DIRECTORY_WIDTH = 12;

const ELLIPSIS = "…";
const GAP = "  ";

/** A session id as the table shows it. */
export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
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

/** A column: its header, each row's text, and how a cell is painted (after padding). */
interface Column {
  header: string;
  cells: string[];
  paint?: (text: string, row: number) => string;
}

/**
 * The table of `sessions`, a header line first, every line at most `width` characters (so a
 * directory is cut on the left: `…/src/api`). The state and the activity are coloured when
 * `color` is set. With `hosts` (`list --all-contexts`) each row starts with its host.
 */
export function sessionTable(
  sessions: readonly Session[],
  options: {
    color: boolean;
    width?: number | undefined;
    now?: number;
    /** Each session's host (its context), shown first; no HOST column without them. */
    hosts?: readonly string[] | undefined;
  },
): string {
  const now = options.now ?? Date.now();
  const { hosts } = options;
  const columns: Column[] = [
    ...(hosts === undefined
      ? []
      : [
          { header: "HOST", cells: hosts.map((host) => cutRight(printable(host), MAX_NAME_WIDTH)) },
        ]),
    { header: "ID", cells: sessions.map((session) => printable(shortId(session.id))) },
    {
      header: "NAME",
      cells: sessions.map((session) => cutRight(printable(session.name) || "-", MAX_NAME_WIDTH)),
    },
    {
      header: "STATE",
      cells: sessions.map((session) => stateName(session.state)),
      paint: (text, row) =>
        paint(text, stateColor((sessions[row] as Session).state), options.color),
    },
    {
      header: "ACTIVITY",
      cells: sessions.map((session) => activityWord(session.activity)),
      paint: (text, row) =>
        paint(text, activityColor((sessions[row] as Session).activity), options.color),
    },
    {
      header: "FOREGROUND",
      cells: sessions.map((session) =>
        cutRight(printable(session.foregroundCommand) || "-", MAX_FOREGROUND_WIDTH),
      ),
    },
    ...(sessions.some((session) => session.worktree !== undefined)
      ? [
          {
            header: "BRANCH",
            cells: sessions.map((session) =>
              cutRight(printable(session.worktree?.branch ?? "") || "-", MAX_BRANCH_WIDTH),
            ),
          },
        ]
      : []),
    { header: "AGE", cells: sessions.map((session) => relativeAge(session.createdAt, now)) },
  ];
  const widths = columns.map((column) =>
    Math.max(column.header.length, ...column.cells.map((cell) => [...cell].length)),
  );
  const fixed = widths.reduce((sum, width) => sum + width + GAP.length, 0);
  const dirWidth = Math.max(MIN_DIRECTORY_WIDTH, (options.width ?? DEFAULT_TABLE_WIDTH) - fixed);
  const dirs = sessions.map((session) =>
    cutLeft(printable(homeRelative(session.workingDir)), dirWidth),
  );
  const line = (cells: string[], last: string) => [...cells, last].join(GAP).trimEnd();
  const lines = [
    line(
      columns.map((column, index) => pad(column.header, widths[index] as number)),
      "DIRECTORY",
    ),
    ...sessions.map((_, row) =>
      line(
        columns.map((column, index) => {
          const text = column.cells[row] as string;
          const padding = pad("", (widths[index] as number) - [...text].length);
          return (column.paint?.(text, row) ?? text) + padding;
        }),
        dirs[row] as string,
      ),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** How a session is named to a person in one word: its name, else its short id. */
export function sessionLabel(session: Pick<Session, "id" | "name">): string {
  return printable(session.name || shortId(session.id));
}
