/**
 * The daemon's config file, `config.json` in its home: the defaults new sessions get (the
 * command, the limits), the notify command and the web UI's port. Read at start and on reload
 * (`daemon reload`, SIGHUP). Every key is optional; a missing file is the built-in defaults. A
 * file that is not JSON, a key that is not one of {@link CONFIG_KEYS} or a value out of range is
 * refused with one line naming the file, the key and what is allowed: a daemon starting refuses
 * to start, a daemon reloading keeps what it had.
 */
import { readFileSync } from "node:fs";
import { closestWord } from "../common/closest-word.js";
import { LIMIT_ACTIONS, type LimitActionName, limitProblem } from "../common/limit-rules.js";
import { parseSize, SIZE_FORMS } from "../common/sizes.js";
import { BUILT_IN_LIMITS, type SessionLimits } from "../session/limits.js";

export interface DaemonConfig {
  /** The program of a session started without one; empty: Claude Code. */
  command: string[];
  limits: SessionLimits;
  /** A shell command run on session events (see notify-command.ts); empty: none. */
  notifyCommand: string;
  /** The port `claude-sessions web` serves on. */
  webPort: number;
}

export const DEFAULT_WEB_PORT = 7681;

export const BUILT_IN_CONFIG: DaemonConfig = {
  command: [],
  limits: BUILT_IN_LIMITS,
  notifyCommand: "",
  webPort: DEFAULT_WEB_PORT,
};

/** The keys a config file may have, each with what it takes (for errors and the README). */
export const CONFIG_KEYS = {
  command: "an array of strings, the program and its arguments ([] for Claude Code)",
  max_memory: `0 (no limit) or ${SIZE_FORMS}`,
  on_limit: `one of ${LIMIT_ACTIONS.join(", ")}`,
  nice: "an integer from -20 to 19",
  max_log_size: `0 (no limit) or ${SIZE_FORMS}`,
  notify_command: "a shell command (a string; empty for none)",
  web_port: "a port number from 1 to 65535",
} as const;

type ConfigKey = keyof typeof CONFIG_KEYS;

/** A config file that cannot be used; the message is one line naming the file and the key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The config at `path`, and whether there was a file; throws a {@link ConfigError}. */
export function loadConfig(path: string): { config: DaemonConfig; found: boolean } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { config: BUILT_IN_CONFIG, found: false };
    throw new ConfigError(`${path}: cannot be read: ${(error as Error).message}`);
  }
  return { config: parseConfig(text, path), found: true };
}

/** Parses a config file's text; `path` names it in errors. */
export function parseConfig(text: string, path: string): DaemonConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(`${path}: must hold a JSON object of settings, e.g. {"nice": 10}`);
  const config: DaemonConfig = { ...BUILT_IN_CONFIG, limits: { ...BUILT_IN_LIMITS } };
  const bad = (key: string, what: string) =>
    new ConfigError(
      `${path}: "${key}" must be ${what}, got ${JSON.stringify(value[key as never])}`,
    );
  for (const [key, setting] of Object.entries(value)) {
    if (!(key in CONFIG_KEYS)) {
      const near = closestWord(key, Object.keys(CONFIG_KEYS));
      throw new ConfigError(
        `${path}: unknown key "${key}"${near === undefined ? "" : ` (did you mean "${near}"?)`}; the keys are ${Object.keys(CONFIG_KEYS).join(", ")}`,
      );
    }
    const known = key as ConfigKey;
    switch (known) {
      case "command":
        if (
          !Array.isArray(setting) ||
          !setting.every((arg) => typeof arg === "string" && !arg.includes("\0")) ||
          (setting.length > 0 && setting[0] === "")
        )
          throw bad(key, CONFIG_KEYS.command);
        config.command = [...setting];
        break;
      case "max_memory":
      case "max_log_size": {
        const bytes =
          typeof setting === "number"
            ? setting
            : typeof setting === "string"
              ? parseSize(setting)
              : undefined;
        if (bytes === undefined) throw bad(key, CONFIG_KEYS[known]);
        const limit = known === "max_memory" ? "maxMemoryBytes" : "maxLogBytes";
        const problem = limitProblem(limit, bytes, `"${key}"`);
        if (problem !== undefined)
          throw new ConfigError(`${path}: ${problem}, got ${JSON.stringify(setting)}`);
        config.limits[limit] = bytes;
        break;
      }
      case "on_limit":
        if (typeof setting !== "string" || !LIMIT_ACTIONS.includes(setting as LimitActionName))
          throw bad(key, CONFIG_KEYS.on_limit);
        config.limits.onLimit = setting as LimitActionName;
        break;
      case "nice":
        if (typeof setting !== "number" || limitProblem("nice", setting, key) !== undefined)
          throw bad(key, CONFIG_KEYS.nice);
        config.limits.nice = setting;
        break;
      case "notify_command":
        if (typeof setting !== "string" || setting.includes("\0"))
          throw bad(key, CONFIG_KEYS.notify_command);
        config.notifyCommand = setting;
        break;
      case "web_port":
        if (!Number.isInteger(setting) || (setting as number) < 1 || (setting as number) > 65535)
          throw bad(key, CONFIG_KEYS.web_port);
        config.webPort = setting as number;
        break;
    }
  }
  return config;
}

/** The config with every key, defaults included, as a config file would say it. */
export function configJson(config: DaemonConfig): Record<ConfigKey, unknown> {
  const { limits } = config;
  return {
    command: config.command,
    max_memory: limits.maxMemoryBytes === 0 ? "0" : sizeText(limits.maxMemoryBytes),
    on_limit: limits.onLimit,
    nice: limits.nice,
    max_log_size: limits.maxLogBytes === 0 ? "0" : sizeText(limits.maxLogBytes),
    notify_command: config.notifyCommand,
    web_port: config.webPort,
  };
}

/** A size as the file takes it back: "100M" when whole, else the bytes. */
function sizeText(bytes: number): string {
  for (const [unit, size] of [
    ["G", 1024 ** 3],
    ["M", 1024 ** 2],
    ["K", 1024],
  ] as const)
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  return String(bytes);
}

/** What changed between two configs, for the daemon's log: "nice 0 → 10, on_limit warn → stop". */
export function configChanges(before: DaemonConfig, after: DaemonConfig): string[] {
  const was = configJson(before);
  const now = configJson(after);
  return (Object.keys(now) as ConfigKey[])
    .filter((key) => JSON.stringify(was[key]) !== JSON.stringify(now[key]))
    .map((key) => `${key} ${JSON.stringify(was[key])} → ${JSON.stringify(now[key])}`);
}
