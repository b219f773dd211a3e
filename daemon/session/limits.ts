/**
 * A session's limits: the memory its process tree may use and what is done past it, its
 * niceness, and how much log it keeps on disk. Asked for at start, else taken from the daemon's
 * defaults (its config file), and kept in the record so that a resume runs with the same ones.
 */
import { formatSize } from "../common/sizes.js";
import { LimitAction } from "../host/host-wire.js";
import { SessionError } from "./session-error.js";

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

/** The built-in defaults, when the config file sets none: no memory limit, 100 MiB of log. */
export const BUILT_IN_LIMITS: SessionLimits = {
  maxMemoryBytes: 0,
  onLimit: "warn",
  nice: 0,
  maxLogBytes: 100 * 1024 * 1024,
};

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

const FLAGS: Record<keyof SessionLimits, string> = {
  maxMemoryBytes: "max memory",
  onLimit: "on limit",
  nice: "nice",
  maxLogBytes: "max log size",
};

/** The limits a new session runs with: those asked for, checked, over the defaults. */
export function resolveLimits(asked: AskedLimits, defaults: SessionLimits): SessionLimits {
  const limits = { ...defaults };
  for (const key of Object.keys(FLAGS) as (keyof SessionLimits)[]) {
    const value = asked[key];
    if (value === undefined) continue;
    const problem = limitProblem(key, value, FLAGS[key]);
    if (problem !== undefined) throw new SessionError("invalid-argument", problem);
    (limits as unknown as Record<string, unknown>)[key] = value;
  }
  return limits;
}

/** The limits of a record read back, or a message saying what is wrong with them. */
export function parseLimits(value: unknown): SessionLimits | string {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "limits must be an object";
  const v = value as Record<string, unknown>;
  const limits: SessionLimits = { ...BUILT_IN_LIMITS, maxLogBytes: 0 };
  for (const key of Object.keys(FLAGS) as (keyof SessionLimits)[]) {
    if (v[key] === undefined) continue;
    const problem = limitProblem(key, v[key] as never, `limits.${key}`);
    if (problem !== undefined) return problem;
    (limits as unknown as Record<string, unknown>)[key] = v[key];
  }
  return limits;
}

/** The limits for a person: "memory 100 MiB (stop), nice 10, log 5.00 MiB". */
export function describeLimits(limits: SessionLimits): string {
  const parts = [
    limits.maxMemoryBytes > 0
      ? `memory ${formatSize(limits.maxMemoryBytes)} (${limits.onLimit})`
      : "memory unlimited",
    limits.maxLogBytes > 0 ? `log ${formatSize(limits.maxLogBytes)}` : "log unlimited",
  ];
  if (limits.nice !== 0) parts.push(`nice ${limits.nice}`);
  return parts.join(", ");
}

/** The limits as a session host is given them (none for a record that has none). */
export function spawnLimits(limits: SessionLimits | undefined): {
  maxMemoryBytes: number;
  onLimit: LimitAction;
  nice: number;
  maxLogBytes: number;
} {
  return {
    maxMemoryBytes: limits?.maxMemoryBytes ?? 0,
    onLimit: LimitAction[limits?.onLimit ?? "warn"],
    nice: limits?.nice ?? 0,
    maxLogBytes: limits?.maxLogBytes ?? 0,
  };
}
