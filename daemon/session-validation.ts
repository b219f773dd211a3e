/** Checks on what a client asks for, each failing with INVALID_ARGUMENT and a fix. */
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { status } from "@grpc/grpc-js";
import { RpcError } from "./rpc/rpc-error.js";

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;
export const MAX_DIMENSION = 1000;
export const MAX_NAME_LENGTH = 64;
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-/i;

function invalid(message: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, message);
}

function hasBadCharacters(value: string): "NUL" | "invalid UTF-8" | undefined {
  if (value.includes("\0")) return "NUL";
  // The protobuf runtime decodes malformed UTF-8 to U+FFFD.
  if (value.includes("\uFFFD")) return "invalid UTF-8";
  return undefined;
}

/**
 * What a name may not hold: controls (C0, DEL, C1), which a terminal acts on when the name is
 * printed; format characters (zero-width, bidi overrides, soft hyphen), which hide or reorder
 * what is shown; unassigned code points; and whitespace, which splits it on a command line.
 */
const NOT_IN_NAMES: ReadonlyArray<[pattern: RegExp, what: string]> = [
  [/\p{Cc}/u, "a control character"],
  [/\p{Cf}/u, "an invisible format character"],
  [/[\p{Cn}\p{Cs}]/u, "an unassigned code point"],
  [/\s/u, "whitespace"],
];

/** The first character of `name` it may not hold, as "U+009B (a control character)". */
function unprintable(name: string): string | undefined {
  for (const char of name) {
    for (const [pattern, what] of NOT_IN_NAMES) {
      if (pattern.test(char)) {
        const hex = (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
        return `U+${hex} (${what})`;
      }
    }
  }
  return undefined;
}

/** The working directory must be absolute, exist and be a directory. */
export function checkWorkingDir(dir: string): string {
  if (dir === "") throw invalid("working_dir is required (an absolute directory path)");
  const bad = hasBadCharacters(dir);
  if (bad) throw invalid(`working_dir contains ${bad}`);
  if (!isAbsolute(dir)) throw invalid(`working_dir must be an absolute path, got '${dir}'`);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw invalid(`working_dir ${dir} does not exist`);
    if (code === "EACCES")
      throw new RpcError(status.PERMISSION_DENIED, `working_dir ${dir} is not accessible`);
    throw error;
  }
  if (!isDirectory) throw invalid(`working_dir ${dir} is not a directory`);
  return dir;
}

/** A session name: short, printable, no whitespace, and not mistakable for an id. */
export function checkName(name: string): string {
  if (name === "") return name;
  const bad = hasBadCharacters(name);
  if (bad) throw invalid(`name contains ${bad}`);
  if (name.length > MAX_NAME_LENGTH)
    throw invalid(`name is longer than ${MAX_NAME_LENGTH} characters`);
  const unseen = unprintable(name);
  if (unseen) throw invalid(`name contains ${unseen}; names are one word of printable characters`);
  if (UUID_LIKE.test(name)) throw invalid(`name '${name}' looks like a session id; choose another`);
  return name;
}

/** A terminal size: unset means the default; set must be within 1..MAX_DIMENSION. */
export function checkSize(
  cols: number | undefined,
  rows: number | undefined,
  fallback = { cols: DEFAULT_COLS, rows: DEFAULT_ROWS },
): { cols: number; rows: number } {
  const size = { cols: cols ?? fallback.cols, rows: rows ?? fallback.rows };
  for (const [what, value] of Object.entries(size)) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
      throw invalid(`${what} must be between 1 and ${MAX_DIMENSION}, got ${value}`);
    }
  }
  return size;
}

/** The environment: names without '=' or NUL, values without NUL. */
export function checkEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key === "" || key.includes("=") || key.includes("\0"))
      throw invalid(`environment variable name '${key.replaceAll("\0", "\\0")}' is not valid`);
    if (value.includes("\0")) throw invalid(`environment variable ${key} contains NUL`);
    clean[key] = value;
  }
  return clean;
}

/** Each argument of the command: no NUL (execve cannot pass it). */
export function checkCommand(command: readonly string[]): string[] {
  command.forEach((arg, index) => {
    if (arg.includes("\0")) throw invalid(`command argument ${index} contains NUL`);
  });
  if (command.length > 0 && command[0] === "") throw invalid("command[0] (the program) is empty");
  return [...command];
}
