/** Checks on what a client asks for, each failing with an invalid-argument SessionError and a fix. */
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { MAX_DIMENSION } from "../common/terminal-size.js";
import { couldBeIdPrefix } from "./id-resolver.js";
import { SessionError } from "./session-error.js";

export { MAX_DIMENSION };
export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;
/** The longest name, in bytes of UTF-8: a name is typed, shown in lists and kept on disk. */
export const MAX_NAME_BYTES = 128;
/**
 * The longest single argument or `NAME=value`: Linux's MAX_ARG_STRLEN (32 pages, 128 KiB)
 * counts the terminating NUL, and execve fails with E2BIG past it.
 */
export const MAX_ARGUMENT_BYTES = 128 * 1024 - 1;
/** The longest program path or working directory: Linux's PATH_MAX (ENAMETOOLONG past it). */
export const MAX_PATH_BYTES = 4096;
/** The most environment variables a session gets; real environments have a few hundred. */
export const MAX_ENV_VARIABLES = 16_384;
/**
 * The most the program path, arguments and environment may take as execve counts them (each
 * string with its NUL, plus an 8-byte pointer for each argument and variable): Linux's ARG_MAX
 * under the default 8 MiB stack limit (a quarter of it). Past it the kernel refuses the exec,
 * so the daemon refuses the request instead of keeping a session that cannot start.
 */
export const MAX_EXEC_BYTES = 2 * 1024 * 1024;
/** The size of a pointer in execve's argv and envp arrays on 64-bit Linux. */
const POINTER_BYTES = 8;
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-/i;

function invalid(message: string): SessionError {
  return new SessionError("invalid-argument", message);
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

/**
 * A name for a session being named now: {@link checkName}, and not one that reads as an id
 * prefix, which would hide the session whose id starts with it from `stop <prefix>` and the
 * like. Names stored before this rule still load ({@link checkName}); the resolver treats
 * such a clash as ambiguous.
 */
export function checkNewName(name: string): string {
  checkName(name);
  if (couldBeIdPrefix(name))
    throw invalid(
      `name '${name}' could be read as a session id prefix (hexadecimal, 4 or more characters); add a letter past f, as in '${name}-x'`,
    );
  return name;
}

/** The working directory must be absolute, exist and be a directory. */
export function checkWorkingDir(dir: string): string {
  if (dir === "") throw invalid("working_dir is required (an absolute directory path)");
  const size = Buffer.byteLength(dir);
  if (size > MAX_PATH_BYTES)
    throw invalid(`working_dir is ${size} bytes; the limit is ${MAX_PATH_BYTES} bytes (PATH_MAX)`);
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
      throw new SessionError("permission-denied", `working_dir ${dir} is not accessible`);
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
  const size = Buffer.byteLength(name);
  if (size > MAX_NAME_BYTES)
    throw invalid(`name is ${size} bytes; the limit is ${MAX_NAME_BYTES} bytes`);
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

/** A name from the request, shortened for a message. */
function shown(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

/**
 * The environment: at most {@link MAX_ENV_VARIABLES} variables, names without '=' or NUL,
 * values without NUL, each `NAME=value` within {@link MAX_ARGUMENT_BYTES}.
 */
export function checkEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(env);
  if (entries.length > MAX_ENV_VARIABLES)
    throw invalid(
      `the environment has ${entries.length} variables; the limit is ${MAX_ENV_VARIABLES}`,
    );
  const clean: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key === "" || key.includes("=") || key.includes("\0"))
      throw invalid(
        `environment variable name '${shown(key).replaceAll("\0", "\\0")}' is not valid`,
      );
    if (value.includes("\0")) throw invalid(`environment variable ${shown(key)} contains NUL`);
    const size = Buffer.byteLength(key) + 1 + Buffer.byteLength(value);
    if (size > MAX_ARGUMENT_BYTES)
      throw invalid(
        `environment variable ${shown(key)} is ${size} bytes as ${shown(key)}=value; the limit is ${MAX_ARGUMENT_BYTES} bytes (Linux's MAX_ARG_STRLEN)`,
      );
    clean[key] = value;
  }
  return clean;
}

/**
 * Each argument of the command: no NUL (execve cannot pass it), within
 * {@link MAX_ARGUMENT_BYTES}; the program within {@link MAX_PATH_BYTES}.
 */
export function checkCommand(command: readonly string[]): string[] {
  command.forEach((arg, index) => {
    if (arg.includes("\0")) throw invalid(`command argument ${index} contains NUL`);
    const size = Buffer.byteLength(arg);
    if (index === 0 && size > MAX_PATH_BYTES)
      throw invalid(
        `command[0] (the program) is ${size} bytes; the limit is ${MAX_PATH_BYTES} bytes (PATH_MAX)`,
      );
    if (size > MAX_ARGUMENT_BYTES)
      throw invalid(
        `command argument ${index} is ${size} bytes; the limit is ${MAX_ARGUMENT_BYTES} bytes (Linux's MAX_ARG_STRLEN)`,
      );
  });
  if (command.length > 0 && command[0] === "") throw invalid("command[0] (the program) is empty");
  return [...command];
}

/** How many bytes execve counts for `executable`, `argv` and `env` ({@link MAX_EXEC_BYTES}). */
export function execBytes(
  executable: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): number {
  let total = Buffer.byteLength(executable) + 1;
  for (const arg of argv) total += Buffer.byteLength(arg) + 1 + POINTER_BYTES;
  for (const [key, value] of Object.entries(env))
    total += Buffer.byteLength(key) + 1 + Buffer.byteLength(value) + 1 + POINTER_BYTES;
  return total;
}

/**
 * The program, its arguments and its environment together (the daemon's additions included)
 * must fit {@link MAX_EXEC_BYTES}.
 */
export function checkExecSize(
  executable: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): void {
  const size = execBytes(executable, argv, env);
  if (size > MAX_EXEC_BYTES)
    throw invalid(
      `the command and environment take ${size} bytes as execve counts them (each string with its NUL, and a pointer); the limit is ${MAX_EXEC_BYTES} bytes (ARG_MAX): shorten the command or pass fewer variables`,
    );
}
