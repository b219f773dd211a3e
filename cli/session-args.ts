/** What `start` and `resume` send about the user's terminal: environment and size. */
import { homedir } from "node:os";
import { resolve } from "node:path";

/** The CLI's environment, as the session should get it. */
export function clientEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}

/** The terminal's size, if stdout is a terminal. */
export function terminalSize(
  stream: NodeJS.WritableStream,
): { cols: number; rows: number } | undefined {
  const tty = stream as NodeJS.WriteStream;
  if (!tty.isTTY || !tty.columns || !tty.rows) return undefined;
  return { cols: tty.columns, rows: tty.rows };
}

/** A directory as typed: `~` expanded, relative paths against the CLI's cwd. */
export function resolveDirectory(dir: string): string {
  if (dir === "~") return homedir();
  if (dir.startsWith("~/")) return resolve(homedir(), dir.slice(2));
  return resolve(process.cwd(), dir);
}
