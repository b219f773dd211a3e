/**
 * The systemd user unit that runs one home's daemon (`service install`): its name, where it
 * goes, and its text, with every path quoted as systemd reads unit files (systemd.syntax(7),
 * systemd.service(5) "Command lines").
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveHome } from "../daemon/common/paths.js";

/** The unit of the default home (`~/.claude-sessions`). */
export const DEFAULT_UNIT_NAME = "claude-sessions.service";

/** A path the unit cannot hold: a control character (a newline would end its line). */
export class UnitPathError extends Error {
  override readonly name = "UnitPathError";
}

/** Where a home's unit is. */
export interface UnitLocation {
  /** `claude-sessions.service`, or for another home than the default one named by its hash. */
  name: string;
  /** The unit's file. */
  path: string;
  /** The home whose daemon it runs. */
  home: string;
  /** Whether it is the default home, which the unit then need not name. */
  defaultHome: boolean;
}

/** What the unit runs: a Node, and the CLI it runs as `daemon --foreground --resume`. */
export interface UnitProgram {
  node: string;
  cli: string;
}

/**
 * The unit of the home the environment names. The default home's has the default name; any
 * other's has a name of its own (a hash of its path) and sets `CLAUDE_SESSIONS_HOME`, so that
 * each home can have its unit.
 */
export function unitLocation(env: NodeJS.ProcessEnv = process.env): UnitLocation {
  const home = resolveHome(env);
  const defaultHome = home === resolveHome({});
  const name = defaultHome ? DEFAULT_UNIT_NAME : `claude-sessions-${homeHash(home)}.service`;
  return { name, path: join(unitDirectory(env), name), home, defaultHome };
}

/** A short hash of a home's path, for its unit's name. */
function homeHash(home: string): string {
  return createHash("sha256").update(home).digest("hex").slice(0, 8);
}

/**
 * Where systemd looks for the user's own units: `$XDG_CONFIG_HOME/systemd/user`, by default
 * `~/.config/systemd/user` (a relative `$XDG_CONFIG_HOME` is ignored, as the XDG spec says).
 */
export function unitDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME;
  const base = config && isAbsolute(config) ? config : join(homedir(), ".config");
  return join(base, "systemd", "user");
}

/**
 * This Node and this CLI: `bin/claude-sessions.js` (which runs the bundle with its code cache),
 * else the bundle itself (`dist/cli.cjs`, whose URL `import.meta.url` is in the bundle).
 */
export function thisProgram(): UnitProgram {
  const bundle = fileURLToPath(import.meta.url);
  const bin = fileURLToPath(new URL("../bin/claude-sessions.js", import.meta.url));
  return { node: process.execPath, cli: existsSync(bin) ? bin : bundle };
}

/** The unit file's text. */
export function unitText(location: UnitLocation, program: UnitProgram): string {
  const { node, cli } = program;
  for (const path of [node, cli, location.home]) checkPath(path);
  const command = (...words: string[]) =>
    [executableWord(node), ...[cli, ...words].map(argumentWord)].join(" ");
  const environment = location.defaultHome
    ? []
    : [`Environment=${quoted(`CLAUDE_SESSIONS_HOME=${location.home}`)}`];
  return [
    "# Written by `claude-sessions service install`; `claude-sessions service uninstall` removes it.",
    "[Unit]",
    `Description=claude-sessions daemon (${specifierSafe(location.home)})`,
    "",
    "[Service]",
    "Type=simple",
    ...environment,
    `ExecStart=${command("daemon", "--foreground", "--resume")}`,
    "# systemctl reload: the daemon reads its config file again, and a bad one fails the reload.",
    `ExecReload=${command("daemon", "reload")}`,
    "# Stopping the unit ends the daemon alone: the session hosts it started are in the unit's",
    "# cgroup, and any other KillMode would end every session with it.",
    "KillMode=process",
    "Restart=on-failure",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

function checkPath(path: string): void {
  if (/[\x00-\x1f\x7f]/.test(path)) {
    throw new UnitPathError(
      `cannot write a systemd unit for ${JSON.stringify(path)}: it holds a control character`,
    );
  }
}

/** `%` starts a specifier (`%h`) wherever systemd expands them: `%%` is a literal one. */
function specifierSafe(text: string): string {
  return text.replaceAll("%", "%%");
}

/**
 * One word of a setting, in double quotes, in which systemd undoes C-style escapes: a
 * backslash and a double quote are escaped, and `%` doubled.
 */
function quoted(word: string): string {
  return `"${specifierSafe(word.replace(/[\\"]/g, (char) => `\\${char}`))}"`;
}

/**
 * The program of `ExecStart=`: systemd takes it as it is written but for quotes and `%`, and
 * refuses one with a quote or a backslash in it.
 */
function executableWord(path: string): string {
  if (/["'\\]/.test(path)) {
    throw new UnitPathError(
      `cannot write a systemd unit that runs ${JSON.stringify(path)}: systemd runs no program whose path holds a quote or a backslash`,
    );
  }
  return /\s/.test(path) ? `"${specifierSafe(path)}"` : specifierSafe(path);
}

/**
 * An argument of `ExecStart=`: quoted only if it must be (white space, quotes, a backslash), and
 * `$` doubled, as systemd expands `$NAME` in arguments even inside quotes.
 */
function argumentWord(word: string): string {
  const literal = word.replaceAll("$", () => "$$");
  return /[\s"'\\]/.test(word) || word === "" ? quoted(literal) : specifierSafe(literal);
}
