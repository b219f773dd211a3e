/**
 * Which program a session runs. The default is Claude Code, started with
 * `--session-id <session id>` so the daemon's session id is the conversation id; resuming it
 * uses `claude --resume <id>` so the conversation continues, or `--session-id <id>` again when
 * Claude Code has no transcript of it yet (no prompt was ever sent).
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { basename, delimiter, isAbsolute, join, resolve } from "node:path";
import { SessionError } from "./session-error.js";

export const DEFAULT_PROGRAM = "claude";

/** Flags with which the user already chose the conversation; we add no --session-id then. */
const CONVERSATION_FLAGS = new Set(["--session-id", "--resume", "-r", "--continue", "-c"]);

export interface SessionCommand {
  argv: string[];
  claudeCode: boolean;
}

/** Splits a command line like a shell would for words and quotes (no expansions). */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) {
    throw new SessionError("invalid-argument", `unterminated ${quote} quote in command: ${line}`);
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The most of a command line written to the daemon's log and a session's "started" event: the
 * command itself may be 2 MiB (see MAX_EXEC_BYTES), and is in the session's record in full.
 */
export const SHOWN_COMMAND_CHARS = 1024;

/** The command line as logged: its words joined by spaces, cut at {@link SHOWN_COMMAND_CHARS}. */
export function describeCommand(argv: readonly string[]): string {
  let line = "";
  for (const arg of argv) {
    line += line === "" ? arg : ` ${arg}`;
    if (line.length > SHOWN_COMMAND_CHARS) break;
  }
  if (line.length <= SHOWN_COMMAND_CHARS) return line;
  const total = argv.reduce((sum, arg) => sum + arg.length, Math.max(0, argv.length - 1));
  return `${line.slice(0, SHOWN_COMMAND_CHARS)}... (${total - SHOWN_COMMAND_CHARS} more characters)`;
}

export function isClaudeCode(argv: readonly string[]): boolean {
  return argv[0] !== undefined && basename(argv[0]) === DEFAULT_PROGRAM;
}

/**
 * The command for a new session: the explicit one, else `CLAUDE_SESSIONS_COMMAND` (from the
 * session's environment, then the daemon's), else `configured` (the config file's `command`),
 * else `claude`. Claude Code gets `--session-id <id>` unless its arguments already pick a
 * conversation.
 */
export function commandForStart(
  requested: readonly string[],
  sessionId: string,
  env: Readonly<Record<string, string>>,
  configured: readonly string[] = [],
): SessionCommand {
  let argv = [...requested];
  if (argv.length === 0) {
    const named = env.CLAUDE_SESSIONS_COMMAND ?? process.env.CLAUDE_SESSIONS_COMMAND;
    argv = named ? splitCommandLine(named) : [...configured];
    if (argv.length === 0) argv = [DEFAULT_PROGRAM];
  }
  const claudeCode = isClaudeCode(argv);
  if (
    claudeCode &&
    !argv.slice(1).some((arg) => CONVERSATION_FLAGS.has(arg.split("=")[0] ?? arg))
  ) {
    argv.push("--session-id", sessionId);
  }
  return { argv, claudeCode };
}

/**
 * The command that continues a session: Claude Code resumes its conversation, `current` (the one
 * it was last in, as its hooks told) or else the one its arguments chose, with `--resume <id>`
 * (`--continue` if that is how it was started and no conversation is known), or starts it
 * afresh (`--session-id <id>`) when `hasTranscript` says Claude Code never wrote one, since it
 * then answers `--resume` with "No conversation found"; anything else runs again.
 */
export function commandForResume(
  original: readonly string[],
  sessionId: string,
  hasTranscript: (conversationId: string) => boolean,
  current?: string,
): string[] {
  if (!isClaudeCode(original)) return [...original];
  const [program, ...args] = original as [string, ...string[]];
  const { kept, conversation, continued, forkedFrom } = conversationArgs(args);
  if (continued && current === undefined) return [program, ...kept, "--continue"];
  const chosen = current ?? conversation ?? sessionId;
  if (hasTranscript(chosen)) return [program, ...kept, "--resume", chosen];
  // A fork that never got a prompt of its own: it branches off its source again.
  if (forkedFrom !== undefined && hasTranscript(forkedFrom)) return [...original];
  return [program, ...kept, "--session-id", chosen];
}

/**
 * The command of a fork of a session that ran `original`, as session `sessionId`: Claude Code
 * continues `conversation` in a new branch of it (`--resume <it> --fork-session`), whose id is
 * the new session's (`--session-id`), or, with no conversation to branch from, starts afresh;
 * any other program runs the same command.
 */
export function commandForFork(
  original: readonly string[],
  conversation: string | undefined,
  sessionId: string,
): string[] {
  if (!isClaudeCode(original)) return [...original];
  const [program, ...args] = original as [string, ...string[]];
  const { kept } = conversationArgs(args);
  return conversation === undefined
    ? [program, ...kept, "--session-id", sessionId]
    : [program, ...kept, "--resume", conversation, "--fork-session", "--session-id", sessionId];
}

/** The conversation Claude Code's arguments start it in, if they name one. */
export function chosenConversation(argv: readonly string[]): string | undefined {
  return isClaudeCode(argv) ? conversationArgs(argv.slice(1)).conversation : undefined;
}

/** The conversation a fork's Claude Code branched off (`--resume <it> --fork-session`), if any. */
export function forkedConversation(argv: readonly string[]): string | undefined {
  return isClaudeCode(argv) ? conversationArgs(argv.slice(1)).forkedFrom : undefined;
}

/**
 * Claude Code's arguments less those that choose the conversation, and what they chose: the
 * conversation (the last one named), whether it continues the latest, and, for a fork
 * (`--fork-session`), the conversation it branches off.
 */
function conversationArgs(args: readonly string[]): {
  kept: string[];
  conversation: string | undefined;
  continued: boolean;
  forkedFrom: string | undefined;
} {
  const kept: string[] = [];
  let conversation: string | undefined;
  let resumed: string | undefined;
  let continued = false;
  let fork = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--session-id" || flag === "--resume" || flag === "-r") {
      const value = inline ?? args[i + 1];
      if (inline === undefined) i++;
      if (value !== undefined && !value.startsWith("-")) {
        conversation = value;
        if (flag !== "--session-id") resumed = value;
      }
    } else if (flag === "--continue" || flag === "-c") {
      continued = true;
    } else if (flag === "--fork-session") {
      fork = true;
    } else {
      kept.push(arg);
    }
  }
  return { kept, conversation, continued, forkedFrom: fork ? resumed : undefined };
}

