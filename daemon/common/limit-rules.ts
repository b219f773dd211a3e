/**
 * The rules a session's limits follow, with no other dependency: the daemon checks a start's
 * limits and its config file by them, and the CLI its flags, each naming the setting its own way.
 */
import { formatSize } from "./sizes.js";

export type LimitActionName = "warn" | "stop" | "restart";
export const LIMIT_ACTIONS: readonly LimitActionName[] = ["warn", "stop", "restart"];

export interface SessionLimits {
  /** The most resident memory of the whole process tree, in bytes; 0 for none. */
  maxMemoryBytes: number;
  onLimit: LimitActionName;
  /** -20 to 19; 0 leaves the program as the host is. */
  nice: number;
  /** The most bytes the log keeps on disk; 0 for none. */
  maxLogBytes: number;
}

/** The limits asked for at start: what is left out comes from the defaults. */
export type AskedLimits = Partial<SessionLimits>;

/** The smallest log limit: a few segments of a few records each. */
export const MIN_LOG_BYTES = 64 * 1024;
/** The smallest memory limit: below it no program would run at all. */
export const MIN_MEMORY_BYTES = 1024 * 1024;
export const MIN_NICE = -20;
export const MAX_NICE = 19;

/**
 * What is wrong with a limit, in a phrase that names the allowed values, or undefined. `name`
 * is how the caller names the setting (a flag, a config key).
 */
export function limitProblem<K extends keyof SessionLimits>(
  key: K,
  value: SessionLimits[K],
  name: string,
): string | undefined {
  switch (key) {
    case "maxMemoryBytes":
      return Number.isSafeInteger(value) &&
        ((value as number) === 0 || (value as number) >= MIN_MEMORY_BYTES)
        ? undefined
        : `${name} must be 0 (no limit) or at least ${formatSize(MIN_MEMORY_BYTES)}`;
    case "maxLogBytes":
      return Number.isSafeInteger(value) &&
        ((value as number) === 0 || (value as number) >= MIN_LOG_BYTES)
        ? undefined
        : `${name} must be 0 (no limit) or at least ${formatSize(MIN_LOG_BYTES)}`;
    case "nice":
      return Number.isInteger(value) &&
        (value as number) >= MIN_NICE &&
        (value as number) <= MAX_NICE
        ? undefined
        : `${name} must be an integer from ${MIN_NICE} to ${MAX_NICE}`;
    case "onLimit":
      return LIMIT_ACTIONS.includes(value as LimitActionName)
        ? undefined
        : `${name} must be one of ${LIMIT_ACTIONS.join(", ")}`;
  }
  return undefined;
}
