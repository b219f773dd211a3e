/**
 * A session's limits: the memory its process tree may use and what is done past it, its
 * niceness, and how much log it keeps on disk. Asked for at start, else taken from the daemon's
 * defaults (its config file), and kept in the record so that a resume runs with the same ones.
 */
import { type AskedLimits, limitProblem, type SessionLimits } from "../common/limit-rules.js";
import { formatSize } from "../common/sizes.js";
import { LimitAction } from "../host/host-wire.js";
import { SessionError } from "./session-error.js";

export {
  type AskedLimits,
  LIMIT_ACTIONS,
  type LimitActionName,
  limitProblem,
  MAX_NICE,
  MIN_LOG_BYTES,
  MIN_MEMORY_BYTES,
  MIN_NICE,
  type SessionLimits,
} from "../common/limit-rules.js";

/** The built-in defaults, when the config file sets none: no memory limit, 100 MiB of log. */
export const BUILT_IN_LIMITS: SessionLimits = {
  maxMemoryBytes: 0,
  onLimit: "warn",
  nice: 0,
  maxLogBytes: 100 * 1024 * 1024,
};

/** How a start request names each limit, in its errors. */
const FLAGS: Record<keyof SessionLimits, string> = {
  maxMemoryBytes: "limits.max_memory_bytes",
  onLimit: "limits.on_limit",
  nice: "limits.nice",
  maxLogBytes: "limits.max_log_bytes",
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