/**
 * Finds the executable for `program` like execvp would, in the session's PATH. Throws
 * FAILED_PRECONDITION naming the program and the fix.
 */
export function findExecutable(
  program: string,
  cwd: string,
  env: Readonly<Record<string, string>>,
): string {
  const candidates = program.includes("/")
    ? [isAbsolute(program) ? program : resolve(cwd, program)]
    : (env.PATH ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => join(isAbsolute(dir) ? dir : resolve(cwd, dir), program));
  let notExecutable: string | undefined;
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      notExecutable ??= candidate;
    }
  }
  if (notExecutable !== undefined) throw notExecutableError(notExecutable);
  if (program === DEFAULT_PROGRAM) {
    throw new SessionError(
      "failed-precondition",
      "Claude Code (claude) is not installed or not on PATH: install it with 'npm install -g @anthropic-ai/claude-code', or run another program: claude-sessions start <dir> -- bash",
    );
  }
  const where = program.includes("/") ? "" : " in PATH";
  throw new SessionError(
    "failed-precondition",
    `command not found: ${program}${where}; install it, or give the full path to the program`,
  );
}

/**
 * Why `file`, a regular file without execute permission, cannot run. `chmod +x` is the fix only
 * for a program: a `#!` script or an ELF binary. For anything else (`/etc/passwd`, a text file)
 * it would be wrong advice, and often impossible (the file is not the user's).
 */
function notExecutableError(file: string): SessionError {
  const start = firstBytes(file, 4);
  if (start === undefined) {
    return new SessionError("failed-precondition", `${file} is not executable, nor readable`);
  }
  const program = start.subarray(0, 2).toString("latin1") === "#!" || start.equals(ELF_MAGIC);
  return new SessionError(
    "failed-precondition",
    program
      ? `${file} is not executable; fix it with: chmod +x ${file}`
      : `${file} is not a program (not executable, and neither a #! script nor a binary); name the program to open it with, e.g. -- less ${file}`,
  );
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** The first `count` bytes of a regular file, or undefined if it cannot be read. */
function firstBytes(file: string, count: number): Buffer | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put in its place since the stat must not block the daemon on open.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(count);
    return buffer.subarray(0, readSync(fd, buffer, 0, count, 0));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
